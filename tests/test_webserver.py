"""The Dagster UI, really started: `dagster dev` on loopback shows every asset and runs the job."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus
from dagster_graphql import DagsterGraphQLClient

from orchestration.defs.jobs import FULL_BUILD_JOB
from tests.conftest import query, settings_for
from tests.landing import build_landing

ROOT = Path(__file__).resolve().parents[1]
ASSETS_QUERY = "{ assetNodes { assetKey { path } } }"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def dagster_dev(tmp_path_factory):
    root = tmp_path_factory.mktemp("ui")
    build_landing(root / "landing")
    settings = settings_for(root)
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    port = _free_port()
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
    yield client, settings, root / "dagster_dev.log", home
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    log.close()


def test_the_ui_shows_every_asset(dagster_dev):
    client, *_ = dagster_dev
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
    """Two runs requested at once (plus the landing-zone sensor's own request) all succeed,
    one after the other: a run holding the warehouse keeps the others queued."""
    client, settings, log_path, home = dagster_dev
    run_ids = [
        client.submit_job_execution(FULL_BUILD_JOB, repository_location_name="retention_pipeline")
        for _ in range(2)
    ]
    finished = (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED)
    deadline = time.monotonic() + 480
    while time.monotonic() < deadline:
        if all(client.get_run_status(run_id) in finished for run_id in run_ids):
            break
        time.sleep(2)
    statuses = [client.get_run_status(run_id) for run_id in run_ids]
    failures = [line for line in log_path.read_text().splitlines() if "FAILURE" in line]
    assert statuses == [DagsterRunStatus.SUCCESS] * 2, "\n".join(failures[-5:])[-3000:]
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
