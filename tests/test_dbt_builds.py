"""The incremental models' rows are rebuilt whole when what they were computed from changes (a
seed like the verb vocabulary, their SQL, a macro they call), and only then."""

from __future__ import annotations

import copy
import json

import duckdb
import pytest

from orchestration.defs.dbt.builds import (
    LOG_TABLE,
    TREND_MODEL,
    Inputs,
    ensure_log,
    only_queued_weeks,
    stored_rows_fingerprint,
)
from orchestration.defs.dbt.project import dbt_project
from orchestration.defs.ingest.contract import INGESTED_FILES_TABLE, STATEMENTS_TABLE

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


def test_the_engagement_walk_rebuilds_on_its_own_rule_not_on_its_inputs(manifest):
    """int_engagement_weekly finds the employees whose rows changed by itself (fingerprints), so
    a threshold edit needs no full refresh; an edit of the walk or its drop rule does."""
    walk = "model.retention_pipeline.int_engagement_weekly"
    before = stored_rows_fingerprint(manifest)
    assert changed(manifest, "nodes", walk, "checksum") != before
    assert changed(manifest, "macros", "macro.retention_pipeline.is_drop", "macro_sql") != before
    measures = "model.retention_pipeline.int_engagement_measures"
    assert measures in manifest["nodes"][walk]["depends_on"]["nodes"]
    assert changed(manifest, "nodes", measures, "checksum") == before


def test_the_tier_rule_rebuilds_on_its_rule_and_the_views_it_reads_not_on_its_inputs(manifest):
    """int_risk_tiers finds its changed employees by itself (int_risk_inputs): an edit of the
    rule, or of the signals view it reads, rebuilds it whole; an edit of a table upstream
    (milestones) changes its rows and so the fingerprints, and needs no full refresh."""
    before = stored_rows_fingerprint(manifest)
    tiers, signals = (
        "model.retention_pipeline.int_risk_tiers",
        "model.retention_pipeline.int_risk_signals",
    )
    assert signals in manifest["nodes"][tiers]["depends_on"]["nodes"]
    assert changed(manifest, "nodes", tiers, "checksum") != before
    assert changed(manifest, "nodes", signals, "checksum") != before
    milestones = "model.retention_pipeline.int_milestones"
    assert milestones in manifest["nodes"][signals]["depends_on"]["nodes"]
    assert changed(manifest, "nodes", milestones, "checksum") == before


def test_only_the_newest_dbt_invocation_targets_are_kept(tmp_path):
    """A daily schedule must not fill the disk with dbt target folders (about 9 MB each)."""
    import os

    from orchestration.defs.dbt.assets import prune_invocation_targets
    from orchestration.defs.rebuild import DBT_STEP

    for n in range(8):
        folder = tmp_path / f"{DBT_STEP}-run{n}-abc"
        folder.mkdir()
        (folder / "manifest.json").write_text("{}")
        os.utime(folder, (1_000_000 + n, 1_000_000 + n))
    (tmp_path / "manifest.json").write_text("{}")  # the project's own: never touched
    removed = prune_invocation_targets(tmp_path, keep=5)

    assert sorted(p.name for p in removed) == [f"{DBT_STEP}-run{n}-abc" for n in range(3)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"{DBT_STEP}-run{n}-abc" for n in range(3, 8)] + ["manifest.json"]
    )


def test_the_dbt_resource_knows_the_dbt_version_without_asking_dbt():
    """DbtCli skips dagster-dbt's `dbt --version` subprocess; the version it reports instead
    must be the one that subprocess prints."""
    from dagster_dbt import DbtCliResource

    from orchestration.defs.dbt.project import DbtCli, dbt_executable

    ours = DbtCli(project_dir=dbt_project, dbt_executable=dbt_executable())
    theirs = DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())
    assert ours._cli_version == theirs._cli_version


