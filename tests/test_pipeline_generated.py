"""End to end on a generated company: counts tie out from files to facts, a scripted drop-out
climbs the tiers week by week, and the manager view shows it to that manager only."""

from __future__ import annotations

import json
from datetime import date

import pytest

from orchestration.sample_data import generate
from tests.conftest import query, run_pipeline, settings_for

pytestmark = pytest.mark.pipeline

END = date(2026, 11, 22)  # a Sunday: the last complete week starts 2026-11-16
DROPOUT = "E000010"
STOPS = date(2026, 11, 2)  # weeks of 11-02, 11-09 and 11-16 have no learning


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    root = tmp_path_factory.mktemp("company")
    summary = generate(
        root / "landing",
        employees=150,
        months=8,
        seed=11,
        end_date=END,
        dropouts={DROPOUT: STOPS},
    )
    settings = settings_for(root, PIPELINE_AS_OF=END.isoformat())
    result = run_pipeline(settings)
    assert result.success
    manifest = json.loads((root / "landing" / "_generator_manifest.json").read_text())
    return settings, summary, manifest, result


def test_statement_lines_tie_out_to_facts_quarantine_duplicates_and_voided(company):
    settings, summary, _, _ = company
    raw, quarantined, duplicates, voided, facts = query(
        settings,
        """select
            (select count(*) from raw.lms_statements),
            (select count(*) from raw.ingest_quarantine where source_table = 'raw.lms_statements'),
            (select count(*) from raw.lms_statement_duplicates),
            (select count(*) from staging.stg_lms__statements
              where is_voiding or statement_id in (
                select voided_statement_id from staging.stg_lms__statements)),
            (select count(*) from marts.fct_learning_activity)""",
    )[0]
    assert raw == summary.unique_statements
    assert quarantined == summary.malformed_lines
    assert duplicates == summary.duplicate_lines
    assert voided >= summary.voiding_statements
    assert facts + quarantined + duplicates + voided == summary.statement_lines
    assert query(settings, "select count(*) from staging.stg_lms__statements") == [(raw,)]


def test_hris_and_lms_rows_tie_out(company):
    settings, summary, _, _ = company
    assert query(settings, "select count(*) from marts.dim_employee") == [(summary.employees,)]
    csv_quarantined = query(
        settings,
        "select count(*) from raw.ingest_quarantine where source_table = 'raw.lms_enrollments'",
    )[0][0]
    assert csv_quarantined == summary.malformed_csv_rows


def test_unknown_actors_are_visible(company):
    settings, summary, _, _ = company
    unmatched = query(settings, "select coalesce(sum(statements), 0) from marts.unmatched_actors")
    matched_null = query(
        settings, "select count(*) from marts.fct_learning_activity where employee_id is null"
    )
    assert unmatched == matched_null
    assert unmatched[0][0] >= summary.unknown_actor_statements > 0


def test_every_asset_reports_rows(company):
    _, _, _, result = company
    counts = {
        event.asset_key.to_user_string(): event.materialization.metadata.get("dagster/row_count")
        for event in result.get_asset_materialization_events()
    }
    for key in ("raw/lms_statements", "raw/hris_workers", "marts/fct_risk_tiers"):
        assert counts[key] is not None and counts[key].value > 0


def test_scripted_dropout_reaches_tier_1_2_3_on_consecutive_weeks(company):
    settings, *_ = company
    rows = query(
        settings,
        """select week_start, activity_count, tier, recommended_action, reason_codes
        from marts.fct_risk_tiers where employee_id = ? and week_start >= '2026-10-19'
        order by week_start""",
        [DROPOUT],
    )
    weeks = {
        str(week): (activity, tier, action, reasons)
        for week, activity, tier, action, reasons in rows
    }
    assert weeks["2026-10-19"][0] >= 5 and weeks["2026-10-19"][1] == 0
    assert weeks["2026-10-26"][1] == 0
    assert weeks["2026-11-02"] == (0, 1, "nudge", "activity_drop_1w")
    assert weeks["2026-11-09"] == (0, 2, "manager_check_in", "activity_drop_2w")
    assert weeks["2026-11-16"] == (0, 3, "support_plan_escalate", "activity_drop_3w")


def test_manager_view_shows_the_dropout_to_their_manager_only(company):
    settings, *_ = company
    manager = query(
        settings, "select manager_id from marts.dim_employee where employee_id = ?", [DROPOUT]
    )[0][0]
    seen_by = query(
        settings,
        "select manager_id, tier, activity_signal, escalate_to_hr "
        "from marts.mart_manager_alerts where employee_id = ?",
        [DROPOUT],
    )
    assert seen_by == [(manager, 3, "activity down 75-100% for 3 weeks", True)]


def test_manager_view_holds_no_raw_activity(company):
    settings, *_ = company
    columns = query(
        settings,
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'marts' and table_name = 'mart_manager_alerts'",
    )
    names = {name for name, _ in columns}
    assert not names & {"statement_id", "event_at", "verb", "verb_id", "object_id", "payload"}
    assert not [name for name, kind in columns if "TIMESTAMP" in kind]
