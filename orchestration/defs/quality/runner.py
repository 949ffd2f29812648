"""Runs one expectation suite with GX Core against a DuckDB table, in batches of bounded size.

GX validates pandas DataFrames here (its SQL datasource returns no metrics over duckdb-engine).
Large tables are never loaded whole: rows are hash-partitioned on the suite's batch key into
batches of at most `batch_rows` rows, each batch is read from DuckDB and validated on its own,
and the per-batch results are summed (unexpected counts, element counts, `mostly`). Uniqueness
stays exact because rows sharing a key land in the same batch. Whole-table facts (volume,
freshness, duplicate counts on other columns) are aggregated in DuckDB into one row that GX
validates. The merged result is stored as one GX validation result and rendered in Data Docs.
"""

from __future__ import annotations

import contextlib
import gc
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import great_expectations as gx
import pandas as pd

from orchestration.defs.quality.suites import Expectation, Suite

DEFAULT_BATCH_ROWS = 500_000
# DuckDB's share while a suite runs: its buffer pool would otherwise keep every column it read.
DEFAULT_MEMORY_LIMIT = "1GB"
SAMPLE_ROWS = 10
# The rows of a table validated in several batches, staged once (see _stage_rows).
_STAGED = "_quality_rows"
_BATCH = "_quality_batch"

# DuckDB types GX's pandas engine compares badly or slowly: identifiers and nested values become
# text, decimals become doubles, and dates and timestamps become microseconds since the epoch
# (naive UTC) - suites bound them with ISO datetimes ("2000-01-01T00:00:00"), converted alike,
# and sample rows show them as ISO text again.
_TIMES = ("TIME", "TIME WITH TIME ZONE")
_AS_TEXT_PREFIXES = ("UUID", "JSON", "INTERVAL", "BLOB", "BIT", "MAP", "STRUCT", "UNION")


@dataclass
class Outcome:
    """What one expectation found over the whole table."""

    expectation: Expectation
    success: bool
    observed: Any = None
    element_count: int | None = None
    unexpected_count: int | None = None
    sample_rows: list[dict[str, Any]] = field(default_factory=list)
    skipped: str | None = None
    exception: str | None = None

    @property
    def label(self) -> str:
        return self.expectation.label

    def as_dict(self) -> dict[str, Any]:
        return {
            "expectation": self.label,
            "severity": self.expectation.severity,
            "observed": self.observed,
            "unexpected_count": self.unexpected_count,
            "element_count": self.element_count,
            "sample_rows": self.sample_rows,
            **(
                {"notes": self.expectation.meta["notes"]}
                if "notes" in self.expectation.meta
                else {}
            ),
            **({"exception": self.exception} if self.exception else {}),
        }


@dataclass
class SuiteRun:
    suite: Suite
    outcomes: list[Outcome]
    rows: int  # rows the row-level expectations saw
    batches: int
    seconds: float
    data_docs_url: str | None = None
    table_rows: int | None = None  # rows in the table; more than `rows` when rows_filter was set

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success]

    @property
    def severity(self) -> str | None:
        """The worst severity among failed expectations; None when every expectation passed."""
        severities = {o.expectation.severity for o in self.failed}
        return "error" if "error" in severities else ("warn" if severities else None)

    @property
    def skipped(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.skipped]


