"""Each expectation suite (expectations/gx/expectations/) catches a planted defect in its table.

The warehouse is built once through Dagster from the tiny landing zone, where every suite passes;
each test plants one defect in a copy and validates the suite against it."""

from __future__ import annotations

import shutil

import duckdb
import great_expectations as gx
import pytest

from orchestration.defs.quality.suites import SUITES_DIR, SuiteError, load_suite, load_suites
from tests.conftest import run_pipeline, settings_for
from tests.landing import build_landing
from tests.quality_helpers import copy_warehouse, failed, validate

pytestmark = pytest.mark.pipeline

# Published marts (docs/publication.md#published-tables) that the dbt project may not build yet:
# created by hand when absent.
SYNTHETIC_MARTS = {
    "mart_retention_cohorts": """
        select * from (values
            ('2024-Q1', 'ENG-1', 'Engineering', '<6m', 8, 1, 0.2, 0.1, 0.5, false),
            ('2024-Q1', 'SAL-1', 'Sales', '<6m', null, null, null, null, null, true)
        ) t(hire_quarter, job_code, department, tenure_band, headcount, voluntary_exits,
            voluntary_turnover_rate, internal_mobility_rate, bundle_completion_rate,
            is_suppressed)""",
    "mart_matched_retention": """
        select * from (values
            ('ENG-1', '2024-Q1', 'Engineering', 0.9, 0.8, 12),
            (null, null, null, 0.9, 0.8, 12)
        ) t(job_code, hire_quarter, department, completer_retention, control_retention,
            matched_employees)""",
    "mart_survival_curves": """
        select * from (values
            ('all', 'all', 0, 100, 0, 0, 1.0, 1.0, 1.0),
            ('all', 'all', 1, 100, 2, 1, 0.98, 0.95, 1.0),
            ('all', 'all', 2, 97, 1, 0, 0.97, 0.93, 0.99)
        ) t(group_type, group_value, tenure_month, at_risk, events, censored, survival,
            ci_lower, ci_upper)""",
    "mart_tier_backtest": """
        select * from (values (0, 900, 0.01, 0.02, 0.5), (3, 40, 0.10, 0.02, 5.0))
        t(tier, employee_weeks, exit_within_90d_rate, base_rate, lift)""",
}


@pytest.fixture(scope="module")
def built_warehouse(tmp_path_factory):
    """The warehouse exactly as the pipeline built it from the tiny landing zone."""
    root = tmp_path_factory.mktemp("quality")
    build_landing(root / "landing")
    settings = settings_for(root)
    assert run_pipeline(settings).success
    return settings.warehouse


@pytest.fixture(scope="module")
def clean_warehouse(built_warehouse, tmp_path_factory):
    """The built warehouse, with hand-made rows for published marts that are absent or empty."""
    path = copy_warehouse(built_warehouse, tmp_path_factory.mktemp("clean"))
    conn = duckdb.connect(str(path))
    for table, sql in SYNTHETIC_MARTS.items():
        kind = conn.execute(
            "select table_type from information_schema.tables "
            "where table_schema = 'marts' and table_name = ?",
            [table],
        ).fetchone()
        if kind and conn.execute(f"select count(*) from marts.{table}").fetchone()[0]:
            continue
        if kind:
            conn.execute(f"drop {'view' if kind[0] == 'VIEW' else 'table'} marts.{table}")
        conn.execute(f"create table marts.{table} as {sql}")
    conn.close()
    return path


@pytest.fixture
def planted(clean_warehouse, tmp_path):
    """A copy of the clean warehouse; call it with SQL to plant a defect, get the path back."""

    def plant(*statements: str):
        path = copy_warehouse(clean_warehouse, tmp_path)
        conn = duckdb.connect(str(path))
        for sql in statements:
            conn.execute(sql)
        conn.close()
        return path

    return plant


@pytest.mark.parametrize("suite", [s.name for s in load_suites()])
def test_every_suite_passes_on_clean_data(built_warehouse, clean_warehouse, tmp_path, suite):
    schema, _, table = suite.partition(".")
    for path in (built_warehouse, clean_warehouse):
        conn = duckdb.connect(str(path), read_only=True)
        exists = conn.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
        conn.close()
        if exists:
            run = validate(copy_warehouse(path, tmp_path / path.parent.name), suite)
            assert run.severity != "error", failed(run)
            assert not run.skipped, [o.skipped for o in run.skipped]


