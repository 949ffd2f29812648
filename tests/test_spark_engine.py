"""The same pipeline on Apache Spark (docs/spark.md): a generated company is built by the
pipeline on DuckDB, then the same warehouse is switched to PIPELINE_ENGINE=spark and built again
by Dagster, through dbt on local Spark (dbt-spark's `session` method, local[2]). Then a file lands
with a late statement and the voiding of every statement of an old day, and the next day is run
on both engines: incrementally, on Spark by day partitions, through a real Spark Thrift Server
(the `thrift` method) started on loopback over the same lake. Every model and every published
table must equal DuckDB's, to 1e-9 on doubles and exactly elsewhere (tiers, reason codes,
cohorts, survival), and every check must have run and passed on Spark's rows."""

from __future__ import annotations

import json
import math
import shutil
import uuid
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from orchestration.defs.dbt import engines
from orchestration.defs.dbt.project import invocations_dir
from orchestration.defs.ingest.lake import PARTITION_COLUMN
from orchestration.defs.quality.suites import CHECK_NAME
from orchestration.sample_data import generate
from orchestration.settings import PipelineSettings, SettingsError
from tests.conftest import last_queue, query, run_pipeline, settings_for
from tests.landing import account, statement, write_statements
from tests.spark_thrift import thrift_server
from tests.test_lake_export import day_files

# The fixture runs DuckDB twice and Spark twice (and a Thrift Server): about 12 minutes in CI,
# beyond the suite's 15-minute limit per test when the machine is busy.
pytestmark = [pytest.mark.pipeline, pytest.mark.timeout(1800)]

# Bookkeeping that differs by engine or by run, not results: when rows were queued, and the
# fingerprints of the inputs an employee's rows were computed from.
BOOKKEEPING = {"queued_at", "loaded_through", "measures_fingerprint", "inputs_fingerprint"}
# The queue of days each run rebuilt: a log of the runs, which differ (Spark ran a full build
# more).
RUN_LOGS = {"int_statement_rebuild_days"}
# The publication's own row: which run published it, and when.
PUBLICATION_BOOKKEEPING = {"publication_id", "published_at_utc", "run_id"}
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
NEXT_DAY = date(2024, 6, 29)


@pytest.fixture(scope="module")
def engines_built(tmp_path_factory):
    root = tmp_path_factory.mktemp("spark")
    generate(root / "landing", employees=60, months=4, seed=11, end_date=date(2024, 6, 30))
    # A zone west of UTC, so local days and weeks differ from UTC ones.
    duck = settings_for(root, PIPELINE_TIMEZONE="America/New_York")
    # The full build's suites run in DuckDB over Spark's files; the day's run in Spark, the
    # default (docs/data-quality.md#on-spark), so both places are covered and Spark starts once.
    spark = settings_for(
        root,
        PIPELINE_TIMEZONE="America/New_York",
        PIPELINE_ENGINE="spark",
        PIPELINE_SPARK_VALIDATION="duckdb",
    )
    assert spark.engine.spark_dbt.exists(), (
        f"{spark.engine.spark_dbt} is missing: `make spark` installs it (`make test` runs it)"
    )
    duck_run = run_pipeline(duck)
    assert duck_run.success
    # DuckDB's build goes on in a copy: the Spark run replaces the warehouse's tables with views.
    duck = settings_for(
        root,
        PIPELINE_TIMEZONE="America/New_York",
        PIPELINE_WAREHOUSE=str(root / "duckdb-build.duckdb"),
        PIPELINE_PUBLISH_DIR=str(root / "duckdb-published"),
    )
    shutil.copyfile(spark.warehouse, duck.warehouse)
    spark_run = run_pipeline(spark)
    assert spark_run.success

    # The next day, as the schedule would run it, once a file has landed with a statement 60
    # days late and the voiding of every statement of a day 40 days back. This run reaches
    # Spark through a Spark Thrift Server (PIPELINE_SPARK_METHOD=thrift) serving the same lake.
    before, raw_before = day_partitions(spark), day_files(spark.lake_dir)
    late_day, voided_day = NEXT_DAY - timedelta(days=60), NEXT_DAY - timedelta(days=40)
    land_late_file(spark, late_day, voided_day)
    with thrift_server(spark.lake_dir) as port:
        thrift = settings_for(
            root,
            PIPELINE_TIMEZONE="America/New_York",
            PIPELINE_ENGINE="spark",
            PIPELINE_SPARK_METHOD="thrift",
            PIPELINE_SPARK_PORT=str(port),
            PIPELINE_SPARK_HOST="127.0.0.1",
        )
        assert thrift.engine.validates_on_spark
        day_run = run_pipeline(thrift, day=NEXT_DAY.isoformat())
    assert day_run.success
    day_target = last_dbt_target()
    queued, _ = last_queue(spark)
    (window_days,) = query(
        spark,
        "select count(*) from intermediate.int_statement_rebuild_days "
        "where list_contains(reasons, 'window')",
    )[0]
    assert window_days == 1 + spark.lookback_days
    duck_day_run = run_pipeline(duck, day=NEXT_DAY.isoformat())
    assert duck_day_run.success
    return {
        "settings": spark,
        "duckdb_warehouse": duck.warehouse,
        "duckdb_publication": duck.publish_dir / "analytics.duckdb",
        "runs": {"duckdb": duck_run, "spark": spark_run},
        "day_runs": {"duckdb": duck_day_run, "spark": day_run},
        "day_target": day_target,
        "partitions": (before, day_partitions(spark)),
        "raw_days": (raw_before, day_files(spark.lake_dir)),
        "queued": {day.isoformat() for day in queued},
        "late_day": late_day.isoformat(),
        "voided_day": voided_day.isoformat(),
    }


