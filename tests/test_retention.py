"""Retention, mobility, matched cohorts and survival (docs/retention-and-cohorts.md) on a
hand-built company.

Each test's expected numbers are worked out here, from the people in tests/retention_landing.py.
"""

from __future__ import annotations

import math

import pytest

from tests.conftest import query, run_pipeline, settings_for
from tests.retention_landing import AS_OF, build_retention_landing

pytestmark = pytest.mark.pipeline

Z = 1.959963984540054  # the standard normal 97.5% quantile


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    root = tmp_path_factory.mktemp("retention")
    build_retention_landing(root / "landing")
    settings = settings_for(root, PIPELINE_AS_OF=AS_OF.isoformat())
    result = run_pipeline(settings)
    assert result.success
    return settings


def _row(settings, table: str, columns: str, where: str, params: list):
    rows = query(settings, f"select {columns} from marts.{table} where {where}", params)
    assert len(rows) == 1, rows
    return rows[0]


def _log_log_bounds(survival: float, greenwood: float) -> tuple[float, float]:
    v = math.log(survival)
    spread = Z * math.sqrt(greenwood) / v
    return (
        math.exp(-math.exp(math.log(-v) - spread)),
        math.exp(-math.exp(math.log(-v) + spread)),
    )


def test_kaplan_meier_with_censoring_matches_hand_calculation(company):
    # Eight hires: voluntary exits at 20 and 50 (twice) days; censored at 40 (involuntary),
    # 75 (other) and 181 days (three still employed on the as-of date).
    # Day 20: 8 at risk, 1 exit -> S = 7/8. Day 50: 6 at risk (the day-40 exit is censored, not
    # an event), 2 exits -> S = 7/8 * 4/6 = 7/12. Greenwood: 1/(8*7), then + 2/(6*4).
    rows = query(
        company,
        """select tenure_month, at_risk, events, censored, survival, ci_lower, ci_upper,
                  is_suppressed
           from marts.mart_survival_curves
           where group_type = 'job_family' and group_value = 'survival_lab'
           order by tenure_month""",
    )
    by_month = {r[0]: r[1:] for r in rows}
    # Months 0-6: day 181 is in month ceil(181 / 30.4375) = 6.
    assert sorted(by_month) == list(range(7))
    assert by_month[0][:4] == (8, 0, 0, 1.0)
    assert by_month[0][4:6] == (1.0, 1.0)
    # Month 1 ends at 30.4375 days; month 2 at 60.875 days.
    assert by_month[1][:3] == (8, 1, 0)
    assert by_month[1][3] == pytest.approx(7 / 8, abs=1e-12)
    assert by_month[1][4:6] == pytest.approx(_log_log_bounds(7 / 8, 1 / 56), abs=1e-12)
    assert by_month[2][:3] == (7, 2, 1)
    assert by_month[2][3] == pytest.approx(7 / 12, abs=1e-12)
    assert by_month[2][4:6] == pytest.approx(_log_log_bounds(7 / 12, 1 / 56 + 2 / 24), abs=1e-12)
    # From month 3 fewer than five are at risk: the rows are suppressed.
    assert all(by_month[m] == (None,) * 6 + (True,) for m in range(3, 7))


def test_kaplan_meier_bounds_stay_within_zero_and_one(company):
    rows = query(
        company,
        "select min(ci_lower), max(ci_upper), bool_and(ci_lower <= survival"
        " and survival <= ci_upper) from marts.mart_survival_curves",
    )
    low, high, ordered = rows[0]
    assert low >= 0.0 and high <= 1.0 and ordered


def test_annualized_voluntary_turnover_is_exits_per_person_year(company):
    # Six people all year (2023-07-02 to 2024-06-30, 365 days); two leave voluntarily after 90
    # days (2023-09-29) and 275 days (2024-04-01): 4 * 365 + 90 + 275 = 1825 person-days, an
    # average headcount of 5.0, so 2 exits / 5.0 = 0.4 a year. One promotion: mobility 1 / 5.
    headcount, average, exits, rate, mobility, suppressed = _row(
        company,
        "mart_retention_cohorts",
        "headcount, average_headcount, voluntary_exits, voluntary_turnover_rate,"
        " internal_mobility_rate, is_suppressed",
        "department = ? and tenure_band = ?",
        ["Turnover", "5y+"],
    )
    assert (headcount, exits, suppressed) == (6, 2, False)
    assert average == pytest.approx(5.0)
    assert rate == pytest.approx(0.4)
    assert mobility == pytest.approx(0.2)


