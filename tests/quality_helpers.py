"""Helpers for the quality, publication and alert tests: a validated warehouse built once from
the tiny landing zone, copies of it to plant defects in, and landing-zone defects."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb

from orchestration.defs.quality.results import SuiteRun
from orchestration.defs.quality.runner import validate_suite
from orchestration.defs.quality.suites import Suite, load_suites
from tests.landing import write_csv

AS_OF = date(2024, 6, 30)


def suite_named(name: str) -> Suite:
    return next(s for s in load_suites() if s.name == name)


def copy_warehouse(source: Path, target_dir: Path) -> Path:
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / "warehouse.duckdb"
    shutil.copyfile(source, target)
    return target


def validate(path: Path, name: str, *, batch_rows: int = 500_000, docs_dir: Path | None = None):
    conn = duckdb.connect(str(path))
    try:
        return validate_suite(
            conn, suite_named(name), as_of=AS_OF, batch_rows=batch_rows, docs_dir=docs_dir
        )
    finally:
        conn.close()


def failed(run: SuiteRun) -> dict[str, dict]:
    return {o.label: o.as_dict() for o in run.failed}


def plant_unknown_course_enrollment(landing: Path) -> None:
    """lms/enrollments.csv gains enrollment N9 for a course the catalog does not hold."""
    write_csv(
        landing / "lms/enrollments.csv",
        [
            "enrollment_id",
            "employee_id",
            "course_id",
            "assigned_date",
            "due_date",
            "completed_date",
            "status",
        ],
        [
            ("N1", "E1", "SEC-101", "2024-05-01", "2024-05-31", "2024-05-20", "completed"),
            ("N9", "E2", "NOPE-404", "2024-05-02", "", "", "assigned"),
        ],
    )
