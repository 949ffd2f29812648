"""Alerts for failed runs: a run-failure sensor for scheduled runs, and a helper for the CLI."""

import re
from collections.abc import Callable

import dagster as dg

from orchestration.defs.alerts.message import Alert
from orchestration.defs.alerts.senders import send_alert
from orchestration.settings import AlertSettings


def step_failure_line(event: dg.DagsterEvent) -> str:
    """`step <key>: <cause>`, where the cause is the innermost error: the user code's exception
    (a missing column naming its file, say), not Dagster's wrapper around it."""
    error = event.step_failure_data.error
    if error is None:
        return f"step {event.step_key}: failed"
    while error.cause is not None and error.cls_name.startswith("Dagster"):
        error = error.cause
    message = (error.message.strip().splitlines() or [""])[0]
    # The serialized message may already open with the (qualified) class name: name it once.
    named = re.match(rf"(?:[\w.]+\.)?{re.escape(error.cls_name)}: ", message)
    if named:
        message = message[named.end() :]
    return f"step {event.step_key}: {error.cls_name}: {message}"


def run_failure_alert(
    run_id: str, job_name: str, failures: list[str], settings: AlertSettings
) -> Alert:
    return Alert(
        title=f"[retention-pipeline] run of {job_name} failed",
        run_id=run_id,
        run_url=settings.run_url(run_id),
        details=["What failed:", *(f"  - {failure}" for failure in failures or ["(see run)"])],
    )


def notify_run_failure(
    run_id: str,
    job_name: str,
    failures: list[str],
    settings: AlertSettings,
    log: Callable[[str], None] | None = None,
) -> list[str]:
    if not settings.enabled:
        return []
    return send_alert(run_failure_alert(run_id, job_name, failures, settings), settings, log)


def build_defs(settings: AlertSettings) -> dg.Definitions:
    @dg.run_failure_sensor(
        name="alert_on_run_failure",
        description="Sends the PIPELINE_ALERT_* webhook and e-mail when a run of this code "
        "location fails (scheduled or launched from the UI; `retention-pipeline run` alerts by "
        "itself).",
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def alert_on_run_failure(context: dg.RunFailureSensorContext) -> None:
        if not settings.enabled:
            return
        failures = [step_failure_line(event) for event in context.get_step_failure_events()]
        if not failures and context.failure_event.message:
            failures.append(context.failure_event.message)
        run = context.dagster_run
        delivered = notify_run_failure(
            run.run_id, run.job_name, failures, settings, context.log.warning
        )
        context.log.info(f"run failure alert sent: {', '.join(delivered) or 'nowhere'}")

    return dg.Definitions(sensors=[alert_on_run_failure])
