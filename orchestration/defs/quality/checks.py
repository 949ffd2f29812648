"""Each expectation suite as a Dagster asset check on its table's asset, blocking when it holds
error-severity expectations; failed checks carry the failing expectations and send alerts.

A suite runs in DuckDB in its own step; with PIPELINE_ENGINE=spark the suites over the tables
Spark built run in Spark, together in one step (quality/spark.py, docs/data-quality.md#on-spark)."""

from typing import TYPE_CHECKING

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.defs import markdown as md
from orchestration.defs.alerts.message import Alert
from orchestration.defs.alerts.senders import send_alert
from orchestration.defs.quality.scope import Scope, record, scope_for
from orchestration.defs.quality.suites import CHECK_NAME, Suite, load_suites, suite_asset_key
from orchestration.defs.rebuild import rebuilds_whole_history
from orchestration.defs.timing import Stopwatch
from orchestration.settings import AlertSettings, PipelineSettings

if TYPE_CHECKING:
    # GX takes seconds to import: it loads in the check steps, not with the definitions.
    from orchestration.defs.quality.results import SuiteRun


def _description(suite: Suite, where: str) -> str:
    return (
        f"Great Expectations suite `{suite.name}` "
        f"({suite.path.relative_to(suite.path.parents[3])}), {where}: {suite.description} "
        + (
            "Error-severity failures stop everything downstream, publication included."
            if suite.blocking
            else "Warnings only."
        )
    )


def build_suite_check(suite: Suite) -> dg.AssetChecksDefinition:
    key = suite_asset_key(suite)

    @dg.asset_check(
        asset=key,
        name=CHECK_NAME,
        blocking=suite.blocking,
        description=_description(suite, "validated in DuckDB"),
    )
    def _check(
        context: dg.AssetCheckExecutionContext,
        pipeline: dg.ResourceParam[PipelineSettings],
        warehouse: DuckDBResource,
    ) -> dg.AssetCheckResult:
        watch = Stopwatch()  # GX's import, the first time, included
        from orchestration.defs.quality.runner import validate_suite

        settings = pipeline
        with warehouse.get_connection() as conn:
            scope = _scope(conn, suite, settings, context)
            run = validate_suite(
                conn,
                suite,
                as_of=settings.as_of,
                docs_dir=settings.data_docs_dir,
                run_name=context.run.run_id,
                batch_rows=settings.quality.batch_rows,
                memory_limit=settings.quality.memory_limit,
                restore_memory_limit=settings.duckdb_memory_limit,
                rows_filter=scope.rows_filter,
            )
        return _conclude(context, settings, warehouse, run, scope, watch, "duckdb")

    return _check


def build_spark_suite_checks(suites: list[Suite]) -> dg.AssetChecksDefinition:
    """The suites over the tables Spark built, as one step: one SparkSession validates them all
    (quality/spark.py). The checks keep their names, assets and blocking."""
    specs = [
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset=suite_asset_key(suite),
            blocking=suite.blocking,
            description=_description(suite, "validated in Spark"),
        )
        for suite in suites
    ]

    @dg.multi_asset_check(specs=specs, name="expectation_suites_on_spark", can_subset=True)
    def _checks(
        context: dg.AssetCheckExecutionContext,
        pipeline: dg.ResourceParam[PipelineSettings],
        warehouse: DuckDBResource,
    ):
        watch = Stopwatch()  # GX's import and Spark's start included
        from orchestration.defs.quality import spark

        settings = pipeline
        selected = context.selected_asset_check_keys
        chosen = [s for s in suites if dg.AssetCheckKey(suite_asset_key(s), CHECK_NAME) in selected]
        with warehouse.get_connection() as conn:
            scopes = {s.name: _scope(conn, s, settings, context) for s in chosen}
        try:
            answers = spark.validate(
                [(s, scopes[s.name]) for s in chosen], settings, context.log.info
            )
        except spark.SparkValidationError as exc:
            raise dg.Failure(description=str(exc)) from None
        for suite in chosen:
            run = spark.suite_run(
                suite,
                answers[suite.name],
                as_of=settings.as_of,
                docs_dir=settings.data_docs_dir,
                run_name=context.run.run_id,
            )
            yield _conclude(context, settings, warehouse, run, scopes[suite.name], watch, "spark")

    return _checks


def _scope(conn, suite: Suite, settings: PipelineSettings, context) -> Scope:
    """The rows `suite` validates in this run (quality/scope.py)."""
    return scope_for(
        conn,
        suite,
        full_validation_days=settings.quality.full_validation_days,
        whole_history=rebuilds_whole_history(context.run.run_config),
    )


