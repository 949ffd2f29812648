"""The job that builds everything present in the landing zone: ingest, dbt, checks, publish."""

import dagster as dg

FULL_BUILD_JOB = "retention_pipeline"

full_build = dg.define_asset_job(
    FULL_BUILD_JOB,
    selection=dg.AssetSelection.all(),
    description="Ingest every extract, build every dbt model and test, run every check.",
)

defs = dg.Definitions(jobs=[full_build])
