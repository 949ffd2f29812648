"""The raw tables written to the lake for the Spark engine (orchestration/defs/ingest/lake.py):
the statements by UTC day, and on later exports only the days whose statements changed. The
Spark test (test_spark_engine.py) reads what this writes; this one needs no Spark."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from orchestration.defs.ingest.lake import PARTITION_COLUMN, STATEMENTS, export_raw
from orchestration.defs.ingest.statements import load_statement_files
from tests.landing import account, statement, write_statements

DAYS = ("2024-06-03", "2024-06-04", "2024-06-05")


@pytest.fixture
def loaded(tmp_path: Path):
    landing = tmp_path / "landing"
    lines = [
        statement(n, account("E1"), timestamp=f"{day}T10:00:00Z", stored=f"{day}T10:00:05Z")
        for n, day in enumerate(DAYS * 2, start=1)
    ]
    write_statements(landing / "lms/statements/first.jsonl", lines)
    conn = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    load_statement_files(conn, landing)
    conn.execute("create table raw.hris_jobs as select 'ENG-1' as job_code")
    yield conn, landing, tmp_path / "lake"
    conn.close()


def day_files(lake: Path) -> dict[str, dict[str, int]]:
    """Each day folder's files and their inodes: a file written again is a new inode."""
    table = lake / "raw" / STATEMENTS
    return {
        folder.name.split("=", 1)[1]: {f.name: f.stat().st_ino for f in folder.iterdir()}
        for folder in table.glob(f"{PARTITION_COLUMN}=*")
    }


def lake_ids(conn, lake: Path) -> list[tuple]:
    return conn.execute(
        f"select {PARTITION_COLUMN}::varchar, statement_id from read_parquet("
        f"'{lake}/raw/{STATEMENTS}/**/*.parquet', hive_partitioning = true) order by all"
    ).fetchall()


def warehouse_ids(conn) -> list[tuple]:
    return conn.execute(
        "select cast(coalesce(timestamp_at, stored_at) as date)::varchar, "
        "statement_id::varchar from raw.lms_statements order by all"
    ).fetchall()


def test_the_first_export_writes_every_day_and_every_raw_table(loaded):
    conn, _, lake = loaded
    exported = {e.table: e for e in export_raw(conn, lake)}
    assert (exported[STATEMENTS].days_written, exported[STATEMENTS].days) == (3, 3)
    assert exported[STATEMENTS].rows == 6
    assert exported["hris_jobs"].rows == 1 and exported["hris_jobs"].days is None
    assert sorted(day_files(lake)) == list(DAYS)
    assert lake_ids(conn, lake) == warehouse_ids(conn)


def test_an_export_with_nothing_new_writes_no_day(loaded):
    conn, _, lake = loaded
    export_raw(conn, lake)
    before = day_files(lake)
    (again,) = [e for e in export_raw(conn, lake) if e.table == STATEMENTS]
    assert again.days_written == 0 and again.rows == 6
    assert day_files(lake) == before


def test_a_late_statement_rewrites_its_own_day_only(loaded):
    conn, landing, lake = loaded
    export_raw(conn, lake)
    before = day_files(lake)
    late = statement(
        99, account("E1"), timestamp="2024-06-04T18:00:00Z", stored="2024-06-07T08:00:00Z"
    )
    write_statements(landing / "lms/statements/late.jsonl", [late])
    load_statement_files(conn, landing)
    (exported,) = [e for e in export_raw(conn, lake) if e.table == STATEMENTS]
    assert (exported.days_written, exported.rows) == (1, 7)
    after = day_files(lake)
    assert after["2024-06-03"] == before["2024-06-03"]
    assert after["2024-06-05"] == before["2024-06-05"]
    assert after["2024-06-04"].keys() == before["2024-06-04"].keys()
    assert after["2024-06-04"] != before["2024-06-04"]  # a new file in the day's folder
    assert lake_ids(conn, lake) == warehouse_ids(conn)
    assert not [p.name for p in (lake / "raw" / STATEMENTS).iterdir() if p.name.startswith(".")]


def test_a_new_column_or_lost_fingerprints_write_every_day_again(loaded):
    conn, _, lake = loaded
    export_raw(conn, lake)
    conn.execute("alter table raw.lms_statements add column note varchar")
    (exported,) = [e for e in export_raw(conn, lake) if e.table == STATEMENTS]
    assert exported.days_written == 3
    columns = conn.execute(
        f"select name from parquet_schema('{lake}/raw/{STATEMENTS}/*/*.parquet')"
    ).fetchall()
    assert ("note",) in columns

    (lake / "raw" / f".{STATEMENTS}.days.parquet").write_bytes(b"not parquet")
    (exported,) = [e for e in export_raw(conn, lake) if e.table == STATEMENTS]
    assert exported.days_written == 3
    assert lake_ids(conn, lake) == warehouse_ids(conn)


def test_a_day_the_lake_holds_but_the_warehouse_lost_is_removed(loaded):
    """Ingestion only appends today; should a day's statements ever be removed from the
    warehouse, the lake must not keep them."""
    conn, _, lake = loaded
    export_raw(conn, lake)
    conn.execute(
        "delete from raw.lms_statements where cast(timestamp_at as date) = date '2024-06-05'"
    )
    (exported,) = [e for e in export_raw(conn, lake) if e.table == STATEMENTS]
    assert (exported.days_written, exported.days) == (0, 2)
    assert sorted(day_files(lake)) == ["2024-06-03", "2024-06-04"]
    assert lake_ids(conn, lake) == warehouse_ids(conn)
