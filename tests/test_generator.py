"""Tests for the sample-data generator: determinism, landing-zone contract, scripted dropouts."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from orchestration.sample_data import GenerationSummary, generate
from orchestration.sample_data import catalog as cat

REPO = Path(__file__).resolve().parents[1]
END = date(2025, 6, 30)
DROPOUT_ID = "E000010"
DROPOUT_DATE = date(2025, 5, 19)  # a Monday, six weeks before END
SMALL = {"employees": 150, "months": 6, "seed": 7, "end_date": END}

REQUIRED_COLUMNS = {
    "hris/workers.csv": [
        "employee_id", "work_email", "hire_date", "job_code", "department", "manager_id",
        "location", "employment_status", "termination_date", "termination_type",
        "termination_reason", "is_high_potential",
    ],
    "hris/job_history.csv": [
        "employee_id", "effective_date", "change_type", "job_code", "department", "manager_id",
    ],
    "hris/jobs.csv": [
        "job_code", "job_family", "job_title", "customer_facing", "compliance_sensitive",
        "leadership_pipeline",
    ],
    "lms/courses.csv": [
        "course_id", "activity_iri", "title", "is_compliance", "is_certification",
        "duration_minutes",
    ],
    "lms/enrollments.csv": [
        "enrollment_id", "employee_id", "course_id", "assigned_date", "due_date",
        "completed_date", "status",
    ],
}  # fmt: skip
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> tuple[Path, GenerationSummary]:
    out = tmp_path_factory.mktemp("landing")
    summary = generate(out, **SMALL, dropouts={DROPOUT_ID: DROPOUT_DATE})
    return out, summary


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def file_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def statement_lines(root: Path):
    """(file day, raw line) for every line of every statement file, in file order."""
    for path in sorted((root / "lms" / "statements").rglob("*.jsonl.gz")):
        file_day = date.fromisoformat(path.name.removeprefix("statements-")[:10])
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                yield file_day, line.rstrip("\n")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def actor_index(workers: list[dict[str, str]]) -> dict[tuple[str, str], str]:
    index = {}
    for row in workers:
        mbox = "mailto:" + row["work_email"].lower()
        index[("account", row["employee_id"])] = row["employee_id"]
        index[("mbox", mbox)] = row["employee_id"]
        index[("sha1", hashlib.sha1(mbox.encode()).hexdigest())] = row["employee_id"]
    return index


def employee_of(actor: dict, index: dict[tuple[str, str], str]) -> str | None:
    if "account" in actor:
        assert actor["account"]["homePage"] == cat.LMS_HOME_PAGE
        return index.get(("account", actor["account"]["name"]))
    if "mbox" in actor:
        return index.get(("mbox", actor["mbox"].lower()))
    return index.get(("sha1", actor["mbox_sha1sum"]))


def test_same_seed_gives_identical_bytes(tmp_path):
    first = generate(tmp_path / "a", **SMALL)
    second = generate(tmp_path / "b", **SMALL, workers=2)
    assert first.statement_lines == second.statement_lines
    assert file_bytes(tmp_path / "a") == file_bytes(tmp_path / "b")


def test_different_seed_gives_different_data(tmp_path):
    generate(tmp_path / "a", **SMALL)
    generate(tmp_path / "b", **{**SMALL, "seed": 8})
    a, b = file_bytes(tmp_path / "a"), file_bytes(tmp_path / "b")
    assert a["hris/workers.csv"] != b["hris/workers.csv"]
    shared = [name for name in a if name.endswith(".gz") and name in b]
    assert shared and all(a[name] != b[name] for name in shared)


def test_every_extract_has_its_required_columns(landing):
    out, _ = landing
    for name, columns in REQUIRED_COLUMNS.items():
        with (out / name).open(encoding="utf-8") as handle:
            header = next(csv.reader(handle))
        assert header[: len(columns)] == columns, name
    assert "cost_center" in read_csv(out / "hris/workers.csv")[0]  # an unknown extra column


def test_csv_values_follow_the_contract(landing):
    out, summary = landing
    workers = read_csv(out / "hris/workers.csv")
    assert len(workers) == summary.employees
    for row in workers:
        date.fromisoformat(row["hire_date"])
        assert row["employment_status"] in ("active", "terminated")
        assert row["is_high_potential"] in ("true", "false")
        if row["employment_status"] == "terminated":
            assert date.fromisoformat(row["termination_date"]) <= END
            assert row["termination_type"] in ("voluntary", "involuntary", "other")
        else:
            assert row["termination_date"] == row["termination_type"] == ""
    changes = {"hire", "promotion", "transfer", "lateral", "demotion", "manager_change"}
    for row in read_csv(out / "hris/job_history.csv"):
        date.fromisoformat(row["effective_date"])
        assert row["change_type"] in changes | {"termination"}
        assert row["job_code"] in cat.JOBS_BY_CODE
    families = {row["job_family"] for row in read_csv(out / "hris/jobs.csv")}
    assert families == set(cat.JOB_FAMILIES)
    courses = read_csv(out / "lms/courses.csv")
    assert 20 <= len(courses) <= 40
    bad_dates = 0
    for row in read_csv(out / "lms/enrollments.csv"):
        assert row["status"] in ("assigned", "in_progress", "completed", "failed", "withdrawn")
        assert row["course_id"] in cat.COURSES_BY_ID
        try:
            for column in ("assigned_date", "due_date", "completed_date"):
                if row[column]:
                    date.fromisoformat(row[column])
        except ValueError:
            bad_dates += 1
            continue
        assert (row["status"] == "completed") == bool(row["completed_date"])
    assert 1 <= bad_dates == summary.malformed_csv_rows <= 3


def test_statements_are_valid_xapi_apart_from_planted_dirt(landing):
    out, summary = landing
    workers = read_csv(out / "hris/workers.csv")
    index = actor_index(workers)
    seen: dict[str, str] = {}
    counts: Counter = Counter()
    for file_day, line in statement_lines(out):
        counts["lines"] += 1
        try:
            statement = json.loads(line)
        except ValueError:
            counts["malformed"] += 1
            continue
        if not isinstance(statement, dict) or "verb" not in statement or "actor" not in statement:
            counts["malformed"] += 1
            continue
        if statement["id"] in seen:
            assert seen[statement["id"]] == line  # an exact re-emission
            counts["duplicate"] += 1
            continue
        seen[statement["id"]] = line
        assert statement["version"] == "1.0.3"
        assert statement["verb"]["id"].startswith("http://adlnet.gov/expapi/verbs/")
        assert "en-US" in statement["verb"]["display"]
        timestamp, stored = parse_time(statement["timestamp"]), parse_time(statement["stored"])
        assert timestamp <= stored
        assert stored.date() == file_day
        if statement["verb"]["id"] == VOIDED:
            assert statement["object"]["objectType"] == "StatementRef"
            counts["voiding"] += 1
        else:
            assert statement["object"]["id"].startswith("https://")
        if employee_of(statement["actor"], index) is None:
            counts["unknown"] += 1
    assert counts["lines"] == summary.statement_lines
    assert counts["malformed"] == summary.malformed_lines > 0
    assert counts["duplicate"] == summary.duplicate_lines > 0
    assert counts["voiding"] == summary.voiding_statements > 0
    assert counts["unknown"] == summary.unknown_actor_statements > 0
    assert len(seen) == summary.unique_statements
    assert summary.files == len(list((out / "lms" / "statements").rglob("*.jsonl.gz")))


def test_voiding_statements_reference_earlier_statements(landing):
    out, _ = landing
    ids, targets = set(), []
    for _, line in statement_lines(out):
        try:
            statement = json.loads(line)
        except ValueError:
            continue
        if "id" in statement:
            ids.add(statement["id"])
        if statement.get("verb", {}).get("id") == VOIDED:
            targets.append(statement["object"]["id"])
    assert targets and all(target in ids for target in targets)


def test_manifest_matches_the_summary(landing):
    out, summary = landing
    manifest = json.loads((out / "_generator_manifest.json").read_text())
    for field, value in vars(summary).items():
        if field != "out_dir":
            assert manifest[field] == value, field
    assert manifest["parameters"]["seed"] == SMALL["seed"]
    assert manifest["parameters"]["dropouts"] == {DROPOUT_ID: DROPOUT_DATE.isoformat()}


def test_manager_hierarchy_is_a_tree_of_existing_employees(landing):
    out, _ = landing
    workers = {row["employee_id"]: row for row in read_csv(out / "hris/workers.csv")}
    roots = [eid for eid, row in workers.items() if not row["manager_id"]]
    assert len(roots) == 1
    for employee_id in workers:
        chain, current = [], employee_id
        while workers[current]["manager_id"]:
            current = workers[current]["manager_id"]
            assert current in workers
            assert current not in chain, f"management cycle through {current}"
            chain.append(current)
    for row in read_csv(out / "hris/job_history.csv"):
        assert not row["manager_id"] or row["manager_id"] in workers


def test_workers_hold_the_state_of_the_last_history_row(landing):
    out, _ = landing
    last: dict[str, dict[str, str]] = {}
    hires: Counter = Counter()
    for row in read_csv(out / "hris/job_history.csv"):
        if row["employee_id"] in last:
            assert row["effective_date"] >= last[row["employee_id"]]["effective_date"]
        last[row["employee_id"]] = row
        hires[row["employee_id"]] += row["change_type"] == "hire"
    for worker in read_csv(out / "hris/workers.csv"):
        row = last[worker["employee_id"]]
        assert hires[worker["employee_id"]] == 1
        assert (row["job_code"], row["department"], row["manager_id"]) == (
            worker["job_code"],
            worker["department"],
            worker["manager_id"],
        )
        terminated = worker["employment_status"] == "terminated"
        assert (row["change_type"] == "termination") == terminated
        if terminated:
            assert row["effective_date"] == worker["termination_date"]


def test_dropout_employee_learns_steadily_then_stops(landing):
    out, summary = landing
    workers = {row["employee_id"]: row for row in read_csv(out / "hris/workers.csv")}
    person = workers[DROPOUT_ID]
    assert person["employment_status"] == "active"
    assert date.fromisoformat(person["hire_date"]) <= END - timedelta(days=270)
    manager = person["manager_id"]
    assert sum(row["manager_id"] == manager for row in workers.values()) >= 2
    history = [r for r in read_csv(out / "hris/job_history.csv") if r["employee_id"] == DROPOUT_ID]
    assert not [
        r for r in history if r["change_type"] not in ("hire", "promotion", "manager_change")
    ]
    assert all(r["effective_date"] < "2024-12-31" for r in history)  # no moves in the window
    for row in read_csv(out / "lms/enrollments.csv"):
        if row["employee_id"] == DROPOUT_ID and row["due_date"] <= END.isoformat():
            assert row["status"] == "completed" and row["completed_date"] <= row["due_date"]

    index = actor_index(list(workers.values()))
    per_week: dict[date, list[date]] = defaultdict(list)
    for _, line in statement_lines(out):
        try:
            statement = json.loads(line)
            employee = employee_of(statement["actor"], index)
        except (ValueError, KeyError):
            continue
        if employee == DROPOUT_ID:
            day = parse_time(statement["timestamp"]).date()
            assert day < DROPOUT_DATE
            assert statement["verb"]["id"] != VOIDED
            per_week[day - timedelta(days=day.weekday())].append(day)
    window_start = date(2024, 12, 31)
    monday = window_start + timedelta(days=7 - window_start.weekday())
    assert monday in per_week
    while monday < DROPOUT_DATE:
        days = per_week[monday]
        assert 5 <= len(days) <= 8, (monday, len(days))
        assert len(set(days)) >= 3, monday
        monday += timedelta(days=7)
    assert summary.employees == len(workers)


def test_dropout_for_a_manager_id_is_played_by_a_contributor(tmp_path):
    # E000001 is the CEO; a suitable contributor takes over that id.
    generate(tmp_path, **SMALL, dropouts={"E000001": DROPOUT_DATE})
    workers = {row["employee_id"]: row for row in read_csv(tmp_path / "hris/workers.csv")}
    person = workers["E000001"]
    assert cat.JOBS_BY_CODE[person["job_code"]].job_family != "leadership"
    assert person["manager_id"] in workers
    assert sum(row["manager_id"] == "E000001" for row in workers.values()) == 0


def test_unknown_dropout_id_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="E999999"):
        generate(tmp_path, **SMALL, dropouts={"E999999": DROPOUT_DATE})


def test_capability_bundles_cover_every_job_with_catalogue_courses():
    rows = cat.capability_bundle_rows()
    per_job = Counter(row["job_code"] for row in rows)
    assert set(per_job) == set(cat.JOBS_BY_CODE)
    assert all(3 <= count <= 6 for count in per_job.values())
    assert all(row["course_id"] in cat.COURSES_BY_ID for row in rows)
    assert all(row["due_day_offset"] in ("30", "60", "90") for row in rows)
    assert any(row["is_milestone"] == "true" for row in rows)


def test_committed_capability_bundles_seed_matches_catalogue(tmp_path):
    expected = tmp_path / "capability_bundles.csv"
    cat.write_capability_bundles_seed(expected)
    committed = REPO / "dbt_project" / "seeds" / "capability_bundles.csv"
    assert committed.read_bytes() == expected.read_bytes()
