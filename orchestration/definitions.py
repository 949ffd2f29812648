"""The Dagster code location: one Definitions object merged from each module under defs/."""

from __future__ import annotations

import dagster as dg

from orchestration.defs import automation, jobs
from orchestration.defs.alerts import runs as alert_runs
from orchestration.defs.dbt import assets as dbt_assets
from orchestration.defs.digest import assets as digest_assets
from orchestration.defs.ingest import assets as ingest_assets
from orchestration.defs.lrs import assets as lrs_assets
from orchestration.defs.publish import assets as publish_assets
from orchestration.defs.quality import checks as quality_checks
from orchestration.defs.quality.graph import asset_keys_of
from orchestration.defs.report import assets as report_assets
from orchestration.defs.resources import pipeline_resource, warehouse_resource
from orchestration.settings import PipelineSettings


def build_definitions(settings: PipelineSettings | None = None) -> dg.Definitions:
    settings = settings or PipelineSettings.from_env()
    ingest = ingest_assets.build_defs()
    dbt = dbt_assets.build_defs(settings)
    # Checks and publication cover whichever suites' tables and published marts
    # (docs/publication.md#published-tables) exist as assets now.
    asset_keys = asset_keys_of(ingest, dbt)
    return dg.Definitions.merge(
        lrs_assets.defs,
        ingest,
        dbt,
        jobs.defs,
        automation.build_defs(settings),
        # With PIPELINE_ENGINE=spark, the suites over the models run in Spark (quality/spark.py).
        quality_checks.build_defs(
            asset_keys, asset_keys_of(dbt) if settings.engine.validates_on_spark else set()
        ),
        publish_assets.build_defs(asset_keys),
        report_assets.defs,
        digest_assets.build_defs(settings),
        alert_runs.build_defs(settings.alerts),
        dg.Definitions(
            resources={
                "pipeline": pipeline_resource(settings),
                "warehouse": warehouse_resource(settings),
            },
            # One process writes the DuckDB file at a time: steps run in the run's own process.
            executor=dg.in_process_executor,
        ),
    )


defs = build_definitions()
