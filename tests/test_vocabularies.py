"""Verbs of every common vocabulary count as engagement, the vocabulary seed says which are
completions and assessments, and an unknown verb is a warning with a sample, never a blocker.

The statements are shaped like Open edX's event-routing-backends output (written here from its
public documentation: account actors on the LMS's homePage, activity objects with a type,
`context.contextActivities.parent` pointing at the course, `result.score` on problem checks)."""

from __future__ import annotations

import pytest

from orchestration.defs.quality.suites import CHECK_NAME
from tests.conftest import query, run_pipeline, settings_for
from tests.landing import COURSE_IRI, HOMEPAGE, build_landing, statement_id

pytestmark = pytest.mark.pipeline

COURSE = COURSE_IRI + "PY-201"
UNKNOWN = "https://lms.example.com/xapi/verbs/reacted"
# verb IRI -> (is_completion, is_assessment), as the seed says
VERBS = {
    "https://w3id.org/xapi/acrossx/verbs/evaluated": (False, True),
    "https://w3id.org/xapi/acrossx/verbs/posted": (False, False),
    "https://w3id.org/xapi/acrossx/verbs/edited": (False, False),
    "https://w3id.org/xapi/dod-isd/verbs/navigated": (False, False),
    "https://w3id.org/xapi/video/verbs/played": (False, False),
    "https://w3id.org/xapi/video/verbs/paused": (False, False),
    "https://w3id.org/xapi/video/verbs/seeked": (False, False),
    "http://id.tincanapi.com/verb/viewed": (False, False),
    "http://id.tincanapi.com/verb/earned": (False, False),
    "https://w3id.org/xapi/openedx/verb/voted": (False, False),
    "http://adlnet.gov/expapi/verbs/completed": (True, False),
    "https://w3id.org/xapi/adl/verbs/satisfied": (True, False),
    UNKNOWN: (False, False),
}


def openedx_statement(n: int, verb: str) -> dict:
    body = {
        "id": statement_id(n),
        "actor": {"objectType": "Agent", "account": {"homePage": HOMEPAGE, "name": "E1"}},
        "verb": {"id": verb, "display": {"en": verb.rsplit("/", 1)[-1]}},
        "object": {
            "objectType": "Activity",
            "id": f"{COURSE}/xblock/block-v1:Example+PY201+2024+type@problem+block@{n}",
            "definition": {"type": "http://adlnet.gov/expapi/activities/cmi.interaction"},
        },
        "context": {
            "contextActivities": {
                "parent": [{"id": COURSE, "objectType": "Activity"}],
            },
            "extensions": {"https://w3id.org/xapi/openedx/extension/transformer-version": "x"},
        },
        "timestamp": f"2024-06-{3 + n % 5:02d}T10:{n:02d}:00.000Z",
        "version": "1.0.3",
    }
    if verb.endswith("evaluated"):
        body["result"] = {"score": {"scaled": 0.5, "raw": 1, "min": 0, "max": 2}, "success": False}
    return body


@pytest.fixture(scope="module")
def openedx(tmp_path_factory):
    root = tmp_path_factory.mktemp("openedx")
    build_landing(
        root / "landing", [openedx_statement(n, verb) for n, verb in enumerate(VERBS, start=1)]
    )
    settings = settings_for(root)
    result = run_pipeline(settings)
    return settings, result


def test_an_openedx_feed_builds_and_publishes_every_mart(openedx):
    settings, result = openedx
    assert result.success
    assert (settings.publish_dir / "analytics.duckdb").exists()
    assert query(settings, "select count(*) from marts.fct_learning_activity") == [(len(VERBS),)]


def test_every_verb_counts_as_activity_and_the_seed_decides_the_rest(openedx):
    settings, _ = openedx
    rows = dict(
        (verb_id, (completion, assessment))
        for verb_id, completion, assessment in query(
            settings,
            "select verb_id, is_completion, is_assessment from marts.fct_learning_activity",
        )
    )
    assert rows == VERBS
    weekly = query(
        settings,
        "select sum(activity_count) from intermediate.int_activity_weekly where employee_id = 'E1'",
    )
    assert weekly == [(len(VERBS),)]


def test_an_unknown_verb_is_a_warning_that_names_it(openedx):
    _, result = openedx
    (evaluation,) = [
        e
        for e in result.get_asset_check_evaluations()
        if e.asset_key.to_user_string() == "marts/fct_learning_activity"
        and e.check_name == CHECK_NAME
    ]
    assert not evaluation.passed
    assert evaluation.severity.value == "WARN"
    (failure,) = evaluation.metadata["failures"].value
    assert failure["expectation"] == "expect_column_values_to_be_in_set(is_known_verb)"
    assert [row["verb_id"] for row in failure["sample_rows"]] == [UNKNOWN]
