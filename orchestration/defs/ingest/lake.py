"""The raw tables as the Spark engine reads them (docs/spark.md#the-lake): Parquet under
PIPELINE_LAKE_DIR/raw/<table>, written from the warehouse's raw tables after ingestion, so the
contract checks, deduplication, voiding index and quarantine stay one implementation for both
engines. `lms_statements` is partitioned by the UTC date of its timestamp (else stored), the
column a day's rebuild filters on (`event_date_utc`).

Each table is written to a new folder and swapped in by two renames, so a reader never sees half
a table (between the renames, for an instant, it finds none), and a failed export leaves the
previous one in place."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

RAW_SCHEMA = "raw"
STATEMENTS = "lms_statements"
PARTITION_COLUMN = "event_date_utc"


@dataclass(frozen=True)
class Exported:
    table: str
    rows: int


def export_raw(conn: duckdb.DuckDBPyConnection, lake_dir: Path) -> list[Exported]:
    """Write every raw table of the warehouse to the lake; returns what was written."""
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
    return [_export(conn, table, raw) for table in tables]


def _export(conn: duckdb.DuckDBPyConnection, table: str, raw: Path) -> Exported:
    columns = conn.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [RAW_SCHEMA, table],
    ).fetchall()
    # Parquet has no JSON type and Spark reads no UUID: both travel as text.
    select = ", ".join(
        f'cast("{name}" as varchar) as "{name}"' if kind in ("UUID", "JSON") else f'"{name}"'
        for name, kind in columns
    )
    options = "format parquet, compression zstd"
    if table == STATEMENTS:
        select += f", cast(coalesce(timestamp_at, stored_at) as date) as {PARTITION_COLUMN}"
        options += f", partition_by ({PARTITION_COLUMN})"
    staged, final = raw / f".{table}.new", raw / table
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir()
    target = staged if table == STATEMENTS else staged / "part-0.parquet"
    conn.execute(f"copy (select {select} from {RAW_SCHEMA}.{table}) to '{target}' ({options})")
    old = raw / f".{table}.old"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    staged.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    (rows,) = conn.execute(f"select count(*) from {RAW_SCHEMA}.{table}").fetchone()
    return Exported(table, rows)
