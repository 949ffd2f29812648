"""The raw tables as the Spark engine reads them (docs/spark.md#the-lake): Parquet under
PIPELINE_LAKE_DIR/raw/<table>, written from the warehouse's raw tables after ingestion, so the
contract checks, deduplication, voiding index and quarantine stay one implementation for both
engines. `lms_statements` is partitioned by the UTC date of its timestamp (else stored), the
column a day's rebuild filters on (`event_date_utc`).

The snapshot tables are small and written whole. The statements grow with the history, so only
the days whose rows changed since the last export are written again: the export keeps, beside
the table, a fingerprint of every day it wrote (its row count and a hash of its rows' ids and
load records), compares it with the warehouse's, and replaces the folders of the days that
differ. A new column, a missing fingerprint or a missing table writes every day.

A table written whole goes to a new folder, swapped in by two renames; a day is swapped in the
same way. So a reader never sees half a table or half a day (between the renames, for an
instant, it finds none), and a failed export leaves what was there. The fingerprints are saved
last: a day swapped in by an export that then failed is written again by the next."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

RAW_SCHEMA = "raw"
STATEMENTS = "lms_statements"
PARTITION_COLUMN = "event_date_utc"
# A statement's day: the UTC date of its timestamp, else of its stored time.
_DAY = "cast(coalesce(timestamp_at, stored_at) as date)"
# The rows of a day as the export saw them. Ingestion only appends statements (duplicates go to
# their own table), so a day changes by new rows; the load record in the hash also catches a
# row loaded again.
_DAY_FINGERPRINTS = f"""
    select {_DAY} as day,
           count(*) as row_count,
           bit_xor(hash(statement_id, stored_at, timestamp_at, source_file, source_line,
                        loaded_at)) as row_hash
    from {RAW_SCHEMA}.{STATEMENTS}
    group by all"""


@dataclass(frozen=True)
class Exported:
    table: str
    rows: int
    # Partitioned tables: the day folders written, of how many the table has.
    days_written: int | None = None
    days: int | None = None

    def describe(self) -> str:
        written = (
            f", {self.days_written:,} of {self.days:,} days written"
            if self.days is not None
            else ""
        )
        return f"{self.table} ({self.rows:,} rows{written})"


def export_raw(conn: duckdb.DuckDBPyConnection, lake_dir: Path) -> list[Exported]:
    """Write the raw tables of the warehouse to the lake, statements by changed day; returns
    what was written."""
    raw = lake_dir / RAW_SCHEMA
    raw.mkdir(parents=True, exist_ok=True)
    tables = [
        name
        for (name,) in conn.execute(
            "select table_name from information_schema.tables where table_schema = ? "
            "order by table_name",
            [RAW_SCHEMA],
        ).fetchall()
    ]
    return [
        _export_statements(conn, raw) if table == STATEMENTS else _export_whole(conn, table, raw)
        for table in tables
    ]


def _columns(conn: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return conn.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [RAW_SCHEMA, table],
    ).fetchall()


def _select_list(columns: list[tuple[str, str]]) -> str:
    # Parquet has no JSON type and Spark reads no UUID: both travel as text.
    return ", ".join(
        f'cast("{name}" as varchar) as "{name}"' if kind in ("UUID", "JSON") else f'"{name}"'
        for name, kind in columns
    )


def _swap(staged: Path, final: Path) -> None:
    """Put `staged` where `final` is, by two renames."""
    old = final.with_name(f".{final.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    staged.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def _export_whole(conn: duckdb.DuckDBPyConnection, table: str, raw: Path) -> Exported:
    staged = raw / f".{table}.new"
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir()
    select = _select_list(_columns(conn, table))
    conn.execute(
        f"copy (select {select} from {RAW_SCHEMA}.{table}) to '{staged / 'part-0.parquet'}' "
        "(format parquet, compression zstd)"
    )
    _swap(staged, raw / table)
    (rows,) = conn.execute(f"select count(*) from {RAW_SCHEMA}.{table}").fetchone()
    return Exported(table, rows)


def _export_statements(conn: duckdb.DuckDBPyConnection, raw: Path) -> Exported:
    columns = _columns(conn, STATEMENTS)
    signature = ",".join(f"{name} {kind}" for name, kind in columns)
    final = raw / STATEMENTS
    saved = raw / f".{STATEMENTS}.days.parquet"
    conn.execute(f"create or replace temp table _lake_days as {_DAY_FINGERPRINTS}")
    try:
        previous = _saved_fingerprints(conn, saved, signature) if final.exists() else None
        if previous is None:
            changed = "select day from _lake_days"
        else:
            conn.execute(f"create or replace temp table _lake_saved as {previous}")
            changed = (
                "select day, row_count, row_hash from _lake_days "
                "except select day, row_count, row_hash from _lake_saved"
            )
        conn.execute(f"create or replace temp table _lake_changed as select day from ({changed})")
        (written,) = conn.execute("select count(*) from _lake_changed").fetchone()
        select = f"{_select_list(columns)}, {_DAY} as {PARTITION_COLUMN}"
        staged = raw / f".{STATEMENTS}.new"
        shutil.rmtree(staged, ignore_errors=True)
        staged.mkdir()
        if written:
            conn.execute(
                f"copy (select {select} from {RAW_SCHEMA}.{STATEMENTS} "
                f"where {_DAY} in (select day from _lake_changed)) "
                f"to '{staged}' (format parquet, compression zstd, partition_by "
                f"({PARTITION_COLUMN}))"
            )
        if previous is None:
            _swap(staged, final)
        else:
            for folder in sorted(staged.iterdir()):
                _swap(folder, final / folder.name)
            shutil.rmtree(staged)
            gone = conn.execute(
                "select day from _lake_saved except select day from _lake_days"
            ).fetchall()
            for (day,) in gone:  # every statement of the day is gone (none is, today)
                shutil.rmtree(final / f"{PARTITION_COLUMN}={day.isoformat()}", ignore_errors=True)
        _save_fingerprints(conn, saved, signature)
        rows, days = conn.execute("select sum(row_count), count(*) from _lake_days").fetchone()
    finally:
        for name in ("_lake_days", "_lake_saved", "_lake_changed"):
            conn.execute(f"drop table if exists {name}")
    return Exported(STATEMENTS, int(rows or 0), days_written=written, days=days)


def _saved_fingerprints(conn: duckdb.DuckDBPyConnection, saved: Path, signature: str) -> str | None:
    """The query of the days the last export wrote, or None when every day must be written:
    no fingerprints, unreadable ones, or fingerprints of other columns."""
    if not saved.exists():
        return None
    try:
        (columns,) = conn.execute(
            f"select any_value(columns) from read_parquet('{_literal(saved)}')"
        ).fetchone()
    except duckdb.Error:
        return None
    if columns != signature:
        return None
    return f"select day, row_count, row_hash from read_parquet('{_literal(saved)}')"


def _save_fingerprints(conn: duckdb.DuckDBPyConnection, saved: Path, signature: str) -> None:
    staged = saved.with_name(saved.name + ".new")
    conn.execute(
        f"copy (select day, row_count, row_hash, '{_literal(signature)}' as columns "
        f"from _lake_days) to '{_literal(staged)}' (format parquet)"
    )
    staged.replace(saved)


def _literal(value: object) -> str:
    return str(value).replace("'", "''")
