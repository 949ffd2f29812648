"""A hand-built company for the retention tests (docs/retention-and-cohorts.md), one department
per rule under test.

Every person is hired into the department named for the rule they illustrate, so each rule's
cohort cells, strata and curves hold only that rule's people and their right answers can be
worked out by hand in the test that reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from orchestration.defs.ingest.contract import JOB_HISTORY, WORKERS
from tests.landing import COURSE_IRI, account, statement, write_csv, write_statements

AS_OF = date(2024, 6, 30)
MANAGER = "M1"

JOBS = [
    # job_code, job_family: one family per rule, so the job-family survival curves stay apart.
    ("MGR-1", "leadership"),
    ("LAB-1", "survival_lab"),
    ("TRN-1", "turnover_lab"),
    ("TRN-2", "turnover_lab"),
    ("SML-1", "small_cells"),
    ("OBS-1", "observability"),
    ("ENG-1", "engineering"),  # its capability bundle (seed) has four courses
]
ENG_1_BUNDLE = ["SWE-221", "SWE-222", "SWE-223", "SWE-225"]


@dataclass
class Person:
    employee_id: str
    hire_date: date
    job_code: str
    department: str
    left_after_days: int | None = None  # tenure in days at the termination date
    termination_type: str = ""
    completed_courses: tuple[str, ...] = ()  # completed 30 days after the hire

    @property
    def termination_date(self) -> date | None:
        if self.left_after_days is None:
            return None
        return self.hire_date + timedelta(days=self.left_after_days)


def day(text: str) -> date:
    return date.fromisoformat(text)


def _people() -> list[Person]:
    people = [Person(MANAGER, day("2010-01-04"), "MGR-1", "Management")]

    # Kaplan-Meier: eight hires on 2024-01-01; voluntary exits at 20 and twice at 50 days,
    # censored by an involuntary exit at 40 and another exit at 75; three still employed (181 days).
    lab = day("2024-01-01")
    people += [
        Person("KM1", lab, "LAB-1", "Lab", 20, "voluntary"),
        Person("KM2", lab, "LAB-1", "Lab", 40, "involuntary"),
        Person("KM3", lab, "LAB-1", "Lab", 50, "voluntary"),
        Person("KM4", lab, "LAB-1", "Lab", 50, "voluntary"),
        Person("KM5", lab, "LAB-1", "Lab", 75, "other"),
        Person("KM6", lab, "LAB-1", "Lab"),
        Person("KM7", lab, "LAB-1", "Lab"),
        Person("KM8", lab, "LAB-1", "Lab"),
    ]

    # Annualized turnover: six people with 5y+ tenure all through the 365 days to the as-of date
    # (2023-07-02 to 2024-06-30, a leap year); two leave voluntarily (2023-09-29 and 2024-04-01),
    # one is promoted (2024-01-15).
    old = day("2015-01-05")
    people += [Person(f"TO{n}", old, "TRN-1", "Turnover") for n in range(1, 5)]
    people += [
        Person("TO5", old, "TRN-1", "Turnover", (day("2023-09-29") - old).days, "voluntary"),
        Person("TO6", old, "TRN-1", "Turnover", (day("2024-04-01") - old).days, "voluntary"),
    ]

    # Small cells: four hires in 2020-Q1 and five in 2020-Q2, all employed (2-5y all year).
    people += [Person(f"SQ1{n}", day("2020-03-02"), "SML-1", "Small") for n in range(1, 5)]
    people += [Person(f"SQ2{n}", day("2020-04-01"), "SML-1", "Small") for n in range(1, 6)]

    # Observability: hired 364 and 365 days before the as-of date, both still employed.
    people += [
        Person("OBS364", AS_OF - timedelta(days=364), "OBS-1", "Observe"),
        Person("OBS365", AS_OF - timedelta(days=365), "OBS-1", "Observe"),
    ]

    # Matched: ENG-1 hires in Matched. One of the four bundle courses within 90 days (exactly
    # the 0.25 threshold) makes a completer.
    done = ("SWE-221",)
    a, b, c = day("2022-07-04"), day("2022-10-03"), day("2023-01-09")
    people += [
        # Stratum 2022-Q3: completers 2 of 3 retained, non-completers 1 of 3.
        Person("MA1", a, "ENG-1", "Matched", completed_courses=done),
        Person("MA2", a, "ENG-1", "Matched", completed_courses=done),
        Person("MA3", a, "ENG-1", "Matched", 200, "voluntary", completed_courses=done),
        Person("MA4", a, "ENG-1", "Matched"),
        Person("MA5", a, "ENG-1", "Matched", 150, "voluntary"),
        Person("MA6", a, "ENG-1", "Matched", 300, "voluntary"),
        # Left before the completion window closed: not a non-completer (landmark), excluded.
        Person("MA7", a, "ENG-1", "Matched", 30, "voluntary"),
        # Stratum 2022-Q4: completers 2 of 2 retained, non-completers 3 of 4.
        Person("MB1", b, "ENG-1", "Matched", completed_courses=done),
        Person("MB2", b, "ENG-1", "Matched", completed_courses=done),
        Person("MB3", b, "ENG-1", "Matched"),
        Person("MB4", b, "ENG-1", "Matched"),
        Person("MB5", b, "ENG-1", "Matched"),
        Person("MB6", b, "ENG-1", "Matched", 120, "voluntary"),
        # An involuntary exit within 12 months censors the outcome: excluded.
        Person("MB7", b, "ENG-1", "Matched", 200, "involuntary"),
        # Stratum 2023-Q1: completers only, so it is not matched.
        Person("MC1", c, "ENG-1", "Matched", completed_courses=done),
        Person("MC2", c, "ENG-1", "Matched", completed_courses=done),
        Person("MC3", c, "ENG-1", "Matched", completed_courses=done),
    ]
    return people


PEOPLE = _people()
BY_ID = {p.employee_id: p for p in PEOPLE}


def build_retention_landing(root: Path) -> Path:
    workers, history, enrollments = [], [], []
    for p in PEOPLE:
        manager = "" if p.employee_id == MANAGER else MANAGER
        end = p.termination_date
        workers.append(
            (
                p.employee_id,
                f"{p.employee_id.lower()}@example.com",
                p.hire_date.isoformat(),
                p.job_code,
                p.department,
                manager,
                "London",
                "terminated" if end else "active",
                end.isoformat() if end else "",
                p.termination_type,
                "",
                "false",
            )
        )
        history.append((p.employee_id, p.hire_date.isoformat(), "hire", p.job_code, p.department))
        if end:
            history.append((p.employee_id, end.isoformat(), "termination", "", ""))
        for course in p.completed_courses:
            done = p.hire_date + timedelta(days=30)
            enrollments.append(
                (
                    f"N-{p.employee_id}-{course}",
                    p.employee_id,
                    course,
                    p.hire_date.isoformat(),
                    done.isoformat(),
                    done.isoformat(),
                    "completed",
                )
            )
    history.append(("TO1", "2024-01-15", "promotion", "TRN-2", "Turnover"))

    write_csv(
        root / "hris/workers.csv",
        WORKERS.columns,
        workers,
    )
    write_csv(
        root / "hris/job_history.csv",
        JOB_HISTORY.columns,
        [(*h, "" if h[0] == MANAGER or h[2] == "termination" else MANAGER) for h in history],
    )
    write_csv(
        root / "hris/jobs.csv",
        [
            "job_code",
            "job_family",
            "job_title",
            "customer_facing",
            "compliance_sensitive",
            "leadership_pipeline",
        ],
        [(code, family, code, "false", "false", "false") for code, family in JOBS],
    )
    courses = [*ENG_1_BUNDLE, "GEN-100"]
    write_csv(
        root / "lms/courses.csv",
        [
            "course_id",
            "activity_iri",
            "title",
            "is_compliance",
            "is_certification",
            "duration_minutes",
        ],
        [(c, COURSE_IRI + c, c, "false", "false", "30") for c in courses],
    )
    write_csv(
        root / "lms/enrollments.csv",
        [
            "enrollment_id",
            "employee_id",
            "course_id",
            "assigned_date",
            "due_date",
            "completed_date",
            "status",
        ],
        enrollments,
    )
    # The learning record begins in January 2022, before every bundle-observable hire.
    write_statements(
        root / "lms/statements/2022/01/statements-2022-01-03.jsonl",
        [
            statement(
                1,
                account(MANAGER),
                obj=COURSE_IRI + "GEN-100",
                timestamp="2022-01-03T10:00:00Z",
                stored="2022-01-03T10:00:05Z",
            )
        ],
    )
    return root