def validate_suite(
    conn: duckdb.DuckDBPyConnection,
    suite: Suite,
    *,
    as_of: date,
    docs_dir: Path | None = None,
    run_name: str = "manual",
    batch_rows: int = DEFAULT_BATCH_ROWS,
    memory_limit: str | None = DEFAULT_MEMORY_LIMIT,
    restore_memory_limit: str | None = None,
    rows_filter: str | None = None,
) -> SuiteRun:
    """Validate `suite` against its table; DuckDB's memory limit is lowered meanwhile, then set
    to `restore_memory_limit` (the run's PIPELINE_DUCKDB_MEMORY_LIMIT), else DuckDB's default.

    With `rows_filter` (SQL over the table's columns), row-level expectations see the rows it
    selects plus every row sharing a batch key with one of them, so a duplicate of a selected
    row is still found; table metrics (volume, freshness, whole-table duplicates) always see the
    whole table."""
    args = (conn, suite, as_of, docs_dir, run_name, batch_rows, rows_filter)
    if not memory_limit:
        return _validate(*args)
    conn.execute(f"set memory_limit = '{memory_limit}'")
    try:
        return _validate(*args)
    finally:
        # The displayed previous value is rounded, so it is restored from the setting instead.
        if restore_memory_limit:
            conn.execute(f"set memory_limit = '{restore_memory_limit}'")
        else:
            conn.execute("reset memory_limit")


def _validate(conn, suite, as_of, docs_dir, run_name, batch_rows, rows_filter) -> SuiteRun:
    started = time.monotonic()
    table = _quoted(suite.table)
    rows = _selected_rows(table, suite.batch_key, rows_filter)
    # The end of the as-of day: "not after as_of" for dates and timestamps alike.
    parameters = {"as_of": f"{as_of.isoformat()}T23:59:59"}
    conn.execute(f"set variable as_of = date '{as_of.isoformat()}'")
    table_types = dict(
        conn.execute(f"select column_name, column_type from (describe {table})").fetchall()
    )
    table_rows = conn.execute(f"select count(*) from {table}").fetchone()[0]
    row_count = (
        conn.execute(f"select count(*) from {rows}").fetchone()[0] if rows_filter else table_rows
    )

    available, missing = _row_columns(conn, suite, table, table_types)
    context = _gx_context(docs_dir)
    batches = context.data_sources.add_pandas("warehouse").add_dataframe_asset(suite.name)
    batch_definition = batches.add_batch_definition_whole_dataframe("batch")

    outcomes: dict[int, Outcome] = {}
    row_expectations, table_expectations = [], []
    for expectation in suite.expectations:
        unusable = [
            c
            for c in expectation.columns
            if c in missing or (expectation.scope == "rows" and c not in available)
        ]
        if unusable:
            reason = "; ".join(f"{c} {missing.get(c, 'is not a column')}" for c in unusable)
            if suite.absent_columns == "skip":
                outcomes[expectation.index] = Outcome(expectation, True, skipped=reason)
            else:
                outcomes[expectation.index] = Outcome(expectation, False, exception=reason)
        elif expectation.scope == "table":
            table_expectations.append(expectation)
        else:
            row_expectations.append(expectation)

    results: dict[int, Any] = {}
    batch_count = 0
    if row_expectations:
        key = [c for c in suite.batch_key if c in available]
        sample_columns = [c for c in suite.sample_columns or suite.batch_key if c in available]
        needed = [*key, *sample_columns, *(c for e in row_expectations for c in e.columns)]
        needed = list(dict.fromkeys(needed))
        values = _value_list(needed, suite.columns)
        select = _select_list(needed, available)
        datetimes = {c for c in needed if _is_datetime(available[c])}
        batch_count = max(1, math.ceil(row_count / batch_rows))
        merged = {e.index: _Accumulator(e, datetimes) for e in row_expectations}
        gx_suite = _gx_suite(context, suite, row_expectations, "rows", parameters, datetimes)
        if batch_count > 1:
            _stage_rows(conn, rows, values, [_ident(c) for c in key], batch_count)
        # GX leaves reference cycles holding each batch, so each is collected after use. What
        # existed before is frozen meanwhile: a full collection took 0.25 s per batch.
        gc.freeze()
        try:
            for part in range(batch_count):
                if batch_count > 1:
                    query = f"select {select} from {_STAGED} where {_BATCH} = {part}"
                else:
                    query = f"select {select} from (select {values} from {rows})"
                frame = conn.execute(query).df()
                with _without_fingerprints():
                    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
                    result = batch.validate(
                        gx_suite,
                        result_format={
                            "result_format": "SUMMARY",
                            "unexpected_index_column_names": sample_columns,
                            "partial_unexpected_count": SAMPLE_ROWS,
                        },
                    )
                for index, evr in _by_index(gx_suite, result).items():
                    merged[index].add(evr)
                del frame, batch, result
                gc.collect()
        finally:
            gc.unfreeze()
            conn.execute(f"drop table if exists {_STAGED}")
        for index, accumulator in merged.items():
            outcomes[index], results[index] = accumulator.outcome()

    metric_errors: dict[str, str] = {}
    if table_expectations:
        metrics, metric_errors = _table_metrics(conn, suite, table)
        for expectation in list(table_expectations):
            errors = [metric_errors[c] for c in expectation.columns if c in metric_errors]
            if errors:
                table_expectations.remove(expectation)
                outcomes[expectation.index] = Outcome(
                    expectation, False, exception="; ".join(errors)
                )
    if table_expectations:
        gx_suite = _gx_suite(context, suite, table_expectations, "table", parameters)
        result = batch_definition.get_batch(
            batch_parameters={"dataframe": pd.DataFrame([metrics])}
        ).validate(gx_suite, result_format="COMPLETE")
        results_by_index = _by_index(gx_suite, result)
        for expectation in table_expectations:
            evr = results_by_index[expectation.index]
            observed = {c: _plain(metrics.get(c)) for c in expectation.columns}
            exception = _exception(evr)
            outcomes[expectation.index] = Outcome(
                expectation,
                success=bool(evr.success),
                observed=observed if len(observed) > 1 else next(iter(observed.values())),
                exception=exception,
            )
            results[expectation.index] = evr

    run = SuiteRun(
        suite=suite,
        outcomes=[outcomes[e.index] for e in suite.expectations],
        rows=row_count,
        batches=batch_count,
        seconds=0.0,
        table_rows=table_rows,
    )
    if docs_dir is not None:
        run.data_docs_url = _build_data_docs(context, suite, run, results, run_name, parameters)
    run.seconds = time.monotonic() - started
    return run


