"""Every dbt model, seed and test as Dagster assets and asset checks, downstream of raw assets."""

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)
from dagster_duckdb import DuckDBResource

from orchestration.defs.dbt.project import dbt_executable, dbt_project, ensure_manifest
from orchestration.defs.partitions import is_whole_history, statement_days
from orchestration.defs.resources import WAREHOUSE_POOL, PipelineConfig
from orchestration.settings import PipelineSettings

ensure_manifest()


class Translator(DagsterDbtTranslator):
    """Groups assets by dbt layer (staging, intermediate, marts, config), not one dbt group."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "config"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


# Statement ingestion's day partitions reach these models as `--vars {min_date, max_date}`;
# the rest of the project (snapshots of HRIS and courses, weekly marts) is built unpartitioned.
DAILY_MODELS = "tag:daily"


def build_dbt_assets(settings: PipelineSettings) -> list[dg.AssetsDefinition]:
    translator = Translator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    @dbt_assets(
        manifest=dbt_project.manifest_path,
        project=dbt_project,
        name="dbt_daily_models",
        select=DAILY_MODELS,
        partitions_def=statement_days(settings),
        # A backfill of many days is one dbt invocation over the whole range, not one per day.
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=WAREHOUSE_POOL,
        dagster_dbt_translator=translator,
    )
    def dbt_daily_models(
        context: dg.AssetExecutionContext,
        dbt: DbtCliResource,
        pipeline: PipelineConfig,
        warehouse: DuckDBResource,
    ):
        yield from _build(context, dbt, pipeline, warehouse, daily_build_args(context))

    @dbt_assets(
        manifest=dbt_project.manifest_path,
        project=dbt_project,
        name="dbt_models",
        exclude=DAILY_MODELS,
        pool=WAREHOUSE_POOL,
        dagster_dbt_translator=translator,
    )
    def dbt_models(
        context: dg.AssetExecutionContext,
        dbt: DbtCliResource,
        pipeline: PipelineConfig,
        warehouse: DuckDBResource,
    ):
        yield from _build(context, dbt, pipeline, warehouse, ["build"])

    return [dbt_daily_models, dbt_models]


def daily_build_args(context: dg.AssetExecutionContext) -> list[str]:
    """`dbt build` for the run's days; a run over every partition rebuilds from scratch."""
    window = context.partition_time_window
    dates = {
        "min_date": window.start.date().isoformat(),
        "max_date": (window.end - timedelta(days=1)).date().isoformat(),
    }
    args = ["build", "--vars", json.dumps(dates)]
    if is_whole_history(context):
        args.append("--full-refresh")
    return args


def _build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    pipeline: PipelineConfig,
    warehouse: DuckDBResource,
    args: list[str],
):
    # dbt runs in a subprocess inside dbt_project/: hand it absolute paths and the run settings.
    os.environ.update(pipeline.settings.dbt_env())
    # Dagster runs the project in several steps around the day-partitioned models; a test
    # runs in the step that can build all of its parents (e.g. relationships to a dimension).
    invocation = dbt.cli([*args, "--indirect-selection", "buildable"], context=context)
    # The dbt subprocess holds the DuckDB file until it exits, so row counts are read afterwards
    # (dagster-dbt's fetch_row_counts would open the file while dbt still writes it).
    events = list(invocation.stream())
    yield from _with_row_counts(events, invocation.manifest, warehouse)


def _with_row_counts(
    events: Iterable[Any], manifest: Mapping[str, Any], warehouse: DuckDBResource
) -> Iterator[Any]:
    from orchestration.defs.report.charts import mart_chart_metadata

    nodes = manifest["nodes"]
    with warehouse.get_connection() as conn:
        for event in events:
            node = None
            if isinstance(event, dg.Output) and "unique_id" in event.metadata:
                node = nodes.get(event.metadata["unique_id"].value)
            if node is not None and node["config"].get("materialized") in ("table", "incremental"):
                rows = conn.execute(
                    f'select count(*) from "{node["schema"]}"."{node["alias"]}"'
                ).fetchone()[0]
                metadata = {**event.metadata, "dagster/row_count": rows}
                if node["schema"] == "marts":
                    # A mart's charts (the retention report's pictures) show on its asset page.
                    metadata |= mart_chart_metadata(conn, node["alias"])
                event = event.with_metadata(metadata)
            yield event


def build_defs(settings: PipelineSettings) -> dg.Definitions:
    return dg.Definitions(
        assets=build_dbt_assets(settings),
        resources={"dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())},
    )
