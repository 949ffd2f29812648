"""The engine dbt builds the models on (PIPELINE_ENGINE, docs/spark.md#dagster-runs-it).

- `duckdb`, the default: dbt writes the models into the warehouse file.
- `spark`: ingestion still loads the warehouse's raw tables (one implementation of the extract
  contract, deduplication, voiding and quarantine), then the dbt step
  1. exports them to the lake (`lake.export_raw`),
  2. runs the same `dbt build` with `--target spark`, through the dbt installed beside dbt-spark,
  3. and exposes what Spark built in the warehouse: each model Spark wrote as a table becomes a
     DuckDB view over its Parquet files, and the view models (staging, the published facts) are
     created by dbt on DuckDB over those, from the same SQL as on the DuckDB engine.

  Everything downstream (the expectation suites, the publication, the report, the digest) then
  reads the warehouse as it does on DuckDB, and reads Spark's rows: the checks validate Spark's
  output and the publication copies it. Only the Dagster resources differ (`dbt_resource`)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import duckdb

from orchestration.defs.dbt.project import DbtCli, dbt_executable, dbt_project
from orchestration.defs.ingest.lake import Exported, export_raw
from orchestration.settings import PROJECT_ROOT, PipelineSettings

# The DuckDB output of profiles.yml, which builds the view models over the exposed tables.
DUCKDB_TARGET = "local"
# What Spark writes as files (views live in its metastore only).
FILE_MATERIALIZATIONS = ("table", "incremental")


# What a Spark build made, for the suites validated in Spark (quality/spark.py).
RELATIONS_FILE = "spark-relations.json"

# Spark's log4j configuration: its log goes to PIPELINE_LAKE_DIR/logs/spark.log.
SPARK_CONF_DIR = PROJECT_ROOT / "deploy" / "spark"


class EngineError(RuntimeError):
    """The engine cannot run as configured (dbt-spark missing, say)."""


def dbt_resource(settings: PipelineSettings) -> DbtCli:
    """dagster-dbt's resource for the configured engine: the only resource that differs."""
    if settings.engine.is_spark:
        return DbtCli(
            project_dir=dbt_project,
            dbt_executable=str(settings.engine.spark_dbt),
            target=settings.engine.spark_target,
        )
    return DbtCli(project_dir=dbt_project, dbt_executable=dbt_executable())


def dbt_env(settings: PipelineSettings) -> dict[str, str]:
    """What dbt needs in its environment for the engine, beside the run's settings. On Spark:
    Spark's log goes to a file, and dbt writes each event as it happens, because dagster-dbt
    reads dbt's events and the process's stderr from one pipe (a JVM line landing inside a
    buffered event would lose that event, and its test's check result)."""
    if not settings.engine.is_spark:
        return {}
    return {"SPARK_CONF_DIR": str(SPARK_CONF_DIR), "PYTHONUNBUFFERED": "1"}


def check_ready(settings: PipelineSettings) -> None:
    if settings.engine.is_spark and not settings.engine.spark_dbt.exists():
        raise EngineError(
            f"PIPELINE_ENGINE=spark runs dbt with dbt-spark, and {settings.engine.spark_dbt} "
            "does not exist: `make spark` installs it in .cache/spark-venv (Java 17 needed), "
            "or set PIPELINE_SPARK_DBT to a dbt that has dbt-spark"
        )


def prepare(conn: duckdb.DuckDBPyConnection, settings: PipelineSettings) -> list[Exported]:
    """Before dbt: on Spark, write the raw tables to the lake. Nothing to do on DuckDB."""
    if not settings.engine.is_spark:
        return []
    return export_raw(conn, settings.lake_dir)


def model_files(lake_dir: Path, node: Mapping[str, Any]) -> Path:
    """Where Spark writes a model's table: spark.sql.warehouse.dir/<schema>.db/<alias>."""
    return lake_dir / "warehouse" / f"{node['schema']}.db" / node["alias"]


