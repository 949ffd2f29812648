"""Validates expectation suites with GX Core's Spark datasource, in one SparkSession.

Run by the Spark virtualenv's Python from the project root, never imported by the pipeline (its
Python has no pyspark, this one has no Dagster):
`python -m orchestration.defs.quality.spark_validator REQUEST.json RESPONSE.json`. The pipeline
side (quality/spark.py) writes the request and turns the response into the same outcomes,
check results and Data Docs as a validation on DuckDB (docs/data-quality.md#on-spark).

The request names the relations Spark built (Parquet folders, and the view models' compiled
Spark SQL) and, per suite: its table, computed columns, table metrics and rows filter in Spark
SQL, and the GX configurations of its row-level expectations. Spark reads each suite's rows once
(cached), GX validates them in one batch, and the table metrics are one aggregate query. What
comes back per suite: the usable columns and the unusable ones with the reason, the row counts,
each row expectation's GX result as JSON, and the metric values. The table-metric expectations
are validated by the pipeline on that one row, as on DuckDB.

Values are typed as on DuckDB (quality/batches.py): dates and timestamps become microseconds
since the epoch (naive UTC) and so do the suites' datetime bounds; decimals become doubles;
nested values become text.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from orchestration.defs.quality.shared import (
    by_index,
    epoch_bounds,
    first_line,
    gx_config,
    selected_rows,
    table_metrics,
)

DATETIME_TYPES = ("date", "timestamp", "timestamp_ntz")
TEXT_PREFIXES = ("array", "map", "struct", "binary", "interval", "variant")


def main(request_path: str, response_path: str) -> int:
    request = json.loads(Path(request_path).read_text(encoding="utf-8"))
    started = time.monotonic()
    spark = _session(request["spark"])
    _say(f"SparkSession on {request['spark']['master']} in {time.monotonic() - started:.1f}s")
    _register(spark, _needed(request["relations"], request["suites"]))
    context = _gx_context()
    responses = {}
    for suite in request["suites"]:
        try:
            responses[suite["name"]] = _validate(spark, context, suite)
        except Exception as exc:  # noqa: BLE001 - one suite's failure fails its check only
            responses[suite["name"]] = {"error": first_line(exc)}
            _say(f"{suite['name']}: cannot be validated: {first_line(exc)}")
    Path(response_path).write_text(json.dumps(responses, default=str), encoding="utf-8")
    spark.stop()
    return 0


def _say(line: str) -> None:
    print(line, flush=True)


def _session(conf: dict[str, Any]):
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(conf["master"])
        .appName("retention-pipeline expectation suites")
        # The relations are registered from the request: no metastore, no warehouse directory.
        .config("spark.sql.catalogImplementation", "in-memory")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.timestampType", "TIMESTAMP_NTZ")
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(conf["shuffle_partitions"]))
        .config("spark.driver.memory", conf["driver_memory"])
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )
    return builder.getOrCreate()


def _register(spark, relations: list[dict[str, str]]) -> None:
    """Each relation under its dbt schema and name: a view over its Parquet folder (the model's
    partition folders read as columns, as in Spark's own table), or a view model's compiled SQL.
    The request lists them in dependency order."""
    for relation in relations:
        schema = relation["schema"]
        spark.sql(f"create database if not exists {_quoted(schema)}")
        name = f"{_quoted(schema)}.{_quoted(relation['name'])}"
        if "parquet" in relation:
            path = relation["parquet"].replace("`", "``")
            body = f"select * from parquet.`{path}`"
        else:
            body = relation["sql"]
        spark.sql(f"create or replace view {name} as {body}")


def _needed(relations: list[dict], suites: list[dict]) -> list[dict]:
    """The relations the suites read, and those they are built on, in the request's order.

    A relation is read when a suite's table is that relation, or its SQL names it as
    `schema.name`; registering all of them cost about 18 s for the 54 of a build."""
    text = " ".join(
        " ".join([s["table"], *s["columns"].values(), *s["table_metrics"].values()])
        + " "
        + (s["rows_filter"] or "")
        for s in suites
    )
    by_name = {f"{r['schema']}.{r['name']}": r for r in relations}
    wanted = [name for name in by_name if name in text]
    needed: set[str] = set()
    while wanted:
        name = wanted.pop()
        if name not in needed and name in by_name:
            needed.add(name)
            wanted.extend(by_name[name].get("parents", []))
    return [r for r in relations if f"{r['schema']}.{r['name']}" in needed]


def _gx_context():
    import great_expectations as gx

    return gx.get_context(project_config=gx_config(), mode="ephemeral")


def _validate(spark, context, suite: dict[str, Any]) -> dict[str, Any]:
    import great_expectations as gx

    started = time.monotonic()
    table = _relation(suite["table"])
    available = {f.name: f.dataType.simpleString() for f in spark.table(table).schema.fields}
    missing = {}
    for name, sql in suite["columns"].items():
        try:
            kind = spark.sql(f"select ({sql}) as c from {table}").schema[0].dataType
            available[name] = kind.simpleString()
        except Exception as exc:  # noqa: BLE001 - Spark's analysis errors have no common base
            missing[name] = f"cannot be computed: {first_line(exc)}"
            available.pop(name, None)
    rows_sql = selected_rows(table, suite["batch_key"], suite["rows_filter"], _quoted)
    table_rows = spark.sql(f"select count(*) from {table}").collect()[0][0]
    response: dict[str, Any] = {"available": available, "missing": missing, "results": {}}

    runnable = [e for e in suite["expectations"] if set(e["columns"]) <= set(available)]
    datetimes = []
    rows = (
        spark.sql(f"select count(*) from {rows_sql}").collect()[0][0]
        if suite["rows_filter"]
        else table_rows
    )
    if runnable:
        key = [c for c in suite["batch_key"] if c in available]
        samples = [c for c in suite["sample_columns"] or suite["batch_key"] if c in available]
        needed = list(dict.fromkeys([*key, *samples, *(c for e in runnable for c in e["columns"])]))
        datetimes = [c for c in needed if available[c] in DATETIME_TYPES]
        values = ", ".join(
            f"({suite['columns'][c]}) as {_quoted(c)}" if c in suite["columns"] else _quoted(c)
            for c in needed
        )
        frame = spark.sql(
            f"select {_typed(needed, available)} from (select {values} from {rows_sql}) as _rows"
        ).persist()
        rows = frame.count()
        configs = [
            {
                "type": e["type"],
                "kwargs": epoch_bounds(e["kwargs"], set(datetimes)),
                "meta": {"pipeline_index": e["index"]},
            }
            for e in runnable
        ]
        gx_suite = context.suites.add(
            gx.ExpectationSuite(name=f"{suite['name']}:rows", expectations=configs)
        )
        batches = (
            context.data_sources.add_spark(f"spark:{suite['name']}")
            .add_dataframe_asset(suite["name"])
            .add_batch_definition_whole_dataframe("rows")
        )
        batch = batches.get_batch(batch_parameters={"dataframe": frame})
        # Counts first. Sample rows and value counts cost a Spark job or two per expectation:
        # they are asked again only of the expectations that found unexpected rows.
        found = _results(batch, gx_suite, {"result_format": "BASIC"})
        again = [c for c in configs if _found_rows(found[c["meta"]["pipeline_index"]])]
        if again:
            samples_suite = context.suites.add(
                gx.ExpectationSuite(name=f"{suite['name']}:samples", expectations=again)
            )
            detail = {
                "result_format": "SUMMARY",
                "unexpected_index_column_names": samples,
                "partial_unexpected_count": suite["sample_rows"],
            }
            found.update(_results(batch, samples_suite, detail))
        response["results"] = found
        frame.unpersist()
    response["metrics"], response["metric_errors"] = _metrics(spark, suite["table_metrics"], table)
    response.update(
        rows=rows, table_rows=table_rows, datetimes=datetimes, seconds=time.monotonic() - started
    )
    _say(
        f"{suite['name']}: {len(runnable)} row expectations over {rows:,} rows, "
        f"{len(suite['table_metrics'])} table metrics, {response['seconds']:.1f}s"
    )
    return response


def _results(batch, gx_suite, result_format: dict) -> dict[int, dict]:
    """GX's result of each expectation, as JSON, by its index in the suite file."""
    result = batch.validate(gx_suite, result_format=result_format)
    return {index: evr.to_json_dict() for index, evr in by_index(gx_suite, result).items()}


def _found_rows(found: dict) -> bool:
    """The expectation failed, or passed with unexpected rows (`mostly`)."""
    return not found["success"] or bool((found.get("result") or {}).get("unexpected_count"))


def _typed(needed: list[str], available: dict[str, str]) -> str:
    parts = []
    for name in needed:
        expr, kind = _quoted(name), available[name]
        if kind in DATETIME_TYPES:
            expr = f"cast(unix_micros(cast({expr} as timestamp_ntz)) as double)"
        elif kind.startswith("decimal"):
            expr = f"cast({expr} as double)"
        elif kind.startswith(TEXT_PREFIXES):
            expr = f"cast({expr} as string)"
        parts.append(f"{expr} as {_quoted(name)}")
    return ", ".join(parts)


def _metrics(spark, metrics: dict[str, str], table: str) -> tuple[dict, dict]:
    """(metric -> value, metric -> error), in Spark (shared.table_metrics)."""

    def first_row(sql: str):
        rows = spark.sql(sql).take(1)
        return tuple(rows[0]) if rows else None

    return table_metrics(
        metrics, table, quote=_quoted, first_row=first_row, errors=Exception, plain=_plain
    )


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return float(value) if hasattr(value, "as_tuple") else str(value)


def _relation(table: str) -> str:
    schema, _, name = table.partition(".")
    return f"{_quoted(schema)}.{_quoted(name)}"


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