def test_the_trend_mart_rebuilds_every_week_when_anything_upstream_changes(manifest):
    """int_engagement_trends rebuilds only the queued weeks while only statements change. An
    edit anywhere upstream (a threshold seed, the milestones, the weekly measures) changes its
    upstream fingerprint, so it rebuilds every week, without a whole-history rebuild."""

    def upstream(m: dict) -> str:
        return stored_rows_fingerprint(m, [TREND_MODEL], whole_lineage=True)

    before_rows, before_trend = stored_rows_fingerprint(manifest), upstream(manifest)
    for section, uid, key in [
        ("nodes", "seed.retention_pipeline.role_thresholds", "checksum"),
        ("nodes", "model.retention_pipeline.int_milestones", "checksum"),
        ("nodes", "model.retention_pipeline.int_engagement_measures", "checksum"),
        ("nodes", TREND_MODEL, "checksum"),
        ("macros", "macro.retention_pipeline.suppress_small", "macro_sql"),
    ]:
        edited = copy.deepcopy(manifest)
        if key == "checksum":
            edited[section][uid]["checksum"]["checksum"] = "edited"
        else:
            edited[section][uid][key] += "\n-- edited"
        assert upstream(edited) != before_trend, uid
        assert stored_rows_fingerprint(edited) == before_rows, uid


def _log(conn, built_at: str, trend_upstream: str) -> None:
    ensure_log(conn)
    conn.execute(
        f"insert into {LOG_TABLE} (run_id, days, inputs_fingerprint, stored_rows_fingerprint, "
        "trend_upstream, built_at) values ('r', 'd', 'f', 's', ?, ?)",
        [trend_upstream, built_at],
    )


def _loaded(conn, table: str, loaded_at: str) -> None:
    conn.execute(
        f"create table if not exists {INGESTED_FILES_TABLE} "
        "(source_table varchar, loaded_at timestamp)"
    )
    conn.execute(f"insert into {INGESTED_FILES_TABLE} values (?, ?)", [table, loaded_at])


def test_only_the_queued_weeks_when_only_statements_were_loaded_since_the_last_build():
    now = Inputs(loaded_through=None, fingerprint="f", stored_rows="s", trend_upstream="t1")
    conn = duckdb.connect()
    conn.execute("create schema raw")
    assert not only_queued_weeks(conn, now)  # no build yet
    _loaded(conn, "raw.hris_workers", "2024-06-01 05:00")
    _log(conn, "2024-06-01 06:00", "t1")
    _loaded(conn, STATEMENTS_TABLE, "2024-06-02 05:00")
    assert only_queued_weeks(conn, now)
    # An upstream edit since the last build, or a snapshot loaded after it: every week.
    assert not only_queued_weeks(conn, Inputs(None, "f", "s", "t2"))
    _loaded(conn, "raw.hris_job_history", "2024-06-02 05:30")
    assert not only_queued_weeks(conn, now)
    # Once a build has read that snapshot, statements alone again.
    _log(conn, "2024-06-02 06:00", "t1")
    assert only_queued_weeks(conn, now)


def test_how_dbt_reaches_spark_is_no_input_but_the_engine_is(tmp_path, manifest):
    """A run that changes only where Spark is (the Thrift Server's port, the master, the
    memory) reads the same inputs; a switch of engine does not."""
    from orchestration.defs.dbt.builds import inputs
    from tests.conftest import settings_for

    conn = duckdb.connect()
    project = json.dumps(manifest).encode()

    def fingerprint(**env: str) -> str:
        return inputs(conn, settings_for(tmp_path, **env), project).fingerprint

    spark = fingerprint(PIPELINE_ENGINE="spark")
    assert spark == fingerprint(
        PIPELINE_ENGINE="spark",
        PIPELINE_SPARK_METHOD="thrift",
        PIPELINE_SPARK_HOST="spark.example.com",
        PIPELINE_SPARK_PORT="10001",
        PIPELINE_SPARK_USER="etl",
        PIPELINE_SPARK_MASTER="yarn",
        PIPELINE_SPARK_DRIVER_MEMORY="16g",
        PIPELINE_SPARK_SHUFFLE_PARTITIONS="400",
    )
    assert spark != fingerprint()
