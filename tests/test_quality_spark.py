"""Suites validated in Spark (quality/spark.py) find what the same suites find on DuckDB.

One table with known faults is written to DuckDB and, as Parquet, to a lake; a suite over it
(row expectations, a lookup column, datetime bounds, table metrics with a Spark override, a
metric neither engine can compute) is validated on both, over the whole table and over the
rows loaded since a watermark. Spark runs for real, in the Spark virtualenv (`make spark`)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from orchestration.defs.dbt.engines import relations_path
from orchestration.defs.quality import spark
from orchestration.defs.quality.runner import validate_suite
from orchestration.defs.quality.scope import CHANGED, WHOLE, Scope
from orchestration.defs.quality.suites import load_suite
from tests.conftest import settings_for

pytestmark = pytest.mark.pipeline

AS_OF = date(2024, 6, 30)
SINCE = datetime(2024, 6, 5)

ROWS = """
    select
        id,
        case id when 3 then null when 5 then 15 when 7 then 14 else id % 10 end as x,
        case id when 9 then 'c' else 'a' end as status,
        case id
            when 11 then date '2024-01-10'  -- a Wednesday
            when 12 then date '2023-12-25'  -- before the suite's lower bound
            else date '2024-01-01' + cast(7 * (id % 20) as integer)
        end as day,
        case id when 13 then 99 else id % 10 + 1 end as k,
        timestamp '2024-06-01 08:00:00' + interval (case when id > 10 then 9 else 0 end) day
            as loaded_at
    from (select unnest(range(1, 21)) as id union all select 20)