def test_workers_termination_before_hire_is_an_error(planted):
    path = planted(
        "update raw.hris_workers set termination_date = '2023-12-31', "
        "termination_type = 'voluntary' where employee_id = 'E2'"
    )
    run = validate(path, "raw.hris_workers")
    found = failed(run)[
        "expect_column_pair_values_a_to_be_greater_than_b(termination_date, hire_date)"
    ]
    assert run.severity == "error"
    assert found["unexpected_count"] == 1
    assert found["sample_rows"][0]["employee_id"] == "E2"


def test_job_history_unknown_change_type_is_an_error(planted):
    path = planted(
        "update raw.hris_job_history set change_type = 'promoted' where employee_id='E3'"
    )
    run = validate(path, "raw.hris_job_history")
    found = failed(run)["expect_column_values_to_be_in_set(change_type)"]
    assert run.severity == "error"
    assert found["sample_rows"] == [{"change_type": "promoted", "employee_id": "E3"}]


def test_jobs_duplicate_job_code_is_an_error(planted):
    path = planted("insert into raw.hris_jobs by name select * from raw.hris_jobs limit 1")
    run = validate(path, "raw.hris_jobs")
    assert run.severity == "error"
    assert failed(run)["expect_column_values_to_be_unique(job_code)"]["unexpected_count"] == 2


def test_courses_sharing_an_activity_iri_is_an_error(planted):
    path = planted(
        "update raw.lms_courses set activity_iri = "
        "(select activity_iri from raw.lms_courses where course_id = 'SEC-101')"
    )
    run = validate(path, "raw.lms_courses")
    assert (
        failed(run)["expect_column_values_to_be_between(duplicate_activity_iris)"]["observed"] == 1
    )


def test_enrollment_for_a_course_not_in_the_catalog_is_an_error(planted):
    path = planted("update raw.lms_enrollments set course_id = 'NOPE-404'")
    run = validate(path, "raw.lms_enrollments")
    found = failed(run)["expect_column_values_to_be_in_set(course_in_catalog)"]
    assert run.severity == "error"
    assert found["sample_rows"] == [{"course_in_catalog": False, "enrollment_id": "N1"}]


def test_completion_before_assignment_is_an_error(planted):
    path = planted("update raw.lms_enrollments set completed_date = '2024-04-01'")
    run = validate(path, "raw.lms_enrollments")
    label = "expect_column_pair_values_a_to_be_greater_than_b(completed_date, assigned_date)"
    assert label in failed(run)


def test_extract_half_the_size_of_recent_loads_is_an_error(planted):
    # Five earlier loads of 40 rows; the latest load of the same extract holds 15.
    path = planted(
        "insert into raw.ingested_files (source_table, source_file, sha256, size_bytes, "
        "rows_loaded, rows_quarantined, loaded_at) select 'raw.lms_enrollments', "
        "'lms/enrollments.csv', 'x' || i, 100, case when i = 5 then 15 else 40 end, 0, "
        "timestamp '2030-01-01' + to_days(i::int) from range(6) t(i)"
    )
    run = validate(path, "raw.lms_enrollments")
    found = failed(run)["expect_column_values_to_be_between(latest_load_vs_usual)"]
    assert run.severity == "error"
    assert found["observed"] == pytest.approx(15 / 40)


def as_table(table: str) -> list[str]:
    """Statements making `marts.<table>` a table with the same rows: published facts such as
    fct_learning_activity and fct_risk_tiers are views, and a view cannot take a planted defect."""
    return [
        f"create table marts.planted as select * from marts.{table}",
        f"drop view if exists marts.{table}",
        f"drop table if exists marts.{table}",
        f"alter table marts.planted rename to {table}",
    ]


def planted_activity(planted, replaced: str):
    """A copy of the warehouse whose fct_learning_activity (a view) is a table with columns
    `replaced` (a `select * replace (...)` list)."""
    return planted(
        f"create table marts.planted as select * replace ({replaced}) "
        "from marts.fct_learning_activity",
        "drop view if exists marts.fct_learning_activity",
        "drop table if exists marts.fct_learning_activity",
        "alter table marts.planted rename to fct_learning_activity",
    )


