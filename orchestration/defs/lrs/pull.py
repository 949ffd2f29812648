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

No overlap window catches everything: Ralph filters `since` on `timestamp`, so a statement
stored today with last month's timestamp (an offline app syncing, a bulk import) is behind any
cursor. So every `PIPELINE_LRS_SWEEP_HOURS` (default 24) a pull is a **sweep**: it pages
through every statement the LRS holds, without `since`, and loads those it never served before.
Known ids are matched against one temporary table of everything this LRS served, so a sweep
costs a read of the LRS and one scan of the raw table, and re-served statements are neither
loaded nor recorded as duplicates.
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
    sweep: bool = False  # every statement asked for, not only those since the cursor
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
            "mode": "sweep (every statement)" if self.sweep else "since the cursor",
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


def _cursor_row(conn: duckdb.DuckDBPyConnection, lrs_url: str) -> tuple | None:
    exists = conn.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        CURSOR_TABLE.split("."),
    ).fetchone()[0]
    if not exists:
        return None
    _add_sweep_column(conn)
    return conn.execute(
        f"select last_stored, last_sweep_at from {CURSOR_TABLE} where lrs_url = ?", [lrs_url]
    ).fetchone()


def read_cursor(conn: duckdb.DuckDBPyConnection, lrs_url: str) -> datetime | None:
    """The latest `stored` loaded from this LRS, without creating anything when there is none."""
    row = _cursor_row(conn, lrs_url)
    return row[0] if row else None


def _add_sweep_column(conn: duckdb.DuckDBPyConnection) -> None:
    """Cursor tables written before sweeps existed get the column (empty: a sweep is due)."""
    conn.execute(f"alter table {CURSOR_TABLE} add column if not exists last_sweep_at timestamp")


def write_cursor(
    conn: duckdb.DuckDBPyConnection,
    lrs_url: str,
    last_stored: datetime,
    statements: int,
    swept_at: datetime | None = None,
) -> None:
    conn.execute(
        f"""
        create table if not exists {CURSOR_TABLE} (
            lrs_url varchar primary key,
            last_stored timestamp not null,  -- UTC; the next pull asks since this minus the overlap
            statements_loaded bigint not null,  -- by the pull that set it
            updated_at timestamp not null,
            last_sweep_at timestamp  -- UTC; the last pull that asked for every statement
        )"""
    )
    _add_sweep_column(conn)
    conn.execute(
        f"""
        insert into {CURSOR_TABLE}
            (lrs_url, last_stored, statements_loaded, updated_at, last_sweep_at)
        values (?, ?, ?, ?, ?)
        on conflict (lrs_url) do update set
            last_stored = excluded.last_stored,
            statements_loaded = excluded.statements_loaded,
            updated_at = excluded.updated_at,
            last_sweep_at = coalesce(excluded.last_sweep_at, {CURSOR_TABLE}.last_sweep_at)""",
        [lrs_url, last_stored, statements, _utc_now(), swept_at],
    )


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def pull_statements(
    conn: duckdb.DuckDBPyConnection,
    client: LrsClient,
    *,
    limit: int = 500,
    overlap: timedelta = timedelta(minutes=5),
    sweep_every: timedelta = timedelta(hours=24),
    batch_statements: int | None = None,
    log: Callable[[str], None] = lambda _msg: None,
) -> PullResult:
    lrs_url = client.statements_url
    batch_statements = batch_statements or BATCH_STATEMENTS
    row = _cursor_row(conn, lrs_url)
    cursor, last_sweep = row if row else (None, None)
    pulled_at = _utc_now()
    sweep = cursor is not None and (last_sweep is None or pulled_at - last_sweep >= sweep_every)
    since = cursor - overlap if cursor and not sweep else None
    result = PullResult(lrs_url=lrs_url, since=since, cursor_before=cursor, sweep=sweep)
    # To the microsecond: every pull's batches are sources of their own, even two pulls a second.
    started = pulled_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if sweep:
        log(
            f"LRS {lrs_url}: sweeping every statement it holds (the last sweep was "
            f"{last_sweep.isoformat() + 'Z' if last_sweep else 'never'}; "
            "PIPELINE_LRS_SWEEP_HOURS), for statements stored late with old timestamps"
        )
    else:
        log(f"LRS {lrs_url}: pulling statements stored since {since or 'the beginning'}")

    batch: list[dict] = []
    latest: datetime | None = None
    consistent_through: datetime | None = None

    def flush() -> None:
        if batch:
            if not result.sources:  # the first statements: nothing is written before them
                ensure_statement_tables(conn)
                _remember_served(conn, lrs_url)
            source = f"{source_prefix(lrs_url)}#pull={started},batch={len(result.sources) + 1}"
            _load_batch(conn, source, batch, result)
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
    # A first pull asks for everything: it counts as a sweep.
    swept_at = pulled_at if since is None else None
    if latest is not None and (cursor is None or latest > cursor):
        write_cursor(conn, lrs_url, latest, result.rows_loaded, swept_at)
        result.cursor_after = latest
    else:
        if cursor is not None and swept_at is not None:
            write_cursor(conn, lrs_url, cursor, result.rows_loaded, swept_at)
        result.cursor_after = cursor
    conn.execute(f"drop table if exists {_SERVED}")
    return result


def _load_batch(
    conn: duckdb.DuckDBPyConnection,
    source: str,
    statements: list[dict],
    result: PullResult,
) -> None:
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
    seen = _already_from(conn, list(by_id))
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
    conn.execute(
        f"insert into {_SERVED} select unnest(?::varchar[])",
        [[key for key in by_id if key not in seen]],
    )


_SERVED = "_lrs_served"


def _remember_served(conn: duckdb.DuckDBPyConnection, lrs_url: str) -> None:
    """Every id this LRS served before (kept, or recorded as a duplicate of another copy), in
    one temporary table: one scan of the raw tables per pull, not one per batch."""
    prefix = source_prefix(lrs_url) + "#"
    conn.execute(
        f"""
        create or replace temp table {_SERVED} as
        select statement_id::varchar as id from {STATEMENTS_TABLE}
        where starts_with(source_file, $prefix)
        union
        select statement_id::varchar from {STATEMENT_DUPLICATES_TABLE}
        where starts_with(source_file, $prefix)""",
        {"prefix": prefix},
    )


def _already_from(conn: duckdb.DuckDBPyConnection, ids: list[str]) -> set[str]:
    """Ids of `ids` this LRS served before (see _remember_served)."""
    if not ids:
        return set()
    rows = conn.execute(
        f"select id from {_SERVED} where id in (select unnest(?::varchar[]))", [ids]
    ).fetchall()
    return {row[0] for row in rows}
