"""`make bench`: the pipeline at company scale, against a hand-tuned floor.

For each size it generates a company (or reuses one generated with the same parameters), then
measures in one run:

- a full build from an empty warehouse, over every day but the last;
- the daily run of the last day (`retention-pipeline run --day`) on top of that history;
- the floor: benchmarks/floor.sql, the same ingestion and weekly engagement + tier computation
  as one hand-tuned DuckDB script over the same files, in a fresh process with the same memory
  limit, whose tier counts must equal the pipeline's;
- for `small` (unless --no-history), history length: the same number of statements spread over
  10 years instead of 2, as a second full build;
- for the sizes of --spark (`small` in `make bench`), the same full build and daily run with
  PIPELINE_ENGINE=spark (docs/spark.md): dbt on local Spark (`local[2]`), in its own warehouse
  and instance, with the Spark models' and tests' times from dbt's run results.

The pipeline runs against a persistent Dagster instance, as users run it: DAGSTER_HOME is a
directory per size holding a copy of deploy/dagster.yaml (what `make setup` installs), shared
by the size's full build and daily run, so the second run finds the first in its history.

Wall time comes from the pipeline's per-step timings (`run --timings`), grouped into stages,
and is also split into engines (the `engine_seconds` of every step: DuckDB loading SQL, the dbt
subprocess, GX validation, the publication writer, report drawing) and orchestration (the rest:
start-up, Dagster's own work in and between steps). Start-up is the time from launching the
process to the first step's start. Peak RSS is the largest sum over the whole process tree
(the pipeline and its dbt subprocess), sampled every 0.1 s. Each size is held to its own
targets. Results are printed and written to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path

import duckdb
import psutil

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "RESULTS.md"
# The hand-written analysis (what dominates, what was changed, before and after), appended to
# every report so that re-running the benchmark keeps it beside the new numbers.
PROFILE_NOTES = BENCH_DIR / "profile.md"
BIN = Path(sys.executable).parent
SEED = 7
# A Friday: the incremental run adds an ordinary working day (a Sunday holds a tenth of one).
END_DATE = date(2024, 6, 28)
MONTHS = 24
# Employees: about 1M and 10M statements. `tiny` (about 100k) only checks this script in a few
# minutes: it is not in `make bench` and is held to small's targets.
SIZES = {"tiny": 200, "small": 2_000, "large": 20_000}
DEFAULT_SIZES = ("small", "large")
STAGES = ("ingest", "dbt", "checks", "publish", "other")
# The floor's two stages sit in the rows of the pipeline stages they stand for.
FLOOR_STAGES = {"ingest": "ingest", "compute": "dbt"}
SAMPLE_SECONDS = 0.1
# History length: the 2-year company's statements spread over 10 years. The generator's
# statements per employee-month fall with the length of the history (measured: 2,000 x 24
# months gives about 989k lines, 845 x 120 months 1,000,563), so the first guess scales the
# employees by that factor, and one regeneration corrects it when the lines still differ by more
# than the tolerance.
LONG_MONTHS = 120
LONG_EMPLOYEES_FACTOR = 2.1
LINES_TOLERANCE = 0.03
HISTORY_RATIO = "10-year / 2-year full build"
NO_NEW_FILES = "a daily run with no new files"
STARTUP = "start-up (launch to first step; the slower of full build and day)"


@dataclass(frozen=True)
class Target:
    op: str  # "<=" or "<"
    limit: float
    unit: str = ""  # "" for a ratio, " s" or " GB"

    def met(self, value: float) -> bool:
        return value <= self.limit if self.op == "<=" else value < self.limit

    def show(self, value: float) -> str:
        return f"{value:.2f}{self.unit}" if self.unit != " s" else f"{value:.1f} s"


# Issue 8's targets on 2 cores, per size: at 10M statements the pipeline must stay near the
# floor; at 1M, where fixed costs weigh more, orchestration and start-up are held in check too.
TARGETS: dict[str, dict[str, Target]] = {
    "small": {
        "full / floor": Target("<=", 6.0),
        "incremental / full": Target("<=", 0.20),
        NO_NEW_FILES: Target("<", 20.0, " s"),
        "orchestration / full": Target("<=", 0.15),
        STARTUP: Target("<=", 10.0, " s"),
        HISTORY_RATIO: Target("<=", 1.3),
    },
    "large": {
        "full / floor": Target("<=", 3.0),
        "incremental / full": Target("<=", 0.10),
        NO_NEW_FILES: Target("<", 20.0, " s"),
        "checks / full": Target("<=", 0.20),
        "peak RSS of the pipeline": Target("<", 6.0, " GB"),
    },
}
TARGETS["tiny"] = TARGETS["small"]
TARGET_SCALE = {"tiny": "small's, at 1M", "small": "at 1M", "large": "at 10M"}


def stage_of(step: str) -> str:
    """The benchmark stage of a Dagster step key (see `retention-pipeline run --timings`)."""
    if step.endswith("expectation_suite"):
        return "checks"
    if step.startswith(("raw__", "lms_", "hris_")):
        return "ingest"
    if "dbt" in step:
        return "dbt"
    if step == "published":
        return "publish"
    return "other"


@dataclass
class Measurement:
    """One timed process: a pipeline run or the floor."""

    label: str
    seconds: float = 0.0  # wall time of the whole process, start-up included
    stages: dict[str, float] = field(default_factory=dict)
    steps: list[dict] = field(default_factory=list)
    peak_rss: int = 0  # bytes, summed over the process tree
    peak_rss_by_process: dict[str, int] = field(default_factory=dict)
    peak_during: str = ""  # the step logged last before the peak
    cpu_seconds: float = 0.0  # user + system time of the whole tree
    load: float = 0.0  # mean 1-minute load average while it ran (other work on the machine)
    statements: int = 0  # statement lines in the files this run read
    exit_code: int | None = None
    run_id: str | None = None
    note: str = ""
    launched_at: float = 0.0  # epoch seconds just before the process was launched
    startup: float | None = None  # launch to the first step's start (pipeline runs)
    engine: float | None = None  # summed `engine_seconds` of the steps (pipeline runs)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def orchestration(self) -> float | None:
        """Wall time not spent in the engines: start-up, and Dagster in and between steps."""
        return None if self.engine is None else self.seconds - self.engine

    @property
    def per_second(self) -> float | None:
        return self.statements / self.seconds if self.seconds and self.statements else None


@dataclass
class Company:
    """A generated landing zone, and its last day, which full builds hold back."""

    landing: Path
    employees: int
    months: int
    statements: int
    last_day: date
    last_day_files: list[Path]
    last_day_statements: int
    generate_seconds: float | None  # None: reused


@dataclass
class HistoryRow:
    """One full build in the history-length comparison."""

    label: str
    company: Company
    full: Measurement


@dataclass
class SizeResult:
    size: str
    employees: int
    statements: int
    last_day: date
    last_day_statements: int
    generate_seconds: float | None
    full: Measurement
    day: Measurement | None
    floor: Measurement
    idle: Measurement | None  # the daily run again, with no new files
    floor_tiers: dict[str, int]
    pipeline_tiers: dict[str, int]
    dbt_models: list[tuple[str, float]] = field(default_factory=list)
    dbt_tests_seconds: float = 0.0
    day_dbt_models: list[tuple[str, float]] = field(default_factory=list)
    history: list[HistoryRow] = field(default_factory=list)  # empty: not measured
    history_note: str = ""  # why not, or what generating the long history cost
    spark: Measurement | None = None  # the full build with PIPELINE_ENGINE=spark
    spark_dbt_models: list[tuple[str, float]] = field(default_factory=list)
    spark_dbt_tests_seconds: float = 0.0
    spark_day: Measurement | None = None  # the incremental day after it, on Spark
    spark_day_dbt_models: list[tuple[str, float]] = field(default_factory=list)


class TreeSampler:
    """Peak resident memory of a process and all its descendants, summed at each sample."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak = 0
        self.peak_at: datetime | None = None
        self.loads: list[float] = []
        self.by_process: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0
            try:
                processes = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                break
            for process in processes:
                try:
                    rss = process.memory_info().rss
                    name = _process_name(process)
                except psutil.Error:
                    continue
                total += rss
                self.by_process[name] = max(self.by_process.get(name, 0), rss)
            if total > self.peak:
                self.peak, self.peak_at = total, datetime.now(UTC)
            self.loads.append(os.getloadavg()[0])
            self._stop.wait(SAMPLE_SECONDS)


