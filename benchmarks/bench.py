"""`make bench`: the pipeline at company scale, against a hand-tuned floor.

For each size it generates a company (or reuses one generated with the same parameters), then
measures in one run:

- a full build from an empty warehouse, over every day but the last;
- the daily run of the last day (`retention-pipeline run --day`) on top of that history;
- the floor: benchmarks/floor.sql, the same ingestion and weekly engagement + tier computation
  as one hand-tuned DuckDB script over the same files, in a fresh process with the same memory
  limit, whose tier counts must equal the pipeline's.

Wall time comes from the pipeline's per-step timings (`run --timings`), grouped into stages;
peak RSS is the largest sum over the whole process tree (the pipeline and its dbt subprocess),
sampled every 0.1 s. Results are printed and written to benchmarks/RESULTS.md.
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
SIZES = {"small": 2_000, "large": 20_000}  # employees: about 1M and 10M statements
STAGES = ("ingest", "dbt", "checks", "publish", "other")
# The floor's two stages sit in the rows of the pipeline stages they stand for.
FLOOR_STAGES = {"ingest": "ingest", "compute": "dbt"}
SAMPLE_SECONDS = 0.1
# Issue 8's targets, at 10M statements on 2 cores.
TARGETS = {
    "full / floor": ("<=", 3.0),
    "incremental / full": ("<=", 0.10),
    "checks / full": ("<=", 0.20),
}
PEAK_RSS_TARGET_GB = 6.0


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

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def per_second(self) -> float | None:
        return self.statements / self.seconds if self.seconds and self.statements else None


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
    floor_tiers: dict[str, int]
    pipeline_tiers: dict[str, int]
    dbt_models: list[tuple[str, float]] = field(default_factory=list)
    dbt_tests_seconds: float = 0.0
    day_dbt_models: list[tuple[str, float]] = field(default_factory=list)


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


def pipeline_env(landing: Path, warehouse_dir: Path, as_of: date, memory_limit: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_")}
    env.pop("DAGSTER_HOME", None)  # an ephemeral instance: benchmark runs stay out of the UI
    return env | {
        "PIPELINE_LANDING_DIR": str(landing),
        "PIPELINE_WAREHOUSE": str(warehouse_dir / "warehouse.duckdb"),
        "PIPELINE_PUBLISH_DIR": str(warehouse_dir / "published"),
        "PIPELINE_DATA_DOCS_DIR": str(warehouse_dir / "data_docs"),
        "PIPELINE_AS_OF": as_of.isoformat(),
        "PIPELINE_TIMEZONE": "UTC",
        "PIPELINE_DUCKDB_MEMORY_LIMIT": memory_limit,
    }


def run_pipeline(label: str, env: dict, workdir: Path, day: date | None = None) -> Measurement:
    timings = workdir / f"{label}-timings.json"
    timings.unlink(missing_ok=True)
    command = [str(BIN / "retention-pipeline"), "run", "--timings", str(timings)]
    if day is not None:
        command += ["--day", day.isoformat()]
    measurement = timed(label, command, env, workdir / f"{label}.log")
    if timings.exists():
        payload = json.loads(timings.read_text())
        measurement.run_id = payload.get("run_id")
        measurement.steps = payload.get("steps", [])
        stages = dict.fromkeys(STAGES, 0.0)
        for step in measurement.steps:
            stages[stage_of(step["step"])] += step["seconds"]
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


def ensure_landing(landing: Path, employees: int) -> tuple[dict, float | None]:
    """The generator's manifest; generates the company unless one with the same
    parameters is already there. Returns (manifest, seconds spent generating or None)."""
    manifest_path = landing / "_generator_manifest.json"
    wanted = {"employees": employees, "months": MONTHS, "seed": SEED}
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        parameters = manifest.get("parameters", {})
        if (
            all(parameters.get(k) == v for k, v in wanted.items())
            and parameters.get("end_date") == END_DATE.isoformat()
        ):
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
            str(MONTHS),
            "--seed",
            str(SEED),
            "--end-date",
            END_DATE.isoformat(),
        ],
        check=True,
        cwd=PROJECT_ROOT,
    )
    return json.loads(manifest_path.read_text()), time.monotonic() - started


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
    for path in (PROJECT_ROOT / "dbt_project" / "target").glob(
        f"*-{run_id[:7]}-*/run_results.json"
    ):
        for result in json.loads(path.read_text()).get("results", []):
            unique_id = result.get("unique_id", "")
            seconds = float(result.get("execution_time") or 0.0)
            if unique_id.startswith(("model.", "seed.", "snapshot.")):
                name = unique_id.split(".")[-1]
                models[name] = models.get(name, 0.0) + seconds
            elif unique_id.startswith(("test.", "unit_test.")):
                tests += seconds
    return sorted(models.items(), key=lambda kv: -kv[1]), tests


def bench_size(size: str, workdir: Path, memory_limit: str, threads: int | None) -> SizeResult:
    employees = SIZES[size]
    landing = workdir / f"landing-{size}"
    print(f"\n== {size}: {employees:,} employees x {MONTHS} months ==", flush=True)
    manifest, generate_seconds = ensure_landing(landing, employees)
    last_day = date.fromisoformat(manifest["window_end"])
    held = day_files(landing, last_day)
    last_day_lines = count_lines(held)
    total_lines = manifest["statement_lines"]
    runs = workdir / size
    shutil.rmtree(runs, ignore_errors=True)
    runs.mkdir(parents=True)
    # Yesterday's run saw every day up to the one before; today's run adds that day.
    env = pipeline_env(landing, runs / "warehouse", last_day, memory_limit)
    if threads:
        env["PIPELINE_DUCKDB_THREADS"] = str(threads)

    warm_up(env)
    with HeldBack(held, runs / "held-back"):
        print(f"full build over {total_lines - last_day_lines:,} statement lines ...", flush=True)
        full = run_pipeline("full", env, runs)
        full.statements = total_lines - last_day_lines
        print(f"  {_summary(full)}", flush=True)
        pipeline_tiers = tier_counts(runs / "warehouse" / "warehouse.duckdb") if full.ok else {}
        print("floor ...", flush=True)
        floor, floor_tiers = run_floor(landing, runs, env, memory_limit, threads)
        floor.statements = full.statements
        print(f"  {_summary(floor)}", flush=True)

    day: Measurement | None = None
    if not day_supported():
        print("incremental day: n/a (`retention-pipeline run --day` does not exist yet)")
    elif full.ok:
        print(f"incremental day {last_day} ({last_day_lines:,} statement lines) ...", flush=True)
        day_env = env | {"PIPELINE_AS_OF": (last_day + timedelta(days=1)).isoformat()}
        day = run_pipeline("day", day_env, runs, day=last_day)
        day.statements = last_day_lines
        print(f"  {_summary(day)}", flush=True)

    models, tests_seconds = dbt_profile(full.run_id)
    day_models, _ = dbt_profile(day.run_id if day is not None else None)
    return SizeResult(
        size=size,
        employees=employees,
        statements=total_lines,
        last_day=last_day,
        last_day_statements=last_day_lines,
        generate_seconds=generate_seconds,
        full=full,
        day=day,
        floor=floor,
        floor_tiers=floor_tiers,
        pipeline_tiers=pipeline_tiers,
        dbt_models=models,
        dbt_tests_seconds=tests_seconds,
        day_dbt_models=day_models,
    )


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


def ratios(r: SizeResult) -> dict[str, float | None]:
    full = r.full.seconds if r.full.ok else None
    day = r.day.seconds if r.day is not None and r.day.ok else None
    return {
        "full / floor": _ratio(full, r.floor.seconds if r.floor.ok else None),
        "incremental / full": _ratio(day, full),
        "checks / full": _ratio(r.full.stages.get("checks"), full),
    }


def size_table(r: SizeResult) -> str:
    columns = [("full build", r.full), ("incremental day", r.day), ("floor", r.floor)]

    def cell(m: Measurement | None, value) -> str:
        if m is None:
            return "n/a"
        if not m.ok and value is not None:
            return f"{value} (failed)"
        return "n/a" if value is None else str(value)

    lines = [
        "| | " + " | ".join(name for name, _ in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for stage in STAGES:
        label = {"dbt": "dbt (floor: compute)", "other": "other (start-up, report)"}.get(
            stage, stage
        )
        row = []
        for name, m in columns:
            value = None if m is None else m.stages.get(stage)
            if name == "floor" and stage in ("checks", "publish"):
                row.append("-")
            else:
                row.append(cell(m, None if value is None else f"{value:,.1f} s"))
        lines.append(f"| {label} | " + " | ".join(row) + " |")
    lines.append(
        "| **total** | "
        + " | ".join(cell(m, None if m is None else f"**{m.seconds:,.1f} s**") for _, m in columns)
        + " |"
    )
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
    lines = []
    for name, value in ratios(r).items():
        op, target = TARGETS[name]
        shown = "n/a" if value is None else f"{value:.2f}"
        verdict = "" if value is None else (" (met)" if value <= target else " (missed)")
        lines.append(f"- {name}: **{shown}** (target at 10M {op} {target:g}){verdict}")
    peaks = [m.peak_rss for m in (r.full, r.day) if m is not None]
    peak = max(peaks)
    lines.append(
        f"- peak RSS of the pipeline: **{_gb(peak)}** (target at 10M < {PEAK_RSS_TARGET_GB:g} GB)"
        + (" (met)" if peak < PEAK_RSS_TARGET_GB * 1024**3 else " (missed)")
    )
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


def profile_lines(r: SizeResult) -> list[str]:
    lines = [f"Slowest steps of the full build ({r.size}):", ""]
    lines += ["| step | stage | seconds |", "|---|---|---:|"]
    for step in sorted(r.full.steps, key=lambda s: -s["seconds"])[:12]:
        lines.append(f"| `{step['step']}` | {stage_of(step['step'])} | {step['seconds']:,.1f} |")
    if r.dbt_models:
        lines += ["", "Slowest dbt models (dbt's execution time; 2 dbt threads):", ""]
        lines += ["| model | seconds |", "|---|---:|"]
        lines += [f"| `{name}` | {seconds:,.1f} |" for name, seconds in r.dbt_models[:10]]
        lines.append(f"| all dbt tests (summed) | {r.dbt_tests_seconds:,.1f} |")
    if r.day is not None and r.day.steps:
        lines += ["", f"Slowest steps of the incremental day ({r.size}):", ""]
        lines += ["| step | stage | seconds |", "|---|---|---:|"]
        for step in sorted(r.day.steps, key=lambda s: -s["seconds"])[:8]:
            lines.append(
                f"| `{step['step']}` | {stage_of(step['step'])} | {step['seconds']:,.1f} |"
            )
    if r.day_dbt_models:
        lines += ["", f"Slowest dbt models of the incremental day ({r.size}):", ""]
        lines += ["| model | seconds |", "|---|---:|"]
        lines += [f"| `{name}` | {seconds:,.1f} |" for name, seconds in r.day_dbt_models[:6]]
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
        "Written by `make bench` (`benchmarks/bench.py`); see the README's Performance section.",
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
        "`retention-pipeline run --day <last day>` on top of it. Floor: `benchmarks/floor.sql` "
        "over the files of the full build. Peak RSS sums the pipeline process and its dbt "
        "subprocess.",
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
        for m in (r.full, r.day, r.floor):
            if m is not None and m.note:
                lines.append(f"- {m.label}: {m.note}")
        lines += ["", *profile_lines(r)]
    if PROFILE_NOTES.exists():
        lines += ["", PROFILE_NOTES.read_text(encoding="utf-8").rstrip()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,large", help="comma-separated: small, large")
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
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size(s) {', '.join(unknown)}; expected {', '.join(SIZES)}")
    args.workdir.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    results = []
    for size in sizes:
        result = bench_size(size, args.workdir.resolve(), args.memory_limit, args.threads)
        results.append(result)
        if not args.keep:
            shutil.rmtree(args.workdir / size, ignore_errors=True)
        text = report(results, args.memory_limit, args.threads, load)
        args.out.write_text(text, encoding="utf-8")  # after each size: a partial run still tells
    print()
    print(text)
    print(f"Written to {args.out}")
    return 0 if all(r.full.ok and r.floor.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
