"""Whether a daily run has anything for dbt to build: the log of dbt builds and what they read.

A daily run (the default config, as the schedule and the sensor ask: the last complete day)
builds nothing when BI tools read the publication of the last dbt build, and since that build
no file or statement was loaded, and neither the as-of date, the settings dbt reads nor the dbt
project changed. It then skips dbt, and with it every check, the publication and the report
downstream: BI tools keep the publication they have, which is what a build would publish again.
Days asked for (a backfill, `--day`), a whole-history run, and any run after a build whose
checks stopped its publication, build.

The incremental models keep rows computed by earlier builds. When what those rows were computed
from changed (the incremental models' SQL, any model, seed or macro upstream of them: the verb
vocabulary seed, the staging of statements), a run rebuilds the whole history instead of its
days, so no old day keeps an old rule.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

import duckdb

from orchestration.defs.dbt.vars import dbt_vars
from orchestration.defs.ingest.contract import (
    INGESTED_FILES_TABLE,
    STATEMENT_DUPLICATES_TABLE,
    STATEMENTS_TABLE,
)
from orchestration.settings import PipelineSettings

LOG_TABLE = "pipeline.dbt_builds"


@dataclass(frozen=True)
class Inputs:
    """What a build reads: how far the raw tables were loaded, a fingerprint of the rest, and
    one of what the incremental models' stored rows were computed from."""

    loaded_through: datetime | None
    fingerprint: str
    stored_rows: str
    # Everything upstream of the trend mart (models, seeds, macros, vars, settings): while it
    # and the snapshots are unchanged, the mart rebuilds only the queued weeks.
    trend_upstream: str = ""


# An incremental model with this `meta` key finds the rows to recompute by itself, from a
# fingerprint of its inputs' rows (int_engagement_weekly, int_risk_tiers): only its rule must
# force a full refresh, that is its own SQL, the views it reads (int_risk_signals) and their
# macros, not the tables upstream of it, whose changed rows change the fingerprint.
FINDS_CHANGED_ROWS = "finds_changed_rows"


# The trend mart: incremental by week, it finds the weeks to rebuild by itself (only_queued_weeks).
TREND_MODEL = "model.retention_pipeline.int_engagement_trends"


def stored_rows_fingerprint(
    manifest: dict, roots: list[str] | None = None, *, whole_lineage: bool = False
) -> str:
    """The incremental models (or `roots`) and everything in the project upstream of them
    (models, seeds and the macros they call), by content; for a model that finds its changed
    rows by itself, only the model, the views upstream of it through views, and their macros,
    unless `whole_lineage`. The trend mart is not among the incremental models here: when
    anything upstream of it changes, it rebuilds every week by itself (`Inputs.trend_upstream`,
    `only_queued_weeks`), and needs no whole-history rebuild."""
    nodes, macros = manifest["nodes"], manifest["macros"]

    def is_view(uid: str) -> bool:
        return uid in nodes and nodes[uid]["config"].get("materialized") == "view"

    # (node, whether only its rule counts: reached from a model that finds its changed rows)
    if roots is None:
        roots = [
            uid
            for uid, node in nodes.items()
            if node["resource_type"] == "model"
            and node["config"].get("materialized") == "incremental"
            and uid != TREND_MODEL
        ]
    todo = [(uid, False) for uid in roots]
    seen: set[tuple[str, bool]] = set()
    used: set[str] = set()
    while todo:
        uid, rule_only = todo.pop()
        if (uid, rule_only) in seen or uid not in nodes:
            continue
        seen.add((uid, rule_only))
        finds = bool(nodes[uid]["config"].get("meta", {}).get(FINDS_CHANGED_ROWS))
        rule_only = rule_only or (finds and not whole_lineage)
        upstream = nodes[uid]["depends_on"].get("nodes", [])
        todo += [(up, rule_only) for up in upstream if not rule_only or is_view(up)]
        used.update(nodes[uid]["depends_on"].get("macros", []))
    todo = list(used)
    while todo:
        uid = todo.pop()
        if uid in macros:
            for called in macros[uid]["depends_on"].get("macros", []):
                if called not in used:
                    used.add(called)
                    todo.append(called)
    digest = hashlib.sha256()
    for uid in sorted({uid for uid, _ in seen}):
        digest.update(f"{uid}:{nodes[uid]['checksum']['checksum']}\n".encode())
    for uid in sorted(u for u in used if u in macros):
        digest.update(f"{uid}:{macros[uid]['macro_sql']}\n".encode())
    return digest.hexdigest()