def last_dbt_target() -> str:
    """The profiles.yml output of the newest dbt build of this worker (its run_results.json)."""
    newest = max(invocations_dir().glob("*/run_results.json"), key=lambda p: p.stat().st_mtime)
    return json.loads(newest.read_text())["args"]["target"]


def day_partitions(settings) -> dict[str, set[str]]:
    """The files Spark holds for each day of int_learning_activity, by day."""
    table = settings.lake_dir / "warehouse" / "intermediate.db" / "int_learning_activity"
    return {
        folder.name.split("=", 1)[1]: {f.name for f in folder.glob("*.parquet")}
        for folder in table.glob("lake_partition=*")
    }


def land_late_file(settings, late_day: date, voided_day: date) -> Path:
    """A late statement on `late_day` and the voiding of every statement of `voided_day`."""
    voided = query(
        settings,
        "select statement_id::varchar from intermediate.int_learning_activity "
        "where event_date = ? order by 1",
        [voided_day],
    )
    (employee,) = query(
        settings,
        "select min(employee_id) from intermediate.int_learning_activity where event_date = ?",
        [late_day],
    )[0]
    assert voided and employee
    stored = f"{NEXT_DAY}T09:00:00Z"
    late = statement(
        900000, account(employee), "completed", timestamp=f"{late_day}T15:00:00Z", stored=stored
    )
    lines = [late]
    for n, (voided_id,) in enumerate(voided, start=900001):
        voiding = statement(
            n, account(employee), "voided", timestamp=f"{NEXT_DAY}T15:00:00Z", stored=stored
        )
        voiding["verb"]["id"] = VOIDED
        voiding["object"] = {"objectType": "StatementRef", "id": voided_id}
        lines.append(voiding)
    path = settings.landing_dir / "lms/statements/late/arrived-today.jsonl"
    return write_statements(path, lines)


def test_a_day_on_spark_rewrites_only_the_partitions_of_the_days_it_queued(engines_built):
    """int_learning_activity is incremental on Spark too: the day's run dropped and wrote again
    the partitions of the days it queued (the window, the late day, the voided day) and left
    every other day's files alone; the day whose statements were all voided is gone."""
    before, after = engines_built["partitions"]
    queued = engines_built["queued"]
    assert {engines_built["late_day"], engines_built["voided_day"]} <= queued
    assert engines_built["voided_day"] in before
    assert engines_built["voided_day"] not in after
    untouched = set(before) - queued
    assert len(untouched) > 100  # four months of days
    assert {day: after.get(day) for day in untouched} == {day: before[day] for day in untouched}
    rewritten = (set(before) & set(after)) & queued
    assert rewritten and all(after[day].isdisjoint(before[day]) for day in rewritten)


def test_the_day_ran_through_a_spark_thrift_server(engines_built):
    """PIPELINE_SPARK_METHOD=thrift: dbt built the day through the server's sessions (the
    `spark_thrift` output, whose runtime settings only a session opened over Thrift takes), and
    the other tests find its results equal to DuckDB's."""
    assert engines_built["day_target"] == "spark_thrift"


def test_a_day_exports_only_the_statement_days_that_changed(engines_built):
    """The day's run wrote to the lake the day of the late statement and the day of the
    voiding statements, and left every other day's files as the full build wrote them."""
    before, after = engines_built["raw_days"]
    written = {day for day in after if after[day] != before.get(day)}
    assert written == {engines_built["late_day"], NEXT_DAY.isoformat()}
    assert set(before) <= set(after) and len(before) > 100


