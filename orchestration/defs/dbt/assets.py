"""Every dbt model, seed and test as Dagster assets and asset checks, downstream of raw assets."""

import os
import shutil
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any
from unittest import mock

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)
from dagster_duckdb import DuckDBResource

from orchestration.defs.dbt import builds, engines
from orchestration.defs.dbt.project import dbt_project, ensure_manifest, invocations_dir
from orchestration.defs.publication import read_manifest
from orchestration.defs.rebuild import DBT_STEP, RebuildDays, Window, WindowError, resolve
from orchestration.defs.resources import WAREHOUSE_POOL
from orchestration.defs.timing import Stopwatch
from orchestration.settings import PipelineSettings

ensure_manifest()


class Translator(DagsterDbtTranslator):
    """Groups assets by dbt layer (staging, intermediate, marts, config), not one dbt group."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "config"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


def build_dbt_assets(retry_policy: dg.RetryPolicy | None = None) -> dg.AssetsDefinition:
    translator = Translator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    @dbt_assets(
        manifest=dbt_project.manifest_path,
        project=dbt_project,
        name=DBT_STEP,
        pool=WAREHOUSE_POOL,
        dagster_dbt_translator=translator,
        retry_policy=retry_policy,
    )
    def dbt_models(
        context: dg.AssetExecutionContext,
        dbt: DbtCliResource,
        pipeline: dg.ResourceParam[PipelineSettings],
        warehouse: DuckDBResource,
        config: RebuildDays,
    ):
        settings = pipeline
        try:
            window = resolve(config, settings.as_of)
        except WindowError as exc:
            raise dg.Failure(
                description=f"Run config of {DBT_STEP}: {exc}", allow_retries=False
            ) from None
        try:
            engines.check_ready(settings)
        except engines.EngineError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        watch = Stopwatch()
        manifest = Path(dbt_project.manifest_path).read_bytes()
        with warehouse.get_connection() as conn:
            read = builds.inputs(conn, settings, manifest)
            published = read_manifest(settings.publish_dir) or {}
            if config.is_default and builds.unchanged_since_last_build(
                conn, read, published.get("run_id")
            ):
                context.log.info(
                    "Nothing was loaded, and neither the as-of date, the settings dbt reads nor "
                    "the dbt project changed since the last build: dbt is not run. The checks, "
                    "the publication and the report downstream are skipped, and BI tools keep "
                    "the current publication."
                )
                return
            if not window.full_refresh and builds.stored_rows_changed(conn, read):
                context.log.warning(
                    "The statement models, or a seed or macro they use (the verb vocabulary, "
                    "say), changed since the last build, or this warehouse has no build log "
                    f"yet: rebuilding the whole history instead of {window.describe()}."
                )
                window = Window()
            only_queued_weeks = builds.only_queued_weeks(conn, read)
            exported = engines.prepare(conn, settings)
        if exported:
            context.log.info(
                f"Exported {len(exported)} raw table(s) to the lake at {settings.lake_dir}: "
                + ", ".join(e.describe() for e in exported)
            )
        context.log.info(f"Statement days to rebuild: {window.describe()}")
        # Unit tests check the SQL, not the data: CI runs them (tests/test_dbt_unit_tests.py),
        # and production builds skip them, as dbt recommends.
        build = ["build", "--exclude-resource-type", "unit_test", *window.dbt_args()]
        # dbt runs in a subprocess inside dbt_project/ and reads the run's settings and window
        # with env_var(): settings.dbt_env() and window.dbt_env() are the one bridge. dagster-dbt
        # builds the subprocess's environment from os.environ as it starts it, so the values are
        # set for that moment only and this process's environment is left as it was.
        # Unless only statements changed since the last build, the trend mart rebuilds every
        # week (int_engagement_trends).
        env = settings.dbt_env() | window.dbt_env() | engines.dbt_env(settings)
        env[builds.ONLY_QUEUED_WEEKS] = "1" if only_queued_weeks else ""
        with mock.patch.dict(os.environ, env):
            invocation = dbt.cli(build, context=context)
        # The dbt subprocess holds the DuckDB file until it exits, so row counts are read
        # afterwards (dagster-dbt's fetch_row_counts would open the file while dbt still
        # writes it).
        events = list(invocation.stream())
        if settings.engine.is_spark:
            _expose_spark_build(context, settings, env, invocation, warehouse)
        events = list(_with_row_counts(events, invocation.manifest, warehouse))
        with warehouse.get_connection() as conn:
            builds.record_build(conn, context.run_id, window.describe(), read)
        target_dir = invocations_dir()
        keep_partial_parse(invocation.target_path, target_dir)
        prune_invocation_targets(target_dir)
        # Every output carries the time of the whole build (one dbt invocation made them all).
        work = watch.metadata()
        for event in events:
            yield (
                event.with_metadata({**event.metadata, **work})
                if isinstance(event, dg.Output)
                else event
            )

    return dbt_models


def _expose_spark_build(context, settings, env, invocation, warehouse: DuckDBResource) -> None:
    """What Spark built, readable in the warehouse as if DuckDB had built it (engines.py)."""
    with warehouse.get_connection() as conn:
        exposed = engines.expose_tables(conn, settings, invocation.manifest)
    # For the suites validated in Spark: the relations the build made, with the view models'
    # Spark SQL, which only the build's own manifest has compiled (quality/spark.py).
    if settings.engine.validates_on_spark:
        engines.write_relations(settings.lake_dir, invocation.get_artifact("manifest.json"))
    # Beside the lake, not in dbt_project/target: one folder per warehouse, kept for dbt's
    # partial parse, that no other warehouse's run writes at the same time.
    target = settings.lake_dir / "dbt-target"
    try:
        engines.build_views(env, target)
    except engines.EngineError as exc:
        raise dg.Failure(description=str(exc)) from None
    context.log.info(
        f"Spark's {len(exposed)} tables are readable in the warehouse as views over their "
        f"Parquet files under {settings.lake_dir / 'warehouse'}; the view models were built "
        "over them on DuckDB."
    )


KEEP_INVOCATION_TARGETS = 5


PARTIAL_PARSE = "partial_parse.msgpack"


def keep_partial_parse(invocation_target: Path, target_dir: Path) -> bool:
    """Make this build's parse the next build's starting point. dagster-dbt copies
    `target/partial_parse.msgpack` into each invocation's folder; left as `dbt parse` wrote it,
    with other profile settings (the warehouse path, the thread count), dbt finds "profile has
    changed" and re-parses the whole project, about 2 s every run. The build's own file matches
    the next build's profile, so dbt re-parses only what changed since (files that read the
    as-of date or the window). Replaced atomically: another run may be starting."""
    source = invocation_target / PARTIAL_PARSE
    if not source.exists():
        return False
    staged = target_dir / f".{PARTIAL_PARSE}.{os.getpid()}"
    shutil.copyfile(source, staged)
    os.replace(staged, target_dir / PARTIAL_PARSE)
    return True


def prune_invocation_targets(target_dir: Path, keep: int = KEEP_INVOCATION_TARGETS) -> list[Path]:
    """dagster-dbt gives every dbt invocation its own target folder (about 9 MB: manifest,
    compiled SQL, logs). Run daily they would fill the disk, so only the newest `keep` stay, for
    looking into a recent build. Returns the folders removed."""
    folders = sorted(
        (p for p in target_dir.glob(f"{DBT_STEP}-*") if p.is_dir()),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for folder in folders[keep:]:
        shutil.rmtree(folder, ignore_errors=True)
    return folders[keep:]


def _has_row_count(node: Mapping[str, Any]) -> bool:
    """Tables, and the published facts that are thin views over one (fct_risk_tiers over
    int_risk_tiers, say): counting those reads no more than the table. Staging views are not
    counted: counting them would parse every raw row again."""
    materialized = node["config"].get("materialized")
    return materialized in ("table", "incremental") or (
        materialized == "view" and node["schema"] == "marts"
    )


def _with_row_counts(
    events: Iterable[Any], manifest: Mapping[str, Any], warehouse: DuckDBResource
) -> Iterator[Any]:
    nodes = manifest["nodes"]
    with warehouse.get_connection() as conn:
        for event in events:
            node = None
            if isinstance(event, dg.Output) and "unique_id" in event.metadata:
                node = nodes.get(event.metadata["unique_id"].value)
            if node is not None and _has_row_count(node):
                rows = conn.execute(
                    f'select count(*) from "{node["schema"]}"."{node["alias"]}"'
                ).fetchone()[0]
                metadata = {**event.metadata, "dagster/row_count": rows}
                # A model's meta.counts: what it flagged (clamped scores, unknown verbs...).
                counts = node["config"].get("meta", {}).get("counts", {})
                if counts:
                    values = conn.execute(
                        f"select {', '.join(counts.values())} "
                        f'from "{node["schema"]}"."{node["alias"]}"'
                    ).fetchone()
                    metadata |= dict(zip(counts, values, strict=True))
                event = event.with_metadata(metadata)
            yield event


def retry_policy(settings: PipelineSettings) -> dg.RetryPolicy | None:
    """On Spark, a failed dbt step runs again (PIPELINE_SPARK_RETRIES, docs/spark.md): a cluster
    fails now and then for reasons of its own, a lost executor or a Thrift session. The rerun is
    safe: the step rebuilds what is still queued. On DuckDB a failure is the project's, and
    running it again would only fail later."""
    retries = settings.engine.spark_retries
    if not settings.engine.is_spark or not retries:
        return None
    return dg.RetryPolicy(max_retries=retries, delay=10)


def build_defs(settings: PipelineSettings) -> dg.Definitions:
    return dg.Definitions(
        assets=[build_dbt_assets(retry_policy(settings))],
        resources={"dbt": engines.dbt_resource(settings)},
    )
