"""Warehouse tables that make loading auditable: the quarantine and the ledger of loaded files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from orchestration.defs.ingest.contract import INGESTED_FILES_TABLE, QUARANTINE_TABLE, RAW_SCHEMA

QUARANTINE_COLUMNS = ("source_table", "source_file", "line_number", "reason", "raw_text")


def ensure_bookkeeping(conn: duckdb.DuckDBPyConnection) -> None:
    # Load times (the ledger's, the quarantine's) are written in UTC whatever the machine's zone.
    conn.execute("set TimeZone = 'UTC'")
    conn.execute(f"create schema if not exists {RAW_SCHEMA}")
    conn.execute(
        f"""
        create table if not exists {QUARANTINE_TABLE} (
            source_table varchar not null,
            source_file varchar not null,
            line_number bigint not null,
            reason varchar not null,
            raw_text varchar,
            quarantined_at timestamp not null default current_timestamp
        )"""
    )
    conn.execute(
        f"""
        create table if not exists {INGESTED_FILES_TABLE} (
            source_table varchar not null,
            source_file varchar not null,
            sha256 varchar not null,
            size_bytes bigint not null,
            rows_loaded bigint not null,
            rows_quarantined bigint not null,
            rows_duplicate bigint not null default 0,
            loaded_at timestamp not null default current_timestamp
        )"""
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def already_loaded(
    conn: duckdb.DuckDBPyConnection, source_table: str, source_file: str, sha256: str
) -> tuple[int, int, int] | None:
    """(loaded, quarantined, duplicates) of the last load when that exact content was loaded."""
    row = conn.execute(
        f"""
        select rows_loaded, rows_quarantined, rows_duplicate, sha256
        from {INGESTED_FILES_TABLE}
        where source_table = ? and source_file = ?
        order by loaded_at desc limit 1""",
        [source_table, source_file],
    ).fetchone()
    if row is None or row[3] != sha256:
        return None
    return row[0], row[1], row[2]


def loaded_versions(conn: duckdb.DuckDBPyConnection, source_table: str) -> dict[str, str]:
    """The content hash each file of `source_table` was last loaded with, read in one query:
    a landing zone holds a file per day, and a query per file would grow with the history."""
    return dict(
        conn.execute(
            f"""
            select source_file, arg_max(sha256, loaded_at)
            from {INGESTED_FILES_TABLE} where source_table = ? group by source_file""",
            [source_table],
        ).fetchall()
    )


def record_file(
    conn: duckdb.DuckDBPyConnection,
    *,
    source_table: str,
    source_file: str,
    sha256: str,
    size_bytes: int,
    rows_loaded: int,
    rows_quarantined: int,
    rows_duplicate: int = 0,
) -> None:
    record_files(
        conn,
        source_table,
        [(source_file, sha256, size_bytes, rows_loaded, rows_quarantined, rows_duplicate)],
    )


def record_files(
    conn: duckdb.DuckDBPyConnection,
    source_table: str,
    files: list[tuple[str, str, int, int, int, int]],
) -> None:
    """Ledger rows (source_file, sha256, size_bytes, rows_loaded, rows_quarantined,
    rows_duplicate) for `source_table`, in one statement."""
    if not files:
        return
    conn.execute(
        f"""
        insert into {INGESTED_FILES_TABLE}
            (source_table, source_file, sha256, size_bytes, rows_loaded, rows_quarantined,
             rows_duplicate)
        select ?, unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), unnest(?)""",
        [source_table, *(list(column) for column in zip(*files, strict=True))],
    )
