"""Writes a publication of trusted marts for BI tools, atomically, beside (never in) the warehouse.

Layout of PIPELINE_PUBLISH_DIR:

    analytics.duckdb                 one table per published mart + publication_info
    parquet -> parquet_versions/<id> symlink to the current Parquet version
    parquet_versions/<id>/<table>.parquet, _publication.json
    publication.json                 what was published, when, by which run

Every file is written under a temporary name first and swapped in with os.replace (a rename on
the same filesystem), so a reader sees the old or the new publication, never a mix: the DuckDB
file is replaced whole, and the `parquet` symlink is replaced in one step, pointing to a directory
that is complete before the swap. Older Parquet versions are kept a little while (KEEP_VERSIONS),
so a reader that resolved the symlink just before a swap can finish reading.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.defs.publication import DUCKDB_FILE, INFO_TABLE, MANIFEST

PARQUET_LINK = "parquet"
PARQUET_VERSIONS = "parquet_versions"
# Oldest storage format still read by DuckDB 1.0 and 1.1, which many BI drivers bundle.
STORAGE_VERSION = "v1.0.0"
KEEP_VERSIONS = 3


@dataclass(frozen=True)
class Publication:
    publication_id: str
    published_at: str
    run_id: str
    tables: dict[str, int]  # table -> rows
    duckdb_path: str
    parquet_dir: str


def publish(
    conn: duckdb.DuckDBPyConnection,
    tables: list[str],
    publish_dir: Path,
    *,
    run_id: str,
    source_schema: str = "marts",
) -> Publication:
    """Copy `source_schema.<table>` for each table into a new publication and swap it in."""
    publish_dir.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    publication_id = f"{now:%Y%m%dT%H%M%S}Z-{uuid.uuid4().hex[:8]}"
    rows = {
        table: conn.execute(f'select count(*) from "{source_schema}"."{table}"').fetchone()[0]
        for table in tables
    }
    publication = Publication(
        publication_id=publication_id,
        published_at=now.isoformat(timespec="seconds"),
        run_id=run_id,
        tables=rows,
        duckdb_path=str(publish_dir / DUCKDB_FILE),
        parquet_dir=str(publish_dir / PARQUET_LINK),
    )
    staged_db = publish_dir / f".{DUCKDB_FILE}.{publication_id}.tmp"
    version_dir = publish_dir / PARQUET_VERSIONS / publication_id
    try:
        _write_duckdb(conn, tables, source_schema, staged_db, publication)
        _write_parquet(conn, tables, source_schema, version_dir, publication)
    except BaseException:
        staged_db.unlink(missing_ok=True)
        shutil.rmtree(version_dir, ignore_errors=True)
        raise
    # The swaps: each is one rename; nothing before this point touched the live publication.
    os.replace(staged_db, publish_dir / DUCKDB_FILE)
    _swap_symlink(publish_dir / PARQUET_LINK, Path(PARQUET_VERSIONS) / publication_id)
    _write_json_atomically(publish_dir / MANIFEST, asdict(publication))
    _prune_versions(publish_dir / PARQUET_VERSIONS, keep=KEEP_VERSIONS, current=publication_id)
    return publication


def _write_duckdb(conn, tables, source_schema, path: Path, publication: Publication) -> None:
    path.unlink(missing_ok=True)
    alias = f"publication_{publication.publication_id.split('-')[-1]}"
    conn.execute(f"attach '{_sql_path(path)}' as {alias} (storage_version '{STORAGE_VERSION}')")
    try:
        for table in tables:
            conn.execute(
                f'create table {alias}.main."{table}" as select * from "{source_schema}"."{table}"'
            )
        conn.execute(
            f"""
            create table {alias}.main.{INFO_TABLE} as
            select ?::varchar as publication_id, ?::timestamp as published_at_utc,
                   ?::varchar as run_id, unnest(?::varchar[]) as table_name,
                   unnest(?::bigint[]) as row_count""",
            [
                publication.publication_id,
                publication.published_at[:19],
                publication.run_id,
                list(publication.tables),
                list(publication.tables.values()),
            ],
        )
    finally:
        conn.execute(f"detach {alias}")
    _fsync(path)


def _write_parquet(conn, tables, source_schema, version_dir: Path, publication) -> None:
    version_dir.mkdir(parents=True)
    for table in tables:
        target = version_dir / f"{table}.parquet"
        conn.execute(
            f'copy (select * from "{source_schema}"."{table}") '
            f"to '{_sql_path(target)}' (format parquet, compression zstd)"
        )
        _fsync(target)
    _write_json_atomically(version_dir / "_publication.json", asdict(publication))


def _swap_symlink(link: Path, target: Path) -> None:
    if link.exists() and not link.is_symlink():
        # A real directory from a manual copy: move it aside once so the link can take its place.
        link.rename(link.parent / PARQUET_VERSIONS / f"replaced-{uuid.uuid4().hex[:8]}")
    staged = link.parent / f".{link.name}.{uuid.uuid4().hex[:8]}.tmp"
    os.symlink(target, staged, target_is_directory=True)
    os.replace(staged, link)


def _prune_versions(versions: Path, *, keep: int, current: str) -> None:
    existing = sorted(
        (p for p in versions.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime
    )
    for old in existing[:-keep]:
        if old.name != current:
            shutil.rmtree(old, ignore_errors=True)


def _write_json_atomically(path: Path, content: dict) -> None:
    staged = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    staged.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    _fsync(staged)
    os.replace(staged, path)


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
