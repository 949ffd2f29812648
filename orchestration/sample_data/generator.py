"""Writes a complete, deterministic landing zone (HRIS, LMS, xAPI) for a fictional company."""

from __future__ import annotations

import csv
import gzip
import json
import multiprocessing
import os
import random
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import date
from operator import itemgetter
from pathlib import Path

from orchestration.defs.ingest.contract import JOB_HISTORY, WORKERS
from orchestration.sample_data import catalog as cat
from orchestration.sample_data import statements
from orchestration.sample_data.activity import ActivityPlan, build_plan
from orchestration.sample_data.company import NEVER, Company, CompanyBuilder, Person

MANIFEST_NAME = "_generator_manifest.json"
GZIP_LEVEL = 1
# Below this many employee-months a worker pool costs more than it saves.
PARALLEL_THRESHOLD = 12_000


@dataclass(frozen=True)
class GenerationSummary:
    out_dir: Path
    employees: int  # rows in hris/workers.csv
    statement_lines: int  # every line written to statement files, dirt included
    unique_statements: int  # distinct valid statement ids, voiding statements included
    duplicate_lines: int  # exact re-emissions of an already written statement
    voiding_statements: int  # verb voided, object StatementRef
    malformed_lines: int  # truncated JSON, garbage, or JSON missing verb or actor
    unknown_actor_statements: int  # valid statements whose actor matches no HR worker
    malformed_csv_rows: int  # enrollments.csv rows with an impossible date
    files: int  # statement files written


