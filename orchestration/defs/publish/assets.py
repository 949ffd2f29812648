"""The `published` asset: the published marts (docs/publication.md#published-tables) copied for
BI tools once every blocking check has passed (a failed blocking check skips this step, so the
last good publication stays)."""

import json
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.defs.dbt.project import dbt_project, ensure_manifest
from orchestration.defs.publish.writer import publish
from orchestration.defs.quality.suites import load_suites, suite_asset_key
from orchestration.defs.timing import Stopwatch
from orchestration.settings import PipelineSettings

PUBLISH_SCHEMA = "marts"
# The dbt exposure that lists the tables BI tools rely on (dbt_project/models/marts/
# _exposures.yml, docs/publication.md#published-tables), in the publication's order.
EXPOSURE = "exposure.retention_pipeline.bi_publication"
ensure_manifest()


def _published_tables() -> tuple[str, ...]:
    manifest = json.loads(Path(dbt_project.manifest_path).read_text(encoding="utf-8"))
    return tuple(ref["name"] for ref in manifest["exposures"][EXPOSURE]["refs"])


PUBLISHED_TABLES = _published_tables()


def published_table_keys(asset_keys: set[dg.AssetKey]) -> list[dg.AssetKey]:
    """The published tables that exist as dbt assets now, in the order of PUBLISHED_TABLES."""
    keys = [dg.AssetKey([PUBLISH_SCHEMA, table]) for table in PUBLISHED_TABLES]
    return [key for key in keys if key in asset_keys]


def guarded_keys(asset_keys: set[dg.AssetKey]) -> list[dg.AssetKey]:
    """Every asset carrying a blocking check: `published` waits on all of their checks."""
    return sorted(
        {suite_asset_key(s) for s in load_suites() if s.blocking} & asset_keys,
        key=lambda k: k.to_user_string(),
    )


def build_published(asset_keys: set[dg.AssetKey]) -> dg.AssetsDefinition:
    tables = [key.path[-1] for key in published_table_keys(asset_keys)]
    deps = list(dict.fromkeys([*published_table_keys(asset_keys), *guarded_keys(asset_keys)]))

    @dg.asset(
        key="published",
        deps=deps,
        group_name="publish",
        kinds={"duckdb", "parquet"},
        description=(
            "Trusted marts for BI tools: PIPELINE_PUBLISH_DIR/analytics.duckdb (readable by "
            "DuckDB 1.x) and PIPELINE_PUBLISH_DIR/parquet/<table>.parquet, swapped in atomically. "
            "Runs only after every blocking expectation suite passed. Tables: "
            + (", ".join(tables) or "none of the marts to publish exist yet")
        ),
    )
    def published(
        context: dg.AssetExecutionContext,
        pipeline: dg.ResourceParam[PipelineSettings],
        warehouse: DuckDBResource,
    ) -> dg.MaterializeResult:
        watch = Stopwatch()
        publish_dir = pipeline.publish_dir
        with warehouse.get_connection() as conn:
            publication = publish(
                conn, tables, publish_dir, run_id=context.run_id, source_schema=PUBLISH_SCHEMA
            )
        context.log.info(
            f"Published {len(tables)} table(s) to {publish_dir} "
            f"(publication {publication.publication_id})"
        )
        return dg.MaterializeResult(
            metadata={
                "publication_id": publication.publication_id,
                "duckdb": dg.MetadataValue.path(publication.duckdb_path),
                "parquet": dg.MetadataValue.path(publication.parquet_dir),
                "tables": dg.MetadataValue.md(
                    "| table | rows |\n|---|---|\n"
                    + "\n".join(f"| {t} | {n:,} |" for t, n in publication.tables.items())
                ),
                "dagster/row_count": sum(publication.tables.values()),
                **watch.metadata(),
            }
        )

    return published


def build_defs(asset_keys: set[dg.AssetKey]) -> dg.Definitions:
    return dg.Definitions(assets=[build_published(asset_keys)])
