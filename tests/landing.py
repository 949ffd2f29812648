"""Builds tiny hand-written landing zones for tests, whose right answers can be seen by eye."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import uuid
from pathlib import Path

from orchestration.defs.ingest import contract

HOMEPAGE = "https://lms.example.com"
VERB = "http://adlnet.gov/expapi/verbs/"
COURSE_IRI = "https://lms.example.com/courses/"

WORKERS = [
    # employee_id, work_email, hire_date, job_code, department, manager_id
    ("E1", "Ada.Lovelace@Example.com", "2024-01-08", "ENG-1", "Engineering", ""),
    ("E2", "grace@example.com", "2024-02-05", "ENG-1", "Engineering", "E1"),
    ("E3", "alan@example.com", "2024-03-04", "SAL-1", "Sales", "E1"),
]
JOBS = [("ENG-1", "engineering", "Engineer"), ("SAL-1", "sales", "Account executive")]
COURSES = [("SEC-101", "Security awareness", "true"), ("PY-201", "Python", "false")]


def write_csv(path: Path, header, rows) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def statement_id(n: int) -> str:
    return str(uuid.UUID(int=n, version=4))


def statement(
    n: int,
    actor: dict,
    verb: str = "experienced",
    obj: str = COURSE_IRI + "PY-201",
    timestamp: str = "2024-06-03T10:00:00Z",
    stored: str | None = "2024-06-03T10:00:05Z",
    **extra,
) -> dict:
    body = {
        "id": statement_id(n),
        "actor": actor,
        "verb": {"id": VERB + verb, "display": {"en-US": verb}},
        "object": {"objectType": "Activity", "id": obj},
        "timestamp": timestamp,
        **extra,
    }
    if stored:
        body["stored"] = stored
    return body


def account(name: str, homepage: str = HOMEPAGE) -> dict:
    return {"objectType": "Agent", "account": {"homePage": homepage, "name": name}}


def mbox(email: str) -> dict:
    return {"objectType": "Agent", "mbox": f"mailto:{email}"}


def sha1_actor(email: str) -> dict:
    return {"mbox_sha1sum": hashlib.sha1(f"mailto:{email}".encode()).hexdigest()}


def write_statements(path: Path, lines: list[dict | str]) -> Path:
    """Dicts become JSON lines; strings are written as they are (for malformed lines)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join((json.dumps(x) if isinstance(x, dict) else x) + "\n" for x in lines)
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def build_landing(root: Path, statements: list[dict | str] | None = None) -> Path:
    """A complete, valid landing zone for three workers; statements default to one each."""
    write_csv(
        root / "hris/workers.csv",
        contract.WORKERS.columns,
        [(*w, "Paris", "active", "", "", "", "false") for w in WORKERS],
    )
    write_csv(
        root / "hris/job_history.csv",
        contract.JOB_HISTORY.columns,
        [(w[0], w[2], "hire", w[3], w[4], w[5]) for w in WORKERS],
    )
    write_csv(
        root / "hris/jobs.csv",
        contract.JOBS.columns,
        [(*j, "false", "false", "false") for j in JOBS],
    )
    write_csv(
        root / "lms/courses.csv",
        contract.COURSES.columns,
        [(c, COURSE_IRI + c, t, comp, "false", "30") for c, t, comp in COURSES],
    )
    write_csv(
        root / "lms/enrollments.csv",
        contract.ENROLLMENTS.columns,
        [("N1", "E1", "SEC-101", "2024-05-01", "2024-05-31", "2024-05-20", "completed")],
    )
    if statements is None:
        statements = [
            statement(1, account("E1")),
            statement(2, mbox("ada.lovelace@example.com")),
            statement(3, sha1_actor("alan@example.com")),
        ]
    write_statements(root / "lms/statements/2024/06/statements-2024-06-03.jsonl.gz", statements)
    return root
