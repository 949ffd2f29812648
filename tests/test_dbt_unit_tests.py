"""Every dbt unit test (the tier rule line by line, the baseline, milestones) as a pytest test.

The given/expect rows live beside the models in dbt_project/models/**/_*.yml; this module runs
them once against a warehouse whose upstream relations exist and reports each by name.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import yaml

from orchestration.defs.dbt.project import dbt_executable
from orchestration.settings import DBT_PROJECT_DIR
from tests.conftest import run_pipeline, settings_for
from tests.landing import build_landing

pytestmark = pytest.mark.pipeline


def _unit_test_names() -> list[str]:
    names = []
    for path in sorted((DBT_PROJECT_DIR / "models").rglob("*.yml")):
        document = yaml.safe_load(path.read_text()) or {}
        names += [test["name"] for test in document.get("unit_tests", [])]
    return names


UNIT_TESTS = _unit_test_names()


def test_the_tier_rule_has_unit_tests():
    assert len(UNIT_TESTS) >= 15


@pytest.fixture(scope="module")
def unit_test_results(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("dbt_unit")
    build_landing(root / "landing")
    settings = settings_for(root)
    assert run_pipeline(settings).success  # unit tests need their parents' relations to exist
    target = root / "target"
    completed = subprocess.run(
        [dbt_executable(), "test", "--select", "test_type:unit", "--target-path", str(target)],
        cwd=DBT_PROJECT_DIR,
        env=os.environ | settings.dbt_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    results = json.loads((target / "run_results.json").read_text())["results"]
    statuses = {r["unique_id"].rsplit(".", 1)[-1]: r["status"] for r in results}
    assert statuses, completed.stdout[-3000:]
    return statuses


@pytest.mark.parametrize("name", UNIT_TESTS)
def test_dbt_unit_test(unit_test_results, name):
    assert unit_test_results.get(name) == "pass", (
        f"dbt unit test {name}: {unit_test_results.get(name)}"
    )
