"""Great Expectations plumbing: the ephemeral GX context, the GX suites built from a suite
file, Data Docs, and the patch that stops GX fingerprinting batches."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import great_expectations as gx

from orchestration.defs.quality.results import SuiteRun
from orchestration.defs.quality.shared import epoch_bounds, gx_config
from orchestration.defs.quality.suites import Expectation, Suite


def _gx_context(docs_dir: Path | None):
    config = gx_config()
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
                "kwargs": epoch_bounds(
                    _fill_parameters(config.get("kwargs") or {}, parameters), datetimes
                ),
                "meta": {**(config.get("meta") or {}), "pipeline_index": expectation.index},
            }
        )
    part_suite = gx.ExpectationSuite(name=f"{suite.name}:{part}", expectations=configs)
    return context.suites.add(part_suite)


def _parameters(as_of: date) -> dict[str, str]:
    """The suites' parameters: `as_of` is the end of the as-of day ("not after as_of" for
    dates and timestamps alike)."""
    return {"as_of": f"{as_of.isoformat()}T23:59:59"}


def _fill_parameters(value: Any, parameters: dict) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$PARAMETER"}:
            return parameters[value["$PARAMETER"]]
        return {k: _fill_parameters(v, parameters) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill_parameters(v, parameters) for v in value]
    return value


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