def _conclude(
    context: dg.AssetCheckExecutionContext,
    settings: PipelineSettings,
    warehouse: DuckDBResource,
    run: "SuiteRun",
    scope: Scope,
    watch: Stopwatch,
    validated_in: str,
) -> dg.AssetCheckResult:
    """After a suite's validation: its log entry, its alert, its check result."""
    suite = run.suite
    key = suite_asset_key(suite)
    with warehouse.get_connection() as conn:
        record(
            conn,
            suite,
            scope,
            run_id=context.run.run_id,
            rows_validated=run.rows,
            table_rows=run.table_rows,
            # Warnings do not hold the watermark back: they block nothing.
            passed=run.severity != "error",
        )
    context.log.info(
        f"{suite.name}: {len(run.outcomes) - len(run.skipped)} expectations over "
        f"{run.rows:,} rows ({scope.kind}: {scope.reason}) in {run.batches} batch(es) "
        f"in {validated_in}, {len(run.failed)} failed, {run.seconds:.1f}s"
    )
    alerts = settings.alerts
    delivered: list[str] = []
    if run.failed:
        alert = suite_alert(run, key, context.run.run_id, alerts)
        log = context.log.error if run.severity == "error" else context.log.warning
        log(alert.text())
        # Warnings alert only when asked to (PIPELINE_ALERT_ON_WARN): they do not block.
        if alerts.enabled and (run.severity == "error" or alerts.on_warn):
            delivered = send_alert(alert, alerts, context.log.warning)
    return check_result(run, delivered, watch, scope, validated_in=validated_in, asset_key=key)


def check_result(
    run: "SuiteRun",
    delivered: list[str] | None = None,
    watch: Stopwatch | None = None,
    scope: Scope | None = None,
    *,
    validated_in: str = "duckdb",
    asset_key: dg.AssetKey | None = None,
) -> dg.AssetCheckResult:
    failed = run.failed
    metadata: dict = {
        "suite": run.suite.name,
        "validated_in": validated_in,
        "suite_file": dg.MetadataValue.path(str(run.suite.path)),
        "expectations_evaluated": len(run.outcomes) - len(run.skipped),
        "expectations_failed": len(failed),
        "rows_validated": run.rows,
        "table_rows": run.table_rows if run.table_rows is not None else run.rows,
        **(
            {"validated": f"{scope.kind}: {scope.reason}", "validation_scope": scope.kind}
            if scope
            else {}
        ),
        "batches": run.batches,
        "validation_seconds": round(run.seconds, 2),
        **(watch.metadata() if watch else {}),
    }
    if failed:
        metadata["failed_expectations"] = dg.MetadataValue.md(_failures_markdown(run))
        metadata["failures"] = dg.MetadataValue.json([o.as_dict() for o in failed])
    if run.skipped:
        metadata["skipped_expectations"] = dg.MetadataValue.md(
            "\n".join(f"- `{o.label}`: {o.skipped}" for o in run.skipped)
        )
    if run.data_docs_url:
        metadata["data_docs"] = dg.MetadataValue.url(run.data_docs_url)
    if delivered is not None and failed:
        metadata["alerts_sent_to"] = ", ".join(delivered) or "none"
    severity = (
        dg.AssetCheckSeverity.ERROR if run.severity == "error" else dg.AssetCheckSeverity.WARN
    )
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=CHECK_NAME if asset_key else None,
        passed=not failed,
        severity=severity,
        metadata=metadata,
        description=(
            f"{len(failed)} expectation(s) failed: " + "; ".join(o.label for o in failed)
            if failed
            else f"All {len(run.outcomes) - len(run.skipped)} expectations passed."
        ),
    )


def suite_alert(run: "SuiteRun", key: dg.AssetKey, run_id: str, settings: AlertSettings) -> Alert:
    level = "ERROR" if run.severity == "error" else "WARN"
    blocked = " - publication stopped" if run.severity == "error" else ""
    return Alert(
        title=(
            f"[retention-pipeline] {level}: {len(run.failed)} expectation(s) failed on "
            f"{run.suite.table}{blocked}"
        ),
        run_id=run_id,
        run_url=settings.run_url(run_id),
        asset=key.to_user_string(),
        check=f"{CHECK_NAME} ({run.suite.name})",
        severity=run.severity or "warn",
        failures=[o.as_dict() for o in run.failed],
        data_docs_url=run.data_docs_url,
    )


def _failures_markdown(run: "SuiteRun") -> str:
    lines = [
        "| expectation | severity | observed | unexpected rows | sample failing rows |",
        "|---|---|---|---|---|",
    ]
    for outcome in run.failed:
        observed = outcome.exception and f"error: {outcome.exception}" or outcome.observed
        samples = "<br>".join(md.text(row) for row in outcome.sample_rows[:5])
        lines.append(
            f"| `{outcome.label}` | {outcome.expectation.severity} | {md.text(observed)} | "
            f"{'' if outcome.unexpected_count is None else f'{outcome.unexpected_count:,}'} | "
            f"{samples} |"
        )
    return "\n".join(lines)


def build_checks(
    asset_keys: set[dg.AssetKey], spark_keys: set[dg.AssetKey] = frozenset()
) -> list[dg.AssetChecksDefinition]:
    """One check per suite whose table is an asset of this code location; the suites over
    `spark_keys` (the models, when Spark builds and validates them) in one Spark step."""
    suites = [s for s in load_suites() if suite_asset_key(s) in asset_keys]
    on_spark = [s for s in suites if suite_asset_key(s) in spark_keys]
    checks = [build_suite_check(s) for s in suites if s not in on_spark]
    return checks + ([build_spark_suite_checks(on_spark)] if on_spark else [])


def build_defs(
    asset_keys: set[dg.AssetKey], spark_keys: set[dg.AssetKey] = frozenset()
) -> dg.Definitions:
    return dg.Definitions(asset_checks=build_checks(asset_keys, spark_keys))
