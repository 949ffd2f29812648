"""What a run of the pipeline did, read from its events: the one home of execution, failures,
publication and timings, shared by the CLI, the tests, the benchmark (through `run --timings`)
and the run-failure alert."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import dagster as dg

from orchestration.defs.alerts.runs import step_failure_line
from orchestration.defs.rebuild import Window, run_config, run_tags
from orchestration.defs.timing import ENGINE_SECONDS
from orchestration.settings import PipelineSettings


@dataclass
class RunOutcome:
    result: dg.ExecuteInProcessResult
    instance: dg.DagsterInstance
    seconds: float

    @property
    def run_id(self) -> str:
        return self.result.run_id

    @property
    def success(self) -> bool:
        return self.result.success

    @cached_property
    def failures(self) -> list[str]:
        return failures(self.result)

    @cached_property
    def published(self) -> bool:
        return any(
            event.event_type_value == "ASSET_MATERIALIZATION"
            and event.asset_key.to_user_string() == "published"
            for event in self.result.all_events
        )

    def write_timings(self, path: Path) -> None:
        """Each step's wall time, as the instance recorded it (the Runs page shows the same),
        and the part of it spent in the engines (`engine_seconds` on its outputs and checks)."""
        engine = _engine_seconds(self.result.all_events)
        steps = [
            {
                "step": stats.step_key,
                "status": stats.status.value if stats.status else None,
                "started_at": stats.start_time,
                "seconds": round((stats.end_time or stats.start_time) - stats.start_time, 3),
                "engine_seconds": engine.get(stats.step_key, 0.0),
            }
            for stats in sorted(
                self.instance.get_run_step_stats(self.run_id), key=lambda s: s.start_time or 0
            )
            if stats.start_time is not None
        ]
        payload = {"run_id": self.run_id, "success": self.success, "seconds": self.seconds}
        path.write_text(json.dumps(payload | {"steps": steps}, indent=2))


def execute(
    settings: PipelineSettings,
    window: Window | None,
    *,
    instance: dg.DagsterInstance | None = None,
    selection: list[dg.AssetKey] | None = None,
    log_level: str | None = None,
) -> RunOutcome:
    """Run the pipeline's job in this process: over `window` (None: the daily default), or
    only the assets of `selection` with the default config. Without an instance, the one of
    DAGSTER_HOME when it is set (so the run shows in the UI), else an ephemeral one."""
    from orchestration.definitions import build_definitions
    from orchestration.defs.jobs import FULL_BUILD_JOB

    if instance is None:
        instance = (
            dg.DagsterInstance.get()
            if os.getenv("DAGSTER_HOME")
            else dg.DagsterInstance.ephemeral()
        )
    started = time.monotonic()
    job = build_definitions(settings).resolve_job_def(FULL_BUILD_JOB)
    config = {} if selection else run_config(window)
    if log_level:
        config |= {"loggers": {"console": {"config": {"log_level": log_level}}}}
    result = job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config=config,
        tags={} if selection else run_tags(window),
        **({"asset_selection": selection} if selection else {}),
    )
    return RunOutcome(result=result, instance=instance, seconds=time.monotonic() - started)


def failures(result) -> list[str]:
    failures = []
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            if error and error.cls_name == "DagsterAssetCheckFailedError":
                continue  # a blocking check: named below with its failed expectations
            failures.append(step_failure_line(event))
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed and evaluation.severity.value == "ERROR":
                failures.append(
                    f"check {evaluation.check_name} on {evaluation.asset_key.to_user_string()}"
                    + _failed_expectations(evaluation.metadata)
                )
    return failures


def _failed_expectations(metadata) -> str:
    """': expect_x(col) (3 rows), ...' from the failures a quality check records."""
    failures = metadata.get("failures")
    if failures is None:
        return ""
    parts = []
    for failure in failures.value:
        if failure.get("severity") != "error":
            continue
        count = failure.get("unexpected_count")
        parts.append(failure["expectation"] + (f" ({count:,} rows)" if count else ""))
    return ": " + ", ".join(parts) if parts else ""


def _engine_seconds(events) -> dict[str, float]:
    """Per step, the largest `engine_seconds` its materializations and checks recorded (a
    multi-asset step stamps the same time on each output)."""
    seconds: dict[str, float] = {}
    for event in events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            metadata = event.event_specific_data.materialization.metadata
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            metadata = event.event_specific_data.metadata
        else:
            continue
        if ENGINE_SECONDS in metadata:
            value = float(metadata[ENGINE_SECONDS].value)
            seconds[event.step_key] = max(seconds.get(event.step_key, 0.0), value)
    return seconds