class _Accumulator:
    """Sums one row-level expectation's per-batch results into the whole-table result."""

    def __init__(self, expectation: Expectation, datetimes: set[str]) -> None:
        self.expectation = expectation
        self.datetimes = datetimes
        self.element_count = 0
        self.missing_count = 0
        self.unexpected_count = 0
        self.batch_failed = False
        self.samples: list[dict[str, Any]] = []
        self.value_counts: dict[Any, int] = {}
        self.exception: str | None = None
        self.config = None

    def add(self, evr) -> None:
        self.config = evr.expectation_config
        exception = _exception(evr)
        if exception:
            self.exception = self.exception or exception
            return
        result = evr.result or {}
        self.element_count += int(result.get("element_count") or 0)
        self.missing_count += int(result.get("missing_count") or 0)
        self.unexpected_count += int(result.get("unexpected_count") or 0)
        self.batch_failed |= not evr.success
        room = SAMPLE_ROWS - len(self.samples)
        if room > 0:
            rows = result.get("partial_unexpected_index_list") or []
            self.samples += [{k: self._shown(k, v) for k, v in row.items()} for row in rows[:room]]
        for item in result.get("partial_unexpected_counts") or []:
            value = self._shown(self.expectation.columns[0], item["value"])
            key = repr(value)
            self.value_counts[key] = self.value_counts.get(key, 0) + item["count"]

    def _shown(self, column: str, value: Any) -> Any:
        value = _plain(value)
        if column in self.datetimes and isinstance(value, int | float):
            return _from_epoch_us(value)
        return value

    def outcome(self):
        from great_expectations.core import ExpectationValidationResult

        mostly = self.expectation.kwargs.get("mostly")
        considered = self.element_count - self.missing_count
        if self.exception:
            success = False
        elif mostly is not None:
            success = considered == 0 or (1 - self.unexpected_count / considered) >= mostly
        else:
            success = not self.batch_failed
        share = self.unexpected_count / considered * 100 if considered else 0.0
        observed = f"{self.unexpected_count:,} of {considered:,} rows unexpected ({share:.4g}%)"
        if self.value_counts:
            top = sorted(self.value_counts.items(), key=lambda kv: -kv[1])[:5]
            observed += "; e.g. " + ", ".join(f"{value} x{count}" for value, count in top)
        outcome = Outcome(
            self.expectation,
            success=success,
            observed=observed,
            element_count=self.element_count,
            unexpected_count=self.unexpected_count,
            sample_rows=self.samples,
            exception=self.exception,
        )
        evr = ExpectationValidationResult(
            success=success,
            expectation_config=self.config,
            result={
                "element_count": self.element_count,
                "missing_count": self.missing_count,
                "unexpected_count": self.unexpected_count,
                "unexpected_percent": share,
                "partial_unexpected_list": [next(iter(row.values()), None) for row in self.samples],
                "partial_unexpected_index_list": self.samples,
            },
            exception_info={
                "raised_exception": bool(self.exception),
                "exception_message": self.exception,
                "exception_traceback": None,
            },
        )
        return outcome, evr


