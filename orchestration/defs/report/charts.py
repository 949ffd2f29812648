"""The charts the report draws and each mart carries, and the same charts as asset metadata."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import dagster as dg
import duckdb

from orchestration.defs.report import data
from orchestration.defs.report.chart import Chart
from orchestration.defs.report.charts_retention import (
    matched_retention_chart,
    retention_heatmap_chart,
)
from orchestration.defs.report.charts_survival import survival_chart
from orchestration.defs.report.charts_tiers import tier_backtest_chart, tier_trend_chart
from orchestration.defs.report.data import Source

# --- The charts of the report, and of each mart --------------------------------------------


CHART_TABLES = {
    "survival_by_completer": "mart_survival_curves",
    "survival_by_job_family": "mart_survival_curves",
    "weekly_tiers_by_department": "fct_risk_tiers",
    "retention_12m_heatmap": "fct_retention_outcomes",
    "matched_retention_forest": "mart_matched_retention",
    "tier_backtest_lift": "mart_tier_backtest",
}


def _sourced(chart: Chart, source: Source) -> Chart:
    return replace(chart, source=source.describe(CHART_TABLES[chart.key]))


def report_charts(published: Source, warehouse: Source) -> list[Chart]:
    """Every chart of the report, in reading order. Only the heatmap reads the warehouse:
    per-employee outcomes are not published, so its cells are computed (and suppressed) here."""
    return [
        _sourced(survival_chart(published, "completer"), published),
        _sourced(survival_chart(published, "job_family"), published),
        _sourced(tier_trend_chart(published), published),
        _sourced(retention_heatmap_chart(warehouse), warehouse),
        _sourced(matched_retention_chart(published), published),
        _sourced(tier_backtest_chart(published), published),
    ]


MART_CHARTS: dict[str, Callable[[Source], list[Chart]]] = {
    "mart_survival_curves": lambda s: [
        survival_chart(s, "completer"),
        survival_chart(s, "job_family"),
    ],
    "fct_risk_tiers": lambda s: [tier_trend_chart(s)],
    "fct_retention_outcomes": lambda s: [retention_heatmap_chart(s)],
    "mart_matched_retention": lambda s: [matched_retention_chart(s)],
    "mart_tier_backtest": lambda s: [tier_backtest_chart(s)],
}


def chart_metadata(charts: list[Chart]) -> dict[str, dg.MetadataValue]:
    return {f"chart_{chart.key}": dg.MetadataValue.md(chart.markdown()) for chart in charts}


def mart_chart_metadata(
    conn: duckdb.DuckDBPyConnection, table_name: str
) -> dict[str, dg.MetadataValue]:
    """The charts of a mart in schema `marts` as asset metadata; {} for tables without one."""
    draw = MART_CHARTS.get(table_name)
    if draw is None:
        return {}
    try:
        source = Source(conn, data.WAREHOUSE_SCHEMA)
        return chart_metadata([_sourced(chart, source) for chart in draw(source)])
    except Exception as exc:
        # A picture must never fail the table it describes: say what went wrong instead.
        return {"chart_error": dg.MetadataValue.md(f"Chart not drawn: `{exc!r}`")}