def _process_name(process: psutil.Process) -> str:
    try:
        command = process.cmdline()
    except psutil.Error:
        command = []
    for part in command[:3]:
        stem = Path(part).name
        if stem in ("dbt", "retention-pipeline", "floor.py"):
            return stem
    return process.name()


def timed(label: str, command: list[str], env: dict[str, str], log: Path) -> Measurement:
    """Run `command`, sampling its process tree's memory; stdout and stderr go to `log`."""
    measurement = Measurement(label)
    # Children's CPU time (dbt's included: the pipeline waits for it) is counted once they exit.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as out:
        # Wall-clock, to compare with the steps' start times the instance records.
        measurement.launched_at = time.time()
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT
        )
        with TreeSampler(process.pid) as sampler:
            measurement.exit_code = process.wait()
    measurement.seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    measurement.cpu_seconds = sum(
        getattr(after, f) - getattr(before, f) for f in ("ru_utime", "ru_stime")
    )
    measurement.load = sum(sampler.loads) / len(sampler.loads) if sampler.loads else 0.0
    measurement.peak_rss = sampler.peak
    measurement.peak_rss_by_process = sampler.by_process
    if sampler.peak_at is not None:
        measurement.peak_during = step_at(log, sampler.peak_at)
    return measurement


_LOG_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \+0000 - dagster - \w+ - \S+ - [0-9a-f-]{36} - "
    r"(?:\d+ - )?(\w+) - "
)


def step_at(log: Path, moment: datetime) -> str:
    """The Dagster step that logged last at or before `moment` (UTC), from a run's log."""
    step = ""
    limit = moment.strftime("%Y-%m-%d %H:%M:%S")
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        match = _LOG_LINE.match(line)
        if match and match.group(1) <= limit:
            step = match.group(2)
    return step


def dagster_home(path: Path) -> Path:
    """A new persistent instance, set up as `make setup` sets up a user's."""
    path.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PROJECT_ROOT / "deploy" / "dagster.yaml", path / "dagster.yaml")
    return path


