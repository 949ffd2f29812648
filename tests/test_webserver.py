"""The Dagster UI, really started: `dagster dev` on loopback shows every asset and runs the job."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster import DagsterRunStatus
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
    yield client, settings, root / "dagster_dev.log"
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    log.close()


def test_the_ui_shows_every_asset(dagster_dev):
    client, _, _ = dagster_dev
    keys = {
        "/".join(node["assetKey"]["path"]) for node in client._execute(ASSETS_QUERY)["assetNodes"]
    }
    assert {
        "raw/lms_statements",
        "raw/hris_workers",
        "marts/fct_risk_tiers",
        "marts/mart_manager_alerts",
    } <= keys


def test_a_run_launched_from_the_ui_materializes_everything(dagster_dev):
    client, settings, log_path = dagster_dev
    run_id = client.submit_job_execution(
        FULL_BUILD_JOB, repository_location_name="retention_pipeline"
    )
    deadline = time.monotonic() + 300
    status = client.get_run_status(run_id)
    while (
        status
        not in (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED)
        and time.monotonic() < deadline
    ):
        time.sleep(2)
        status = client.get_run_status(run_id)
    failures = [line for line in log_path.read_text().splitlines() if "FAILURE" in line]
    assert status == DagsterRunStatus.SUCCESS, "\n".join(failures[-5:])[-3000:]
    assert query(settings, "select count(*) from marts.fct_learning_activity") == [(3,)]