def test_the_raw_tables_reach_the_lake_with_statements_partitioned_by_day(engines_built):
    settings = engines_built["settings"]
    statements = settings.lake_dir / "raw" / "lms_statements"
    sql = f"select count(*) from read_parquet('{statements}/**/*.parquet')"
    (in_lake,) = query(settings, sql)[0]
    assert in_lake == query(settings, "select count(*) from raw.lms_statements")[0][0] > 0
    days = list(statements.glob(f"{PARTITION_COLUMN}=*"))
    assert len(days) > 100  # four months of days


def test_every_model_built_on_spark_equals_the_duckdb_build(engines_built):
    settings = engines_built["settings"]
    conn = duckdb.connect()
    conn.execute(f"attach '{engines_built['duckdb_warehouse']}' as duck (read_only)")
    conn.execute(f"attach '{settings.warehouse}' as spark (read_only)")
    tables = conn.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = 'duck' "
        "and schema_name in ('staging', 'intermediate', 'marts') order by all"
    ).fetchall()
    assert len(tables) >= 25
    assert {"mart_manager_alerts", "int_engagement_trends", "mart_survival_curves"} <= {
        table for _, table in tables
    }
    differences = []
    for schema, table in tables:
        if table in RUN_LOGS:
            continue
        # On Spark, the warehouse only shows Spark's files.
        files = settings.lake_dir / "warehouse" / f"{schema}.db" / table
        assert any(files.glob("**/*.parquet")), f"{schema}.{table} was not built on Spark"
        (kind,) = conn.execute(
            "select table_type from information_schema.tables where table_catalog = 'spark' "
            "and table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()
        assert kind == "VIEW", f"spark.{schema}.{table} is not a view over Spark's files"
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
        problem = compare(
            conn.execute(f"select {select} from duck.{schema}.{table}").fetchall(),
            conn.execute(f"select {select} from spark.{schema}.{table}").fetchall(),
        )
        if problem:
            differences.append(f"{schema}.{table}: {problem}")
    assert not differences, "\n".join(differences)


def test_the_spark_run_publishes_what_the_duckdb_run_publishes(engines_built):
    """What BI tools see: the same tables, columns and column types, and the same rows."""
    conn = duckdb.connect()
    conn.execute(f"attach '{engines_built['duckdb_publication']}' as duck (read_only)")
    spark_publication = engines_built["settings"].publish_dir / "analytics.duckdb"
    conn.execute(f"attach '{spark_publication}' as spark (read_only)")

    def columns(catalog: str) -> list[tuple]:
        return conn.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_catalog = ? order by table_name, ordinal_position",
            [catalog],
        ).fetchall()

    assert columns("spark") == columns("duck")
    tables = sorted({table for table, _, _ in columns("duck")})
    assert "mart_manager_alerts" in tables and "mart_retention_cohorts" in tables
    for table in tables:
        names = [
            f'"{name}"'
            for t, name, _ in columns("duck")
            if t == table and name not in PUBLICATION_BOOKKEEPING
        ]
        select = f"select {', '.join(names)} from {{}}.{table}"
        ours = conn.execute(select.format("duck")).fetchall()
        assert compare(ours, conn.execute(select.format("spark")).fetchall()) is None, table


def test_every_check_runs_and_passes_on_sparks_rows(engines_built):
    """The expectation suites and the dbt tests (run by dbt on Spark) as Dagster checks: the
    Spark run evaluates every check the DuckDB run does, and all of them pass."""
    evaluated = {}
    for engine, result in engines_built["runs"].items():
        evaluations = result.get_asset_check_evaluations()
        assert all(e.passed for e in evaluations), engine
        evaluated[engine] = {(e.asset_key, e.check_name) for e in evaluations}
    assert evaluated["spark"] == evaluated["duckdb"]
    assert len(evaluated["spark"]) > 100  # the suites and the dbt tests


