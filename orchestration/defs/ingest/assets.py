"""Dagster assets that load each extract family of the landing zone into the raw schema."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.defs import markdown as md
from orchestration.defs.ingest.contract import (
    CSV_EXTRACTS,
    HRIS_EXTRACTS,
    RAW_SCHEMA,
    STATEMENT_DUPLICATES_TABLE,
    STATEMENTS_DIR,
    CsvExtract,
)
from orchestration.defs.ingest.csv_snapshot import LoadResult, load_csv_snapshot
from orchestration.defs.ingest.statements import load_statement_files
from orchestration.defs.resources import WAREHOUSE_POOL
from orchestration.defs.timing import Stopwatch
from orchestration.settings import PipelineSettings


def _materialize_result(
    result: LoadResult, source: str, conn, watch: Stopwatch
) -> dg.MaterializeResult:
    row_count = conn.execute(f"select count(*) from {result.table}").fetchone()[0]
    metadata: dict = (
        result.metadata()
        | watch.metadata()
        | {
            "source": dg.MetadataValue.path(source),
            "dagster/row_count": row_count,
        }
    )
    if result.sample_quarantine:
        metadata["quarantine_sample"] = dg.MetadataValue.md(
            "| line | reason |\n|---|---|\n"
            + "\n".join(
                f"| {row['line_number']} | {md.text(row['reason'])} |"
                for row in result.sample_quarantine
            )
        )
    return dg.MaterializeResult(metadata=metadata)


def _csv_asset(extract: CsvExtract) -> dg.AssetsDefinition:
    group = "hris" if extract in HRIS_EXTRACTS else "lms"

    @dg.asset(
        key=dg.AssetKey([RAW_SCHEMA, extract.table]),
        group_name=f"raw_{group}",
        kinds={"duckdb", "csv"},
        pool=WAREHOUSE_POOL,
        description=(
            f"{extract.description} Loaded from `{extract.path}`; required columns: "
            f"{', '.join(extract.required)}. Unparsable rows go to raw.ingest_quarantine."
        ),
    )
    def _load(
        context: dg.AssetExecutionContext,
        pipeline: dg.ResourceParam[PipelineSettings],
        warehouse: DuckDBResource,
    ) -> dg.MaterializeResult:
        watch = Stopwatch()
        landing = pipeline.landing_dir
        with warehouse.get_connection() as conn:
            result = load_csv_snapshot(conn, landing, extract)
            materialization = _materialize_result(result, str(landing / extract.path), conn, watch)
        if result.unchanged_files:
            context.log.info(f"{extract.path} unchanged since its last load; nothing rewritten")
        if result.rows_quarantined:
            context.log.warning(
                f"{extract.path}: {result.rows_quarantined} row(s) quarantined, e.g. "
                + "; ".join(
                    f"line {q['line_number']}: {q['reason']}" for q in result.sample_quarantine
                )
            )
        return materialization

    return _load


csv_assets = [_csv_asset(extract) for extract in CSV_EXTRACTS]


def build_statements_asset() -> dg.AssetsDefinition:
    @dg.multi_asset(
        name="lms_statements",
        specs=[
            dg.AssetSpec(
                dg.AssetKey([RAW_SCHEMA, "lms_statements"]),
                # The LRS pull writes its pages here first.
                deps=[dg.AssetKey([RAW_SCHEMA, "lms_statements_lrs"])],
                group_name="raw_lms",
                kinds={"duckdb", "json"},
                description=(
                    "xAPI 1.0.3 statements from lms/statements/**/*.jsonl[.gz]: one row per "
                    "statement id (first `stored` wins); unparsable lines go to "
                    "raw.ingest_quarantine. Files already loaded with the same bytes are skipped. "
                    "A file may hold any days: every run loads every new file, and dbt queues "
                    "the event days its statements fall on for rebuilding."
                ),
            ),
            dg.AssetSpec(
                dg.AssetKey([RAW_SCHEMA, "lms_statement_duplicates"]),
                group_name="raw_lms",
                kinds={"duckdb"},
                description=(
                    "Every further copy of a kept statement id, with the file and line it was "
                    "seen at and the copy kept: written by the same load as raw.lms_statements."
                ),
            ),
        ],
        pool=WAREHOUSE_POOL,
    )
    def lms_statements(
        context: dg.AssetExecutionContext,
        pipeline: dg.ResourceParam[PipelineSettings],
        warehouse: DuckDBResource,
    ):
        watch = Stopwatch()
        landing = pipeline.landing_dir
        with warehouse.get_connection() as conn:
            result = load_statement_files(conn, landing, log=context.log.info)
            statements = _materialize_result(result, str(landing / STATEMENTS_DIR), conn, watch)
            duplicates = conn.execute(
                f"select count(*) from {STATEMENT_DUPLICATES_TABLE}"
            ).fetchone()[0]
        yield dg.MaterializeResult(
            asset_key=dg.AssetKey([RAW_SCHEMA, "lms_statements"]),
            metadata=statements.metadata,
        )
        yield dg.MaterializeResult(
            asset_key=dg.AssetKey([RAW_SCHEMA, "lms_statement_duplicates"]),
            metadata={"dagster/row_count": duplicates, "new_duplicates": result.rows_duplicate},
        )

    return lms_statements


def build_defs() -> dg.Definitions:
    return dg.Definitions(assets=[*csv_assets, build_statements_asset()])
