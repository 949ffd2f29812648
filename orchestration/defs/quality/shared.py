"""What validating on DuckDB and in Spark share, importing nothing else of the pipeline: the
Spark validator (quality/spark_validator.py) runs in the Spark virtualenv, without Dagster.

- GX's configuration: an ephemeral context, without progress bars or analytics, and its
  results matched to the suite file's expectations;
- the table metrics: one query for all of them, one each if that fails;
- which rows the row-level expectations see (a rows filter, and the rows sharing its batch key);
- how datetime bounds meet datetime columns: both become microseconds since the epoch (naive
  UTC), so GX compares numbers (quality/batches.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any


def gx_config():
    """GX's configuration for an ephemeral context (GX is imported here, when needed)."""
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    return DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        progress_bars=ProgressBarsConfig(globally=False),
        analytics_enabled=False,
    )


def by_index(gx_suite, result) -> dict[int, Any]:
    """Results keyed by the expectation's index in the suite file (matched on GX's ids)."""
    index_of = {e.id: e.meta["pipeline_index"] for e in gx_suite.expectations}
    return {index_of[evr.expectation_config.id]: evr for evr in result.results}


def table_metrics(
    metrics: Mapping[str, str],
    table: str,
    *,
    quote: Callable[[str], str],
    first_row: Callable[[str], Any],
    errors: type[Exception] | tuple[type[Exception], ...],
    plain: Callable[[Any], Any],
) -> tuple[dict[str, Any], dict[str, str]]:
    """(metric -> value, metric -> error): one scan of `table` for all metrics, one each if
    that fails. `first_row` runs a query on the engine and returns its first row (or None),
    `errors` are the engine's query errors, `plain` makes a value JSON-safe."""
    names = list(metrics)
    if not names:
        return {}, {}
    select = ", ".join(f"({metrics[n]}) as {quote(n)}" for n in names)
    try:
        row = first_row(f"select {select} from {table}")
        return {n: plain(v) for n, v in zip(names, row, strict=True)}, {}
    except errors:
        pass
    values, failures = {}, {}
    for name in names:
        try:
            row = first_row(f"select ({metrics[name]}) from {table} limit 1")
            values[name] = plain(row[0]) if row else None
        except errors as exc:
            failures[name] = f"metric {name} cannot be computed: {first_line(exc)}"
    return values, failures


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def selected_rows(
    table: str, key: tuple[str, ...] | list[str], rows_filter: str | None, quote: Callable
) -> str:
    """What row-level expectations read: the table, or the filtered rows and every row that
    shares a batch key with one of them (uniqueness expectations cover the batch key).
    `quote` quotes an identifier in the engine's SQL."""
    if not rows_filter:
        return table
    same_key = " and ".join(f"_changed.{quote(c)} = _all.{quote(c)}" for c in key)
    sharing = (
        f" or exists (select 1 from {table} as _changed where ({rows_filter}) and {same_key})"
        if key
        else ""
    )
    return f"(select * from {table} as _all where ({rows_filter}){sharing}) as _selected"


def epoch_bounds(kwargs: dict, datetimes: set[str] | frozenset[str]) -> dict:
    """Bounds on a date or timestamp column, as microseconds since the epoch like the column."""
    if kwargs.get("column") not in datetimes:
        return kwargs
    converted = dict(kwargs)
    for name in ("min_value", "max_value"):
        if isinstance(kwargs.get(name), str):
            moment = datetime.fromisoformat(kwargs[name])
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            converted[name] = moment.timestamp() * 1_000_000
    return converted
