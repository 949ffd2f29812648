"""The code location loads once with every asset, check and job the README promises."""

from __future__ import annotations

import dagster as dg
import pytest

from orchestration.definitions import build_definitions
from orchestration.defs.ingest.contract import CSV_EXTRACTS
from tests.conftest import settings_for

MARTS = [
    "dim_employee",
    "dim_course",
    "fct_learning_activity",
    "unmatched_actors",
    "fct_engagement_weekly",
    "fct_milestones",
    "fct_risk_tiers",
    "mart_manager_alerts",
    "mart_engagement_trends",
]


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    return build_definitions(settings_for(tmp_path_factory.mktemp("defs"))).resolve_asset_graph()


def test_every_extract_and_mart_is_an_asset(graph):
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    for extract in CSV_EXTRACTS:
        assert f"raw/{extract.table}" in keys
    assert "raw/lms_statements" in keys
    for mart in MARTS:
        assert f"marts/{mart}" in keys
    assert "config/role_thresholds" in keys


def test_marts_are_downstream_of_raw_assets(graph):
    upstream = graph.get(dg.AssetKey(["marts", "fct_risk_tiers"])).parent_keys
    ancestors = set(upstream)
    frontier = list(upstream)
    while frontier:
        parents = graph.get(frontier.pop()).parent_keys
        frontier += [p for p in parents if p not in ancestors]
        ancestors |= parents
    assert dg.AssetKey(["raw", "lms_statements"]) in ancestors
    assert dg.AssetKey(["raw", "hris_workers"]) in ancestors


def test_dbt_tests_are_asset_checks(graph):
    checks = {key.name for key in graph.asset_check_keys}
    assert "unique_fct_learning_activity_statement_id" in checks
    assert any(name.startswith("unique_combination_fct_risk_tiers") for name in checks)
