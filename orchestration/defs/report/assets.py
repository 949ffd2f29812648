"""The `retention_report` asset: after each publication, a self-contained HTML report of the
published marts in PIPELINE_PUBLISH_DIR/report/index.html, with its charts also shown on the
asset's page in the Dagster UI."""

import os
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from orchestration.defs.publication import DUCKDB_FILE, INFO_TABLE, read_manifest
from orchestration.defs.report import data, page
from orchestration.defs.report.quality import QualityStatus, run_quality
from orchestration.defs.resources import WAREHOUSE_POOL
from orchestration.defs.timing import Stopwatch
from orchestration.settings import PipelineSettings

REPORT_DIR = "report"
REPORT_FILE = "index.html"
PREVIOUS_FILE = "previous.html"  # the last report drawn, while index.html says it is stale
STALE_MARK = 'id="report-stale"'


def report_path(publish_dir: Path) -> Path:
    return publish_dir / REPORT_DIR / REPORT_FILE


@dg.asset(
    key="retention_report",
    deps=[dg.AssetKey("published")],
    group_name="publish",
    kinds={"html", "matplotlib"},
    # Per-employee retention outcomes are not published, so the hire-quarter heatmap is read
    # from the warehouse: this asset opens it, like every other asset in the pool.
    pool=WAREHOUSE_POOL,
    description=(
        "Retention and engagement report of the published marts: PIPELINE_PUBLISH_DIR/report/"
        "index.html, one self-contained page (charts embedded, opens offline) with "
        "Kaplan-Meier curves, weekly tiers by department, 12-month retention by hire quarter, "
        "the matched comparison, the tier backtest and the run's data-quality status."
    ),
)
def retention_report(
    context: dg.AssetExecutionContext,
    pipeline: dg.ResourceParam[PipelineSettings],
    warehouse: DuckDBResource,
) -> dg.MaterializeResult:
    # Imported here, so matplotlib loads only in the step that draws, not with the code location.
    from orchestration.defs.report import charts

    watch = Stopwatch()
    settings = pipeline
    database = settings.publish_dir / DUCKDB_FILE
    if not database.exists():
        raise dg.Failure(
            f"No publication at {database}: the report draws the published marts, so "
            "materialize `published` first."
        )
    try:
        # A fresh read-only connection to the published file: exactly what BI tools read.
        published = duckdb.connect(str(database), read_only=True)
        try:
            with warehouse.get_connection() as conn:
                info = _publication(published, settings.as_of, conn)
                drawn = charts.report_charts(
                    data.Source(published, data.PUBLISHED_SCHEMA),
                    data.Source(conn, data.WAREHOUSE_SCHEMA),
                )
        finally:
            published.close()
        # The checks of the run that produced the publication: the current run, unless this
        # asset was materialized on its own after an earlier publication.
        quality = run_quality(context.instance, info.publication_run_id)
        path = page.write_atomically(
            report_path(settings.publish_dir), page.render(info, drawn, quality)
        )
    except Exception as exc:
        # The publication is new and its report could not be drawn: the old page must not pass
        # for the report of the tables BI tools now read.
        stale = _mark_stale(settings.publish_dir, exc)
        raise dg.Failure(
            description=(
                f"The report could not be drawn ({type(exc).__name__}: {exc}); {stale} says so "
                "and links the previous report."
            ),
            metadata={"report": dg.MetadataValue.path(str(stale))},
        ) from exc
    context.log.info(f"Wrote the retention report to {path}")
    return dg.MaterializeResult(
        metadata={
            "report": dg.MetadataValue.path(str(path)),
            "as_of": settings.as_of.isoformat(),
            "publication_id": info.publication_id,
            "data_quality": dg.MetadataValue.md(quality_markdown(quality)),
            **charts.chart_metadata(drawn),
            **watch.metadata(),
        }
    )


def _mark_stale(publish_dir: Path, error: Exception) -> Path:
    """Keep the last report as previous.html and put a page in its place that says which
    publication has no report and why."""
    manifest = read_manifest(publish_dir) or {}
    index = report_path(publish_dir)
    index.parent.mkdir(parents=True, exist_ok=True)
    if index.exists() and STALE_MARK not in index.read_text(encoding="utf-8"):
        os.replace(index, index.with_name(PREVIOUS_FILE))
    previous = index.with_name(PREVIOUS_FILE).exists()
    return page.write_atomically(
        index,
        page.stale_page(
            publication_id=manifest.get("publication_id", "unknown"),
            error=f"{type(error).__name__}: {error}",
            previous=PREVIOUS_FILE if previous else None,
        ),
    )


def _publication(
    published: duckdb.DuckDBPyConnection, as_of, warehouse: duckdb.DuckDBPyConnection
) -> page.ReportInfo:
    row = published.execute(
        f"select publication_id, published_at_utc, run_id from {INFO_TABLE} limit 1"
    ).fetchone()
    publication_id, published_at, run_id = row or ("unknown", None, "unknown")
    source = data.Source(published, data.PUBLISHED_SCHEMA)
    outcomes = data.Source(warehouse, data.WAREHOUSE_SCHEMA)
    return page.ReportInfo(
        as_of=as_of,
        publication_id=publication_id,
        published_at=published_at,
        publication_run_id=run_id,
        generated_at=datetime.now(UTC),
        data_range=data.data_range(source),
        hire_dates=(
            data.hire_date_range(outcomes) if outcomes.has("fct_retention_outcomes") else None
        ),
    )


def quality_markdown(quality: QualityStatus) -> str:
    """The run's check summary, with only the checks that did not pass listed."""
    suites = quality.suites
    lines = [
        quality.summary,
        "",
        f"Expectation suites: {quality.count('passed', suites)} passed, "
        f"{quality.count('warn', suites)} warned, {quality.count('failed', suites)} failed.",
    ]
    not_passed = [o for o in quality.outcomes if o.status != "passed"]
    if not_passed:
        lines += ["", "| asset | check | status |", "|---|---|---|"]
        lines += [f"| {o.asset} | {o.check} | {o.status} |" for o in not_passed]
    return "\n".join(lines)


defs = dg.Definitions(assets=[retention_report])