def _gx_context(docs_dir: Path | None):
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        progress_bars=ProgressBarsConfig(globally=False),
        analytics_enabled=False,
    )
    if docs_dir is not None:
        # Results are kept beside the site, so Data Docs lists every past validation.
        config.stores["validation_results_store"] = {
            "class_name": "ValidationResultsStore",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir / "validations"),
            },
        }
        config.data_docs_sites = {
            "local_site": {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir / "site"),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        }
    return gx.get_context(project_config=config, mode="ephemeral")


def _gx_suite(
    context,
    suite: Suite,
    expectations: list[Expectation],
    part: str,
    parameters: dict,
    datetimes: frozenset[str] | set[str] = frozenset(),
):
    """A GX suite of some of the suite's expectations, each tagged with its index in the file
    (GX may return results in another order). Parameters ({"$PARAMETER": "as_of"}) are filled in
    here, and date bounds become epoch microseconds like the date columns."""
    configs = []
    for expectation in expectations:
        config = suite.raw["expectations"][expectation.index]
        configs.append(
            {
                "type": config["type"],
                "kwargs": _epoch_bounds(
                    _fill_parameters(config.get("kwargs") or {}, parameters), datetimes
                ),
                "meta": {**(config.get("meta") or {}), "pipeline_index": expectation.index},
            }
        )
    part_suite = gx.ExpectationSuite(name=f"{suite.name}:{part}", expectations=configs)
    return context.suites.add(part_suite)


def _fill_parameters(value: Any, parameters: dict) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$PARAMETER"}:
            return parameters[value["$PARAMETER"]]
        return {k: _fill_parameters(v, parameters) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill_parameters(v, parameters) for v in value]
    return value


def _is_datetime(duckdb_type: str) -> bool:
    return duckdb_type.upper() == "DATE" or duckdb_type.upper().startswith("TIMESTAMP")


def _epoch_bounds(kwargs: dict, datetimes: set[str]) -> dict:
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


def _from_epoch_us(value: float) -> str:
    return datetime.fromtimestamp(value / 1_000_000, UTC).replace(tzinfo=None).isoformat()


def _by_index(gx_suite, result) -> dict[int, Any]:
    """Results keyed by the expectation's index in the suite file (matched on GX's ids)."""
    index_of = {e.id: e.meta["pipeline_index"] for e in gx_suite.expectations}
    return {index_of[evr.expectation_config.id]: evr for evr in result.results}


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
    """What row-level expectations read: the table, or the filtered rows and every row that
    shares a batch key with one of them (uniqueness expectations cover the batch key)."""
    if not rows_filter:
        return table
    same_key = " and ".join(f"_changed.{_ident(c)} = _all.{_ident(c)}" for c in key)
    sharing = (
        f" or exists (select 1 from {table} as _changed where ({rows_filter}) and {same_key})"
        if key
        else ""
    )
    return f"(select * from {table} as _all where ({rows_filter}){sharing})"


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


