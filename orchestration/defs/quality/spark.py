"""The suites over the tables Spark built, validated in Spark (docs/data-quality.md#on-spark).

With PIPELINE_ENGINE=spark (and PIPELINE_SPARK_VALIDATION=spark, the default), the checks of
the dbt models' suites run in one step: the Spark virtualenv's Python runs
`spark_validator.py` once for all of them, in one SparkSession on PIPELINE_SPARK_MASTER, with
GX Core's Spark datasource. This module is the pipeline's side:

1. after a Spark build, `engines.write_relations` keeps what the build made: each model's Parquet
   folder, the view models' compiled Spark SQL and the lake's raw tables, in dependency order;
2. `validate` writes the request (per suite: its Spark SQL, rows filter and row expectations),
   runs the validator and reads its answer;
3. `suite_run` turns each suite's answer into the same SuiteRun as a validation on DuckDB: row
   results summed the same way, table metrics validated by GX on their one row, Data Docs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from orchestration.defs.dbt.engines import SPARK_CONF_DIR, relations_path
from orchestration.defs.quality.gx_context import _fill_parameters, _gx_context, _parameters
from orchestration.defs.quality.results import SAMPLE_ROWS, Outcome, SuiteRun, _Accumulator
from orchestration.defs.quality.runner import _finish, _split, _table_outcomes
from orchestration.defs.quality.scope import Scope
from orchestration.defs.quality.suites import Suite
from orchestration.settings import PROJECT_ROOT, PipelineSettings

VALIDATOR = "orchestration.defs.quality.spark_validator"
_VARIABLE = re.compile(r"getvariable\(\s*'(\w+)'\s*\)", re.IGNORECASE)


class SparkValidationError(RuntimeError):
    """The validator could not run (no GX beside pyspark, no build to validate, Spark failed)."""


def spark_sql(sql: str, variables: Mapping[str, str]) -> str:
    """DuckDB's `getvariable('name')` as the literal it stands for, which Spark reads."""
    return _VARIABLE.sub(lambda m: variables.get(m.group(1).lower(), m.group(0)), sql)


def suite_request(suite: Suite, scope: Scope, as_of: date) -> dict[str, Any]:
    """What the validator needs of one suite, in Spark SQL."""
    variables = {"as_of": f"date '{as_of.isoformat()}'"}
    if scope.validated_through is not None:
        variables["validated_through"] = f"timestamp '{scope.validated_through.isoformat()}'"
    rows_filter = suite.spark_rows_filter if scope.rows_filter else None
    parameters = _parameters(as_of)
    return {
        "name": suite.name,
        "table": suite.table,
        "batch_key": list(suite.batch_key),
        "sample_columns": list(suite.sample_columns),
        "sample_rows": SAMPLE_ROWS,
        "columns": {n: spark_sql(sql, variables) for n, sql in suite.spark_columns.items()},
        "table_metrics": {
            n: spark_sql(sql, variables) for n, sql in suite.spark_table_metrics.items()
        },
        "rows_filter": spark_sql(rows_filter, variables) if rows_filter else None,
        "expectations": [
            {
                "index": e.index,
                "type": e.type,
                "kwargs": _fill_parameters(e.kwargs, parameters),
                "columns": list(e.columns),
            }
            for e in suite.expectations
            if e.scope == "rows"
        ],
    }


