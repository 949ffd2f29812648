"""The incremental models' rows are rebuilt whole when what they were computed from changes (a
seed like the verb vocabulary, their SQL, a macro they call), and only then."""

from __future__ import annotations

import copy
import json

import pytest

from orchestration.defs.dbt.builds import stored_rows_fingerprint
from orchestration.defs.dbt.project import dbt_project

INCREMENTAL = "model.retention_pipeline.int_learning_activity"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(dbt_project.manifest_path.read_text())


def changed(manifest: dict, section: str, uid: str, key: str) -> str:
    edited = copy.deepcopy(manifest)
    node = edited[section][uid]
    if key == "checksum":
        node["checksum"]["checksum"] = "edited"
    else:
        node[key] += "\n-- edited"
    return stored_rows_fingerprint(edited)


def test_an_edited_vocabulary_seed_rebuilds_the_statement_models(manifest):
    seed = "seed.retention_pipeline.verb_vocabulary"
    assert seed in manifest["nodes"][INCREMENTAL]["depends_on"]["nodes"]
    assert changed(manifest, "nodes", seed, "checksum") != stored_rows_fingerprint(manifest)


def test_an_edited_statement_model_or_macro_rebuilds_them(manifest):
    before = stored_rows_fingerprint(manifest)
    assert changed(manifest, "nodes", INCREMENTAL, "checksum") != before
    staging = "macro.retention_pipeline.stage_statements"
    assert changed(manifest, "macros", staging, "macro_sql") != before


def test_an_edited_mart_or_threshold_seed_does_not(manifest):
    before = stored_rows_fingerprint(manifest)
    assert (
        changed(manifest, "nodes", "model.retention_pipeline.fct_risk_tiers", "checksum") == before
    )
    assert (
        changed(manifest, "nodes", "seed.retention_pipeline.role_thresholds", "checksum") == before
    )
