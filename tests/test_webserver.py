"""The Dagster UI, really started: `dagster dev` on loopback shows every asset and runs the job."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from dagster import DagsterInstance, DagsterRunStatus
from dagster_graphql import DagsterGraphQLClient

from orchestration.defs.jobs import FULL_BUILD_JOB
from orchestration.defs.rebuild import DBT_STEP
from tests.conftest import free_port, last_queue, query, settings_for, stop_service
from tests.landing import build_landing

pytestmark = pytest.mark.ui

ROOT = Path(__file__).resolve().parents[1]
ASSETS_QUERY = "{ assetNodes { assetKey { path } } }"


@pytest.fixture(scope="module")
def dagster_dev(tmp_path_factory):
    root = tmp_path_factory.mktemp("ui")
    build_landing(root / "landing")
    settings = settings_for(root)
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    port = free_port()
    env = (
        os.environ
        | settings.dbt_env()
        | {
            "PIPELINE_LANDING_DIR": str(settings.landing_dir),
            "PIPELINE_PUBLISH_DIR": str(settings.publish_dir),
            "DAGSTER_HOME": str(home),
        }
    )
    log = (root / "dagster_dev.log").open("w")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "dagster"),
            "dev",
            "-w",
            "workspace.yaml",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    client = DagsterGraphQLClient("127.0.0.1", port_number=port)
    deadline = time.monotonic() + 180
    while True:
        try:
            if client._execute(ASSETS_QUERY)["assetNodes"]:
                break
        except Exception:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            log.close()
            pytest.fail(
                "dagster dev did not come up:\n" + (root / "dagster_dev.log").read_text()[-3000:]
            )
        time.sleep(1)
    yield SimpleNamespace(
        client=client, settings=settings, log=root / "dagster_dev.log", home=home, port=port
    )
    stop_service(process)
    log.close()


def test_the_ui_shows_every_asset(dagster_dev):
    client = dagster_dev.client
    keys = {
        "/".join(node["assetKey"]["path"]) for node in client._execute(ASSETS_QUERY)["assetNodes"]
    }
    assert {
        "raw/lms_statements",
        "raw/hris_workers",
        "marts/fct_risk_tiers",
        "marts/mart_manager_alerts",
    } <= keys


def test_runs_launched_from_the_ui_wait_their_turn_and_succeed(dagster_dev):
    """A run requested from the UI and the landing-zone sensor's own request, at once, both
    succeed, one after the other: a run holding the warehouse keeps the other queued."""
    client, settings = dagster_dev.client, dagster_dev.settings
    log_path, home = dagster_dev.log, dagster_dev.home
    # What "Materialize all" launches: the default config, the last complete day.
    run_id = client.submit_job_execution(
        FULL_BUILD_JOB, repository_location_name="retention_pipeline"
    )
    finished = (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED)
    deadline = time.monotonic() + 480
    while time.monotonic() < deadline:
        with DagsterInstance.from_config(str(home)) as instance:
            statuses = [run.status for run in instance.get_runs()]
        # The UI's run and the sensor's, whichever got the warehouse first.
        if len(statuses) >= 2 and all(status in finished for status in statuses):
            break
        time.sleep(2)
    failures = [line for line in log_path.read_text().splitlines() if "FAILURE" in line]
    assert client.get_run_status(run_id) == DagsterRunStatus.SUCCESS, "\n".join(failures[-5:])
    assert statuses == [DagsterRunStatus.SUCCESS] * len(statuses) and len(statuses) >= 2
    assert query(settings, "select count(*) from marts.fct_learning_activity") == [(3,)]

    with DagsterInstance.from_config(str(home)) as instance:
        spans = sorted(
            (record.start_time, record.end_time)
            for record in instance.get_run_records()
            if record.start_time and record.end_time
        )
    assert len(spans) >= 2
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert start >= end, "two runs held the warehouse at the same time"


CHROMIUM_ARGS = [
    # The flags that keep headless Chromium from reaching for the network on a closed machine.
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
BACKFILL = ("2024-06-17", "2024-06-29")  # a range of statement days, backfilled from the UI
# What a person types (or pastes) into the launchpad to rebuild those days.
BACKFILL_CONFIG = f"""ops:
  {DBT_STEP}:
    config:
      first_day: "{BACKFILL[0]}"
      last_day: "{BACKFILL[1]}"