def test_a_cell_is_only_as_large_as_its_average_headcount(company):
    # The Kaplan-Meier hires, employed from 2024-01-01: 21 + 41 + 51 + 51 + 76 + 3 * 182 = 786
    # person-days, i.e. an average headcount of 786 / 365 = 2.15 although 8 people passed
    # through: rates over it (3 exits would read 1.39 a person-year) are suppressed as a cell of 2.
    row = _row(
        company,
        "mart_retention_cohorts",
        "headcount, voluntary_turnover_rate, voluntary_exits, is_suppressed",
        "hire_quarter = ? and job_code = ? and tenure_band = ?",
        ["2024-Q1", "LAB-1", "<6m"],
    )
    assert row == (None, None, None, True)


def test_cohort_of_four_is_suppressed_and_of_five_is_not(company):
    four = _row(
        company,
        "mart_retention_cohorts",
        "headcount, voluntary_exits, voluntary_turnover_rate, is_suppressed",
        "hire_quarter = ? and department = ?",
        ["2020-Q1", "Small"],
    )
    five = _row(
        company,
        "mart_retention_cohorts",
        "headcount, voluntary_exits, voluntary_turnover_rate, is_suppressed",
        "hire_quarter = ? and department = ?",
        ["2020-Q2", "Small"],
    )
    assert four == (None, None, None, True)
    assert five == (5, 0, 0.0, False)


def test_outcomes_are_not_yet_observable_at_364_days_and_are_at_365(company):
    columns = "retained_90d, retained_180d, retained_365d, voluntary_exit_12m, internal_move_12m"
    where = "employee_id = ?"
    assert _row(company, "fct_retention_outcomes", columns, where, ["OBS364"]) == (
        True,
        True,
        None,
        None,
        None,
    )
    assert _row(company, "fct_retention_outcomes", columns, where, ["OBS365"]) == (
        True,
        True,
        True,
        False,
        False,
    )


def test_outcomes_known_before_a_year_when_the_person_left(company):
    # KM1 left voluntarily after 20 days: not retained at 90 days, a voluntary exit within 12
    # months, known long before the year is up. KM2's involuntary exit censors the 12 months.
    columns = "retained_90d, retained_365d, voluntary_exit_12m, is_censored_12m"
    assert _row(company, "fct_retention_outcomes", columns, "employee_id = ?", ["KM1"]) == (
        False,
        False,
        True,
        False,
    )
    assert _row(company, "fct_retention_outcomes", columns, "employee_id = ?", ["KM2"]) == (
        False,
        False,
        False,
        True,
    )


def test_completer_reaches_the_threshold_within_the_window(company):
    # One of the four ENG-1 bundle courses 30 days after the hire: 0.25, exactly the threshold.
    assert _row(
        company,
        "fct_bundle_progress",
        "bundle_courses, completion_share, is_completer",
        "employee_id = ?",
        ["MA1"],
    ) == (4, 0.25, True)
    assert _row(
        company, "fct_bundle_progress", "completion_share, is_completer", "employee_id = ?", ["MA4"]
    ) == (0.0, False)


def test_matched_difference_is_completer_weighted_over_two_strata(company):
    # 2022-Q3: completers retain 2/3, non-completers 1/3 (difference 1/3; MA7 left before the
    # completion window closed and is not compared). 2022-Q4: 2/2 against 3/4 (difference 1/4;
    # MB7's involuntary exit censors them). 2023-Q1 has completers only and is left out.
    # Weights 3/5 and 2/5: D = 0.6 * 1/3 + 0.4 * 1/4 = 0.3.
    # Var = 0.6^2 * (2/3*1/3/3 + 1/3*2/3/3) + 0.4^2 * (0 + 3/4*1/4/4) = 0.36*4/27 + 0.16*3/64.
    strata = query(
        company,
        """select hire_quarter, completers, non_completers, completer_retention_12m,
                  non_completer_retention_12m, retention_difference
           from marts.mart_matched_retention
           where row_type = 'stratum' and department = 'Matched' order by hire_quarter""",
    )
    assert [s[:3] for s in strata] == [("2022-Q3", 3, 3), ("2022-Q4", 2, 4)]
    assert strata[0][3:] == pytest.approx((2 / 3, 1 / 3, 1 / 3))
    assert strata[1][3:] == pytest.approx((1.0, 0.75, 0.25))

    overall = _row(
        company,
        "mart_matched_retention",
        "matched_employees, completers, non_completers, retention_difference, ci_lower,"
        " ci_upper, unmatched_employees, is_suppressed",
        "row_type = ?",
        ["overall"],
    )
    variance = 0.36 * 4 / 27 + 0.16 * 3 / 64
    assert overall[:3] == (12, 5, 7)
    assert overall[3:6] == pytest.approx(
        (0.3, 0.3 - Z * math.sqrt(variance), 0.3 + Z * math.sqrt(variance))
    )
    assert overall[6:] == (3, False)
