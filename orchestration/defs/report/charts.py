"""The charts of the report, and the same charts as the `retention_report` asset's metadata.

Drawn on the report side only: the dbt step records dbt's results and row counts, nothing more
(docs/report.md#in-the-dagster-ui)."""

from __future__ import annotations

from dataclasses import replace

import dagster as dg

from orchestration.defs.report.chart import Chart
from orchestration.defs.report.charts_feedback import tier_feedback_chart
from orchestration.defs.report.charts_retention import (
    matched_retention_chart,
    retention_heatmap_chart,
)
from orchestration.defs.report.charts_survival import survival_chart
from orchestration.defs.report.charts_tiers import tier_backtest_chart, tier_trend_chart
from orchestration.defs.report.data import Source

CHART_TABLES = {
    "survival_by_completer": "mart_survival_curves",
    "survival_by_job_family": "mart_survival_curves",
    "weekly_tiers_by_department": "fct_risk_tiers",
    "retention_12m_heatmap": "fct_retention_outcomes",
    "matched_retention_forest": "mart_matched_retention",
    "tier_backtest_lift": "mart_tier_backtest",
    "tier_feedback_acted": "mart_tier_backtest",
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
        _sourced(tier_feedback_chart(published), published),
    ]


def chart_metadata(charts: list[Chart]) -> dict[str, dg.MetadataValue]:
    return {f"chart_{chart.key}": dg.MetadataValue.md(chart.markdown()) for chart in charts}
