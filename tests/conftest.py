"""Shared fixtures: isolated landing zones and warehouses, and a way to run the pipeline."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.settings import PipelineSettings

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

# The suite runs on pytest-xdist workers (pyproject.toml), each building its own warehouses.
# Each keeps its dbt invocation folders and its partial parse in a folder of its own
# (orchestration/defs/dbt/project.py, invocations_dir): with one shared file, a worker's build
# would replace the parse another worker's next build starts from.
if worker := os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("DBT_TARGET_PATH", f"target/pytest-{worker}")

# The longest test files, longest first: they start first, one on each worker, and the short
# files fill in around them (pyproject.toml runs xdist with --no-loadscope-reorder, which would
# otherwise order the files by their number of tests). The Spark test alone is a third of the
# suite's time: started last, it would run on one worker while the other sat idle.
LONGEST_FIRST = (
    "test_spark_engine.py",
    "test_daily_operation.py",
    "test_report.py",
    "test_webserver.py",
    "test_hostile_inputs.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: each file keeps its own order


def settings_for(root: Path, **overrides: str) -> PipelineSettings:
    env = {
        "PIPELINE_LANDING_DIR": str(root / "landing"),
        "PIPELINE_WAREHOUSE": str(root / "warehouse.duckdb"),
        "PIPELINE_PUBLISH_DIR": str(root / "published"),
        "PIPELINE_AS_OF": "2024-06-30",
        "PIPELINE_TIMEZONE": "UTC",
    } | overrides
    return PipelineSettings.from_env(env)


def run_pipeline(
    settings: PipelineSettings,
    selection: str | None = None,
    day: str | None = None,
    instance=None,
    daily: bool = False,
):
    """Materialize every asset in-process with `retention-pipeline run`'s own code
    (orchestration/outcome.py): over the whole history, for one `day`, `daily` as the schedule
    does, or only a `selection` of one asset with the default config."""
    import dagster as dg

    from orchestration.defs.rebuild import Window
    from orchestration.outcome import execute

    window = Window(date.fromisoformat(day), date.fromisoformat(day)) if day else Window()
    return execute(
        settings,
        None if daily else window,
        instance=instance or dg.DagsterInstance.ephemeral(),
        selection=[dg.AssetKey.from_user_string(selection)] if selection else None,
    ).result


def last_queue(settings) -> tuple[list[date], list[str]]:
    """The days the latest run queued, and why."""
    rows = query(
        settings,
        """select event_date, reasons from intermediate.int_statement_rebuild_days
           where queued_at = (select max(queued_at) from intermediate.int_statement_rebuild_days)
           order by event_date""",
    )
    return [day for day, _ in rows], sorted({r for _, reasons in rows for r in reasons})


def query(settings: PipelineSettings, sql: str, params: list | None = None) -> list[tuple]:
    # Same configuration as the Dagster DuckDB resource, so an open instance can be shared.
    conn = duckdb.connect(str(settings.warehouse), config={"custom_user_agent": "dagster"})
    try:
        return conn.execute(sql, params or []).fetchall()
    finally:
        conn.close()


def published(settings: PipelineSettings, sql: str, params: list | None = None) -> list[tuple]:
    """What a BI tool reads: the published analytics.duckdb, opened read-only."""
    conn = duckdb.connect(str(settings.publish_dir / "analytics.duckdb"), read_only=True)
    try:
        return conn.execute(sql, params or []).fetchall()
    finally:
        conn.close()


def stop_service(process: subprocess.Popen, timeout: float = 30) -> None:
    """Stop a server a test started in its own session (start_new_session=True), with every
    process it spawned: SIGTERM, then SIGKILL if it has not ended within `timeout` seconds."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:  # it already ended
        return
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


def free_port() -> int:
    """A free TCP port on loopback, for a real service a test starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def warehouse(tmp_path: Path) -> Callable[[], duckdb.DuckDBPyConnection]:
    path = tmp_path / "warehouse.duckdb"
    connections: list[duckdb.DuckDBPyConnection] = []

    def connect() -> duckdb.DuckDBPyConnection:
        conn = duckdb.connect(str(path))
        connections.append(conn)
        return conn

    yield connect
    for conn in connections:
        conn.close()
