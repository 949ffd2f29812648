"""The extract contract (docs/extract-contract.md): which files land where, and what each must
hold."""

from __future__ import annotations

from dataclasses import dataclass, field

RAW_SCHEMA = "raw"
QUARANTINE_TABLE = f"{RAW_SCHEMA}.ingest_quarantine"
INGESTED_FILES_TABLE = f"{RAW_SCHEMA}.ingested_files"


@dataclass(frozen=True)
class CsvExtract:
    """One CSV snapshot extract: a full copy of a source table, replaced on each delivery."""

    table: str
    path: str  # relative to the landing zone
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    # Columns whose values must parse, or the row is quarantined. Allowed values (enums) are
    # not parse errors: the data-quality suites judge those, so the row stays visible.
    dates: tuple[str, ...] = ()
    booleans: tuple[str, ...] = ()
    integers: tuple[str, ...] = ()
    # Columns that hold a code (lowercase letters, digits, `_`): free text is quarantined.
    codes: tuple[str, ...] = ()
    # An optional extract: no file means no rows, not a broken contract.
    file_optional: bool = False
    description: str = field(default="", compare=False)

    @property
    def raw_table(self) -> str:
        return f"{RAW_SCHEMA}.{self.table}"

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


WORKERS = CsvExtract(
    table="hris_workers",
    path="hris/workers.csv",
    required=("employee_id", "work_email", "hire_date", "job_code", "department"),
    optional=(
        "manager_id",
        "location",
        "employment_status",
        "termination_date",
        "termination_type",
        "termination_reason",
        "is_high_potential",
    ),
    dates=("hire_date", "termination_date"),
    booleans=("is_high_potential",),
    description="Current state of every worker from the HRIS, one row per employee.",
)
JOB_HISTORY = CsvExtract(
    table="hris_job_history",
    path="hris/job_history.csv",
    required=("employee_id", "effective_date", "change_type"),
    optional=("job_code", "department", "manager_id"),
    dates=("effective_date",),
    description="Every hire, move, manager change and termination, one row per change.",
)
JOBS = CsvExtract(
    table="hris_jobs",
    path="hris/jobs.csv",
    required=("job_code", "job_family"),
    optional=("job_title", "customer_facing", "compliance_sensitive", "leadership_pipeline"),
    booleans=("customer_facing", "compliance_sensitive", "leadership_pipeline"),
    description="The job catalog with job family and role exposure.",
)
COURSES = CsvExtract(
    table="lms_courses",
    path="lms/courses.csv",
    required=("course_id", "activity_iri"),
    optional=("title", "is_compliance", "is_certification", "duration_minutes"),
    booleans=("is_compliance", "is_certification"),
    integers=("duration_minutes",),
    description="The LMS course catalog; activity_iri links xAPI statements to courses.",
)
ENROLLMENTS = CsvExtract(
    table="lms_enrollments",
    path="lms/enrollments.csv",
    required=("enrollment_id", "employee_id", "course_id", "assigned_date"),
    optional=("due_date", "completed_date", "status"),
    dates=("assigned_date", "due_date", "completed_date"),
    description="Course assignments with due and completion dates.",
)

ALERT_FEEDBACK = CsvExtract(
    table="lms_alert_feedback",
    path="lms/alert_feedback.csv",
    required=("employee_id", "week_start", "manager_id", "status", "recorded_at"),
    optional=("note_code",),
    dates=("week_start", "recorded_at"),
    codes=("note_code",),
    file_optional=True,
    description=(
        "Optional: what managers did with the alerts of mart_manager_alerts (acknowledged, "
        "acted, not_useful), one row per answer; no free text."
    ),
)

HRIS_EXTRACTS = (WORKERS, JOB_HISTORY, JOBS)
LMS_EXTRACTS = (COURSES, ENROLLMENTS, ALERT_FEEDBACK)
CSV_EXTRACTS = HRIS_EXTRACTS + LMS_EXTRACTS

STATEMENTS_TABLE = f"{RAW_SCHEMA}.lms_statements"
STATEMENT_DUPLICATES_TABLE = f"{RAW_SCHEMA}.lms_statement_duplicates"
STATEMENTS_DIR = "lms/statements"
STATEMENT_GLOBS = ("**/*.jsonl", "**/*.jsonl.gz")

BOOLEAN_VALUES = frozenset({"true", "false", "t", "f", "1", "0", "yes", "no", "y", "n"})
