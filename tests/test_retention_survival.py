"""The Kaplan-Meier table (docs/retention-and-cohorts.md#survival-curves) on a generated company
equals lifelines' KaplanMeierFitter."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from orchestration.sample_data import generate
from tests.conftest import query, run_pipeline, settings_for

pytestmark = pytest.mark.pipeline

lifelines = pytest.importorskip("lifelines")

AS_OF = date(2026, 11, 22)
DAYS_PER_MONTH = 30.4375
MIN_CELL_SIZE = 5


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("generated_retention")
    generate(root / "landing", employees=300, months=18, seed=7, end_date=AS_OF)
    settings = settings_for(root, PIPELINE_AS_OF=AS_OF.isoformat())
    assert run_pipeline(settings).success
    return settings


def _subjects(settings) -> list[tuple[str, str, int, bool]]:
    """(group_type, group_value, tenure_days, voluntary exit) from the HRIS extract itself;
    only the group labels (job family at hire, completer) come from fct_retention_outcomes."""
    rows = query(
        settings,
        f"""
        with spells as (
            select
                employee_id,
                case when termination_date <= date '{AS_OF}' then termination_date
                     else date '{AS_OF}' end - hire_date as tenure_days,
                coalesce(termination_date <= date '{AS_OF}'
                         and termination_type = 'voluntary', false) as is_event
            from staging.stg_hris__workers
            where hire_date <= date '{AS_OF}'
        )
        select 'all', 'all', s.tenure_days, s.is_event from spells s
        union all
        select 'job_family', o.job_family_at_hire, s.tenure_days, s.is_event
        from spells s join marts.fct_retention_outcomes o using (employee_id)
        union all
        select 'completer', case when o.is_completer then 'completer' else 'non_completer' end,
               s.tenure_days, s.is_event
        from spells s join marts.fct_retention_outcomes o using (employee_id)
        where o.is_completer is not null and s.tenure_days >= 90
        """,
    )
    return rows


def _expected_curves(subjects) -> dict[tuple[str, str, int], tuple]:
    groups: dict[tuple[str, str], list[tuple[int, bool]]] = {}
    for group_type, group_value, tenure, event in subjects:
        groups.setdefault((group_type, group_value), []).append((tenure, event))
    expected = {}
    for (group_type, group_value), members in groups.items():
        durations = np.array([m[0] for m in members], dtype=float)
        events = np.array([m[1] for m in members], dtype=bool)
        kmf = lifelines.KaplanMeierFitter().fit(durations, events)
        bounds = kmf.confidence_interval_survival_function_
        for month in range(int(np.ceil(durations.max() / DAYS_PER_MONTH)) + 1):
            end, start = month * DAYS_PER_MONTH, (month - 1) * DAYS_PER_MONTH
            in_month = (durations <= end) & (durations > start if month else True)
            at_risk = int((durations > start).sum()) if month else len(durations)
            lower, upper = bounds.loc[bounds.index[bounds.index <= end].max()].values
            expected[(group_type, group_value, month)] = (
                at_risk,
                int((in_month & events).sum()),
                int((in_month & ~events).sum()),
                float(kmf.survival_function_at_times(end).iloc[0]),
                float(lower),
                float(upper),
            )
    return expected


def test_survival_table_equals_lifelines_kaplan_meier(generated):
    expected = _expected_curves(_subjects(generated))
    actual = {
        (r[0], r[1], r[2]): r[3:]
        for r in query(
            generated,
            "select group_type, group_value, tenure_month, at_risk, events, censored, survival,"
            " ci_lower, ci_upper, is_suppressed from marts.mart_survival_curves",
        )
    }
    assert set(actual) == set(expected)
    assert {k[0] for k in actual} == {"all", "completer", "job_family"}
    compared = 0
    for key, (at_risk, events, censored, survival, lower, upper) in expected.items():
        *measures, suppressed = actual[key]
        if at_risk < MIN_CELL_SIZE:
            assert suppressed and measures == [None] * 6, key
            continue
        assert not suppressed and measures[:3] == [at_risk, events, censored], key
        assert measures[3:] == pytest.approx([survival, lower, upper], abs=1e-9, rel=0), key
        compared += 1
    assert compared > 300


def test_curves_start_at_one_and_never_rise(generated):
    rows = query(
        generated,
        """select group_type, group_value, tenure_month, survival
           from marts.mart_survival_curves where not is_suppressed
           order by group_type, group_value, tenure_month""",
    )
    previous: dict[tuple[str, str], float] = {}
    for group_type, group_value, month, survival in rows:
        key = (group_type, group_value)
        if month == 0:
            assert survival == pytest.approx(1.0)
        assert survival <= previous.get(key, 1.0) + 1e-15
        previous[key] = survival


def test_every_retention_mart_is_built(generated):
    for table in (
        "fct_bundle_progress",
        "fct_retention_outcomes",
        "mart_retention_cohorts",
        "mart_retention_cohorts_by_manager",
        "mart_matched_retention",
        "mart_survival_curves",
        "mart_tier_backtest",
    ):
        assert query(generated, f"select count(*) from marts.{table}")[0][0] > 0, table