def pipeline_env(
    landing: Path, warehouse_dir: Path, as_of: date, memory_limit: str, home: Path
) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_")}
    return env | {
        # A persistent instance, as users run the pipeline: its run storage, event log and
        # concurrency settings are part of what a run costs.
        "DAGSTER_HOME": str(home),
        "PIPELINE_LANDING_DIR": str(landing),
        "PIPELINE_WAREHOUSE": str(warehouse_dir / "warehouse.duckdb"),
        "PIPELINE_PUBLISH_DIR": str(warehouse_dir / "published"),
        "PIPELINE_DATA_DOCS_DIR": str(warehouse_dir / "data_docs"),
        "PIPELINE_AS_OF": as_of.isoformat(),
        "PIPELINE_TIMEZONE": "UTC",
        "PIPELINE_DUCKDB_MEMORY_LIMIT": memory_limit,
    }


def run_pipeline(
    label: str, env: dict, workdir: Path, day: date | None = None, *, daily: bool = False
) -> Measurement:
    timings = workdir / f"{label}-timings.json"
    timings.unlink(missing_ok=True)
    command = [str(BIN / "retention-pipeline"), "run", "--timings", str(timings)]
    if day is not None:
        command += ["--day", day.isoformat()]
    if daily:
        command.append("--daily")  # as the schedule runs: nothing at all if nothing changed
    measurement = timed(label, command, env, workdir / f"{label}.log")
    if timings.exists():
        payload = json.loads(timings.read_text())
        measurement.run_id = payload.get("run_id")
        measurement.steps = payload.get("steps", [])
        stages = dict.fromkeys(STAGES, 0.0)
        for step in measurement.steps:
            stages[stage_of(step["step"])] += step["seconds"]
        starts = [step["started_at"] for step in measurement.steps if step.get("started_at")]
        if starts:
            measurement.startup = min(starts) - measurement.launched_at
        measurement.engine = sum(step.get("engine_seconds") or 0.0 for step in measurement.steps)
        # Start-up (imports, definitions, dbt manifest) and Dagster's own work between steps.
        stages["other"] += max(0.0, measurement.seconds - sum(stages.values()))
        measurement.stages = stages
    if not measurement.ok:
        measurement.note = f"exit {measurement.exit_code}: see {workdir / (label + '.log')}"
    return measurement


def warm_up(env: dict) -> None:
    """Load the definitions once, untimed: a dbt manifest older than the project is re-parsed
    on first load, a one-off after an edit that no daily run pays."""
    subprocess.run(
        [sys.executable, "-c", "import orchestration.definitions"],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
    )


def day_supported() -> bool:
    help_text = subprocess.run(
        [str(BIN / "retention-pipeline"), "run", "--help"], capture_output=True, text=True
    ).stdout
    return "--day" in help_text


def read_manifest(landing: Path) -> dict | None:
    path = landing / "_generator_manifest.json"
    return json.loads(path.read_text()) if path.exists() else None


def same_company(manifest: dict | None, months: int, employees: int | None = None) -> bool:
    """Whether a landing zone was generated with these parameters (any employees if None)."""
    if manifest is None:
        return False
    parameters = manifest.get("parameters", {})
    wanted = {"months": months, "seed": SEED, "end_date": END_DATE.isoformat()}
    if employees is not None:
        wanted["employees"] = employees
    return all(parameters.get(k) == v for k, v in wanted.items())


def ensure_landing(
    landing: Path, employees: int, months: int = MONTHS
) -> tuple[dict, float | None]:
    """The generator's manifest; generates the company unless one with the same
    parameters is already there. Returns (manifest, seconds spent generating or None)."""
    manifest = read_manifest(landing)
    if same_company(manifest, months, employees):
        return manifest, None
    shutil.rmtree(landing, ignore_errors=True)
    started = time.monotonic()
    subprocess.run(
        [
            str(BIN / "retention-pipeline"),
            "generate",
            "--out",
            str(landing),
            "--employees",
            str(employees),
            "--months",
            str(months),
            "--seed",
            str(SEED),
            "--end-date",
            END_DATE.isoformat(),
        ],
        check=True,
        cwd=PROJECT_ROOT,
    )
    return read_manifest(landing), time.monotonic() - started


def long_history_landing(landing: Path, employees: int, lines: int) -> tuple[dict, float | None]:
    """A company of about `lines` statement lines over LONG_MONTHS, calibrated from one of
    `employees` over MONTHS. A landing zone already calibrated is reused, whatever its number of
    employees, so that a second benchmark does not generate the first guess again."""
    existing = read_manifest(landing)
    if same_company(existing, LONG_MONTHS) and close_to(existing["statement_lines"], lines):
        return existing, None
    guess = round(employees * MONTHS / LONG_MONTHS * LONG_EMPLOYEES_FACTOR)
    manifest, seconds = ensure_landing(landing, guess, LONG_MONTHS)
    if not close_to(manifest["statement_lines"], lines):
        corrected = round(guess * lines / manifest["statement_lines"])
        print(
            f"  {manifest['statement_lines']:,} lines with {guess:,} employees; "
            f"regenerating with {corrected:,}",
            flush=True,
        )
        manifest, again = ensure_landing(landing, corrected, LONG_MONTHS)
        if again is not None:
            seconds = (seconds or 0.0) + again
    return manifest, seconds


def close_to(lines: int, wanted: int) -> bool:
    return abs(lines / wanted - 1) <= LINES_TOLERANCE


