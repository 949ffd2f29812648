"""Identity resolution, voiding, course mapping and measures, through Dagster
(docs/extract-contract.md#identity-and-mapping)."""

from __future__ import annotations

import pytest

from tests.conftest import query, run_pipeline, settings_for
from tests.landing import (
    COURSE_IRI,
    account,
    build_landing,
    mbox,
    sha1_actor,
    statement,
    statement_id,
)

pytestmark = pytest.mark.pipeline

STATEMENTS = [
    statement(1, account("E1")),
    statement(2, mbox("ADA.lovelace@EXAMPLE.com")),  # mbox matches case-insensitively
    statement(3, sha1_actor("alan@example.com")),
    statement(4, sha1_actor("Ada.Lovelace@Example.com")),  # sha1 of the address as delivered
    statement(5, mbox("stranger@elsewhere.org")),
    statement(6, mbox("stranger@elsewhere.org")),
    statement(7, account("E2", homepage="https://other-lms.example.org")),
    statement(8, account("E2")),
    statement(9, account("E2"), verb="voided", obj=statement_id(8))
    | {"object": {"objectType": "StatementRef", "id": statement_id(8)}},
    statement(
        10,
        account("E1"),
        obj=COURSE_IRI + "PY-201/modules/3",
        context={"contextActivities": {"parent": [{"id": COURSE_IRI + "PY-201"}]}},
    ),
    statement(
        11,
        account("E1"),
        obj="https://wiki.example.com/page/42",
        context={"contextActivities": {"grouping": {"id": COURSE_IRI + "SEC-101"}}},
    ),
    # Sunday 23:30 UTC is Monday 01:30 in Paris: a new ISO week there.
    statement(12, account("E3"), timestamp="2024-06-02T23:30:00Z"),
    statement(13, account("E3"), result={"duration": "PT5H"}),
    statement(14, account("E3"), result={"duration": "PT1H30M"}),
    statement(15, account("E3"), verb="scored", result={"score": {"raw": 8, "min": 0, "max": 10}}),
    statement(16, account("E3"), verb="failed", result={"score": {"scaled": -0.5}}),
    statement(17, account("E3"), verb="passed", obj=COURSE_IRI + "SEC-101"),
    statement(18, account("E3"), timestamp=None, stored="2024-06-05T08:00:00Z")
    | {"timestamp": None},
    statement(19, account("E2"), obj="https://wiki.example.com/page/7"),
    # xAPI forbids a scaled score above 1: an LRS would refuse it, so it is quarantined.
    statement(20, account("E1"), verb="scored", result={"score": {"scaled": 7.5}}),
    "{broken",
    statement(1, account("E1")),  # a duplicate
]


@pytest.fixture(scope="module")
def paris_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("paris")
    statements = [dict(s) for s in STATEMENTS[:-2]] + STATEMENTS[-2:]
    for s in statements:
        if isinstance(s, dict) and s.get("timestamp") is None:
            s.pop("timestamp", None)
    build_landing(root / "landing", statements)
    settings = settings_for(root, PIPELINE_TIMEZONE="Europe/Paris")
    result = run_pipeline(settings)
    assert result.success
    return settings, result


@pytest.fixture(scope="module")
def paris(paris_run):
    return paris_run[0]


def test_a_scaled_score_above_one_is_quarantined_and_reaches_no_mart(paris):
    assert query(
        paris,
        "select reason from raw.ingest_quarantine where raw_text like ?",
        [f"%{statement_id(20)}%"],
    ) == [("result.score.scaled 7.5 is outside [-1, 1] (xAPI 1.0.3 Score)",)]
    assert _fact(paris, 20, "statement_id") is None
    assert query(paris, "select max(avg_scaled_score) from marts.fct_engagement_weekly")[0][0] < 1


def test_a_negative_scaled_score_counts_as_zero_and_is_counted(paris_run):
    settings, result = paris_run
    assert _fact(settings, 16, "scaled_score, is_score_clamped") == (0.0, True)
    (materialization,) = [
        e.event_specific_data.materialization
        for e in result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == "intermediate/int_learning_activity"
    ]
    counts = {k: v.value for k, v in materialization.metadata.items()}
    assert counts["scores_counted_as_zero"] == 1
    assert counts["durations_capped_at_240_minutes"] == 1  # statement 13, PT5H


