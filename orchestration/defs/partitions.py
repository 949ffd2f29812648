"""Day partitions of the statement data: event dates in the company time zone."""

import dagster as dg

from orchestration.settings import PipelineSettings


def statement_days(settings: PipelineSettings) -> dg.DailyPartitionsDefinition:
    """One partition per event day, from PIPELINE_PARTITION_START to the last complete day
    (the day before PIPELINE_AS_OF when that is set: the pipeline's today).

    Statement ingestion and the statement-derived dbt models share it; a run for a range of
    days (a backfill) is one run, so dbt sees the range as one `min_date`..`max_date` window.
    """
    return dg.DailyPartitionsDefinition(
        start_date=settings.partition_start.isoformat(),
        end_date=settings.as_of.isoformat() if settings.as_of_fixed else None,
        timezone=settings.timezone,
    )


def is_whole_history(context: dg.AssetExecutionContext) -> bool:
    """True when a run covers every partition (`retention-pipeline run`, a full backfill)."""
    partitions = context.assets_def.partitions_def
    keys = context.partition_key_range
    return (
        keys.start == partitions.get_first_partition_key()
        and keys.end == partitions.get_last_partition_key()
    )


def whole_history_tags(partitions: dg.PartitionsDefinition) -> dict[str, str]:
    """Run tags that make one run cover every partition, as a single-run backfill does."""
    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )

    return {
        ASSET_PARTITION_RANGE_START_TAG: partitions.get_first_partition_key(),
        ASSET_PARTITION_RANGE_END_TAG: partitions.get_last_partition_key(),
    }