def company(landing: Path, manifest: dict, generate_seconds: float | None) -> Company:
    last_day = date.fromisoformat(manifest["window_end"])
    files = day_files(landing, last_day)
    parameters = manifest["parameters"]
    return Company(
        landing=landing,
        employees=parameters["employees"],
        months=parameters["months"],
        statements=manifest["statement_lines"],
        last_day=last_day,
        last_day_files=files,
        last_day_statements=count_lines(files),
        generate_seconds=generate_seconds,
    )


def day_files(landing: Path, day: date) -> list[Path]:
    return sorted((landing / "lms" / "statements").rglob(f"*{day.isoformat()}.jsonl*"))


def count_lines(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as handle:
            total += sum(1 for line in handle if line.strip())
    return total


class HeldBack:
    """Moves the last day's statement files out of the landing zone, and back on exit."""

    def __init__(self, files: list[Path], holding: Path) -> None:
        self.files = files
        self.holding = holding

    def __enter__(self) -> HeldBack:
        self.holding.mkdir(parents=True, exist_ok=True)
        self.moved = []
        for path in self.files:
            target = self.holding / path.name
            shutil.move(path, target)
            self.moved.append((target, path))
        return self

    def __exit__(self, *_exc) -> None:
        for target, path in self.moved:
            shutil.move(target, path)


def tier_counts(warehouse: Path) -> dict[str, int]:
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = conn.execute(
            "select tier, count(*) from marts.fct_risk_tiers group by tier order by tier"
        ).fetchall()
    except duckdb.Error:
        rows = []
    finally:
        conn.close()
    return {str(tier): count for tier, count in rows}


def dbt_profile(run_id: str | None) -> tuple[list[tuple[str, float]], float]:
    """(models by execution time, summed test time) from the run's dbt target directories."""
    if not run_id:
        return [], 0.0
    models: dict[str, float] = {}
    tests = 0.0
    # The dbt invocations' folders (orchestration/defs/dbt/project.py, invocations_dir).
    invocations = PROJECT_ROOT / "dbt_project" / os.environ.get("DBT_TARGET_PATH", "target")
    for path in invocations.glob(f"*-{run_id[:7]}-*/run_results.json"):
        for result in json.loads(path.read_text()).get("results", []):
            unique_id = result.get("unique_id", "")
            seconds = float(result.get("execution_time") or 0.0)
            if unique_id.startswith(("model.", "seed.", "snapshot.")):
                name = unique_id.split(".")[-1]
                models[name] = models.get(name, 0.0) + seconds
            elif unique_id.startswith(("test.", "unit_test.")):
                tests += seconds
    return sorted(models.items(), key=lambda kv: -kv[1]), tests


def size_env(
    landing: Path, runs: Path, as_of: date, memory_limit: str, threads: int | None
) -> dict:
    """The environment of the pipeline runs in `runs`: its own warehouse and instance."""
    env = pipeline_env(
        landing, runs / "warehouse", as_of, memory_limit, dagster_home(runs / "dagster_home")
    )
    if threads:
        env["PIPELINE_DUCKDB_THREADS"] = str(threads)
    return env


def full_build(c: Company, runs: Path, env: dict) -> Measurement:
    """`retention-pipeline run` over the whole history but the last day, whose files are held
    back: yesterday's run saw every day up to the one before."""
    with HeldBack(c.last_day_files, runs / "held-back"):
        statements = c.statements - c.last_day_statements
        print(f"full build over {statements:,} statement lines ...", flush=True)
        full = run_pipeline("full", env, runs)
        full.statements = statements
        print(f"  {_summary(full)}", flush=True)
    return full


def next_day_env(c: Company, env: dict) -> dict:
    """The run settings of the day after the last one: the last day is complete."""
    return env | {"PIPELINE_AS_OF": (c.last_day + timedelta(days=1)).isoformat()}


def incremental_day(c: Company, env: dict, runs: Path, where: str = "") -> Measurement:
    """The daily run of the last day (`run --day`), its files landed, on top of the full build."""
    print(
        f"incremental day {c.last_day}{where} ({c.last_day_statements:,} statement lines) ...",
        flush=True,
    )
    day = run_pipeline("day", next_day_env(c, env), runs, day=c.last_day)
    day.statements = c.last_day_statements
    print(f"  {_summary(day)}", flush=True)
    return day


def bench_size(
    size: str,
    workdir: Path,
    memory_limit: str,
    threads: int | None,
    history: bool,
    spark: bool = False,
) -> SizeResult:
    employees = SIZES[size]
    landing = workdir / f"landing-{size}"
    print(f"\n== {size}: {employees:,} employees x {MONTHS} months ==", flush=True)
    c = company(landing, *ensure_landing(landing, employees))
    last_day = c.last_day
    runs = workdir / size
    shutil.rmtree(runs, ignore_errors=True)
    runs.mkdir(parents=True)
    # The full build and the daily run share one instance, as a user's accumulates runs.
    env = size_env(landing, runs, last_day, memory_limit, threads)

    warm_up(env)
    full = full_build(c, runs, env)
    pipeline_tiers = tier_counts(runs / "warehouse" / "warehouse.duckdb") if full.ok else {}
    print("floor ...", flush=True)
    with HeldBack(c.last_day_files, runs / "held-back"):
        floor, floor_tiers = run_floor(landing, runs, env, memory_limit, threads)
    floor.statements = full.statements
    print(f"  {_summary(floor)}", flush=True)

    day: Measurement | None = None
    idle: Measurement | None = None
    if not day_supported():
        print("incremental day: n/a (`retention-pipeline run --day` does not exist yet)")
    elif full.ok:
        day = incremental_day(c, env, runs)
        if day.ok:
            print("no new files (the daily run again) ...", flush=True)
            idle = run_pipeline("idle", next_day_env(c, env), runs, daily=True)
            print(f"  {_summary(idle)}", flush=True)

    models, tests_seconds = dbt_profile(full.run_id)
    day_models, _ = dbt_profile(day.run_id if day is not None else None)
    result = SizeResult(
        size=size,
        employees=employees,
        statements=c.statements,
        last_day=last_day,
        last_day_statements=c.last_day_statements,
        generate_seconds=c.generate_seconds,
        full=full,
        day=day,
        floor=floor,
        idle=idle,
        floor_tiers=floor_tiers,
        pipeline_tiers=pipeline_tiers,
        dbt_models=models,
        dbt_tests_seconds=tests_seconds,
        day_dbt_models=day_models,
    )
    if spark:
        bench_spark(result, c, workdir / f"{size}-spark", memory_limit, threads)
    if HISTORY_RATIO not in TARGETS[size]:
        return result
    if not history:
        result.history_note = "not measured (--no-history)"
        return result
    long = bench_long_history(
        size, c, workdir, runs / f"{LONG_MONTHS}-months", memory_limit, threads
    )
    result.history = [HistoryRow(f"{MONTHS // 12} years", c, full), long]
    if long.company.generate_seconds is not None:
        result.history_note = (
            f"generating the {LONG_MONTHS // 12}-year company took "
            f"{long.company.generate_seconds:,.0f} s (not counted)"
        )
    return result


def bench_spark(
    result: SizeResult, c: Company, runs: Path, memory_limit: str, threads: int | None
) -> None:
    """The full build and the incremental day again with PIPELINE_ENGINE=spark, in their own
    warehouse and instance."""
    print(f"\n== {result.size}: the full build and a day on Spark (local[2]) ==", flush=True)
    shutil.rmtree(runs, ignore_errors=True)
    runs.mkdir(parents=True)
    env = size_env(c.landing, runs, c.last_day, memory_limit, threads)
    env["PIPELINE_ENGINE"] = "spark"
    result.spark = full_build(c, runs, env)
    result.spark.label = "Spark full build"
    result.spark_dbt_models, result.spark_dbt_tests_seconds = dbt_profile(result.spark.run_id)
    if not result.spark.ok:
        return
    result.spark_day = incremental_day(c, env, runs, " on Spark")
    result.spark_day.label = "Spark incremental day"
    result.spark_day_dbt_models, _ = dbt_profile(result.spark_day.run_id)


def bench_long_history(
    size: str, short: Company, workdir: Path, runs: Path, memory_limit: str, threads: int | None
) -> HistoryRow:
    """The full build of a company with the statements of `short` spread over LONG_MONTHS, in
    its own warehouse and instance, set up like the short one's."""
    landing = workdir / f"landing-{size}-{LONG_MONTHS}m"
    print(f"\n== {size}: the same statements over {LONG_MONTHS} months ==", flush=True)
    manifest, seconds = long_history_landing(landing, short.employees, short.statements)
    c = company(landing, manifest, seconds)
    print(f"  {c.employees:,} employees, {c.statements:,} statement lines", flush=True)
    runs.mkdir(parents=True)
    env = size_env(landing, runs, c.last_day, memory_limit, threads)
    return HistoryRow(f"{LONG_MONTHS // 12} years", c, full_build(c, runs, env))


def run_floor(
    landing: Path, runs: Path, env: dict, memory_limit: str, threads: int | None
) -> tuple[Measurement, dict[str, int]]:
    out = runs / "floor.json"
    command = [
        sys.executable,
        str(BENCH_DIR / "floor.py"),
        "--landing",
        str(landing),
        "--as-of",
        env["PIPELINE_AS_OF"],
        "--timezone",
        env["PIPELINE_TIMEZONE"],
        "--memory-limit",
        memory_limit,
        "--database",
        str(runs / "floor.duckdb"),
        "--out",
        str(out),
    ]
    if threads:
        command += ["--threads", str(threads)]
    floor = timed("floor", command, env, runs / "floor.log")
    tiers: dict[str, int] = {}
    if floor.ok:
        payload = json.loads(out.read_text())
        tiers = payload["tiers"]
        floor.stages = dict.fromkeys(STAGES, 0.0)
        for name, seconds in payload["seconds"].items():
            floor.stages[FLOOR_STAGES.get(name, "other")] += seconds
        floor.stages["other"] += max(0.0, floor.seconds - sum(floor.stages.values()))
    else:
        floor.note = f"exit {floor.exit_code}: see {runs / 'floor.log'}"
    (runs / "floor.duckdb").unlink(missing_ok=True)
    (runs / "floor.duckdb.wal").unlink(missing_ok=True)
    return floor, tiers


def _summary(m: Measurement) -> str:
    status = "ok" if m.ok else f"FAILED ({m.note})"
    return f"{m.seconds:.1f}s, peak RSS {_gb(m.peak_rss)}, {status}"


def _gb(value: int) -> str:
    return f"{value / 1024**3:.2f} GB"


def _s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f}"


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _ok_seconds(m: Measurement | None) -> float | None:
    return m.seconds if m is not None and m.ok else None


