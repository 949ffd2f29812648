"""Fixed job, course and capability-bundle catalogue shared by the generator and the dbt seeds."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

LMS_HOME_PAGE = "https://lms.example.com"
COMPANY_EMAIL_DOMAIN = "example.com"

JOB_FAMILIES = ("sales", "support", "engineering", "back_office", "leadership")

EXECUTIVE = "Executive"
DEPARTMENTS = ("Sales", "Customer Support", "Engineering", "Finance", "Operations", "People")
DEPARTMENT_CODES = {
    EXECUTIVE: "EXE",
    "Sales": "SAL",
    "Customer Support": "SUP",
    "Engineering": "ENG",
    "Finance": "FIN",
    "Operations": "OPS",
    "People": "PPL",
}
# Share of individual contributors per department.
DEPARTMENT_SHARES = {
    "Sales": 0.24,
    "Customer Support": 0.24,
    "Engineering": 0.30,
    "Finance": 0.07,
    "Operations": 0.09,
    "People": 0.06,
}
LOCATIONS = (
    ("London", 0.30),
    ("Berlin", 0.20),
    ("Austin", 0.25),
    ("Toronto", 0.15),
    ("Remote", 0.10),
)


@dataclass(frozen=True)
class Job:
    job_code: str
    job_family: str
    job_title: str
    level: int
    customer_facing: bool
    compliance_sensitive: bool
    leadership_pipeline: bool


JOBS: tuple[Job, ...] = (
    Job("SAL-1", "sales", "Sales Development Representative", 1, True, False, False),
    Job("SAL-2", "sales", "Account Executive", 2, True, False, False),
    Job("SAL-3", "sales", "Senior Account Executive", 3, True, False, False),
    Job("SUP-1", "support", "Customer Support Specialist", 1, True, True, False),
    Job("SUP-2", "support", "Senior Customer Support Specialist", 2, True, True, False),
    Job("ENG-1", "engineering", "Software Engineer", 1, False, False, False),
    Job("ENG-2", "engineering", "Senior Software Engineer", 2, False, False, False),
    Job("ENG-3", "engineering", "Staff Software Engineer", 3, False, False, False),
    Job("BO-1", "back_office", "Finance Analyst", 1, False, True, False),
    Job("BO-2", "back_office", "Operations Specialist", 1, False, False, False),
    Job("BO-3", "back_office", "People Partner", 1, False, True, False),
    Job("BO-4", "back_office", "Senior Finance Analyst", 2, False, True, False),
    Job("LDR-1", "leadership", "Team Manager", 1, False, False, True),
    Job("LDR-2", "leadership", "Department Director", 2, False, False, True),
    Job("LDR-3", "leadership", "Chief Executive Officer", 3, False, True, True),
)
JOBS_BY_CODE = {job.job_code: job for job in JOBS}

# Individual-contributor job mix per department: (job_code, share of current staff, share of hires).
DEPARTMENT_JOBS = {
    "Sales": (("SAL-1", 0.40, 0.60), ("SAL-2", 0.42, 0.30), ("SAL-3", 0.18, 0.10)),
    "Customer Support": (("SUP-1", 0.65, 0.80), ("SUP-2", 0.35, 0.20)),
    "Engineering": (("ENG-1", 0.42, 0.55), ("ENG-2", 0.42, 0.35), ("ENG-3", 0.16, 0.10)),
    "Finance": (("BO-1", 0.65, 0.75), ("BO-4", 0.35, 0.25)),
    "Operations": (("BO-2", 1.0, 1.0),),
    "People": (("BO-3", 1.0, 1.0),),
}
JOB_DEPARTMENT = {code: dept for dept, jobs in DEPARTMENT_JOBS.items() for code, _, _ in jobs}

PROMOTIONS = {
    "SAL-1": "SAL-2",
    "SAL-2": "SAL-3",
    "SUP-1": "SUP-2",
    "ENG-1": "ENG-2",
    "ENG-2": "ENG-3",
    "BO-1": "BO-4",
}
DEMOTIONS = {target: source for source, target in PROMOTIONS.items()}
# Cross-department moves that happen in practice (support people moving into sales, and so on).
TRANSFERS = {
    "SAL-1": ("SUP-1", "BO-2"),
    "SAL-2": ("SUP-2",),
    "SAL-3": ("SUP-2",),
    "SUP-1": ("SAL-1", "BO-2"),
    "SUP-2": ("SAL-2", "ENG-1"),
    "ENG-1": ("SUP-2",),
    "ENG-2": ("SUP-2",),
    "ENG-3": (),
    "BO-1": ("BO-2", "BO-3"),
    "BO-2": ("BO-1", "BO-3", "SUP-1"),
    "BO-3": ("BO-2",),
    "BO-4": ("BO-3",),
}


@dataclass(frozen=True)
class Course:
    course_id: str
    title: str
    kind: str  # compliance, certification, skill or elective
    duration_minutes: int

    @property
    def activity_iri(self) -> str:
        return f"{LMS_HOME_PAGE}/courses/{self.course_id}"

    @property
    def is_compliance(self) -> bool:
        return self.kind == "compliance"

    @property
    def is_certification(self) -> bool:
        return self.kind == "certification"

    @property
    def is_assessed(self) -> bool:
        # Compliance and certification courses end with a graded test; skills courses do not.
        return self.kind in ("compliance", "certification")

    @property
    def modules(self) -> int:
        return max(2, min(8, self.duration_minutes // 20))

    @property
    def program_iri(self) -> str:
        return f"{LMS_HOME_PAGE}/programs/{self.kind}"


COURSES: tuple[Course, ...] = (
    Course("SEC-101", "Security Awareness", "compliance", 45),
    Course("DP-201", "Data Privacy Essentials", "compliance", 60),
    Course("COC-100", "Code of Conduct", "compliance", 30),
    Course("ABC-110", "Anti-Bribery and Corruption", "compliance", 40),
    Course("PCI-150", "Payment Card Data Handling", "compliance", 35),
    Course("AML-130", "Anti-Money Laundering", "compliance", 50),
    Course("HS-160", "Health and Safety at Work", "compliance", 40),
    Course("HAR-140", "Respectful Workplace", "compliance", 45),
    Course("CRT-310", "Solution Selling Certification", "certification", 240),
    Course("CRT-320", "Customer Service Professional Certification", "certification", 180),
    Course("CRT-330", "Cloud Practitioner Certification", "certification", 300),
    Course("CRT-340", "Project Management Fundamentals Certification", "certification", 200),
    Course("CRT-350", "People Leader Certification", "certification", 240),
    Course("CRT-360", "Financial Controls Certification", "certification", 220),
    Course("SLS-201", "Discovery Conversations", "skill", 60),
    Course("SLS-202", "Negotiation Skills", "skill", 90),
    Course("SLS-203", "CRM Fundamentals", "skill", 45),
    Course("SLS-204", "Product Demo Mastery", "skill", 75),
    Course("SLS-205", "Strategic Account Planning", "skill", 120),
    Course("CSX-211", "Ticket Triage", "skill", 45),
    Course("CSX-212", "De-escalation Techniques", "skill", 60),
    Course("CSX-213", "Knowledge Base Writing", "skill", 50),
    Course("CSX-214", "Product Troubleshooting", "skill", 120),
    Course("SWE-221", "Secure Coding", "skill", 120),
    Course("SWE-222", "Code Review Practices", "skill", 60),
    Course("SWE-223", "Testing Strategies", "skill", 90),
    Course("SWE-224", "System Design", "skill", 160),
    Course("SWE-225", "Incident Response", "skill", 75),
    Course("SWE-226", "Technical Mentoring", "skill", 60),
    Course("OPS-231", "Spreadsheet Modelling", "skill", 90),
    Course("OPS-232", "Process Improvement", "skill", 75),
    Course("OPS-233", "Vendor Management", "skill", 60),
    Course("PPL-234", "Employment Law Basics", "skill", 90),
    Course("MGT-241", "Coaching Conversations", "skill", 60),
    Course("MGT-242", "Giving Feedback", "skill", 45),
    Course("MGT-243", "Hiring and Interviewing", "skill", 75),
    Course("MGT-244", "Strategy and Planning", "skill", 120),
    Course("MGT-245", "Leading Through Change", "skill", 90),
    Course("GEN-251", "Time Management", "elective", 30),
    Course("GEN-252", "Presentation Skills", "elective", 60),
)
COURSES_BY_ID = {course.course_id: course for course in COURSES}

# Capability bundles: per job_code, (course_id, due_day_offset, is_milestone).
BUNDLES: dict[str, tuple[tuple[str, int, bool], ...]] = {
    "SAL-1": (
        ("SLS-201", 30, True),
        ("SLS-203", 30, False),
        ("SLS-204", 60, True),
        ("SLS-202", 90, False),
    ),
    "SAL-2": (
        ("SLS-202", 30, False),
        ("SLS-204", 60, True),
        ("CRT-310", 90, True),
        ("SLS-205", 90, False),
    ),
    "SAL-3": (
        ("SLS-205", 30, True),
        ("CRT-310", 60, True),
        ("MGT-242", 90, False),
        ("GEN-252", 90, False),
    ),
    "SUP-1": (
        ("CSX-211", 30, True),
        ("CSX-212", 60, False),
        ("CSX-214", 60, True),
        ("CSX-213", 90, False),
    ),
    "SUP-2": (
        ("CSX-212", 30, False),
        ("CSX-213", 60, True),
        ("CRT-320", 90, True),
        ("MGT-242", 90, False),
    ),
    "ENG-1": (
        ("SWE-221", 30, True),
        ("SWE-222", 30, False),
        ("SWE-223", 60, True),
        ("SWE-225", 90, False),
    ),
    "ENG-2": (
        ("SWE-223", 30, False),
        ("SWE-224", 60, True),
        ("SWE-225", 60, False),
        ("CRT-330", 90, True),
        ("SWE-226", 90, False),
    ),
    "ENG-3": (
        ("SWE-224", 30, True),
        ("SWE-226", 60, True),
        ("CRT-330", 60, False),
        ("MGT-241", 90, False),
    ),
    "BO-1": (("OPS-231", 30, True), ("OPS-232", 60, False), ("CRT-360", 90, True)),
    "BO-2": (
        ("OPS-232", 30, True),
        ("OPS-233", 60, False),
        ("CRT-340", 90, True),
        ("OPS-231", 90, False),
    ),
    "BO-3": (("PPL-234", 30, True), ("MGT-241", 60, False), ("CRT-340", 90, True)),
    "BO-4": (
        ("OPS-231", 30, False),
        ("CRT-360", 60, True),
        ("OPS-232", 90, False),
        ("MGT-242", 90, False),
    ),
    "LDR-1": (
        ("MGT-241", 30, True),
        ("MGT-242", 30, False),
        ("MGT-243", 60, True),
        ("CRT-350", 90, True),
        ("MGT-245", 90, False),
        ("GEN-251", 90, False),
    ),
    "LDR-2": (
        ("MGT-244", 30, True),
        ("MGT-245", 60, True),
        ("MGT-243", 60, False),
        ("CRT-350", 90, False),
    ),
    "LDR-3": (("MGT-244", 30, True), ("MGT-245", 60, False), ("GEN-252", 90, False)),
}

# Compliance courses each role must hold; everyone takes the first group.
COMPLIANCE_FOR_ALL = ("SEC-101", "DP-201", "COC-100")
COMPLIANCE_BY_FAMILY = {
    "sales": ("ABC-110",),
    "support": ("PCI-150",),
    "leadership": ("ABC-110", "HAR-140"),
}
COMPLIANCE_BY_JOB = {
    "BO-1": ("AML-130", "ABC-110"),
    "BO-4": ("AML-130", "ABC-110"),
    "BO-2": ("HS-160",),
    "BO-3": ("HAR-140",),
}
# Yearly compliance campaigns: (month, day) of assignment -> courses re-certified then.
ANNUAL_CAMPAIGNS = {
    (3, 1): ("SEC-101", "ABC-110", "HS-160", "HAR-140"),
    (9, 1): ("DP-201", "AML-130", "PCI-150"),
}
CAMPAIGN_DUE_DAYS = 45
NEW_HIRE_COMPLIANCE_DUE_DAYS = 30

# Learning activities outside the course catalogue; they count as activity but map to no course.
NON_COURSE_ACTIVITIES = (
    ("https://wiki.example.com/pages/onboarding-checklist", "Onboarding checklist", "page"),
    ("https://wiki.example.com/pages/engineering-handbook", "Engineering handbook", "page"),
    ("https://wiki.example.com/pages/sales-playbook", "Sales playbook", "page"),
    ("https://wiki.example.com/pages/support-runbook", "Support runbook", "page"),
    ("https://wiki.example.com/pages/expense-policy", "Expense policy", "page"),
    ("https://wiki.example.com/pages/product-faq", "Product FAQ", "page"),
    ("https://video.example.com/watch/all-hands-q1", "All-hands recording Q1", "video"),
    ("https://video.example.com/watch/product-roadmap", "Product roadmap walkthrough", "video"),
    ("https://video.example.com/watch/customer-stories", "Customer stories", "video"),
    ("https://video.example.com/watch/lunch-and-learn-ai", "Lunch and learn: AI tools", "video"),
)


def compliance_courses_for(job_code: str) -> tuple[str, ...]:
    """Compliance course ids a holder of job_code must complete, in catalogue order."""
    job = JOBS_BY_CODE[job_code]
    wanted = (
        COMPLIANCE_FOR_ALL
        + COMPLIANCE_BY_FAMILY.get(job.job_family, ())
        + COMPLIANCE_BY_JOB.get(job_code, ())
    )
    return tuple(course.course_id for course in COURSES if course.course_id in wanted)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def capability_bundle_rows() -> list[dict[str, str]]:
    """Rows of the capability_bundles seed, one per (job_code, course) in catalogue order."""
    rows = []
    for job in JOBS:
        for course_id, offset, milestone in BUNDLES[job.job_code]:
            rows.append(
                {
                    "bundle_id": f"BND-{job.job_code}",
                    "job_code": job.job_code,
                    "course_id": course_id,
                    "due_day_offset": str(offset),
                    "is_milestone": _bool(milestone),
                }
            )
    return rows


def _write_csv(path: Path, fieldnames: list[str], rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def write_capability_bundles_seed(path: Path) -> None:
    """Write the capability_bundles dbt seed that matches this catalogue."""
    fields = ["bundle_id", "job_code", "course_id", "due_day_offset", "is_milestone"]
    _write_csv(Path(path), fields, capability_bundle_rows())


def write_jobs_csv(path: Path) -> None:
    """Write the hris/jobs.csv extract."""
    rows = [
        {
            "job_code": job.job_code,
            "job_family": job.job_family,
            "job_title": job.job_title,
            "customer_facing": _bool(job.customer_facing),
            "compliance_sensitive": _bool(job.compliance_sensitive),
            "leadership_pipeline": _bool(job.leadership_pipeline),
        }
        for job in JOBS
    ]
    _write_csv(Path(path), list(rows[0]), rows)


def write_courses_csv(path: Path) -> None:
    """Write the lms/courses.csv extract."""
    rows = [
        {
            "course_id": course.course_id,
            "activity_iri": course.activity_iri,
            "title": course.title,
            "is_compliance": _bool(course.is_compliance),
            "is_certification": _bool(course.is_certification),
            "duration_minutes": str(course.duration_minutes),
        }
        for course in COURSES
    ]
    _write_csv(Path(path), list(rows[0]), rows)
