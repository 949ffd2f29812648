"""A run validates the rows it wrote: a bad new row is caught, and so is a new row that duplicates
an old one; the whole table is validated on the first run, on a cadence, after a snapshot extract
changed, and on a whole-history run; a failed validation is repeated until it passes."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pytest

from orchestration.defs.ingest.bookkeeping import ensure_bookkeeping, record_file
from orchestration.defs.quality.runner import validate_suite
from orchestration.defs.quality.scope import CHANGED, LOG_TABLE, WHOLE, record, scope_for
from orchestration.defs.quality.suites import load_suite

AS_OF = date(2024, 6, 30)


@pytest.fixture
def conn(tmp_path):
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    conn.execute("set TimeZone = 'UTC'")
    conn.execute("create schema raw")
    conn.execute(
        """create table raw.events as select
             'S' || i as event_id, 'E' || (i % 7) as employee_id,
             timestamp '2024-06-01 00:00:00' as loaded_at
           from range(1000) t(i)"""
    )
    ensure_bookkeeping(conn)
    yield conn
    conn.close()


@pytest.fixture
def suite(tmp_path):
    path = tmp_path / "events.json"
    path.write_text(
        json.dumps(
            {
                "name": "raw.events",
                "meta": {
                    "batch_key": ["event_id"],
                    "changed_rows": {
                        "watermark": "(select max(loaded_at) from raw.events)",
                        "filter": "loaded_at > getvariable('validated_through')",
                        "describe": "events loaded since {since}",
                    },
                    "table_metrics": {"row_count": "count(*)"},
                },
                "expectations": [
                    {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "event_id"}},
                    {
                        "type": "expect_column_values_to_not_be_null",
                        "kwargs": {"column": "employee_id"},
                    },
                    {
                        "type": "expect_column_values_to_be_between",
                        "kwargs": {"column": "row_count", "min_value": 1},
                    },
                ],
            }
        )
    )
    return load_suite(path)


def validate(conn, suite, *, whole_history=False, days=7):
    scope = scope_for(conn, suite, full_validation_days=days, whole_history=whole_history)
    run = validate_suite(conn, suite, as_of=AS_OF, rows_filter=scope.rows_filter)
    record(
        conn,
        suite,
        scope,
        run_id="test",
        rows_validated=run.rows,
        table_rows=run.table_rows,
        passed=run.severity != "error",
    )
    return scope, run


def load(conn, rows: str) -> None:
    conn.execute(f"insert into raw.events values {rows}")


def failures(run) -> dict[str, int | None]:
    return {o.label: o.unexpected_count for o in run.failed}


def test_the_first_validation_reads_the_whole_table_and_the_next_only_new_rows(conn, suite):
    scope, run = validate(conn, suite)
    assert (scope.kind, run.rows) == (WHOLE, 1000)
    load(conn, "('S1000', 'E1', timestamp '2024-06-02 00:00:00')")
    scope, run = validate(conn, suite)
    assert scope.kind == CHANGED
    assert scope.reason == "events loaded since 2024-06-01 00:00:00"
    assert (run.rows, run.table_rows, run.failed) == (1, 1001, [])


def test_a_bad_new_row_and_a_new_copy_of_an_old_key_are_caught(conn, suite):
    validate(conn, suite)
    load(
        conn,
        "('S1001', null, timestamp '2024-06-02 00:00:00'), "
        "('S5', 'E5', timestamp '2024-06-02 00:00:00')",  # S5 was loaded, and validated, before
    )
    scope, run = validate(conn, suite)
    assert scope.kind == CHANGED
    assert run.rows == 3  # the two new rows, and the old S5 they duplicate
    assert failures(run) == {
        "expect_column_values_to_be_unique(event_id)": 2,
        "expect_column_values_to_not_be_null(employee_id)": 1,
    }


def test_a_failed_validation_is_repeated_over_the_same_rows_until_it_passes(conn, suite):
    validate(conn, suite)
    load(conn, "('S1001', null, timestamp '2024-06-02 00:00:00')")
    assert validate(conn, suite)[1].failed
    load(conn, "('S1002', 'E2', timestamp '2024-06-03 00:00:00')")
    scope, run = validate(conn, suite)
    assert (scope.kind, run.rows) == (CHANGED, 2)  # the failed row again, and the new one
    assert failures(run) == {"expect_column_values_to_not_be_null(employee_id)": 1}
    conn.execute("update raw.events set employee_id = 'E1' where event_id = 'S1001'")
    assert not validate(conn, suite)[1].failed
    load(conn, "('S1003', 'E3', timestamp '2024-06-04 00:00:00')")
    assert validate(conn, suite)[1].rows == 1


def test_a_changed_snapshot_extract_validates_the_whole_table_again(conn, suite):
    validate(conn, suite)
    record_file(
        conn,
        source_table="raw.hris_workers",
        source_file="hris/workers.csv",
        sha256="x",
        size_bytes=1,
        rows_loaded=1,
        rows_quarantined=0,
    )
    scope, run = validate(conn, suite)
    assert scope.kind == WHOLE and "snapshot extract changed" in scope.reason
    assert run.rows == 1000
    assert validate(conn, suite)[0].kind == CHANGED


def test_the_whole_table_on_a_cadence_and_on_a_whole_history_run(conn, suite):
    validate(conn, suite)
    assert validate(conn, suite, whole_history=True)[0].kind == WHOLE
    scope, _ = validate(conn, suite, days=0)
    assert scope.kind == WHOLE and "PIPELINE_FULL_VALIDATION_DAYS" in scope.reason
    conn.execute(f"update {LOG_TABLE} set validated_at = validated_at - interval 8 day")
    assert validate(conn, suite)[0].kind == WHOLE
    assert validate(conn, suite)[0].kind == CHANGED
