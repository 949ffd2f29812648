"""Shared fixtures: isolated landing zones and warehouses, and a way to run the pipeline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from orchestration.settings import PipelineSettings

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def settings_for(root: Path, **overrides: str) -> PipelineSettings:
    env = {
        "PIPELINE_LANDING_DIR": str(root / "landing"),
        "PIPELINE_WAREHOUSE": str(root / "warehouse.duckdb"),
        "PIPELINE_PUBLISH_DIR": str(root / "published"),
        "PIPELINE_AS_OF": "2024-06-30",
        "PIPELINE_TIMEZONE": "UTC",
    } | overrides
    # Day partitions for the last few weeks only: a whole-history run records one
    # materialization per partition, and older days are built all the same.
    as_of = date.fromisoformat(env["PIPELINE_AS_OF"])
    env.setdefault("PIPELINE_PARTITION_START", (as_of - timedelta(days=42)).isoformat())
    return PipelineSettings.from_env(env)


def run_pipeline(
    settings: PipelineSettings,
    selection: str | None = None,
    day: str | None = None,
    instance=None,
):
    """Materialize every asset (or a selection) in-process, as `retention-pipeline run` does:
    over the whole history, or for one `day` as the daily schedule does."""
    from datetime import date

    import dagster as dg

    from orchestration.cli import partition_selection
    from orchestration.definitions import build_definitions
    from orchestration.defs.jobs import FULL_BUILD_JOB

    defs = build_definitions(settings)
    job = defs.resolve_job_def(FULL_BUILD_JOB)
    return job.execute_in_process(
        raise_on_error=False,
        instance=instance or dg.DagsterInstance.ephemeral(),
        **({"asset_selection": [dg.AssetKey.from_user_string(selection)]} if selection else {}),
        **partition_selection(job.partitions_def, date.fromisoformat(day) if day else None),
    )


def query(settings: PipelineSettings, sql: str, params: list | None = None) -> list[tuple]:
    # Same configuration as the Dagster DuckDB resource, so an open instance can be shared.
    conn = duckdb.connect(str(settings.warehouse), config={"custom_user_agent": "dagster"})
    try:
        return conn.execute(sql, params or []).fetchall()
    finally:
        conn.close()


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