def expose_tables(
    conn: duckdb.DuckDBPyConnection, settings: PipelineSettings, manifest: Mapping[str, Any]
) -> list[str]:
    """After dbt on Spark: a DuckDB view over the Parquet files of every model Spark wrote as a
    table, in the model's own schema and name. Returns the relations exposed."""
    exposed = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        if node["config"].get("materialized") not in FILE_MATERIALIZATIONS:
            continue
        files = model_files(settings.lake_dir, node)
        if not any(files.glob("**/*.parquet")):
            continue  # disabled, or not built yet: nothing to read
        relation = f'"{node["schema"]}"."{node["alias"]}"'
        conn.execute(f'create schema if not exists "{node["schema"]}"')
        # A table of this name, from a build on DuckDB before the switch, gives way.
        kind = conn.execute(
            "select table_type from information_schema.tables "
            "where table_schema = ? and table_name = ? and table_catalog = current_database()",
            [node["schema"], node["alias"]],
        ).fetchone()
        if kind and kind[0] == "BASE TABLE":
            conn.execute(f"drop table {relation}")
        path = str(files).replace("'", "''")
        conn.execute(
            f"create or replace view {relation} as select * from "
            f"read_parquet('{path}/**/*.parquet', hive_partitioning = false)"
        )
        exposed.append(f"{node['schema']}.{node['alias']}")
    return sorted(exposed)


def build_views(env: Mapping[str, str], target_path: Path) -> None:
    """After `expose_tables`: dbt on DuckDB creates the view models (staging, the published
    facts) over the exposed tables, from the same SQL as the DuckDB engine. Views only: a few
    seconds, no data moved. Raises EngineError with dbt's output when dbt fails."""
    done = subprocess.run(
        [
            dbt_executable(),
            "run",
            "--target",
            DUCKDB_TARGET,
            "--select",
            "config.materialized:view",
            "--target-path",
            str(target_path),
        ],
        cwd=dbt_project.project_dir,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise EngineError(
            "dbt on DuckDB could not create the view models over Spark's tables:\n"
            + done.stdout[-4000:]
        )


def relations_path(lake_dir: Path) -> Path:
    return lake_dir / RELATIONS_FILE


def write_relations(lake_dir: Path, manifest: Mapping[str, Any]) -> Path:
    """What a Spark build made, for the validator, in dependency order: a Parquet folder for
    each model and seed Spark wrote as files and each raw table of the lake, the compiled Spark
    SQL of each view model, and the relations each is built on. Written after each Spark build,
    beside the lake."""
    relations: dict[str, dict[str, Any]] = {}
    parents: dict[str, set[str]] = {}
    for unique_id, source in manifest.get("sources", {}).items():
        files = lake_dir / "raw" / source["name"]
        if source["source_name"] == "raw" and files.is_dir():
            relations[unique_id] = {"schema": "raw", "name": source["name"], "parquet": str(files)}
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] not in ("model", "seed"):
            continue
        files = model_files(lake_dir, node)
        relation = {"schema": node["schema"], "name": node["alias"]}
        if node["config"].get("materialized") in (*FILE_MATERIALIZATIONS, "seed"):
            if not any(files.glob("**/*.parquet")):
                continue  # disabled, or not built yet
            relations[unique_id] = {**relation, "parquet": str(files)}
        elif node["config"].get("materialized") == "view" and node.get("compiled_code"):
            relations[unique_id] = {**relation, "sql": node["compiled_code"]}
        parents[unique_id] = set(node.get("depends_on", {}).get("nodes", []))
    graph = {uid: parents.get(uid, set()) & set(relations) for uid in relations}
    for uid, relation in relations.items():
        relation["parents"] = sorted(
            f"{relations[p]['schema']}.{relations[p]['name']}" for p in graph[uid]
        )
    order = TopologicalSorter(graph).static_order()
    path = relations_path(lake_dir)
    path.write_text(json.dumps([relations[uid] for uid in order], indent=1), encoding="utf-8")
    return path