"""


def test_a_person_backfills_a_range_of_days_in_the_browser_and_sees_the_checks(dagster_dev):
    """Debian's Chromium, driven by Playwright: open the job's asset graph, open the launchpad
    from "Materialize all", write the days to rebuild into the run config, launch, wait for the
    run to succeed, then open an asset and read its check results."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect, sync_playwright

    base = f"http://127.0.0.1:{dagster_dev.port}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with DagsterInstance.from_config(str(dagster_dev.home)) as instance:
        runs_before = set(instance.get_run_ids())

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{base}/locations/retention_pipeline/jobs/{FULL_BUILD_JOB}")
        skip = page.get_by_role("button", name="Skip")  # the first-visit community dialog
        with contextlib.suppress(PlaywrightTimeout):
            skip.click(timeout=8000)
        expect(page.get_by_text("raw_lms").first).to_be_visible(timeout=30000)
        page.screenshot(path=ARTIFACTS / "1-asset-graph.png")

        # "Materialize all" -> its menu -> "Open launchpad": the run config, whose dbt step
        # takes the days to rebuild.
        buttons = page.get_by_role("button")
        buttons.nth(buttons.all_inner_texts().index("Materialize all") + 1).click()
        page.get_by_role("menuitem", name="Open launchpad").click()
        launchpad = page.get_by_role("dialog")
        editor = launchpad.locator(".CodeMirror").first
        expect(editor).to_be_visible(timeout=30000)
        expect(launchpad.get_by_text("first_day").first).to_be_visible(timeout=30000)
        editor.click()
        page.keyboard.press("Control+A")
        page.keyboard.insert_text(BACKFILL_CONFIG)
        expect(launchpad.get_by_text("No errors")).to_be_visible(timeout=30000)
        page.screenshot(path=ARTIFACTS / "2-launchpad-days.png")
        launchpad.get_by_role("button", name="Materialize").click()
        run_id = _new_run(dagster_dev.home, runs_before)
        with DagsterInstance.from_config(str(dagster_dev.home)) as instance:
            config = instance.get_run_by_id(run_id).run_config
        assert config["ops"][DBT_STEP]["config"] == dict(
            zip(("first_day", "last_day"), BACKFILL, strict=True)
        )
        status = _wait_for(dagster_dev.client, run_id)
        assert status == DagsterRunStatus.SUCCESS
        # The run rebuilt exactly those days, and the lookback before them.
        days, _ = last_queue(dagster_dev.settings)
        first, last = (date.fromisoformat(day) for day in BACKFILL)
        assert (days[0], days[-1]) == (
            first - timedelta(days=dagster_dev.settings.lookback_days),
            last,
        )

        page.goto(f"{base}/runs/{run_id}")
        expect(page.get_by_text("Success").first).to_be_visible(timeout=30000)
        page.screenshot(path=ARTIFACTS / "3-run-succeeded.png")

        page.goto(f"{base}/assets/marts/fct_risk_tiers?view=checks")
        try:
            # The GX suite and the dbt tests are listed as the asset's checks, all succeeded.
            expect(page.get_by_text("expectation_suite", exact=True).first).to_be_visible(
                timeout=30000
            )
            expect(page.get_by_text("Succeeded").first).to_be_visible(timeout=30000)
            expect(page.get_by_text("Passed").first).to_be_visible(timeout=30000)
        finally:
            page.screenshot(path=ARTIFACTS / "4-asset-checks.png")
        browser.close()


def _new_run(home: Path, before: set[str]) -> str:
    deadline = time.monotonic() + 180  # a backfill's run is launched by the daemon
    while time.monotonic() < deadline:
        with DagsterInstance.from_config(str(home)) as instance:
            new = set(instance.get_run_ids()) - before
        if new:
            return new.pop()
        time.sleep(1)
    pytest.fail("clicking Materialize all launched no run")


def _wait_for(client: DagsterGraphQLClient, run_id: str) -> DagsterRunStatus:
    finished = (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED)
    deadline = time.monotonic() + 400
    status = client.get_run_status(run_id)
    while status not in finished and time.monotonic() < deadline:
        time.sleep(2)
        status = client.get_run_status(run_id)
    return status
