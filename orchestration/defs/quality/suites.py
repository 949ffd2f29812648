"""Reads the expectation suites in expectations/gx/expectations/ and the pipeline keys in meta.

A suite is a plain GX Core 1.x suite file (name, expectations, meta). Its `meta` also tells the
pipeline how to validate it at scale:

- `table`: the warehouse table (defaults to the suite name, e.g. `raw.lms_enrollments`);
- `severity`: `error` (blocks everything downstream) or `warn`, for every expectation unless the
  expectation's own `meta.severity` says otherwise;
- `batch_key`: columns the rows are hash-partitioned by into batches of bounded size. Every
  uniqueness expectation must cover these columns, so duplicates always meet in one batch;
- `sample_columns`: columns shown with each sample failing row (default: the batch key);
- `columns`: extra columns computed in DuckDB (name -> SQL expression over the table), for typed
  values, JSON fields and lookups against other tables (referential integrity);
- `absent_columns`: `skip` when the table may lack optional columns (raw extracts), so
  expectations on them are skipped and listed; `fail` (default) otherwise;
- `table_metrics`: one-row aggregates computed in DuckDB (name -> SQL expression), for volume,
  freshness and other whole-table facts; `{min_cell_size}` in one stands for the dbt var. An
  expectation whose columns are all table metrics is validated against that single row instead
  of the table's rows.
- `changed_rows`: for tables that grow with the history, how to find the rows a run wrote
  (`watermark`, `filter`, optional `describe`), so a run validates those rows and not the
  whole table (see quality/scope.py).
- `spark`: the Spark SQL of the `columns`, `table_metrics` and changed-rows `filter` that Spark
  SQL does not read as written (`isodow`, `date_diff('week', ...)`), for suites validated in
  Spark (quality/spark.py); the others run as they are. `getvariable('as_of')` and
  `getvariable('validated_through')` need no override: they become literals on Spark.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg

from orchestration.defs.dbt.vars import min_cell_size
from orchestration.settings import PROJECT_ROOT

SUITES_DIR = PROJECT_ROOT / "expectations" / "gx" / "expectations"
SEVERITIES = ("error", "warn")

# Expectations decided row by row (or pair, or row-tuple): their outcome over the whole table is
# the sum of their outcomes over disjoint batches.
ROW_EXPECTATIONS = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
        "expect_column_value_lengths_to_be_between",
        "expect_column_values_to_be_increasing",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_column_pair_values_to_be_equal",
        "expect_column_pair_values_to_be_in_set",
        "expect_multicolumn_sum_to_equal",
        "expect_select_column_values_to_be_unique_within_record",
    }
)
# Exact across batches only when the batch key is a subset of the checked columns.
UNIQUE_EXPECTATIONS = frozenset(
    {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}
)
ROW_EXPECTATIONS_WITHOUT_ORDER = ROW_EXPECTATIONS - {"expect_column_values_to_be_increasing"}

# The name of every suite's asset check: the report and the publication find suites by it
# without importing the check code (and with it Great Expectations and the alert senders).
CHECK_NAME = "expectation_suite"


class SuiteError(ValueError):
    """A suite file the pipeline cannot run: names the file and the expectation."""


@dataclass(frozen=True)
class Expectation:
    index: int
    type: str
    kwargs: dict[str, Any]
    meta: dict[str, Any]
    severity: str
    scope: str  # "rows" or "table"

    @property
    def columns(self) -> tuple[str, ...]:
        return expectation_columns(self.kwargs)

    @property
    def label(self) -> str:
        return f"{self.type}({', '.join(self.columns)})"


@dataclass(frozen=True)
class Suite:
    name: str
    path: Path
    table: str
    description: str
    batch_key: tuple[str, ...]
    sample_columns: tuple[str, ...]  # shown with each failing row; default the batch key
    columns: dict[str, str]
    table_metrics: dict[str, str]
    expectations: tuple[Expectation, ...]
    absent_columns: str  # "skip" (optional extract columns) or "fail"
    raw: dict[str, Any] = field(repr=False, compare=False)
    changed_rows: dict[str, str] | None = None  # watermark, filter, describe (quality/scope.py)
    spark: dict[str, Any] = field(default_factory=dict)  # Spark SQL overrides (meta.spark)

    @property
    def schema_and_table(self) -> tuple[str, str]:
        schema, _, table = self.table.partition(".")
        return schema, table

    @property
    def spark_columns(self) -> dict[str, str]:
        return {**self.columns, **self.spark.get("columns", {})}

    @property
    def spark_table_metrics(self) -> dict[str, str]:
        return {**self.table_metrics, **self.spark.get("table_metrics", {})}

    @property
    def spark_rows_filter(self) -> str | None:
        if not self.changed_rows:
            return None
        return self.spark.get("changed_rows_filter", self.changed_rows["filter"])

    @property
    def blocking(self) -> bool:
        return any(e.severity == "error" for e in self.expectations)

    def gx_suite_dict(self) -> dict[str, Any]:
        """The suite as GX reads it (the pipeline keys stay in meta, where GX ignores them)."""
        return {k: v for k, v in self.raw.items() if k in ("name", "expectations", "meta", "notes")}


def expectation_columns(kwargs: dict[str, Any]) -> tuple[str, ...]:
    columns: list[str] = []
    for name in ("column", "column_A", "column_B"):
        if isinstance(kwargs.get(name), str):
            columns.append(kwargs[name])
    columns += list(kwargs.get("column_list") or [])
    return tuple(columns)


def load_suites(directory: Path = SUITES_DIR) -> list[Suite]:
    return [load_suite(path) for path in sorted(directory.rglob("*.json"))]


def load_suite(path: Path) -> Suite:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SuiteError(f"{path}: not valid JSON: {exc}") from exc
    name = raw.get("name")
    if not name:
        raise SuiteError(f"{path}: the suite has no name")
    meta = raw.get("meta") or {}
    table = meta.get("table", name)
    if table.count(".") != 1:
        raise SuiteError(f"{path}: meta.table must be schema.table, found {table!r}")
    default_severity = _severity(f"{path}: meta.severity", meta.get("severity", "error"))
    batch_key = tuple(meta.get("batch_key") or ())
    metrics = {
        name: sql.replace("{min_cell_size}", str(min_cell_size()))
        for name, sql in (meta.get("table_metrics") or {}).items()
    }
    columns = dict(meta.get("columns") or {})
    clash = sorted(set(metrics) & set(columns))
    if clash:
        raise SuiteError(f"{path}: {', '.join(clash)} is both a column and a table metric")
    absent = meta.get("absent_columns", "fail")
    if absent not in ("skip", "fail"):
        raise SuiteError(f"{path}: meta.absent_columns must be skip or fail, found {absent!r}")
    expectations = []
    for index, item in enumerate(raw.get("expectations") or []):
        kwargs = item.get("kwargs") or {}
        exp_meta = item.get("meta") or {}
        kind = item.get("type", "")
        where = f"{path}: expectation {index + 1} ({kind})"
        used = expectation_columns(kwargs)
        if used and all(c in metrics for c in used):
            scope = "table"
        elif any(c in metrics for c in used):
            raise SuiteError(f"{where} mixes table metrics and row columns: {', '.join(used)}")
        elif kind in UNIQUE_EXPECTATIONS:
            if not batch_key or not set(batch_key) <= set(used):
                raise SuiteError(
                    f"{where}: uniqueness of {', '.join(used)} needs meta.batch_key to be a "
                    f"subset of those columns (found {list(batch_key)}), so that duplicates meet "
                    "in one batch; check other columns with a table metric instead"
                )
            scope = "rows"
        elif kind in ROW_EXPECTATIONS_WITHOUT_ORDER:
            scope = "rows"
        else:
            raise SuiteError(
                f"{where}: not decidable batch by batch; express it on a table metric "
                f"(meta.table_metrics) or use one of {', '.join(sorted(ROW_EXPECTATIONS))}"
            )
        expectations.append(
            Expectation(
                index=index,
                type=kind,
                kwargs=kwargs,
                meta=exp_meta,
                severity=_severity(
                    f"{where}: meta.severity", exp_meta.get("severity", default_severity)
                ),
                scope=scope,
            )
        )
    return Suite(
        name=name,
        path=path,
        table=table,
        description=meta.get("description", ""),
        batch_key=batch_key,
        sample_columns=tuple(meta.get("sample_columns") or ()),
        columns=columns,
        table_metrics=metrics,
        expectations=tuple(expectations),
        absent_columns=absent,
        raw=raw,
        changed_rows=_changed_rows(path, meta.get("changed_rows")),
        spark=_spark(path, meta.get("spark"), columns, metrics),
    )


def _spark(path: Path, value: Any, columns: dict, metrics: dict) -> dict[str, Any]:
    """meta.spark: overrides of columns and metrics the suite has, in Spark SQL."""
    spark = dict(value or {})
    unknown = sorted(set(spark) - {"columns", "table_metrics", "changed_rows_filter"})
    if unknown:
        raise SuiteError(
            f"{path}: meta.spark takes columns, table_metrics and changed_rows_filter, "
            f"not {', '.join(unknown)}"
        )
    for kind, known in (("columns", columns), ("table_metrics", metrics)):
        strays = sorted(set(spark.get(kind) or {}) - set(known))
        if strays:
            raise SuiteError(
                f"{path}: meta.spark.{kind} overrides {', '.join(strays)}, which meta.{kind} "
                "does not have"
            )
    spark["table_metrics"] = {
        name: sql.replace("{min_cell_size}", str(min_cell_size()))
        for name, sql in (spark.get("table_metrics") or {}).items()
    }
    return spark


def _changed_rows(path: Path, value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    missing = [k for k in ("watermark", "filter") if not isinstance(value, dict) or k not in value]
    if missing:
        raise SuiteError(f"{path}: meta.changed_rows needs {' and '.join(missing)}")
    return dict(value)


def _severity(where: str, value: str) -> str:
    severity = str(value).lower()
    if severity not in SEVERITIES:
        raise SuiteError(f"{where} must be error or warn, found {value!r}")
    return severity


def suite_asset_key(suite: Suite) -> dg.AssetKey:
    """The asset a suite guards: its table's schema and name."""
    return dg.AssetKey(list(suite.schema_and_table))