def _fact(settings, n: int, columns: str):
    rows = query(
        settings,
        f"select {columns} from marts.fct_learning_activity where statement_id = ?",
        [statement_id(n)],
    )
    return rows[0] if rows else None


def test_actor_resolves_by_account_then_mbox_then_sha1(paris):
    assert _fact(paris, 1, "employee_id, identity_method") == ("E1", "account")
    assert _fact(paris, 2, "employee_id, identity_method") == ("E1", "mbox")
    assert _fact(paris, 3, "employee_id, identity_method") == ("E3", "mbox_sha1sum")
    assert _fact(paris, 4, "employee_id, identity_method") == ("E1", "mbox_sha1sum")


def test_any_account_homepage_matches_while_the_variable_is_unset(paris):
    assert _fact(paris, 7, "employee_id") == ("E2",)


def test_account_homepage_must_match_when_the_variable_is_set(tmp_path):
    build_landing(tmp_path / "landing", [STATEMENTS[0], STATEMENTS[6]])
    settings = settings_for(tmp_path, PIPELINE_ACCOUNT_HOMEPAGE="https://lms.example.com/")
    assert run_pipeline(settings).success
    assert _fact(settings, 1, "employee_id") == ("E1",)
    assert _fact(settings, 7, "employee_id") == (None,)
    assert query(settings, "select actor_key, statements from marts.unmatched_actors") == [
        ("account:https://other-lms.example.org|E2", 1)
    ]


def test_unmatched_actors_are_counted_not_dropped(paris):
    assert _fact(paris, 5, "employee_id, actor_key") == (None, "mbox:stranger@elsewhere.org")
    assert query(paris, "select actor_key, statements from marts.unmatched_actors") == [
        ("mbox:stranger@elsewhere.org", 2)
    ]


def test_voided_statement_and_the_voiding_statement_are_not_activity(paris):
    assert _fact(paris, 8, "1") is None
    assert _fact(paris, 9, "1") is None
    assert query(
        paris, "select count(*) from raw.lms_statements where statement_id = ?", [statement_id(8)]
    ) == [(1,)]


def test_object_maps_to_course_directly_or_through_context(paris):
    assert _fact(paris, 1, "course_id") == ("PY-201",)
    assert _fact(paris, 10, "course_id") == ("PY-201",)
    assert _fact(paris, 11, "course_id") == ("SEC-101",)
    # A statement about no course still counts as activity.
    assert _fact(paris, 19, "course_id, employee_id") == (None, "E2")


def test_event_time_and_week_are_in_the_company_time_zone(paris):
    event_at, event_date, week_start = _fact(paris, 12, "event_at, event_date, week_start")
    assert (event_at.hour, event_at.minute) == (1, 30)
    assert str(event_date) == "2024-06-03" and str(week_start) == "2024-06-03"
    assert str(_fact(paris, 1, "week_start")[0]) == "2024-06-03"


def test_event_time_falls_back_to_stored(paris):
    assert str(_fact(paris, 18, "event_date")[0]) == "2024-06-05"


def test_minutes_come_from_duration_capped_at_240(paris):
    assert _fact(paris, 13, "learning_minutes") == (240.0,)
    assert _fact(paris, 14, "learning_minutes") == (90.0,)
    assert _fact(paris, 1, "learning_minutes") == (None,)


def test_scaled_score_from_raw_min_max_and_clamped(paris):
    assert _fact(paris, 15, "scaled_score, is_assessment") == (0.8, True)
    assert _fact(paris, 16, "scaled_score, is_assessment, is_completion") == (0.0, True, False)
    assert _fact(paris, 17, "is_assessment, is_completion") == (True, True)
    assert _fact(paris, 1, "scaled_score, is_assessment, is_completion") == (None, False, False)


def test_statements_in_tie_out_to_facts_quarantine_duplicates_and_voided(paris):
    lines = len(STATEMENTS)
    facts, quarantined, duplicates, voided = query(
        paris,
        """select
            (select count(*) from marts.fct_learning_activity),
            (select count(*) from raw.ingest_quarantine
              where source_table = 'raw.lms_statements'),
            (select count(*) from raw.lms_statement_duplicates),
            (select count(*) from staging.stg_lms__statements s
              where is_voiding or statement_id in (
                select voided_statement_id from staging.stg_lms__statements))""",
    )[0]
    assert (quarantined, duplicates, voided) == (2, 1, 2)
    assert facts + quarantined + duplicates + voided == lines