def inputs(conn: duckdb.DuckDBPyConnection, settings: PipelineSettings, manifest: bytes) -> Inputs:
    parts = [
        f"select max(loaded_at) from {INGESTED_FILES_TABLE}",
        f"select max(loaded_at) from {STATEMENTS_TABLE}",
        f"select max(recorded_at) from {STATEMENT_DUPLICATES_TABLE}",
    ]
    loaded = []
    for sql in parts:
        try:
            loaded.append(conn.execute(sql).fetchone()[0])
        except duckdb.CatalogException:  # nothing of that kind loaded yet
            continue
    # Where the warehouse is, how much memory dbt gets and how it reaches Spark change no result.
    ignored = {
        "PIPELINE_WAREHOUSE",
        "PIPELINE_LAKE_DIR",
        "PIPELINE_DUCKDB_MEMORY_LIMIT",
        "PIPELINE_DUCKDB_THREADS",
        *settings.engine.spark_env(),
    }
    read = {key: value for key, value in settings.dbt_env().items() if key not in ignored}
    digest = hashlib.sha256(manifest)
    digest.update(json.dumps(read, sort_keys=True).encode())
    project = json.loads(manifest)
    used_settings = json.dumps(stored_rows_settings(settings), sort_keys=True)
    stored = hashlib.sha256(stored_rows_fingerprint(project).encode())
    stored.update(used_settings.encode())
    trend = hashlib.sha256(
        stored_rows_fingerprint(project, [TREND_MODEL], whole_lineage=True).encode()
    )
    trend.update(used_settings.encode())
    return Inputs(
        max((t for t in loaded if t is not None), default=None),
        digest.hexdigest(),
        stored.hexdigest(),
        trend.hexdigest(),
    )


# The run settings that change what stored rows hold, for every day: the company time zone (a
# statement's event day), the account home page (whose statement it is), and the engine (after a
# switch, the warehouse's tables are the other engine's: views over Spark's files, say).
STORED_ROWS_SETTINGS = ("PIPELINE_TIMEZONE", "PIPELINE_ACCOUNT_HOMEPAGE", "PIPELINE_ENGINE")


def stored_rows_settings(settings: PipelineSettings) -> dict:
    """The settings and dbt_project.yml vars (the small-cell size, the retention parameters)
    that stored rows were computed with: when one changes, no old day or week may keep rows
    computed with the old value."""
    env = settings.dbt_env()
    return {"settings": {key: env[key] for key in STORED_ROWS_SETTINGS}, "vars": dbt_vars()}


def ensure_log(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute("set TimeZone = 'UTC'")  # as the load ledger's times
    conn.execute("create schema if not exists pipeline")
    conn.execute(
        f"""
        create table if not exists {LOG_TABLE} (
            run_id varchar not null,
            days varchar not null,            -- what the run config asked to rebuild
            loaded_through timestamp,         -- the latest load the build read
            inputs_fingerprint varchar not null,  -- dbt project and the settings dbt reads
            stored_rows_fingerprint varchar not null,  -- what incremental rows come from
            built_at timestamp not null default current_timestamp
        )"""
    )
    # Added after the first release: a log written before it reads as "the trend mart's
    # upstream changed" once.
    conn.execute(f"alter table {LOG_TABLE} add column if not exists trend_upstream varchar")


def _last_build(conn: duckdb.DuckDBPyConnection, columns: str) -> tuple | None:
    """`columns` of the latest build in the log; None before the first."""
    ensure_log(conn)
    return conn.execute(
        f"select {columns} from {LOG_TABLE} order by built_at desc limit 1"
    ).fetchone()


def unchanged_since_last_build(
    conn: duckdb.DuckDBPyConnection, now: Inputs, published_run_id: str | None
) -> bool:
    last = _last_build(conn, "run_id, loaded_through, inputs_fingerprint")
    return last is not None and last == (published_run_id, now.loaded_through, now.fingerprint)


def stored_rows_changed(conn: duckdb.DuckDBPyConnection, now: Inputs) -> bool:
    """Whether the incremental models' rows were computed by other rules than this build's (or
    by a build this log does not know: a warehouse from before it)."""
    last = _last_build(conn, "stored_rows_fingerprint")
    return last is None or last[0] != now.stored_rows


# The environment variable behind the dbt var only_queued_weeks (dbt_project.yml).
ONLY_QUEUED_WEEKS = "RETENTION_ONLY_QUEUED_WEEKS"


def only_queued_weeks(conn: duckdb.DuckDBPyConnection, now: Inputs) -> bool:
    """Whether, since the last dbt build that finished, only statements changed: no snapshot
    extract (HRIS, courses, enrollments, alert feedback) was loaded, and nothing upstream of the
    trend mart (a threshold seed, a model, a var, a setting) changed. Then a statement changes
    only the weeks from its own day on, and int_engagement_trends rebuilds just those (the var
    only_queued_weeks)."""
    last = _last_build(conn, "built_at, trend_upstream")
    if last is None or last[1] != now.trend_upstream:
        return False
    built = last[0]
    try:
        (loaded,) = conn.execute(
            f"select max(loaded_at) from {INGESTED_FILES_TABLE} where source_table <> ?",
            [STATEMENTS_TABLE],
        ).fetchone()
    except duckdb.CatalogException:  # nothing loaded yet
        return True
    return loaded is None or loaded <= built


def record_build(conn: duckdb.DuckDBPyConnection, run_id: str, days: str, built: Inputs) -> None:
    ensure_log(conn)
    conn.execute(
        f"insert into {LOG_TABLE} "
        "(run_id, days, loaded_through, inputs_fingerprint, stored_rows_fingerprint, "
        "trend_upstream) values (?, ?, ?, ?, ?, ?)",
        [
            run_id,
            days,
            built.loaded_through,
            built.fingerprint,
            built.stored_rows,
            built.trend_upstream,
        ],
    )