def test_statement_with_an_unknown_verb_is_only_a_warning_with_its_verb(planted):
    first = "statement_id = (select min(statement_id) from marts.fct_learning_activity)"
    path = planted_activity(
        planted,
        f"case when {first} then 'http://example.com/verbs/frobnicated' else verb_id end "
        f"as verb_id, case when {first} then false else is_known_verb end as is_known_verb",
    )
    run = validate(path, "marts.fct_learning_activity")
    found = failed(run)["expect_column_values_to_be_in_set(is_known_verb)"]
    assert run.severity == "warn"
    assert found["sample_rows"][0]["verb_id"] == "http://example.com/verbs/frobnicated"


def test_statement_resolved_to_an_unknown_employee_is_an_error(planted):
    path = planted_activity(
        planted, "case when employee_id = 'E3' then 'GHOST' else employee_id end as employee_id"
    )
    run = validate(path, "marts.fct_learning_activity")
    found = failed(run)["expect_column_values_to_be_in_set(employee_in_dim)"]
    assert run.severity == "error"
    assert {row["statement_id"] for row in found["sample_rows"]}


def test_missing_employee_week_is_an_error(planted):
    path = planted(
        *as_table("fct_engagement_weekly"),
        """delete from marts.fct_engagement_weekly where (employee_id, week_start) in (
            select (employee_id, week_start) from (
                select employee_id, week_start,
                    row_number() over (partition by employee_id order by week_start) as n,
                    count(*) over (partition by employee_id) as weeks
                from marts.fct_engagement_weekly) where n = 2 and weeks >= 3 limit 1)""",
    )
    run = validate(path, "marts.fct_engagement_weekly")
    found = failed(run)["expect_column_values_to_be_between(missing_employee_weeks)"]
    assert found["observed"] == 1


def test_tier_outside_0_to_3_is_an_error(planted):
    path = planted(
        *as_table("fct_risk_tiers"),
        "update marts.fct_risk_tiers set tier = 4 where employee_id = 'E1'",
    )
    run = validate(path, "marts.fct_risk_tiers")
    assert run.severity == "error"
    assert "expect_column_values_to_be_in_set(tier)" in failed(run)


def test_manager_alert_without_manager_is_an_error(planted):
    path = planted(
        "insert into marts.mart_manager_alerts (employee_id, week_start, tier, "
        "recommended_action) values ('E2', date '2024-06-24', 2, 'manager_check_in')"
    )
    run = validate(path, "marts.mart_manager_alerts")
    assert "expect_column_values_to_not_be_null(manager_id)" in failed(run)


def test_unsuppressed_small_trend_cell_is_an_error(planted):
    path = planted(
        # The mart is a view over int_engagement_trends, which holds its rows.
        "update intermediate.int_engagement_trends set is_suppressed = false, employees = 2 "
        "where rowid = (select min(rowid) from intermediate.int_engagement_trends)"
    )
    run = validate(path, "marts.mart_engagement_trends")
    assert "expect_column_values_to_be_between(unsuppressed_small_cells)" in failed(run)


def test_cohort_share_above_one_is_an_error(planted):
    path = planted(
        "update marts.mart_retention_cohorts set bundle_completion_rate = 1.5 "
        "where rowid = (select min(rowid) from marts.mart_retention_cohorts)"
    )
    run = validate(path, "marts.mart_retention_cohorts")
    assert run.severity == "error"
    assert "expect_column_values_to_be_between(bundle_completion_rate)" in failed(run)


def test_cohort_mobility_above_one_is_only_a_warning(planted):
    # Moves per average headcount: two moves by one person in the period count twice.
    path = planted(
        "update marts.mart_retention_cohorts set internal_mobility_rate = 1.5 "
        "where rowid = (select min(rowid) from marts.mart_retention_cohorts)"
    )
    run = validate(path, "marts.mart_retention_cohorts")
    assert run.severity == "warn"
    assert "expect_column_values_to_be_between(internal_mobility_rate)" in failed(run)


def test_duplicate_matched_stratum_is_an_error(planted):
    path = planted(
        "insert into marts.mart_matched_retention select * from marts.mart_matched_retention "
        "where job_code is not null limit 1"
    )
    run = validate(path, "marts.mart_matched_retention")
    assert "expect_column_values_to_be_between(duplicate_strata)" in failed(run)


