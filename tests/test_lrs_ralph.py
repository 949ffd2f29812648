"""Pulling statements from a real LRS (Ralph 5.1.0, started by these tests on 127.0.0.1)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from orchestration.definitions import build_definitions
from orchestration.defs.lrs import pull
from orchestration.defs.lrs.assets import LRS_ASSET_KEY
from orchestration.defs.lrs.client import LrsClient
from tests.conftest import query, run_pipeline, settings_for
from tests.landing import account, build_landing, mbox, statement, statement_id
from tests.lrs_server import PASSWORD, USER, RalphServer, ralph_executable

pytestmark = pytest.mark.pipeline

LRS_ASSET = LRS_ASSET_KEY.to_user_string()


@pytest.fixture(scope="module")
def ralph() -> Path:
    return ralph_executable()


@pytest.fixture
def lrs(tmp_path: Path, ralph: Path):
    server = RalphServer(tmp_path / "ralph", ralph).start()
    yield server
    server.stop()


def lrs_settings(root: Path, server: RalphServer, **overrides: str):
    lrs = {
        "PIPELINE_LRS_URL": server.endpoint,
        "PIPELINE_LRS_USER": USER,
        "PIPELINE_LRS_PASSWORD": PASSWORD,
        "PIPELINE_LRS_ATTEMPTS": "2",
    }
    return settings_for(root, **(lrs | overrides))


def generated(first: int, count: int) -> list[dict]:
    """Statements as an LMS sends them (no `stored`: the LRS stamps it), numbered from `first`."""
    actors = [account("E1"), mbox("grace@example.com"), account("E3")]
    return [
        statement(n, actors[n % 3], timestamp=f"2024-06-{3 + n % 20:02d}T10:00:00Z", stored=None)
        for n in range(first, first + count)
    ]


def pull_once(settings):
    result = run_pipeline(settings, LRS_ASSET)
    metadata = {}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        if materialization.asset_key == LRS_ASSET_KEY:
            metadata = {key: value.value for key, value in materialization.metadata.items()}
    return result, metadata


def failure_text(result) -> str:
    return "\n".join(
        f"{event.message} {event.event_specific_data.error.to_string()}"
        for event in result.get_step_failure_events()
    )


def raw_ids(settings) -> list[str]:
    return [
        row[0]
        for row in query(
            settings, "select statement_id::varchar from raw.lms_statements order by all"
        )
    ]


def raw_tables(settings) -> set[str]:
    rows = query(settings, "select table_name from information_schema.tables")
    return {row[0] for row in rows}


def test_each_run_pulls_exactly_the_new_statements(tmp_path, lrs):
    posted = lrs.post(generated(1, 30))
    settings = lrs_settings(tmp_path, lrs)

    result, first = pull_once(settings)
    assert result.success, failure_text(result)
    assert (first["rows_loaded"], first["since"], first["cursor_before"]) == (30, "none", "none")
    assert PASSWORD not in repr(result.all_events)  # neither logged nor in metadata
    assert raw_ids(settings) == sorted(posted)
    [(cursor,)] = query(settings, "select last_stored from raw.lrs_cursor")
    assert first["cursor_after"] == cursor.isoformat() + "Z"

    # More arrive, one of them stored at the very instant the cursor holds (`since` excludes it).
    later = [statement(n, account("E2"), stored=None) | {"timestamp": None} for n in (31, 32, 33)]
    lrs.append(later[:1], stored=cursor.isoformat() + "+00:00")
    lrs.append(later[1:])
    result, second = pull_once(settings)
    assert result.success, failure_text(result)
    assert second["rows_loaded"] == 3
    assert second["already_loaded"] == second["statements_received"] - 3
    assert raw_ids(settings) == sorted(posted + [statement_id(n) for n in (31, 32, 33)])
    assert query(settings, "select count(*) from raw.lms_statement_duplicates") == [(0,)]
    assert query(settings, "select count(*) from raw.ingest_quarantine") == [(0,)]

    result, third = pull_once(settings)
    assert result.success and third["rows_loaded"] == 0
    assert len(raw_ids(settings)) == 33
    assert query(settings, "select count(*) from raw.lms_statement_duplicates") == [(0,)]


def test_statements_stored_late_with_old_timestamps_are_all_pulled(tmp_path, lrs):
    """Ralph filters `since` on `timestamp`: a statement stored after the cursor but dated
    before it is invisible to an incremental pull. The sweep finds it, once."""
    posted = lrs.post(generated(1, 30))
    settings = lrs_settings(tmp_path, lrs)
    result, first = pull_once(settings)
    assert result.success and first["rows_loaded"] == 30

    # An offline app syncs: stored now, dated weeks before anything pulled so far.
    late = [
        statement(n, account("E2"), timestamp="2024-05-02T10:00:00Z", stored=None)
        for n in range(31, 41)
    ]
    lrs.append(late)
    result, incremental = pull_once(settings)
    assert result.success and incremental["mode"] == "since the cursor"
    assert incremental["rows_loaded"] == 0  # what an overlap window alone would lose

    # The sweep is due (PIPELINE_LRS_SWEEP_HOURS, default 24, has passed).
    query(settings, "update raw.lrs_cursor set last_sweep_at = last_sweep_at - interval 25 hour")
    result, sweep = pull_once(settings)
    assert result.success, failure_text(result)
    assert sweep["mode"] == "sweep (every statement)"
    assert (sweep["rows_loaded"], sweep["already_loaded"]) == (10, 30)
    assert raw_ids(settings) == sorted(posted + [statement_id(n) for n in range(31, 41)])
    assert query(settings, "select count(*) from raw.lms_statement_duplicates") == [(0,)]

    # Sweeping every pull (0 hours) loads nothing twice.
    settings = lrs_settings(tmp_path, lrs, PIPELINE_LRS_SWEEP_HOURS="0")
    result, again = pull_once(settings)
    assert again["mode"] == "sweep (every statement)"
    assert (again["rows_loaded"], again["already_loaded"]) == (0, 40)
    assert query(settings, "select count(*) from raw.lms_statement_duplicates") == [(0,)]


def test_pages_are_followed_through_more_links_to_the_end(tmp_path, lrs):
    posted = lrs.post(generated(1, 25))
    settings = lrs_settings(tmp_path, lrs, PIPELINE_LRS_LIMIT="5")

    result, metadata = pull_once(settings)

    assert result.success, failure_text(result)
    # 25 is a multiple of 5: Ralph ends with an empty sixth page (LRS-NOTES #5).
    assert (metadata["pages"], metadata["statements_received"]) == (6, 25)
    assert raw_ids(settings) == sorted(posted)


def test_wrong_password_fails_clearly_and_writes_nothing(tmp_path, lrs):
    lrs.post(generated(1, 5))
    settings = lrs_settings(tmp_path, lrs, PIPELINE_LRS_PASSWORD="not-the-password")

    result, _ = pull_once(settings)

    assert not result.success
    message = failure_text(result)
    assert "HTTP 401" in message and lrs.endpoint + "statements" in message
    assert "PIPELINE_LRS_PASSWORD" in message
    assert "not-the-password" not in message
    assert not {"lms_statements", "lrs_cursor", "ingest_quarantine"} & raw_tables(settings)


def test_lrs_stopped_mid_pull_fails_and_the_next_run_resumes_without_loss(
    tmp_path, lrs, monkeypatch
):
    posted = lrs.post(generated(1, 40))
    settings = lrs_settings(tmp_path, lrs, PIPELINE_LRS_LIMIT="10")
    monkeypatch.setattr(pull, "BATCH_STATEMENTS", 10)  # commit every page
    real_page = LrsClient._page
    served = []

    def page_then_stop_after_two(self, url, params):
        page = real_page(self, url, params)
        served.append(url)
        if len(served) == 2:
            lrs.stop()
        return page

    monkeypatch.setattr(LrsClient, "_page", page_then_stop_after_two)
    result, _ = pull_once(settings)
    monkeypatch.setattr(LrsClient, "_page", real_page)

    assert not result.success
    message = failure_text(result)
    assert "failed 2 time(s)" in message and "cursor stays at none" in message
    assert len(raw_ids(settings)) == 20  # the pages before the stop are kept
    assert "lrs_cursor" not in raw_tables(settings)

    lrs.start()
    result, resumed = pull_once(settings)

    assert result.success, failure_text(result)
    assert (resumed["rows_loaded"], resumed["already_loaded"]) == (20, 20)
    assert raw_ids(settings) == sorted(posted)
    assert query(settings, "select count(*) from raw.lms_statement_duplicates") == [(0,)]
    assert query(settings, "select count(*) from raw.lrs_cursor") == [(1,)]


def test_pulled_statements_flow_to_the_marts_like_file_statements(tmp_path, lrs):
    # Statement 1 is both in a file and in the LRS; statement 3 is voided through the LRS.
    build_landing(tmp_path / "landing", [statement(1, account("E1"))])
    lrs.post(
        [
            statement(1, account("E1"), stored=None),
            statement(2, mbox("grace@example.com"), stored=None),
            statement(3, account("E3"), stored=None),
            statement(4, account("E3"), verb="voided", stored=None)
            | {"object": {"objectType": "StatementRef", "id": statement_id(3)}},
        ]
    )
    settings = lrs_settings(tmp_path, lrs)

    result = run_pipeline(settings)

    assert result.success, failure_text(result)
    assert query(
        settings,
        "select statement_id::varchar, employee_id from marts.fct_learning_activity order by 1",
    ) == [(statement_id(1), "E1"), (statement_id(2), "E2")]
    assert query(settings, "select count(*) from raw.lms_statements") == [(4,)]
    assert query(settings, "select count(*) from raw.lms_statement_duplicates") == [(1,)]


def test_the_pull_runs_before_the_statement_files_load(tmp_path):
    graph = build_definitions(settings_for(tmp_path)).resolve_asset_graph()
    assert LRS_ASSET_KEY in graph.get(dg.AssetKey(["raw", "lms_statements"])).parent_keys


def test_without_an_lrs_the_pull_does_nothing_and_succeeds(tmp_path):
    settings = settings_for(tmp_path)

    result, metadata = pull_once(settings)

    assert result.success
    assert metadata == {"lrs": "not configured", "rows_loaded": 0}
    assert "lms_statements" not in raw_tables(settings)
