"""The same dbt project on Apache Spark (docs/spark.md): a generated company, loaded and built by
the pipeline on DuckDB, is exported to the lake and built again by dbt on local Spark
(dbt-spark's `session` method, local[2]); every model's table must equal DuckDB's, to 1e-9 on
doubles and exactly elsewhere (tiers, reason codes, cohorts, survival)."""

from __future__ import annotations

import math
import os
import subprocess
import uuid
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.defs.dbt.project import dbt_project
from orchestration.defs.ingest.lake import export_raw
from orchestration.sample_data import generate
from tests.conftest import run_pipeline, settings_for

pytestmark = pytest.mark.pipeline

# The Spark engine's dbt, in its own virtualenv (`make spark`, which `make test` runs).
SPARK_DBT = Path(__file__).resolve().parents[1] / ".cache" / "spark-venv" / "bin" / "dbt"

# Bookkeeping that differs by engine or by run, not results: when rows were queued, and the
# fingerprints of the inputs an employee's rows were computed from.
BOOKKEEPING = {"queued_at", "loaded_through", "measures_fingerprint", "inputs_fingerprint"}


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    root = tmp_path_factory.mktemp("spark")
    generate(root / "landing", employees=60, months=4, seed=11, end_date=date(2024, 6, 30))
    # A zone west of UTC, so local days and weeks differ from UTC ones.
    settings = settings_for(root, PIPELINE_TIMEZONE="America/New_York")
    assert run_pipeline(settings).success
    lake = root / "lake"
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        exported = {e.table: e.rows for e in export_raw(conn, lake)}
    env = os.environ | settings.dbt_env() | {"PIPELINE_LAKE_DIR": str(lake)}
    assert SPARK_DBT.exists(), f"{SPARK_DBT} is missing: `make spark` installs it"
    dbt = str(SPARK_DBT)
    for command in (["seed"], ["run"]):
        done = subprocess.run(
            [dbt, *command, "--target", "spark", "--target-path", str(root / "target")],
            cwd=dbt_project.project_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, done.stdout[-4000:]
    return settings, lake, exported


def test_the_raw_tables_reach_the_lake_with_statements_partitioned_by_day(engines):
    settings, lake, exported = engines
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        assert (
            exported["lms_statements"]
            == conn.execute("select count(*) from raw.lms_statements").fetchone()[0]
        )
    days = list((lake / "raw" / "lms_statements").glob("event_date_utc=*"))
    assert len(days) > 100  # four months of days


def test_every_model_built_on_spark_equals_the_duckdb_build(engines):
    settings, lake, _ = engines
    conn = duckdb.connect()
    conn.execute(f"attach '{settings.warehouse}' as duck (read_only)")
    tables = conn.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = 'duck' "
        "and schema_name in ('staging', 'intermediate', 'marts') order by all"
    ).fetchall()
    assert len(tables) >= 25
    published = {
        "mart_manager_alerts",
        "int_engagement_trends",  # published through the view mart_engagement_trends
        "mart_retention_cohorts",
        "mart_matched_retention",
        "mart_survival_curves",
        "mart_tier_backtest",
    }
    assert published <= {table for _, table in tables}
    differences = []
    for schema, table in tables:
        files = lake / "warehouse" / f"{schema}.db" / table
        assert files.is_dir(), f"{schema}.{table} was not built on Spark"
        columns = [
            name
            for (name,) in conn.execute(
                "select column_name from information_schema.columns where table_catalog = 'duck' "
                "and table_schema = ? and table_name = ? order by ordinal_position",
                [schema, table],
            ).fetchall()
            if name not in BOOKKEEPING
        ]
        select = ", ".join(f'"{c}"' for c in columns)
        ours = conn.execute(f"select {select} from duck.{schema}.{table}").fetchall()
        spark = conn.execute(
            f"select {select} from read_parquet('{files}/**/*.parquet', hive_partitioning = false)"
        ).fetchall()
        problem = compare(ours, spark)
        if problem:
            differences.append(f"{schema}.{table}: {problem}")
    assert not differences, "\n".join(differences)


def compare(ours: list[tuple], theirs: list[tuple]) -> str | None:
    """None when both hold the same rows, doubles within 1e-9; else what differs."""
    if len(ours) != len(theirs):
        return f"{len(ours)} rows on DuckDB, {len(theirs)} on Spark"
    for a, b in zip(sorted(ours, key=row_key), sorted(theirs, key=row_key), strict=True):
        for x, y in zip(a, b, strict=True):
            if isinstance(x, float) and isinstance(y, float | int):
                if not math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9):
                    return f"{a} != {b}"
            elif normal(x) != normal(y):
                return f"{a} != {b}"
    return None


def row_key(row: tuple) -> tuple:
    """A sort key equal for equal rows of either engine: doubles rounded, lists sorted as text."""
    return tuple(
        (0, "") if v is None else (1, f"{v:.6f}" if isinstance(v, float) else str(normal(v)))
        for v in row
    )


def normal(value):
    """Values as both engines hold them: statement ids reach the lake as text (Parquet has no
    UUID type that Spark reads), and lists compare as tuples."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list):
        return tuple(normal(v) for v in value)
    return value
