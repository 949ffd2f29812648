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
    @dg.schedule(
        name="daily_pipeline",
        job=full_build,
        cron_schedule=settings.schedule_cron,
        execution_timezone=settings.schedule_timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=(
            "Ingest, build, check and publish the last complete day, every day "
            "(PIPELINE_SCHEDULE_CRON in PIPELINE_SCHEDULE_TIMEZONE)."
        ),
    )
    def daily(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        # A run with the default config rebuilds the last complete day before its as-of date
        # (today, in the company time zone); the lookback and the rebuild queue pick up
        # whatever arrived late for the days before it.
        return dg.RunRequest(run_key=context.scheduled_execution_time.date().isoformat())

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
        # New files may hold any days: the run is for the last complete day, and dbt queues the
        # days of every newly loaded statement besides.
        return dg.RunRequest(run_key=fingerprint, tags={"pipeline/trigger": "new_files"})

    return dg.Definitions(schedules=[daily], sensors=[landing_zone_files])
