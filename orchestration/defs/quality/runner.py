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

import gc
import math
import time
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from orchestration.defs.quality.batches import (
    _BATCH,
    _STAGED,
    _ident,
    _is_datetime,
    _quoted,
    _row_columns,
    _select_list,
    _selected_rows,
    _stage_rows,
    _table_metrics,
    _value_list,
)
from orchestration.defs.quality.gx_context import (
    _build_data_docs,
    _gx_context,
    _gx_suite,
    _parameters,
    _without_fingerprints,
)
from orchestration.defs.quality.results import (
    SAMPLE_ROWS,
    Outcome,
    SuiteRun,
    _Accumulator,
    _exception,
    _plain,
)
from orchestration.defs.quality.shared import by_index
from orchestration.defs.quality.suites import Expectation, Suite
from orchestration.settings import DEFAULT_QUALITY_BATCH_ROWS, DEFAULT_QUALITY_MEMORY_LIMIT


def validate_suite(
    conn: duckdb.DuckDBPyConnection,
    suite: Suite,
    *,
    as_of: date,
    docs_dir: Path | None = None,
    run_name: str = "manual",
    batch_rows: int = DEFAULT_QUALITY_BATCH_ROWS,
    memory_limit: str | None = DEFAULT_QUALITY_MEMORY_LIMIT,
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
    parameters = _parameters(as_of)
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

    outcomes, row_expectations, table_expectations = _split(suite, available, missing)

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
                for index, evr in by_index(gx_suite, result).items():
                    merged[index].add(evr)
                del frame, batch, result
                gc.collect()
        finally:
            gc.unfreeze()
            conn.execute(f"drop table if exists {_STAGED}")
        for index, accumulator in merged.items():
            outcomes[index], results[index] = accumulator.outcome()

    if table_expectations:
        metrics, metric_errors = _table_metrics(conn, suite, table)
        found, found_results = _table_outcomes(
            context, suite, table_expectations, metrics, metric_errors, parameters
        )
        outcomes.update(found)
        results.update(found_results)

    return _finish(
        context,
        suite,
        outcomes,
        results,
        rows=row_count,
        batches=batch_count,
        table_rows=table_rows,
        docs_dir=docs_dir,
        run_name=run_name,
        parameters=parameters,
        started=started,
    )


def _split(
    suite: Suite, available: dict[str, str], missing: dict[str, str]
) -> tuple[dict[int, Outcome], list[Expectation], list[Expectation]]:
    """The outcomes of expectations on unusable columns (skipped or failed, by the suite's
    `absent_columns`), and the row-level and table-metric expectations left to validate."""
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
    return outcomes, row_expectations, table_expectations


def _table_outcomes(
    context,
    suite: Suite,
    expectations: list[Expectation],
    metrics: dict[str, Any],
    metric_errors: dict[str, str],
    parameters: dict[str, str],
) -> tuple[dict[int, Outcome], dict[int, Any]]:
    """Table-metric expectations, validated by GX on the one row of metric values."""
    outcomes: dict[int, Outcome] = {}
    results: dict[int, Any] = {}
    usable = []
    for expectation in expectations:
        errors = [metric_errors[c] for c in expectation.columns if c in metric_errors]
        if errors:
            outcomes[expectation.index] = Outcome(expectation, False, exception="; ".join(errors))
        else:
            usable.append(expectation)
    if not usable:
        return outcomes, results
    gx_suite = _gx_suite(context, suite, usable, "table", parameters)
    batch_definition = (
        context.data_sources.add_pandas(f"metrics:{suite.name}")
        .add_dataframe_asset(suite.name)
        .add_batch_definition_whole_dataframe("metrics")
    )
    result = batch_definition.get_batch(
        batch_parameters={"dataframe": pd.DataFrame([metrics])}
    ).validate(gx_suite, result_format="COMPLETE")
    results_by_index = by_index(gx_suite, result)
    for expectation in usable:
        evr = results_by_index[expectation.index]
        observed = {c: _plain(metrics.get(c)) for c in expectation.columns}
        outcomes[expectation.index] = Outcome(
            expectation,
            success=bool(evr.success),
            observed=observed if len(observed) > 1 else next(iter(observed.values())),
            exception=_exception(evr),
        )
        results[expectation.index] = evr
    return outcomes, results


def _finish(
    context,
    suite: Suite,
    outcomes: dict[int, Outcome],
    results: dict[int, Any],
    *,
    rows: int,
    batches: int,
    table_rows: int,
    docs_dir: Path | None,
    run_name: str,
    parameters: dict[str, str],
    started: float,
) -> SuiteRun:
    """The suite's run, in the suite file's order, with its Data Docs page when asked for."""
    run = SuiteRun(
        suite=suite,
        outcomes=[outcomes[e.index] for e in suite.expectations],
        rows=rows,
        batches=batches,
        seconds=0.0,
        table_rows=table_rows,
    )
    if docs_dir is not None:
        run.data_docs_url = _build_data_docs(context, suite, run, results, run_name, parameters)
    run.seconds = time.monotonic() - started
    return run
