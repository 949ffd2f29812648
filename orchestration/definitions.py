"""The Dagster code location: one Definitions object merged from each module under defs/."""

from __future__ import annotations

import dagster as dg

from orchestration.defs import jobs
from orchestration.defs.dbt import assets as dbt_assets
from orchestration.defs.ingest import assets as ingest_assets
from orchestration.defs.resources import PipelineConfig, warehouse_resource
from orchestration.settings import PipelineSettings


def build_definitions(settings: PipelineSettings | None = None) -> dg.Definitions:
    settings = settings or PipelineSettings.from_env()
    return dg.Definitions.merge(
        ingest_assets.defs,
        dbt_assets.defs,
        jobs.defs,
        dg.Definitions(
            resources={
                "pipeline": PipelineConfig.from_settings(settings),
                "warehouse": warehouse_resource(settings),
            },
            # One process writes the DuckDB file at a time: steps run in the run's own process.
            executor=dg.in_process_executor,
        ),
    )


defs = build_definitions()
