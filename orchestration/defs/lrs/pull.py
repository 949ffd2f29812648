"""Pulls the statements an LRS stored since the last pull into raw.lms_statements.

The cursor (raw.lrs_cursor) is the latest `stored` loaded from each LRS. A pull asks for
`since` = cursor minus an overlap window, because `since` is exclusive, several statements can
share a `stored` time, some LRSs (Ralph) filter on `timestamp` instead, and statements can be
stored while we page. Statements come back again inside the window; those already loaded from
the same LRS are recognised by id and skipped, and any other copy takes the usual dedup path.

Statements are committed batch by batch, through the same loader as file lines. The cursor moves
only when the last page has been loaded: the xAPI default order is newest first, so until the
end, no `stored` time seen so far is a safe place to resume from. A pull that fails half way
leaves the cursor where it was, and the next one fetches the same range again and loads only
what is missing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import duckdb

from orchestration.defs.ingest.contract import (
    RAW_SCHEMA,
    STATEMENT_DUPLICATES_TABLE,
    STATEMENTS_TABLE,
)
from orchestration.defs.ingest.statements import ensure_statement_tables, load_statement_texts
from orchestration.defs.lrs.client import LrsClient, LrsError, parse_stored

CURSOR_TABLE = f"{RAW_SCHEMA}.lrs_cursor"
BATCH_STATEMENTS = 5_000  # statements merged per transaction (several pages)


@dataclass
class PullResult:
    lrs_url: str
    since: datetime | None
    cursor_before: datetime | None
    cursor_after: datetime | None = None
    pages: int = 0
    statements_received: int = 0
    already_loaded: int = 0  # re-served inside the overlap window: no news
    rows_loaded: int = 0
    rows_duplicate: int = 0
    rows_quarantined: int = 0
    sources: list[str] = field(default_factory=list)

    def metadata(self) -> dict:
        def iso(value: datetime | None) -> str:
            return value.isoformat() + "Z" if value else "none"

        return {
            "lrs_url": self.lrs_url,
            "since": iso(self.since),
            "cursor_before": iso(self.cursor_before),
            "cursor_after": iso(self.cursor_after),
            "pages": self.pages,
            "statements_received": self.statements_received,
            "already_loaded": self.already_loaded,
            "rows_loaded": self.rows_loaded,
            "rows_duplicate": self.rows_duplicate,
            "rows_quarantined": self.rows_quarantined,
        }


def source_prefix(lrs_url: str) -> str:
    """What `source_file` starts with for every statement loaded from this LRS."""
    return f"lrs:{lrs_url}"


def read_cursor(conn: duckdb.DuckDBPyConnection, lrs_url: str) -> datetime | None:
    """The latest `stored` loaded from this LRS, without creating anything when there is none."""
    exists = conn.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        CURSOR_TABLE.split("."),
    ).fetchone()[0]
    if not exists:
        return None
    row = conn.execute(
        f"select last_stored from {CURSOR_TABLE} where lrs_url = ?", [lrs_url]
    ).fetchone()
    return row[0] if row else None


def write_cursor(
    conn: duckdb.DuckDBPyConnection, lrs_url: str, last_stored: datetime, statements: int
) -> None:
    conn.execute(
        f"""
        create table if not exists {CURSOR_TABLE} (
            lrs_url varchar primary key,
            last_stored timestamp not null,  -- UTC; the next pull asks since this minus the overlap
            statements_loaded bigint not null,  -- by the pull that set it
            updated_at timestamp not null
        )"""
    )
    conn.execute(
        f"""
        insert into {CURSOR_TABLE} values (?, ?, ?, ?)
        on conflict (lrs_url) do update set
            last_stored = excluded.last_stored,
            statements_loaded = excluded.statements_loaded,
            updated_at = excluded.updated_at""",
        [lrs_url, last_stored, statements, datetime.now(UTC).replace(tzinfo=None)],
    )


def pull_statements(
    conn: duckdb.DuckDBPyConnection,
    client: LrsClient,
    *,
    limit: int = 500,
    overlap: timedelta = timedelta(minutes=5),
    batch_statements: int | None = None,
    log: Callable[[str], None] = lambda _msg: None,
) -> PullResult:
    lrs_url = client.statements_url
    batch_statements = batch_statements or BATCH_STATEMENTS
    cursor = read_cursor(conn, lrs_url)
    since = cursor - overlap if cursor else None
    result = PullResult(lrs_url=lrs_url, since=since, cursor_before=cursor)
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    log(f"LRS {lrs_url}: pulling statements stored since {since or 'the beginning'}")

    batch: list[dict] = []
    latest: datetime | None = None
    consistent_through: datetime | None = None

    def flush() -> None:
        if batch:
            source = f"{source_prefix(lrs_url)}#pull={started},batch={len(result.sources) + 1}"
            _load_batch(conn, lrs_url, source, batch, result)
            result.sources.append(source)
            batch.clear()
            log(
                f"LRS {lrs_url}: {result.pages} page(s), {result.statements_received:,} "
                f"received, {result.rows_loaded:,} loaded, {result.already_loaded:,} already "
                f"loaded, {result.rows_duplicate:,} duplicates, "
                f"{result.rows_quarantined:,} quarantined"
            )

    try:
        for page in client.pages(since=since, limit=limit):
            result.pages += 1
            result.statements_received += len(page.statements)
            if page.consistent_through and result.pages == 1:
                consistent_through = page.consistent_through
            for statement in page.statements:
                stored = (
                    parse_stored(statement.get("stored")) if isinstance(statement, dict) else None
                )
                if stored and (latest is None or stored > latest):
                    latest = stored
                batch.append(statement)
            if len(batch) >= batch_statements:
                flush()
        flush()
    except LrsError as exc:
        loaded = (
            f"{result.rows_loaded:,} new statement(s) from earlier pages were loaded"
            if result.rows_loaded
            else "nothing was loaded"
        )
        raise type(exc)(
            f"{exc}. The pull stopped after {result.pages} page(s): {loaded}. The cursor stays "
            f"at {cursor.isoformat() + 'Z' if cursor else 'none'}, so the next run starts from "
            "there again and loads only what is missing."
        ) from exc

    # The LRS's own high-water mark, when it sends one, is the safe place to resume from.
    if latest is not None and consistent_through is not None:
        latest = min(latest, consistent_through)
    if latest is not None and (cursor is None or latest > cursor):
        write_cursor(conn, lrs_url, latest, result.rows_loaded)
        result.cursor_after = latest
    else:
        result.cursor_after = cursor
    return result


def _load_batch(
    conn: duckdb.DuckDBPyConnection,
    lrs_url: str,
    source: str,
    statements: list[dict],
    result: PullResult,
) -> None:
    ensure_statement_tables(conn)
    by_id: dict[str, dict] = {}
    others: list[object] = []  # no usable id: the loader assigns one or quarantines the line
    for statement in statements:
        key = statement.get("id") if isinstance(statement, dict) else None
        if isinstance(key, str) and key:
            # Paging can serve a statement twice in one pull; that is not a second copy.
            by_id.setdefault(key.lower(), statement)
        else:
            others.append(statement)
    result.already_loaded += len(statements) - len(by_id) - len(others)
    seen = _already_from(conn, lrs_url, list(by_id))
    result.already_loaded += len(seen)
    texts = [
        json.dumps(statement, ensure_ascii=False, separators=(",", ":"))
        for key, statement in by_id.items()
        if key not in seen
    ] + [json.dumps(other, ensure_ascii=False, separators=(",", ":")) for other in others]
    if not texts:
        return
    loaded = load_statement_texts(conn, source, texts)
    result.rows_loaded += loaded.rows_loaded
    result.rows_duplicate += loaded.rows_duplicate
    result.rows_quarantined += loaded.rows_quarantined


def _already_from(conn: duckdb.DuckDBPyConnection, lrs_url: str, ids: list[str]) -> set[str]:
    """Ids this LRS served before (kept, or recorded as a duplicate of another copy)."""
    if not ids:
        return set()
    prefix = source_prefix(lrs_url) + "#"
    rows = conn.execute(
        f"""
        select statement_id::varchar from {STATEMENTS_TABLE}
        where starts_with(source_file, $prefix)
            and statement_id::varchar in (select unnest($ids::varchar[]))
        union
        select statement_id::varchar from {STATEMENT_DUPLICATES_TABLE}
        where starts_with(source_file, $prefix)
            and statement_id::varchar in (select unnest($ids::varchar[]))
        """,
        {"prefix": prefix, "ids": ids},
    ).fetchall()
    return {row[0] for row in rows}
