"""Which rows a suite validates in a run: the rows the run wrote, or the whole table.

Suites over tables that grow with the history declare `meta.changed_rows`:

    "changed_rows": {
        "watermark": "(select max(loaded_at) from raw.lms_statements)",
        "filter": "loaded_at > getvariable('validated_through')",
        "describe": "statements loaded since {since}"
    }

`watermark` is a SQL expression for how far the table has been written; `filter` selects, over
the table's columns, the rows written after `validated_through`: the watermark of the last
validation that passed. So a failed validation is repeated, over the same rows and the new ones,
until it passes. The whole table is validated instead:

- when no validation of the suite passed yet;
- when the last whole-table validation is older than PIPELINE_FULL_VALIDATION_DAYS (default 7);
- when a snapshot extract (HRIS, courses, enrollments) changed since then: referential
  expectations (an employee in dim_employee, say) can fail for old rows too;
- when the run rebuilds the whole history.

Every validation is logged in `quality.suite_validations`, in the warehouse, beside the data it
vouches for: a warehouse restored from a backup brings its validation state with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from orchestration.defs.ingest.contract import INGESTED_FILES_TABLE, STATEMENTS_TABLE
from orchestration.defs.quality.suites import Suite

LOG_TABLE = "quality.suite_validations"
WHOLE, CHANGED = "whole table", "changed rows"


@dataclass(frozen=True)
class Scope:
    """What one validation of a suite covers."""

    kind: str  # WHOLE or CHANGED
    reason: str  # why, for the check's metadata
    watermark: datetime | None = None  # how far the table was written when validated
    rows_filter: str | None = None  # CHANGED: SQL selecting the rows written since
    validated_through: datetime | None = None  # CHANGED: the last passed validation's watermark


def ensure_log(conn: duckdb.DuckDBPyConnection) -> None:
    # Times are compared with the load ledger's, which the loaders write in UTC.
    conn.execute("set TimeZone = 'UTC'")
    conn.execute("create schema if not exists quality")
    conn.execute(
        f"""
        create table if not exists {LOG_TABLE} (
            suite varchar not null,
            run_id varchar not null,
            scope varchar not null,         -- 'whole table' or 'changed rows'
            reason varchar not null,
            validated_through timestamp,    -- the table's watermark when it was validated
            rows_validated bigint not null,
            table_rows bigint,
            passed boolean not null,
            validated_at timestamp not null default current_timestamp
        )"""
    )


def scope_for(
    conn: duckdb.DuckDBPyConnection,
    suite: Suite,
    *,
    full_validation_days: int,
    whole_history: bool,
) -> Scope:
    """The rows `suite` validates in this run (see the module docstring)."""
    changed = suite.changed_rows
    if not changed:
        return Scope(WHOLE, "the suite validates its whole table every run")
    ensure_log(conn)
    watermark = conn.execute(f"select {changed['watermark']}").fetchone()[0]
    if whole_history:
        return Scope(WHOLE, "the run rebuilds the whole history", watermark)
    last_pass, last_whole = conn.execute(
        f"""
        select
            max(validated_through) filter (where passed),
            max(validated_at) filter (where passed and scope = '{WHOLE}')
        from {LOG_TABLE} where suite = ?""",
        [suite.name],
    ).fetchone()
    if last_pass is None or last_whole is None:
        return Scope(WHOLE, "no earlier validation of the whole table passed", watermark)
    age_days = conn.execute(
        "select date_diff('second', ?, current_timestamp::timestamp) / 86400", [last_whole]
    ).fetchone()[0]
    if age_days >= full_validation_days:
        return Scope(
            WHOLE,
            f"the last whole-table validation ({last_whole:%Y-%m-%d %H:%M}) is "
            f"{full_validation_days} or more days old (PIPELINE_FULL_VALIDATION_DAYS)",
            watermark,
        )
    snapshot = conn.execute(
        f"select max(loaded_at) from {INGESTED_FILES_TABLE} where source_table <> ?",
        [STATEMENTS_TABLE],
    ).fetchone()[0]
    if snapshot is not None and snapshot > last_whole:
        return Scope(
            WHOLE,
            f"a snapshot extract changed since the last whole-table validation "
            f"({snapshot:%Y-%m-%d %H:%M})",
            watermark,
        )
    describe = changed.get("describe", "rows written since {since}")
    conn.execute(f"set variable validated_through = timestamp '{last_pass.isoformat()}'")
    return Scope(
        CHANGED,
        describe.format(since=f"{last_pass:%Y-%m-%d %H:%M:%S}"),
        watermark,
        changed["filter"],
        last_pass,
    )


def record(
    conn: duckdb.DuckDBPyConnection,
    suite: Suite,
    scope: Scope,
    *,
    run_id: str,
    rows_validated: int,
    table_rows: int | None,
    passed: bool,
) -> None:
    ensure_log(conn)
    conn.execute(
        f"""
        insert into {LOG_TABLE}
            (suite, run_id, scope, reason, validated_through, rows_validated, table_rows, passed)
        values (?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            suite.name,
            run_id,
            scope.kind,
            scope.reason,
            scope.watermark,
            rows_validated,
            table_rows,
            passed,
        ],
    )
