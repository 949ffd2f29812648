"""The Kaplan-Meier retention curves, by bundle completion and by job family."""

from __future__ import annotations

import math

from matplotlib import ticker

from orchestration.defs.report import data
from orchestration.defs.report.chart import Chart, NumberTable, _missing, _nan
from orchestration.defs.report.data import Source
from orchestration.defs.report.style import COMPLETER_COLORS, PALETTE, _figure, _png, styled

# --- Kaplan-Meier curves -------------------------------------------------------------------

SURVIVAL_GROUPS = {
    "completer": (
        "Voluntary retention by bundle completion (Kaplan-Meier)",
        "Each line is the share of people who have not resigned by each month of tenure, with its "
        "95% band shaded; completers and non-completers of their onboarding bundle are counted "
        "from day 90, so both lines are flat until then.",
    ),
    "job_family": (
        "Voluntary retention by job family (Kaplan-Meier)",
        "Each line is the share of a job family's hires who have not resigned by each month of "
        "tenure, with its 95% band shaded; a lower line means people resign sooner, and a line "
        f"ends where fewer than {data.min_cell_size()} people remain at risk.",
    ),
}
GROUP_LABELS = {"completer": "Completers", "non_completer": "Non-completers"}


@styled
def survival_chart(source: Source, group_type: str) -> Chart:
    title, caption = SURVIVAL_GROUPS[group_type]
    key = f"survival_by_{group_type}"
    if not source.has("mart_survival_curves"):
        return _missing(key, title, caption, "mart_survival_curves")
    curves = [c for c in data.survival_curves(source, group_type) if len(c.shown) >= 2]
    if not curves:
        return Chart(
            key,
            title,
            caption,
            message=(
                "Not enough data: every month of these curves has fewer than "
                f"{data.min_cell_size()} people at risk (suppressed), or there are no curves yet."
            ),
        )
    last_month = max(c.shown[-1].month for c in curves)
    step = 3 if last_month <= 12 else 6 if last_month <= 36 else 12 if last_month <= 72 else 24
    ticks = list(range(0, last_month + 1, step))

    figure = _figure(10.0, 4.6)
    axes = figure.add_subplot()
    for index, curve in enumerate(curves):
        color = COMPLETER_COLORS.get(curve.group, PALETTE[index % len(PALETTE)])
        shown = curve.shown
        months = [p.month for p in shown]
        axes.fill_between(
            months,
            [_nan(p.ci_lower) for p in shown],
            [_nan(p.ci_upper) for p in shown],
            step="post",
            color=color,
            alpha=0.15,
            linewidth=0,
        )
        axes.step(
            months,
            [p.survival for p in shown],
            where="post",
            color=color,
            linewidth=1.8,
            label=GROUP_LABELS.get(curve.group, curve.group),
        )
    lowest = min(
        (p.ci_lower for c in curves for p in c.shown if p.ci_lower is not None), default=0.0
    )
    axes.set_ylim(max(0.0, math.floor(lowest * 10) / 10 - 0.02), 1.005)
    axes.set_xlim(0, last_month)
    axes.set_xticks(ticks)
    axes.yaxis.set_major_formatter(ticker.PercentFormatter(1.0, decimals=0))
    axes.set_xlabel("Tenure (months)")
    axes.set_ylabel("Not yet resigned")
    axes.legend(loc="lower left", ncols=min(len(curves), 3))
    table = NumberTable(
        f"at-risk-{group_type}",
        ["Number at risk", *(f"{m} mo" for m in ticks)],
        [
            [GROUP_LABELS.get(curve.group, curve.group), *_at_risk_cells(curve, ticks)]
            for curve in curves
        ],
    )
    return Chart(key, title, caption, png=_png(figure), tables=(table,))


def _at_risk_cells(curve: data.SurvivalCurve, ticks: list[int]) -> list[str]:
    by_month = {p.month: p for p in curve.points}
    cells = []
    for month in ticks:
        point = by_month.get(month)
        if point is None:
            cells.append("-")  # the curve ends before this month: nobody has that tenure
        elif point.at_risk is None:
            cells.append(f"<{data.min_cell_size()}")
        else:
            cells.append(f"{point.at_risk:,}")
    return cells