def ratios(r: SizeResult) -> dict[str, float | None]:
    """Every measure a size may have a target on (see TARGETS), None where a run failed."""
    full = _ok_seconds(r.full)
    runs = [m for m in (r.full, r.day) if m is not None and m.ok]
    startups = [m.startup for m in runs if m.startup is not None]
    peaks = [m.peak_rss for m in (r.full, r.day) if m is not None]
    long = _ok_seconds(r.history[-1].full) if r.history else None
    return {
        "full / floor": _ratio(full, _ok_seconds(r.floor)),
        "incremental / full": _ratio(_ok_seconds(r.day), full),
        NO_NEW_FILES: _ok_seconds(r.idle),
        "checks / full": _ratio(r.full.stages.get("checks"), full),
        "orchestration / full": _ratio(r.full.orchestration, full),
        STARTUP: (max(startups) if startups else None),
        "peak RSS of the pipeline": max(peaks) / 1024**3 if peaks else None,
        HISTORY_RATIO: _ratio(long, full),
    }


def target_line(size: str, name: str, value: float | None) -> str:
    target = TARGETS[size][name]
    shown = "n/a" if value is None else target.show(value)
    verdict = "" if value is None else (" (met)" if target.met(value) else " (missed)")
    return (
        f"- {name}: **{shown}** (target {TARGET_SCALE[size]} {target.op} "
        f"{target.limit:g}{target.unit}){verdict}"
    )


