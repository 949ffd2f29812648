"""The `retention-pipeline` command: generate sample extracts, or run the whole pipeline."""

from __future__ import annotations

import argparse
import gc
import logging
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
    from orchestration.defs.jobs import FULL_BUILD_JOB
    from orchestration.defs.summary import run_summary
    from orchestration.outcome import execute

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
    # Runs land in the same instance as `dagster dev` when DAGSTER_HOME is set, so they show
    # in the UI's run history.
    outcome = execute(settings, window, log_level="INFO")
    elapsed = outcome.seconds
    logging.getLogger("dagster").handlers.clear()
    if timings is not None:
        outcome.write_timings(timings)
    failures = outcome.failures
    print(run_summary(settings), flush=True)
    if failures:
        from orchestration.defs.alerts.runs import notify_run_failure

        print(f"\nFAILED after {elapsed:.0f}s:", file=sys.stderr)
        for failure in failures:
            print(f"  - {failure}", file=sys.stderr)
        if not outcome.published:
            print(
                f"Nothing was published: BI tools keep reading the previous publication in "
                f"{settings.publish_dir}.",
                file=sys.stderr,
            )
        # Scheduled runs alert through the run-failure sensor; this run has no daemon watching.
        delivered = notify_run_failure(
            outcome.run_id, FULL_BUILD_JOB, failures, settings.alerts, log=print
        )
        if delivered:
            print(f"Alert sent: {', '.join(delivered)}", file=sys.stderr)
        return 1
    print(_publication_summary(settings, published_now=outcome.published))
    print(f"\nSucceeded in {elapsed:.0f}s (run {outcome.run_id}).")
    print("Browse assets, checks and runs: `make dev`, then open http://127.0.0.1:3000")
    return 0


def _publication_summary(settings: PipelineSettings, *, published_now: bool) -> str:
    from orchestration.defs.publication import read_manifest

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