"""

EXPECTATIONS = [
    ("expect_column_values_to_not_be_null", {"column": "x"}),
    ("expect_column_values_to_be_between", {"column": "x", "min_value": 0, "max_value": 10}),
    (
        "expect_column_values_to_be_between",
        {"column": "x", "min_value": 0, "max_value": 10, "mostly": 0.8},
    ),
    ("expect_column_values_to_be_unique", {"column": "id"}),
    ("expect_column_values_to_be_in_set", {"column": "status", "value_set": ["a", "b"]}),
    (
        "expect_column_values_to_be_between",
        {
            "column": "day",
            "min_value": "2024-01-01T00:00:00",
            "max_value": {"$PARAMETER": "as_of"},
        },
    ),
    ("expect_column_values_to_be_in_set", {"column": "k_in_dim", "value_set": [True]}),
    ("expect_column_values_to_be_between", {"column": "row_count", "min_value": 1}),
    ("expect_column_values_to_be_between", {"column": "non_monday_days", "max_value": 0}),
    ("expect_column_values_to_be_between", {"column": "broken", "max_value": 0}),
]


def write_suite(folder: Path, name: str, table: str = "marts.faulty") -> Path:
    path = folder / "marts" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "table": table,
        "batch_key": ["id"],
        "sample_columns": ["id", "day"],
        "columns": {"k_in_dim": "k in (select k from marts.dim)"},
        "table_metrics": {
            "row_count": "count(*)",
            "non_monday_days": "count(*) filter (where isodow(day) <> 1)",
            "broken": "no_such_function(x)",
        },
        "spark": {
            "table_metrics": {"non_monday_days": "count(*) filter (where dayofweek(day) <> 2)"}
        },
        "changed_rows": {
            "watermark": "(select max(loaded_at) from marts.faulty)",
            "filter": "loaded_at > getvariable('validated_through')",
        },
    }
    expectations = [{"type": t, "kwargs": k, "meta": {}} for t, k in EXPECTATIONS]
    path.write_text(json.dumps({"name": name, "meta": meta, "expectations": expectations}))
    return path


@pytest.fixture(scope="module")
def validated(tmp_path_factory):
    root = tmp_path_factory.mktemp("quality-spark")
    settings = settings_for(root, PIPELINE_ENGINE="spark")
    tables = settings.lake_dir / "warehouse" / "marts.db"
    conn = duckdb.connect(str(root / "faulty.duckdb"))
    conn.execute("create schema marts")
    conn.execute(f"create table marts.faulty as {ROWS}")
    conn.execute("create table marts.dim as select unnest(range(1, 11)) as k")
    relations = []
    for table in ("dim", "faulty"):
        (tables / table).mkdir(parents=True)
        conn.execute(f"copy marts.{table} to '{tables / table / 'part-0.parquet'}'")
        relations.append({"schema": "marts", "name": table, "parquet": str(tables / table)})
    relations_path(settings.lake_dir).write_text(json.dumps(relations))

    whole = load_suite(write_suite(root / "suites", "faulty"))
    changed = load_suite(write_suite(root / "suites", "faulty_changed"))
    lost = load_suite(write_suite(root / "suites", "lost", table="marts.never_built"))
    scopes = {
        whole.name: Scope(WHOLE, "every row"),
        changed.name: Scope(
            CHANGED,
            "rows loaded since",
            rows_filter=changed.changed_rows["filter"],
            validated_through=SINCE,
        ),
    }
    said: list[str] = []
    answers = spark.validate(
        [(whole, scopes[whole.name]), (changed, scopes[changed.name]), (lost, Scope(WHOLE, "-"))],
        settings,
        said.append,
    )
    runs = {}
    for suite in (whole, changed):
        conn.execute(f"set variable validated_through = timestamp '{SINCE.isoformat()}'")
        on_duckdb = validate_suite(
            conn, suite, as_of=AS_OF, batch_rows=7, rows_filter=scopes[suite.name].rows_filter
        )
        on_spark = spark.suite_run(
            suite, answers[suite.name], as_of=AS_OF, docs_dir=root / "docs", run_name="test"
        )
        runs[suite.name] = (on_duckdb, on_spark)
    runs["lost"] = spark.suite_run(lost, answers["lost"], as_of=AS_OF, docs_dir=None, run_name="t")
    return runs, said


def findings(run) -> list[tuple]:
    return [
        (
            o.label,
            o.success,
            o.unexpected_count,
            o.element_count,
            bool(o.exception),
            sorted(json.dumps(r, sort_keys=True) for r in o.sample_rows),
            None if o.unexpected_count is not None or o.exception else o.observed,
        )
        for o in run.outcomes
    ]


@pytest.mark.parametrize("suite", ["faulty", "faulty_changed"])
def test_spark_finds_what_duckdb_finds(validated, suite):
    on_duckdb, on_spark = validated[0][suite]
    assert findings(on_spark) == findings(on_duckdb)
    assert (on_spark.rows, on_spark.table_rows) == (on_duckdb.rows, on_duckdb.table_rows)
    assert on_spark.severity == "error"


def test_the_faults_are_found(validated):
    """What the planted faults must give, so equal results are not equally blind."""
    on_spark = {o.label: o for o in validated[0]["faulty"][1].outcomes}
    assert on_spark["expect_column_values_to_not_be_null(x)"].unexpected_count == 1
    between = [o for o in validated[0]["faulty"][1].outcomes if o.label.endswith("between(x)")]
    assert [(o.success, o.unexpected_count) for o in between] == [(False, 2), (True, 2)]
    unique = on_spark["expect_column_values_to_be_unique(id)"]
    assert unique.unexpected_count == 2
    assert {r["id"] for r in unique.sample_rows} == {20}
    day = on_spark["expect_column_values_to_be_between(day)"]
    assert day.sample_rows == [{"id": 12, "day": "2023-12-25T00:00:00"}]
    assert on_spark["expect_column_values_to_be_in_set(k_in_dim)"].unexpected_count == 1
    assert on_spark["expect_column_values_to_be_between(non_monday_days)"].observed == 1
    assert "no_such_function" in on_spark["expect_column_values_to_be_between(broken)"].exception
    # The changed rows: ids above 10, loaded after the watermark (the duplicate 20 included).
    changed = validated[0]["faulty_changed"][1]
    assert (changed.rows, changed.table_rows) == (11, 21)


def test_spark_says_what_it_validated(validated):
    said = validated[1]
    assert any("SparkSession on local[2]" in line for line in said)
    assert any(
        line.endswith("s") and "faulty_changed: 7 row expectations over 11 rows" in line
        for line in said
    )
    assert validated[0]["faulty"][1].data_docs_url.startswith("file://")


def test_a_table_spark_cannot_read_fails_its_own_suite_only(validated):
    """The other suites of the same validation were validated (test_spark_finds_...)."""
    lost = validated[0]["lost"]
    assert lost.severity == "error" and len(lost.failed) == len(EXPECTATIONS)
    assert all("never_built" in o.exception for o in lost.failed)
    assert any("lost: cannot be validated" in line for line in validated[1])


def test_without_the_spark_virtualenv_the_error_says_what_to_do(tmp_path):
    settings = settings_for(
        tmp_path, PIPELINE_ENGINE="spark", PIPELINE_SPARK_DBT=str(tmp_path / "none" / "dbt")
    )
    with pytest.raises(spark.SparkValidationError, match="make spark.*PIPELINE_SPARK_VALIDATION"):
        spark.validate([], settings, print)