def test_rising_survival_curve_is_an_error(planted):
    path = planted(
        # A planted curve that rises from month 1 to month 2.
        "insert into marts.mart_survival_curves by name select 'job_family' as group_type, "
        "'planted' as group_value, m as tenure_month, 100 as at_risk, 0 as events, "
        "0 as censored, s as survival, s as ci_lower, s as ci_upper "
        "from (values (1, 0.90), (2, 0.95)) t(m, s)"
    )
    run = validate(path, "marts.mart_survival_curves")
    assert "expect_column_values_to_be_between(survival_increases)" in failed(run)


def test_backtest_rate_above_one_is_an_error(planted):
    path = planted("update marts.mart_tier_backtest set exit_within_90d_rate = 1.2")
    run = validate(path, "marts.mart_tier_backtest")
    assert "expect_column_values_to_be_between(exit_within_90d_rate)" in failed(run)


def test_suites_open_as_a_gx_file_context(tmp_path):
    project = tmp_path / "expectations"
    shutil.copytree(SUITES_DIR.parents[1], project)
    context = gx.get_context(mode="file", project_root_dir=project)
    names = {suite.name for suite in load_suites()}
    assert {suite.name for suite in context.suites.all()} == names
    assert context.suites.get("raw.lms_enrollments").expectations


def test_uniqueness_not_covering_the_batch_key_is_refused(tmp_path):
    suite = tmp_path / "bad.json"
    suite.write_text(
        '{"name": "raw.lms_courses", "meta": {"batch_key": ["course_id"]}, "expectations": '
        '[{"type": "expect_column_values_to_be_unique", "kwargs": {"column": "title"}}]}'
    )
    with pytest.raises(SuiteError, match="bad.json: expectation 1 .*batch_key"):
        load_suite(suite)


def test_alert_feedback_with_an_unknown_status_a_future_week_or_employee_fails_its_suite(planted):
    """Bad feedback rows (docs/extract-contract.md#alert-feedback): a status outside the set and
    a week after the as-of date block publication; an employee the HRIS does not know warns."""
    rows = [
        ("E2", "2024-06-10", "E1", "maybe"),
        ("NOBODY", "2024-06-10", "E1", "acted"),
        ("E3", "2030-01-07", "E1", "acted"),
        ("E2", "2024-06-03", "E1", "not_useful"),
    ]
    path = planted(
        "insert into raw.lms_alert_feedback values "
        + ", ".join(
            f"('{e}', '{w}', '{m}', '{s}', '2024-06-12T09:00:00Z', null, "
            f"'lms/alert_feedback.csv', {line})"
            for line, (e, w, m, s) in enumerate(rows, start=2)
        )
    )
    run = validate(path, "raw.lms_alert_feedback")
    found = failed(run)
    assert run.severity == "error"
    assert found["expect_column_values_to_be_in_set(status)"]["unexpected_count"] == 1
    assert found["expect_column_values_to_be_between(week_start)"]["unexpected_count"] == 1
    unknown = found["expect_column_values_to_be_in_set(employee_in_hris)"]
    assert unknown["severity"] == "warn" and unknown["unexpected_count"] == 1


def test_no_alert_feedback_file_is_an_empty_table_that_passes(clean_warehouse, tmp_path):
    path = copy_warehouse(clean_warehouse, tmp_path)
    assert validate(path, "raw.lms_alert_feedback").failed == []


def test_a_spark_override_must_name_a_column_or_metric_of_the_suite(tmp_path):
    """meta.spark (docs/data-quality.md#on-spark) replaces SQL the suite has; a stray name is
    a typo that would otherwise leave DuckDB's SQL to fail in Spark."""
    suite = tmp_path / "bad.json"
    suite.write_text(
        '{"name": "marts.x", "meta": {"table_metrics": {"rows": "count(*)"}, '
        '"spark": {"table_metrics": {"row": "count(1)"}}}, "expectations": []}'
    )
    with pytest.raises(SuiteError, match="bad.json: meta.spark.table_metrics overrides row"):
        load_suite(suite)
    suite.write_text('{"name": "marts.x", "meta": {"spark": {"filter": "x"}}, "expectations": []}')
    with pytest.raises(SuiteError, match="meta.spark takes .* not filter"):
        load_suite(suite)
    suite.write_text(
        '{"name": "marts.x", "meta": {"table_metrics": {"rows": "count(*)"}, '
        '"spark": {"table_metrics": {"rows": "count(1)"}}}, "expectations": []}'
    )
    assert load_suite(suite).spark_table_metrics == {"rows": "count(1)"}