def size_table(r: SizeResult) -> str:
    columns = [
        ("full build", r.full),
        ("incremental day", r.day),
        ("no new files", r.idle),
        ("floor", r.floor),
    ]
    if r.spark is not None:
        columns.append(("full build on Spark", r.spark))
        columns.append(("day on Spark", r.spark_day))

    def cell(m: Measurement | None, value) -> str:
        if m is None:
            return "n/a"
        if not m.ok and value is not None:
            return f"{value} (failed)"
        return "n/a" if value is None else str(value)

    def pipeline_row(label: str, value_of) -> str:
        """A row only pipeline runs have: the floor's cell is "-"."""
        cells = [
            "-" if name == "floor" else cell(m, None if m is None else value_of(m))
            for name, m in columns
        ]
        return f"| {label} | " + " | ".join(cells) + " |"

    def seconds(value: float | None) -> str | None:
        return None if value is None else f"{value:,.1f} s"

    def share(m: Measurement) -> str | None:
        if m.orchestration is None:
            return None
        return f"{m.orchestration:,.1f} s ({m.orchestration / m.seconds:.0%})"

    lines = [
        "| | " + " | ".join(name for name, _ in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for stage in STAGES:
        label = {
            "dbt": "dbt (floor: compute; Spark: lake export, dbt, views)",
            "other": "other (start-up, report)",
        }.get(stage, stage)
        row = []
        for name, m in columns:
            value = None if m is None else m.stages.get(stage)
            if name == "floor" and stage in ("checks", "publish"):
                row.append("-")
            else:
                row.append(cell(m, seconds(value)))
        lines.append(f"| {label} | " + " | ".join(row) + " |")
    lines.append(
        "| **total** | "
        + " | ".join(cell(m, None if m is None else f"**{m.seconds:,.1f} s**") for _, m in columns)
        + " |"
    )
    lines.append(pipeline_row("start-up (launch to first step)", lambda m: seconds(m.startup)))
    lines.append(
        pipeline_row(
            "engines (ingest SQL, dbt, GX, publication, report)", lambda m: seconds(m.engine)
        )
    )
    lines.append(pipeline_row("orchestration (wall - engines), share of total", share))
    lines.append(
        "| CPU time (user + system) | "
        + " | ".join(cell(m, None if m is None else f"{m.cpu_seconds:,.1f} s") for _, m in columns)
        + " |"
    )
    lines.append(
        "| mean load average while running | "
        + " | ".join(cell(m, None if m is None else f"{m.load:.1f}") for _, m in columns)
        + " |"
    )
    lines.append(
        "| peak RSS (process tree) | "
        + " | ".join(cell(m, None if m is None else _gb(m.peak_rss)) for _, m in columns)
        + " |"
    )
    lines.append(
        "| statements | "
        + " | ".join(cell(m, None if m is None else f"{m.statements:,}") for _, m in columns)
        + " |"
    )
    lines.append(
        "| statements / s | "
        + " | ".join(
            cell(m, None if m is None or m.per_second is None else f"{m.per_second:,.0f}")
            for _, m in columns
        )
        + " |"
    )
    return "\n".join(lines)


def ratio_lines(r: SizeResult) -> list[str]:
    values = ratios(r)
    # The history ratio is shown under its own table (history_lines).
    lines = [
        target_line(r.size, name, values[name]) for name in TARGETS[r.size] if name != HISTORY_RATIO
    ]
    if "peak RSS of the pipeline" not in TARGETS[r.size]:
        peak = max(m.peak_rss for m in (r.full, r.day) if m is not None)
        lines.append(f"- peak RSS of the pipeline: **{_gb(peak)}** (no target at this size)")
    for m in (r.full, r.day):
        if m is not None and m.peak_rss_by_process:
            largest = sorted(m.peak_rss_by_process.items(), key=lambda kv: -kv[1])[:3]
            lines.append(
                f"- {m.label}: peak RSS per process "
                + ", ".join(f"{name} {_gb(rss)}" for name, rss in largest)
                + (f"; the tree peaked during `{m.peak_during}`" if m.peak_during else "")
            )
    if r.pipeline_tiers and r.floor_tiers:
        same = r.pipeline_tiers == r.floor_tiers
        lines.append(
            "- tiers (employee-weeks per tier, pipeline vs floor): "
            + ("**identical**" if same else "**DIFFERENT**")
            + f" {json.dumps(r.pipeline_tiers)}"
            + ("" if same else f" vs floor {json.dumps(r.floor_tiers)}")
        )
    else:
        lines.append("- tiers: not compared (a run failed)")
    return lines


def history_lines(r: SizeResult) -> list[str]:
    """The same statements over 2 and 10 years: what a longer history costs a full build."""
    if HISTORY_RATIO not in TARGETS[r.size]:
        return []
    lines = [f"### History length ({r.size})", ""]
    if not r.history:
        return [*lines, f"- {r.history_note}"]
    lines += [
        f"The {r.history[0].label}' statements spread over {r.history[-1].label}: each a full "
        "build (every day but the last) into an empty warehouse and a new instance.",
        "",
        "| history | employees | statement lines | full build s | orchestration s | start-up s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in r.history:
        m = row.full
        failed = "" if m.ok else " (failed)"
        lines.append(
            f"| {row.label} | {row.company.employees:,} | {m.statements:,} | "
            f"{m.seconds:,.1f}{failed} | {_s(m.orchestration)} | {_s(m.startup)} |"
        )
    lines += ["", target_line(r.size, HISTORY_RATIO, ratios(r)[HISTORY_RATIO])]
    short, long = r.history[0].company, r.history[-1].company
    if not close_to(long.statements, short.statements):
        # The calibration regenerates once only: say when the two builds still read unlike
        # amounts, rather than let the ratio pass for a like-for-like comparison.
        off = long.statements / short.statements - 1
        lines.append(
            f"- the {long.months // 12}-year company has {off:+.0%} statement lines, beyond the "
            f"{LINES_TOLERANCE:.0%} the calibration aims for"
        )
    if r.history_note:
        lines.append(f"- {r.history_note}")
    if not r.history[-1].full.ok:
        lines.append(f"- {r.history[-1].label}: {r.history[-1].full.note}")
    return lines


def steps_table(title: str, m: Measurement, rows: int) -> list[str]:
    """The `rows` slowest steps of a run, under `title`."""
    lines = ["", f"{title}:", "", "| step | stage | seconds |", "|---|---|---:|"]
    for step in sorted(m.steps, key=lambda s: -s["seconds"])[:rows]:
        lines.append(f"| `{step['step']}` | {stage_of(step['step'])} | {step['seconds']:,.1f} |")
    return lines


def engines_table(
    title: str, spark: list[tuple[str, float]], duckdb: dict[str, float]
) -> list[str]:
    """Spark's dbt models and their seconds, under `title`, beside DuckDB's for the same run."""
    lines = ["", f"{title}:", "", "| model | Spark s | DuckDB s |", "|---|---:|---:|"]
    return lines + [
        f"| `{name}` | {seconds:,.1f} | {duckdb.get(name, 0.0):,.1f} |" for name, seconds in spark
    ]


def profile_lines(r: SizeResult) -> list[str]:
    lines = steps_table(f"Slowest steps of the full build ({r.size})", r.full, 12)[1:]
    if r.dbt_models:
        lines += ["", "Slowest dbt models (dbt's execution time; 2 dbt threads):", ""]
        lines += ["| model | seconds |", "|---|---:|"]
        lines += [f"| `{name}` | {seconds:,.1f} |" for name, seconds in r.dbt_models[:10]]
        lines.append(f"| all dbt tests (summed) | {r.dbt_tests_seconds:,.1f} |")
    if r.day is not None and r.day.steps:
        lines += steps_table(f"Slowest steps of the incremental day ({r.size})", r.day, 8)
    if r.day_dbt_models:
        lines += ["", f"Slowest dbt models of the incremental day ({r.size}):", ""]
        lines += ["| model | seconds |", "|---|---:|"]
        lines += [f"| `{name}` | {seconds:,.1f} |" for name, seconds in r.day_dbt_models[:6]]
    if r.spark is not None and r.spark.steps:
        lines += steps_table(f"Slowest steps of the full build on Spark ({r.size})", r.spark, 6)
    if r.spark_dbt_models:
        lines += engines_table(
            f"Slowest dbt models on Spark ({r.size}), beside DuckDB's",
            r.spark_dbt_models[:12],
            dict(r.dbt_models),
        )
        lines.append(
            f"| all dbt tests (summed) | {r.spark_dbt_tests_seconds:,.1f} "
            f"| {r.dbt_tests_seconds:,.1f} |"
        )
    if r.spark_day_dbt_models:
        lines += engines_table(
            f"Slowest dbt models of the day on Spark ({r.size}), beside DuckDB's",
            r.spark_day_dbt_models[:8],
            dict(r.day_dbt_models),
        )
    return lines


def machine() -> dict[str, str]:
    model = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = psutil.virtual_memory().total
    os_name = platform.platform()
    release = Path("/etc/os-release")
    if release.exists():
        for line in release.read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"') + f" (kernel {platform.release()})"

    def version(package: str) -> str:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {
        "CPU": f"{model}, {len(os.sched_getaffinity(0))} cores available",
        "RAM": _gb(memory).replace(" GB", " GiB"),
        "OS": os_name,
        "Python": platform.python_version(),
        "versions": ", ".join(
            f"{name} {version(name)}"
            for name in ("duckdb", "dbt-core", "dbt-duckdb", "dagster", "great-expectations")
        ),
    }


def report(results: list[SizeResult], memory_limit: str, threads: int | None, load: tuple) -> str:
    info = machine()
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`benchmarks/bench.py`); see benchmarks/README.md.",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- CPU: {info['CPU']}",
        f"- RAM: {info['RAM']}",
        f"- OS: {info['OS']}",
        f"- Python {info['Python']}; {info['versions']}",
        f"- PIPELINE_DUCKDB_MEMORY_LIMIT={memory_limit}, PIPELINE_DUCKDB_THREADS="
        + (str(threads) if threads else "unset (DuckDB's default)")
        + "; the floor runs with the same limits",
        f"- load average when the benchmark started: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"
        " (1 / 5 / 15 min)",
        "",
        "Full build: every day but the last, into an empty warehouse. Incremental day: "
        "`retention-pipeline run --day <last day>` on top of it. No new files: "
        "`retention-pipeline run --daily` right after, as the schedule runs with nothing new "
        "landed. Floor: `benchmarks/floor.sql` "
        "over the files of the full build. Peak RSS sums the pipeline process and its dbt "
        "subprocess.",
        "",
        "The pipeline runs against a persistent Dagster instance, as users run it: DAGSTER_HOME "
        "is a directory per size with a copy of `deploy/dagster.yaml` (what `make setup` "
        "installs), and the full build and the incremental day share it. Engines: the time steps "
        "spend in DuckDB loading SQL, the dbt subprocess, GX validation, the publication writer "
        "and report drawing (their `engine_seconds`). Orchestration: the rest of the wall time, "
        "that is start-up (imports, definitions, instance; launch to the first step's start) and "
        "Dagster's own work in and between steps.",
    ]
    for r in results:
        lines += [
            "",
            f"## {r.size}: {r.employees:,} employees, {MONTHS} months, "
            f"{r.statements:,} statement lines",
            "",
            size_table(r),
            "",
            *ratio_lines(r),
        ]
        if r.generate_seconds is not None:
            lines.append(f"- generating the company took {r.generate_seconds:,.0f} s (not counted)")
        if r.spark is not None and r.spark.ok and r.full.ok:
            lines.append(
                f"- the full build on Spark (local[2], no targets): {r.spark.seconds:,.1f} s, "
                f"{r.spark.seconds / r.full.seconds:.1f} times DuckDB's"
            )
        for m in (r.full, r.day, r.floor, r.spark, r.spark_day):
            if m is not None and m.note:
                lines.append(f"- {m.label}: {m.note}")
        history = history_lines(r)
        if history:
            lines += ["", *history]
        lines += ["", *profile_lines(r)]
    if PROFILE_NOTES.exists():
        lines += ["", PROFILE_NOTES.read_text(encoding="utf-8").rstrip()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default=",".join(DEFAULT_SIZES),
        help="comma-separated: small, large (tiny: a few minutes, to check this script)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(os.environ.get("TMPDIR", "/tmp")) / "retention-bench",
        help="landing zones and warehouses (about 6 GB for `large`)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the warehouses afterwards")
    parser.add_argument("--memory-limit", default="4GB", help="PIPELINE_DUCKDB_MEMORY_LIMIT")
    parser.add_argument("--threads", type=int, default=None, help="PIPELINE_DUCKDB_THREADS")
    parser.add_argument("--out", type=Path, default=RESULTS, help="the markdown report")
    parser.add_argument(
        "--spark",
        default="",
        help="comma-separated sizes to also build on Spark (`make spark` first), e.g. small",
    )
    parser.add_argument(
        "--no-history",
        dest="history",
        action="store_false",
        help=f"skip the {LONG_MONTHS}-month full build of the history-length comparison",
    )
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size(s) {', '.join(unknown)}; expected {', '.join(SIZES)}")
    spark_sizes = {s.strip() for s in args.spark.split(",") if s.strip()}
    if spark_sizes - set(SIZES):
        parser.error(f"unknown --spark size(s); expected {', '.join(SIZES)}")
    args.workdir.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    results = []
    for size in sizes:
        result = bench_size(
            size,
            args.workdir.resolve(),
            args.memory_limit,
            args.threads,
            args.history,
            spark=size in spark_sizes,
        )
        results.append(result)
        if not args.keep:
            shutil.rmtree(args.workdir / size, ignore_errors=True)
            shutil.rmtree(args.workdir / f"{size}-spark", ignore_errors=True)
        text = report(results, args.memory_limit, args.threads, load)
        args.out.write_text(text, encoding="utf-8")  # after each size: a partial run still tells
    print()
    print(text)
    print(f"Written to {args.out}")
    return (
        0
        if all(
            r.full.ok
            and r.floor.ok
            and all(h.full.ok for h in r.history)
            and (r.spark is None or r.spark.ok)
            for r in results
        )
        else 1
    )


if __name__ == "__main__":
    sys.exit(main())