def generate(
    out_dir: Path,
    *,
    employees: int = 2000,
    months: int = 24,
    seed: int = 7,
    end_date: date | None = None,
    dropouts: Mapping[str, date] | None = None,
    progress: Callable[[str], None] | None = None,
    workers: int | None = None,
) -> GenerationSummary:
    """Generate the landing zone under out_dir; same arguments give byte-identical files.

    `dropouts` maps employee ids to a date from which that (otherwise steady, compliant)
    employee stops learning. `workers` only changes speed, never the output.
    """
    if employees < 30:
        raise ValueError(f"employees must be at least 30, got {employees}")
    if months < 1:
        raise ValueError(f"months must be at least 1, got {months}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    end = end_date or date.today()
    say = progress or (lambda _message: None)
    out_dir = Path(out_dir)

    company = CompanyBuilder(employees, months, seed, end, dropouts or {}).build()
    hris_rows = _write_hris(company, out_dir)
    enrollment_rows, bad_rows = _write_lms(company, out_dir)
    _write_feedback(company, out_dir, seed)
    say(
        f"hris: {len(company.people)} workers, {hris_rows} job history rows; "
        f"lms: {enrollment_rows} enrollments"
    )
    plan = build_plan(company, seed)
    if workers is None:
        workers = 1 if employees * months < PARALLEL_THRESHOLD else min(2, os.cpu_count() or 1)
    counts = _write_statements(plan, out_dir, workers, say)

    summary = GenerationSummary(
        out_dir=out_dir,
        employees=len(company.people),
        statement_lines=sum(counts[tag] for tag in "vuxdm"),
        unique_statements=counts["v"] + counts["u"] + counts["x"],
        duplicate_lines=counts["d"],
        voiding_statements=counts["x"],
        malformed_lines=counts["m"],
        unknown_actor_statements=counts["u"],
        malformed_csv_rows=bad_rows,
        files=counts["files"],
    )
    manifest = {key: value for key, value in asdict(summary).items() if key != "out_dir"}
    manifest["parameters"] = {
        "employees": employees,
        "months": months,
        "seed": seed,
        "end_date": end.isoformat(),
        "dropouts": {key: value.isoformat() for key, value in sorted((dropouts or {}).items())},
    }
    manifest["window_start"] = date.fromordinal(company.window_start).isoformat()
    manifest["window_end"] = end.isoformat()
    manifest["account_home_page"] = cat.LMS_HOME_PAGE
    (out_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    say(f"statements: {summary.statement_lines} lines in {summary.files} files")
    return summary


def _iso(day: int) -> str:
    return date.fromordinal(day).isoformat() if day < NEVER else ""


def _write_csv(path: Path, fieldnames: list[str], rows) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(fieldnames)
        for row in rows:
            writer.writerow(row)
            written += 1
    return written


def _write_hris(company: Company, out_dir: Path) -> int:
    people = sorted(company.people, key=lambda p: p.employee_id)
    ids = {person.idx: person.employee_id for person in company.people}
    ids[-1] = ""
    workers = []
    for person in people:
        current = person.current
        workers.append(
            (
                person.employee_id,
                person.email,
                _iso(person.hire),
                current.job_code,
                current.department,
                ids[current.manager],
                person.location,
                "terminated" if person.term < NEVER else "active",
                _iso(person.term),
                person.term_type,
                person.term_reason,
                "true" if person.hipo else "false",
                f"CC-{cat.DEPARTMENT_CODES[current.department]}-{person.location[:3].upper()}",
                person.fte,
            )
        )
    _write_csv(
        out_dir / "hris" / "workers.csv",
        # Two extra columns the pipeline keeps in raw but does not use.
        [*WORKERS.columns, "cost_center", "fte"],
        workers,
    )
    history = (
        (
            person.employee_id,
            _iso(row.day),
            row.change_type,
            row.job_code,
            row.department,
            ids[row.manager],
        )
        for person in people
        for row in person.history
    )
    rows = _write_csv(
        out_dir / "hris" / "job_history.csv",
        list(JOB_HISTORY.columns),
        history,
    )
    cat.write_jobs_csv(out_dir / "hris" / "jobs.csv")
    return rows


def _write_lms(company: Company, out_dir: Path) -> tuple[int, int]:
    cat.write_courses_csv(out_dir / "lms" / "courses.csv")
    ids = {person.idx: person.employee_id for person in company.people}
    enrollments = sorted(
        (e for person in company.people for e in person.enrollments),
        key=lambda e: e.enrollment_id,
    )
    rows = []
    bad = 0
    for e in enrollments:
        row = {
            "assigned_date": _iso(e.assigned),
            "due_date": _iso(e.due),
            "completed_date": _iso(e.completed) if e.status == "completed" else "",
        }
        if e.bad_date_field:
            year = row[e.bad_date_field][:4] or row["assigned_date"][:4]
            row[e.bad_date_field] = f"{year}-02-30"
            bad += 1
        rows.append(
            (
                e.enrollment_id,
                ids[e.emp],
                e.course_id,
                row["assigned_date"],
                row["due_date"],
                row["completed_date"],
                e.status,
            )
        )
    written = _write_csv(
        out_dir / "lms" / "enrollments.csv",
        [
            "enrollment_id",
            "employee_id",
            "course_id",
            "assigned_date",
            "due_date",
            "completed_date",
            "status",
        ],
        rows,
    )
    return written, bad


FEEDBACK_STATUSES = (("acknowledged", 0.45), ("acted", 0.35), ("not_useful", 0.20))
FEEDBACK_NOTES = ("workload", "role_change", "personal_leave", "course_fit", "")


def _write_feedback(company: Company, out_dir: Path, seed: int) -> int:
    """lms/alert_feedback.csv (docs/extract-contract.md#alert-feedback): managers answer the
    alerts they would have received. People drifting towards a voluntary exit show a drop a few
    weeks after their intent starts: their managers answer one to three of those weeks. A
    quarter of the others get one or two answers on weeks of their own, more often `not_useful`.
    Drawn from its own random stream, so the rest of the company stays as the seed made it."""
    rnd = random.Random(seed * 7919 + 17)
    ids = {person.idx: person.employee_id for person in company.people}
    last_week = company.end - date.fromordinal(company.end).weekday() - 7
    rows = []

    def answer(person: Person, week: int, status: str) -> None:
        manager = person.row_at(week).manager
        if manager < 0 or week > last_week or week >= person.term or week < person.hire:
            return
        recorded = week + 7 + rnd.randint(0, 6)
        note = rnd.choice(FEEDBACK_NOTES) if status != "acknowledged" else ""
        rows.append(
            (
                ids[person.idx],
                _iso(week),
                ids[manager],
                status,
                f"{_iso(min(recorded, company.end))}T09:00:00Z",
                note,
            )
        )

    statuses, weights = zip(*FEEDBACK_STATUSES, strict=True)
    for person in company.people:
        if person.intent_start is not None and rnd.random() < 0.7:
            first = person.intent_start + 21
            first -= date.fromordinal(first).weekday()
            for n in range(rnd.randint(1, 3)):
                answer(person, first + 7 * n, rnd.choices(statuses, weights)[0])
        elif rnd.random() < 0.25:
            # Stayers get alerts too (a busy month, a course that did not fit): a quarter of
            # them have one or two answered, more often marked not useful.
            for _ in range(rnd.randint(1, 2)):
                week = rnd.randint(company.window_start, company.end)
                status = rnd.choices(statuses, (0.45, 0.25, 0.30))[0]
                answer(person, week - date.fromordinal(week).weekday(), status)
    rows.sort()
    return _write_csv(
        out_dir / "lms" / "alert_feedback.csv",
        ["employee_id", "week_start", "manager_id", "status", "recorded_at", "note_code"],
        rows,
    )


# -- statements ---------------------------------------------------------------------------------

_PLAN: ActivityPlan | None = None


def _init_worker(plan: ActivityPlan) -> None:
    global _PLAN
    _PLAN = plan


def _month_chunks(first: int, last: int) -> list[tuple[int, int]]:
    chunks = []
    start = first
    while start <= last:
        d = date.fromordinal(start)
        next_month = date(d.year + (d.month == 12), d.month % 12 + 1, 1).toordinal()
        stop = min(next_month - 1, last)
        chunks.append((start, stop))
        start = stop + 1
    return chunks


def _statement_path(out_dir: Path, day: int) -> Path:
    d = date.fromordinal(day)
    return (
        out_dir / "lms" / "statements" / f"{d:%Y}" / f"{d:%m}" / f"statements-{d:%Y-%m-%d}.jsonl.gz"
    )


def write_statement_days(plan: ActivityPlan, out_dir: Path, first: int, last: int) -> Counter:
    """Write the statement files for stored days first..last; return line counts per tag.

    Replays the SPILL_DAYS before `first` so statements stored late into this range are
    included, which lets independent workers write disjoint day ranges.
    """
    counts: Counter = Counter()
    pending: dict[int, list[tuple[int, str, str]]] = {}
    for day in range(max(plan.window_start, first - statements.SPILL_DAYS), last + 1):
        for file_day, entries in statements.generate_day(plan, day, render_from=first).items():
            if file_day <= last:
                pending.setdefault(file_day, []).extend(entries)
        if day < first:
            continue
        entries = pending.pop(day, [])
        if not entries:
            continue
        entries.sort(key=itemgetter(0))
        path = _statement_path(out_dir, day)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = ("\n".join(line for _, line, _ in entries) + "\n").encode("utf-8")
        path.write_bytes(gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0))
        counts.update(tag for _, _, tag in entries)
        counts["files"] += 1
    return counts


def _write_chunk(out_dir: Path, first: int, last: int) -> Counter:
    assert _PLAN is not None
    return write_statement_days(_PLAN, out_dir, first, last)


def _write_statements(plan: ActivityPlan, out_dir: Path, workers: int, say) -> Counter:
    chunks = _month_chunks(plan.window_start, plan.end)
    total: Counter = Counter()
    if workers <= 1:
        for first, last in chunks:
            # One pass over all days would save the replay, but chunking keeps the code path
            # identical to the parallel one.
            total.update(write_statement_days(plan, out_dir, first, last))
            say(f"statements: {date.fromordinal(first):%Y-%m} written")
        return total
    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(plan,)
    ) as pool:
        futures = [pool.submit(_write_chunk, out_dir, first, last) for first, last in chunks]
        for (first, _), future in zip(chunks, futures, strict=True):
            total.update(future.result())
            say(f"statements: {date.fromordinal(first):%Y-%m} written")
    return total