def validate(
    suites: list[tuple[Suite, Scope]],
    settings: PipelineSettings,
    log: Callable[[str], None],
) -> dict[str, dict[str, Any]]:
    """Validate the suites in one SparkSession; each suite's answer, by suite name."""
    engine = settings.engine
    if not engine.spark_python.exists():
        raise SparkValidationError(
            f"The suites run in Spark (PIPELINE_SPARK_VALIDATION=spark) with the Python beside "
            f"dbt-spark, and {engine.spark_python} does not exist: `make spark` installs it, or "
            "set PIPELINE_SPARK_VALIDATION=duckdb"
        )
    relations = relations_path(settings.lake_dir)
    if not relations.exists():
        raise SparkValidationError(
            f"No Spark build to validate: {relations} is written by the dbt step on Spark"
        )
    request = {
        "spark": {
            "master": engine.spark_master,
            "driver_memory": engine.spark_driver_memory,
            "shuffle_partitions": engine.spark_shuffle_partitions,
        },
        "relations": json.loads(relations.read_text(encoding="utf-8")),
        "suites": [suite_request(suite, scope, settings.as_of) for suite, scope in suites],
    }
    env = {
        **os.environ,
        "SPARK_CONF_DIR": str(SPARK_CONF_DIR),
        "PIPELINE_LAKE_DIR": str(settings.lake_dir),
        "PYTHONUNBUFFERED": "1",
    }
    with tempfile.TemporaryDirectory(prefix="spark-validation-") as folder:
        request_file, response_file = Path(folder, "request.json"), Path(folder, "response.json")
        request_file.write_text(json.dumps(request), encoding="utf-8")
        errors = Path(folder, "stderr.log")
        with errors.open("w") as stderr:
            process = subprocess.Popen(
                [str(engine.spark_python), "-m", VALIDATOR, str(request_file), str(response_file)],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
            assert process.stdout is not None
            for line in process.stdout:
                log(f"Spark validation: {line.rstrip()}")
            code = process.wait()
        if code != 0 or not response_file.exists():
            tail = errors.read_text(errors="replace").strip().splitlines()[-30:]
            raise SparkValidationError(
                f"The Spark validator exited with {code} (Spark's log: "
                f"{settings.lake_dir / 'logs' / 'spark.log'}):\n" + "\n".join(tail)
            )
        return json.loads(response_file.read_text(encoding="utf-8"))


def suite_run(
    suite: Suite,
    response: Mapping[str, Any],
    *,
    as_of: date,
    docs_dir: Path | None,
    run_name: str,
) -> SuiteRun:
    """The validator's answer for `suite`, as the SuiteRun a validation on DuckDB returns."""
    if "error" in response:
        # Spark could not read the suite's table, or failed on it: every expectation failed.
        failed = [Outcome(e, False, exception=response["error"]) for e in suite.expectations]
        return SuiteRun(suite=suite, outcomes=failed, rows=0, batches=0, seconds=0.0)
    started = time.monotonic()
    parameters = _parameters(as_of)
    context = _gx_context(docs_dir)
    outcomes, row_expectations, table_expectations = _split(
        suite, response["available"], response["missing"]
    )
    results: dict[int, Any] = {}
    for expectation in row_expectations:
        accumulator = _Accumulator(expectation, set(response["datetimes"]))
        accumulator.add(_validation_result(response["results"][str(expectation.index)]))
        outcomes[expectation.index], results[expectation.index] = accumulator.outcome()
    if table_expectations:
        found, found_results = _table_outcomes(
            context,
            suite,
            table_expectations,
            response["metrics"],
            response["metric_errors"],
            parameters,
        )
        outcomes.update(found)
        results.update(found_results)
    run = _finish(
        context,
        suite,
        outcomes,
        results,
        rows=response["rows"],
        batches=1 if row_expectations else 0,
        table_rows=response["table_rows"],
        docs_dir=docs_dir,
        run_name=run_name,
        parameters=parameters,
        started=started,
    )
    run.seconds += response["seconds"]
    return run


def _validation_result(found: Mapping[str, Any]):
    """A GX result from its JSON form."""
    from great_expectations.core import ExpectationValidationResult
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    config = found["expectation_config"]
    return ExpectationValidationResult(
        success=found["success"],
        expectation_config=ExpectationConfiguration(
            type=config["type"], kwargs=config["kwargs"], meta=config.get("meta")
        ),
        result=found.get("result") or {},
        exception_info=found.get("exception_info"),
    )