@contextlib.contextmanager
def _without_fingerprints():
    """GX batches made meanwhile are not fingerprinted.

    GX hashes every DataFrame under 1 GB (pandas' hash_pandas_object), twice per batch, for a
    batch marker this pipeline never reads: 15 s of 73 s for raw.lms_statements at 10M rows."""
    from great_expectations.execution_engine import pandas_execution_engine

    threshold = pandas_execution_engine.HASH_THRESHOLD
    pandas_execution_engine.HASH_THRESHOLD = 0
    try:
        yield
    finally:
        pandas_execution_engine.HASH_THRESHOLD = threshold


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
    """(metric -> value, metric -> error): one scan for all metrics, one each if that fails."""
    names = list(suite.table_metrics)
    select = ", ".join(f"({suite.table_metrics[n]}) as {_ident(n)}" for n in names)
    try:
        values = conn.execute(f"select {select} from {table}").fetchone()
        return {n: _plain(v) for n, v in zip(names, values, strict=True)}, {}
    except duckdb.Error:
        pass
    metrics, errors = {}, {}
    for name in names:
        try:
            value = conn.execute(f"select ({suite.table_metrics[name]}) from {table}").fetchone()
            metrics[name] = _plain(value[0])
        except duckdb.Error as exc:
            errors[name] = f"metric {name} cannot be computed: {str(exc).splitlines()[0]}"
    return metrics, errors


def _build_data_docs(context, suite, run: SuiteRun, results, run_name, parameters) -> str | None:
    from great_expectations.core import ExpectationSuiteValidationResult, RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    full = context.suites.add(gx.ExpectationSuite(**suite.gx_suite_dict()))
    ordered = [results[e.index] for e in suite.expectations if e.index in results]
    evaluated = len(ordered)
    passed = sum(1 for r in ordered if r.success)
    result = ExpectationSuiteValidationResult(
        success=not run.failed,
        results=ordered,
        suite_name=full.name,
        suite_parameters=parameters,
        statistics={
            "evaluated_expectations": evaluated,
            "successful_expectations": passed,
            "unsuccessful_expectations": evaluated - passed,
            "success_percent": passed / evaluated * 100 if evaluated else None,
        },
        meta={
            "great_expectations_version": gx.__version__,
            "table": suite.table,
            "rows": run.rows,
            "batches": run.batches,
            "skipped_expectations": [o.label for o in run.skipped],
        },
    )
    key = ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=full.name),
        run_id=RunIdentifier(run_name=run_name, run_time=datetime.now(UTC)),
        batch_identifier=suite.table,
    )
    context.validation_results_store.set(key, result)
    context.build_data_docs(resource_identifiers=[key])
    urls = context.get_docs_sites_urls(resource_identifier=key)
    return urls[0]["site_url"] if urls else None


def _exception(evr) -> str | None:
    info = evr.exception_info or {}
    # A failed metric is reported as {metric id: {...}}; a direct failure as {...}.
    items = [info] if "raised_exception" in info else list(info.values())
    for item in items:
        if isinstance(item, dict) and item.get("raised_exception"):
            return str(item.get("exception_message") or "exception")
    return None


def _plain(value: Any) -> Any:
    """JSON-safe Python value (numpy scalars, NaN, timestamps, decimals)."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        with contextlib.suppress(ValueError, AttributeError):
            value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, int | float | str | bool):
        return value
    if isinstance(value, pd.Timestamp | datetime | date):
        return value.isoformat()
    return str(value)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quoted(table: str) -> str:
    schema, _, name = table.partition(".")
    return f"{_ident(schema)}.{_ident(name)}"
