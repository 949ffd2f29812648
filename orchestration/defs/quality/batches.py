"""The SQL that reads a suite's table from DuckDB: the usable columns, the rows selected and
staged in hash batches, their types cast for GX's pandas engine, and whole-table metrics."""

from __future__ import annotations

from typing import Any

import duckdb

from orchestration.defs.quality.results import _plain
from orchestration.defs.quality.shared import selected_rows, table_metrics
from orchestration.defs.quality.suites import Suite

# The rows of a table validated in several batches, staged once (see _stage_rows).
_STAGED = "_quality_rows"
_BATCH = "_quality_batch"

# DuckDB types GX's pandas engine compares badly or slowly: identifiers and nested values become
# text, decimals become doubles, and dates and timestamps become microseconds since the epoch
# (naive UTC) - suites bound them with ISO datetimes ("2000-01-01T00:00:00"), converted alike,
# and sample rows show them as ISO text again.
_TIMES = ("TIME", "TIME WITH TIME ZONE")
_AS_TEXT_PREFIXES = ("UUID", "JSON", "INTERVAL", "BLOB", "BIT", "MAP", "STRUCT", "UNION")


def _is_datetime(duckdb_type: str) -> bool:
    return duckdb_type.upper() == "DATE" or duckdb_type.upper().startswith("TIMESTAMP")


def _row_columns(
    conn: duckdb.DuckDBPyConnection, suite: Suite, table: str, table_types: dict[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """(column -> DuckDB type) usable in row batches, and (column -> why not) for the rest.

    Optional extract columns may be absent: expectations on them are skipped, not failed."""
    available = dict(table_types)
    missing: dict[str, str] = {}
    for name, sql in suite.columns.items():
        try:
            available[name] = conn.execute(
                f"select column_type from (describe select ({sql}) as c from {table})"
            ).fetchone()[0]
        except duckdb.Error as exc:
            missing[name] = f"cannot be computed: {str(exc).splitlines()[0]}"
            available.pop(name, None)
    return available, missing


def _selected_rows(table: str, key: tuple[str, ...], rows_filter: str | None) -> str:
    """What row-level expectations read (shared.selected_rows, in DuckDB's quoting)."""
    return selected_rows(table, key, rows_filter, _ident)


def _value_list(needed, derived) -> str:
    """The needed columns, computed ones (JSON fields, lookups) evaluated, in DuckDB's types."""
    return ", ".join(
        f"({derived[name]}) as {_ident(name)}" if name in derived else _ident(name)
        for name in needed
    )


def _stage_rows(conn, table: str, values: str, key: list[str], batch_count: int) -> None:
    """The needed values of every row, with its batch number, in one temporary table.

    One scan of the table, instead of one per batch: a batch filter on a hash is no table
    filter, so each batch would read every column of every row again, and compute the JSON
    fields of raw.lms_statements each time. The table spills to disk beyond the memory limit."""
    conn.execute("set preserve_insertion_order = false")  # batches are sets; order is unused
    try:
        conn.execute(
            f"create or replace temp table {_STAGED} as "
            f"select *, hash({', '.join(key)}) % {batch_count} as {_BATCH} "
            f"from (select {values} from {table})"
        )
    finally:
        conn.execute("reset preserve_insertion_order")


def _select_list(needed, available) -> str:
    """The needed columns typed for GX's pandas engine (see _TIMES and _AS_TEXT_PREFIXES)."""
    parts = []
    for name in needed:
        expr = _ident(name)
        kind = available[name].upper()
        if _is_datetime(kind):
            # GX compares datetimes element by element in Python; numbers run vectorized.
            expr = f"cast(epoch_us(cast({expr} as timestamp)) as double)"
        elif kind in _TIMES or kind.startswith(_AS_TEXT_PREFIXES) or kind.endswith("]"):
            expr = f"cast({expr} as varchar)"
        elif kind.startswith(("DECIMAL", "HUGEINT", "UHUGEINT")):
            expr = f"cast({expr} as double)"
        parts.append(f"{expr} as {_ident(name)}")
    return ", ".join(parts)


def _table_metrics(
    conn: duckdb.DuckDBPyConnection, suite: Suite, table: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """(metric -> value, metric -> error), in DuckDB (shared.table_metrics)."""
    return table_metrics(
        suite.table_metrics,
        table,
        quote=_ident,
        first_row=lambda sql: conn.execute(sql).fetchone(),
        errors=duckdb.Error,
        plain=_plain,
    )


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quoted(table: str) -> str:
    schema, _, name = table.partition(".")
    return f"{_ident(schema)}.{_ident(name)}"
