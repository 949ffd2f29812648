"""What runs the pipeline unattended: the daily schedule and the landing-zone sensor."""

import hashlib
from pathlib import Path

import dagster as dg

from orchestration.defs.jobs import full_build
from orchestration.settings import PipelineSettings


def landing_fingerprint(landing_dir: Path) -> str | None:
    """A hash of every file's path, size and modification time; None for an empty zone."""
    if not landing_dir.is_dir():
        return None
    entries = sorted(
        f"{path.relative_to(landing_dir).as_posix()}\t{stat.st_size}\t{stat.st_mtime_ns}"
        for path in landing_dir.rglob("*")
        if path.is_file() and not path.name.startswith((".", "_"))
        for stat in [path.stat()]
    )
    if not entries:
        return None
    return hashlib.sha256("\n".join(entries).encode()).hexdigest()


def build_defs(settings: PipelineSettings) -> dg.Definitions:
    daily = dg.ScheduleDefinition(
        name="daily_pipeline",
        job=full_build,
        cron_schedule=settings.schedule_cron,
        execution_timezone=settings.schedule_timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=(
            "Ingest, build, check and publish every day "
            "(PIPELINE_SCHEDULE_CRON in PIPELINE_SCHEDULE_TIMEZONE)."
        ),
    )

    @dg.sensor(
        name="landing_zone_files",
        job=full_build,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Requests a run when files land in, or change in, the landing zone.",
    )
    def landing_zone_files(context: dg.SensorEvaluationContext):
        fingerprint = landing_fingerprint(settings.landing_dir)
        if fingerprint is None:
            return dg.SkipReason(f"no files in {settings.landing_dir}")
        if fingerprint == context.cursor:
            return dg.SkipReason("no new or changed files since the last run request")
        context.update_cursor(fingerprint)
        # The run key makes a repeated evaluation of the same files a no-op.
        return dg.RunRequest(run_key=fingerprint, tags={"pipeline/trigger": "new_files"})

    return dg.Definitions(schedules=[daily], sensors=[landing_zone_files])
