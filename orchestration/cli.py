"""The `retention-pipeline` command: generate sample extracts, or run the whole pipeline."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from orchestration.settings import PipelineSettings, SettingsError

if TYPE_CHECKING:  # the run's modules load with `run`, not with `generate`
    from orchestration.defs.rebuild import Window


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="retention-pipeline",
        description="Learning-to-retention pipeline: LMS + HRIS extracts to trusted marts.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    gen = commands.add_parser("generate", help="write a landing zone for a fictional company")
    gen.add_argument("--out", type=Path, required=True, help="landing zone directory to write")
    gen.add_argument("--employees", type=int, default=2000)
    gen.add_argument("--months", type=int, default=24, help="months of learning history")
    gen.add_argument("--seed", type=int, default=7)
    gen.add_argument("--end-date", type=date.fromisoformat, default=None, help="YYYY-MM-DD")

    run = commands.add_parser(
        "run", help="ingest, build, check and publish everything in the landing zone"
    )
    days = run.add_mutually_exclusive_group()
    days.add_argument(
        "--daily",
        action="store_true",
        help="run exactly as the daily schedule does: the last complete day, and nothing at all "
        "when nothing was loaded since the last build",
    )
    days.add_argument(
        "--day",
        type=_iso_day,
        default=None,
        help="rebuild one event day (YYYY-MM-DD), as the daily schedule does, instead of the "
        "whole history",
    )
    days.add_argument(
        "--from",
        dest="first",
        type=_iso_day,
        default=None,
        help="backfill: rebuild the event days from this one (YYYY-MM-DD) ...",
    )
    run.add_argument(
        "--to",
        dest="last",
        type=_iso_day,
        default=None,
        help="... to this one (default: the last complete day before the as-of date)",
    )
    run.add_argument(
        "--timings",
        type=Path,
        default=None,
        help="write each step's wall time to this JSON file (used by `make bench`)",
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "generate":
            return _generate(args)
        settings = PipelineSettings.from_env()
        code = _run(settings, window_of(args, settings.as_of), timings=args.timings)
        # Everything the run needed is written and closed. Freezing what it allocated spares the
        # interpreter a last collection over millions of objects at exit (about 1.8 s).
        gc.freeze()
        return code
    except (SettingsError, ValueError) as exc:
        print(f"retention-pipeline: {exc}", file=sys.stderr)
        return 2


def _generate(args: argparse.Namespace) -> int:
    from orchestration.sample_data import generate

    started = time.monotonic()
    summary = generate(
        args.out,
        employees=args.employees,
        months=args.months,
        seed=args.seed,
        end_date=args.end_date,
        progress=lambda message: print(f"  {message}", flush=True),
    )
    print(
        f"Wrote {summary.out_dir}: {summary.employees:,} employees, "
        f"{summary.statement_lines:,} statement lines in {summary.files:,} files "
        f"({time.monotonic() - started:.1f}s)"
    )
    return 0


def _iso_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def window_of(args: argparse.Namespace, as_of: date) -> Window | None:
    """The days `run` rebuilds: --day D, --from A [--to B], the whole history, or None for the
    daily default (--daily)."""
    from orchestration.defs.rebuild import Window, check_window

    if args.daily:
        return None
    if args.last and not args.first:
        raise ValueError("--to needs --from: `run --from 2024-06-01 --to 2024-06-30`")
    if args.day:
        return check_window(args.day, args.day, as_of, first_name="--day", last_name="--day")
    if args.first:
        last = args.last or as_of - timedelta(days=1)
        return check_window(args.first, last, as_of, first_name="--from", last_name="--to")
    return Window()


def _run(settings: PipelineSettings, window: Window | None, timings: Path | None = None) -> int:
    import dagster as dg

    from orchestration.definitions import build_definitions
    from orchestration.defs.jobs import FULL_BUILD_JOB
    from orchestration.defs.rebuild import run_config, run_tags
    from orchestration.defs.summary import run_summary

    if not settings.landing_dir.is_dir():
        print(
            f"retention-pipeline: landing zone {settings.landing_dir} does not exist; "
            "set PIPELINE_LANDING_DIR or run `retention-pipeline generate --out DIR`",
            file=sys.stderr,
        )
        return 2
    from orchestration.defs.resources import warehouse_holder

    holder = warehouse_holder(settings.warehouse)
    if holder is not None:
        # DuckDB has one writer per file: started now, every step would wait for the lock.
        print(
            f"retention-pipeline: the warehouse {settings.warehouse} is in use by process "
            f"{holder} (another run, or a program holding it open); nothing was run. "
            "Run again when it has finished.",
            file=sys.stderr,
        )
        return 2
    print(f"Landing zone: {settings.landing_dir}")
    print(f"Warehouse:    {settings.warehouse}")
    print(f"As of {settings.as_of}, time zone {settings.timezone}", flush=True)
    days = "the last complete day, if anything changed" if window is None else window.describe()
    print(f"Days: {days}", flush=True)
    started = time.monotonic()
    defs = build_definitions(settings)
    job = defs.resolve_job_def(FULL_BUILD_JOB)
    # Runs land in the same instance as `dagster dev` when DAGSTER_HOME is set, so they show
    # in the UI's run history.
    instance = (
        dg.DagsterInstance.get() if os.getenv("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    )
    result = job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config=run_config(window) | {"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        tags=run_tags(window),
    )
    elapsed = time.monotonic() - started
    logging.getLogger("dagster").handlers.clear()
    if timings is not None:
        _write_timings(timings, instance, result, elapsed)
    failures = _failures(result)
    print(run_summary(settings), flush=True)
    if failures:
        from orchestration.defs.alerts.runs import notify_run_failure

        print(f"\nFAILED after {elapsed:.0f}s:", file=sys.stderr)
        for failure in failures:
            print(f"  - {failure}", file=sys.stderr)
        if not _published(result):
            print(
                f"Nothing was published: BI tools keep reading the previous publication in "
                f"{settings.publish_dir}.",
                file=sys.stderr,
            )
        # Scheduled runs alert through the run-failure sensor; this run has no daemon watching.
        delivered = notify_run_failure(
            result.run_id, FULL_BUILD_JOB, failures, settings.alerts, log=print
        )
        if delivered:
            print(f"Alert sent: {', '.join(delivered)}", file=sys.stderr)
        return 1
    print(_publication_summary(settings, published_now=_published(result)))
    print(f"\nSucceeded in {elapsed:.0f}s (run {result.run_id}).")
    print("Browse assets, checks and runs: `make dev`, then open http://127.0.0.1:3000")
    return 0


def _write_timings(path: Path, instance, result, elapsed: float) -> None:
    """Each step's wall time, as the instance recorded it (the Runs page shows the same), and
    the part of it spent in the engines (`engine_seconds` on the step's outputs and checks)."""
    import json

    engine = _engine_seconds(result.all_events)
    steps = [
        {
            "step": stats.step_key,
            "status": stats.status.value if stats.status else None,
            "started_at": stats.start_time,
            "seconds": round((stats.end_time or stats.start_time) - stats.start_time, 3),
            "engine_seconds": engine.get(stats.step_key, 0.0),
        }
        for stats in sorted(
            instance.get_run_step_stats(result.run_id), key=lambda s: s.start_time or 0
        )
        if stats.start_time is not None
    ]
    payload = {"run_id": result.run_id, "success": result.success, "seconds": elapsed}
    path.write_text(json.dumps(payload | {"steps": steps}, indent=2))


def _engine_seconds(events) -> dict[str, float]:
    """Per step, the largest `engine_seconds` its materializations and checks recorded (a
    multi-asset step stamps the same time on each output)."""
    from orchestration.defs.timing import ENGINE_SECONDS

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


def _failures(result) -> list[str]:
    from orchestration.defs.alerts.runs import step_failure_line

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


def _published(result) -> bool:
    return any(
        event.event_type_value == "ASSET_MATERIALIZATION"
        and event.asset_key.to_user_string() == "published"
        for event in result.all_events
    )


def _publication_summary(settings: PipelineSettings, *, published_now: bool) -> str:
    from orchestration.defs.publish.writer import read_manifest

    manifest = read_manifest(settings.publish_dir)
    if manifest is None:
        return "\nNothing published (none of the marts to publish exists yet)."
    if not published_now:
        return (
            f"\nNothing new to build: BI tools keep publication {manifest['publication_id']} "
            f"(run {manifest['run_id']}) in {settings.publish_dir}."
        )
    tables = ", ".join(f"{t} {n:,}" for t, n in manifest["tables"].items())
    return (
        f"\nPublished {manifest['publication_id']} for BI tools: {manifest['duckdb_path']} "
        f"and {manifest['parquet_dir']}/ ({tables})"
    )


if __name__ == "__main__":
    raise SystemExit(main())