def test_the_days_suites_ran_in_spark_and_saw_what_duckdb_saw(engines_built):
    """The day on Spark validated the models' suites in Spark (GX's Spark datasource, one
    SparkSession), the raw suites in DuckDB; the same checks passed over the same rows as on
    the DuckDB copy, fct_learning_activity's over the rows the day rewrote only."""
    seen = {}
    for engine, result in engines_built["day_runs"].items():
        evaluations = result.get_asset_check_evaluations()
        assert all(e.passed for e in evaluations), engine
        seen[engine] = {
            e.asset_key.to_user_string(): {k: v.value for k, v in e.metadata.items()}
            for e in evaluations
            if e.check_name == CHECK_NAME
        }
    assert seen["spark"].keys() == seen["duckdb"].keys()
    for table, spark in seen["spark"].items():
        duck = seen["duckdb"][table]
        assert spark["validated_in"] == ("duckdb" if table.startswith("raw/") else "spark"), table
        assert duck["validated_in"] == "duckdb"
        for key in ("rows_validated", "table_rows", "expectations_evaluated", "validation_scope"):
            assert spark[key] == duck[key], (table, key)
    activity = seen["spark"]["marts/fct_learning_activity"]
    assert activity["validation_scope"] == "changed rows"
    assert 0 < activity["rows_validated"] < activity["table_rows"]


def test_a_spark_run_without_dbt_spark_names_what_to_install(tmp_path):
    settings = PipelineSettings.from_env(
        {"PIPELINE_ENGINE": "spark", "PIPELINE_SPARK_DBT": str(tmp_path / "no-dbt")}
    )
    with pytest.raises(engines.EngineError, match="make spark"):
        engines.check_ready(settings)


def test_the_spark_method_chooses_the_profile_output():
    def target(**env: str) -> str:
        settings = PipelineSettings.from_env({"PIPELINE_ENGINE": "spark", **env})
        return engines.dbt_resource(settings).target

    assert target() == "spark"
    assert target(PIPELINE_SPARK_METHOD="thrift") == "spark_thrift"
    with pytest.raises(SettingsError, match="PIPELINE_SPARK_METHOD='jdbc'"):
        target(PIPELINE_SPARK_METHOD="jdbc")


def test_a_failed_dbt_step_runs_again_on_spark_only(tmp_path):
    """PIPELINE_SPARK_RETRIES (docs/spark.md#when-spark-fails): the dbt step's retry policy."""
    import dagster as dg

    from orchestration.definitions import build_definitions

    def policy(**env: str):
        settings = settings_for(tmp_path, **env)
        dbt_step = build_definitions(settings).resolve_assets_def(
            dg.AssetKey(["marts", "fct_risk_tiers"])
        )
        return dbt_step.op.retry_policy

    assert policy(PIPELINE_ENGINE="spark").max_retries == 1
    assert policy(PIPELINE_ENGINE="spark", PIPELINE_SPARK_RETRIES="3").max_retries == 3
    assert policy(PIPELINE_ENGINE="spark", PIPELINE_SPARK_RETRIES="0") is None
    assert policy() is None  # DuckDB: a failure is the project's own


def test_where_the_suites_over_sparks_tables_run_is_a_setting():
    def on_spark(**env: str) -> bool:
        return PipelineSettings.from_env(env).engine.validates_on_spark

    assert on_spark(PIPELINE_ENGINE="spark")
    assert not on_spark(PIPELINE_ENGINE="spark", PIPELINE_SPARK_VALIDATION="duckdb")
    assert not on_spark(PIPELINE_SPARK_VALIDATION="spark")  # the DuckDB engine
    with pytest.raises(SettingsError, match="PIPELINE_SPARK_VALIDATION='pandas'"):
        on_spark(PIPELINE_ENGINE="spark", PIPELINE_SPARK_VALIDATION="pandas")


def test_spark_tables_replace_the_tables_of_an_earlier_duckdb_build(tmp_path):
    """After a switch to Spark, a model's name in the warehouse reads Spark's files, even where
    a DuckDB build had left a table of that name."""
    settings = settings_for(tmp_path, PIPELINE_ENGINE="spark")
    files = tmp_path / "lake" / "warehouse" / "intermediate.db" / "int_example"
    files.mkdir(parents=True)
    conn = duckdb.connect(str(settings.warehouse))
    conn.execute(f"copy (select 2 as spark_value) to '{files}/part-0.parquet' (format parquet)")
    conn.execute("create schema intermediate")
    conn.execute("create table intermediate.int_example as select 1 as duckdb_value")
    node = {"resource_type": "model", "schema": "intermediate", "alias": "int_example"}
    manifest = {
        "nodes": {
            "model.a": node | {"config": {"materialized": "table"}},
            "model.b": node | {"alias": "not_built", "config": {"materialized": "table"}},
            "model.c": node | {"alias": "a_view", "config": {"materialized": "view"}},
        }
    }
    assert engines.expose_tables(conn, settings, manifest) == ["intermediate.int_example"]
    assert conn.execute("select * from intermediate.int_example").fetchall() == [(2,)]
    conn.close()


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
