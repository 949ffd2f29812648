"""The intervention-tier charts: weekly tier counts by department and the tier backtest."""

from __future__ import annotations

import math

from orchestration.defs.report import data
from orchestration.defs.report.chart import Chart, NumberTable, _missing, _nan, count, percent
from orchestration.defs.report.data import Source
from orchestration.defs.report.style import TIER_COLORS, _figure, _png, styled

# --- Weekly tiers by department ------------------------------------------------------------

TIER_TITLE = "Employees at tier 1, 2 and 3 each week, by department"
TIER_CAPTION = (
    "Each panel counts one department's employees at each tier of the intervention rule per "
    "week (1 alert, 2 concern, 3 high-risk); a gap is a week with fewer than "
    f"{data.min_cell_size()} employees at that tier, suppressed."
)


@styled
def tier_trend_chart(source: Source) -> Chart:
    key = "weekly_tiers_by_department"
    if not source.has("fct_risk_tiers"):
        return _missing(key, TIER_TITLE, TIER_CAPTION, "fct_risk_tiers")
    counts = data.weekly_tier_counts(source)
    if not counts:
        return Chart(key, TIER_TITLE, TIER_CAPTION, message="Not enough data: no weeks yet.")
    if all(c.employees is None for c in counts):
        return Chart(
            key,
            TIER_TITLE,
            TIER_CAPTION,
            message=(
                "All cells suppressed: no department had "
                f"{data.min_cell_size()} or more employees at any tier in any week."
            ),
        )
    departments = sorted({c.department for c in counts})
    weeks = sorted({c.week_start for c in counts})
    columns = 2 if len(departments) > 1 else 1
    rows = math.ceil(len(departments) / columns)
    figure = _figure(10.0, 0.5 + 1.8 * rows)
    grid = figure.subplots(rows, columns, sharex=True, squeeze=False)
    value = {(c.department, c.week_start, c.tier): c.employees for c in counts}
    for index, department in enumerate(departments):
        axes = grid[index // columns][index % columns]
        drawn = False
        for tier in data.TIERS:
            series = [value.get((department, week, tier)) for week in weeks]
            if any(v is not None for v in series):
                drawn = True
            axes.plot(
                weeks,
                [_nan(v) for v in series],
                color=TIER_COLORS[tier],
                linewidth=1.3,
                # Markers, so a week standing alone between suppressed weeks still shows.
                marker="o",
                markersize=2,
                label=f"Tier {tier}",
            )
        axes.set_title(department, fontsize=9)
        axes.set_ylim(bottom=0)
        if not drawn:
            axes.set_yticks([])
            axes.text(
                0.5,
                0.5,
                "all weeks suppressed",
                transform=axes.transAxes,
                ha="center",
                va="center",
                color="#777777",
            )
    for index in range(len(departments), rows * columns):
        grid[index // columns][index % columns].set_visible(False)
    for column in range(columns):
        # The lowest panel of each column carries the dates (a short column ends a row early).
        lowest = max(i for i in range(len(departments)) if i % columns == column)
        grid[lowest // columns][column].tick_params(axis="x", labelbottom=True, labelrotation=30)
    handles, labels = grid[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside upper right", ncols=3)
    figure.supylabel("Employees", fontsize=9)
    latest = weeks[-1]

    def cell(department: str, tier: int) -> str:
        if (department, latest, tier) not in value:
            return "-"  # nobody in the department that week
        employees = value[(department, latest, tier)]
        return f"<{data.min_cell_size()}" if employees is None else f"{employees:,}"

    table = NumberTable(
        "tiers-latest-week",
        [f"Week of {latest.isoformat()}", *(f"Tier {tier}" for tier in data.TIERS)],
        [
            [department, *(cell(department, tier) for tier in data.TIERS)]
            for department in departments
        ],
    )
    return Chart(key, TIER_TITLE, TIER_CAPTION, png=_png(figure), tables=(table,))


# --- Tier backtest -------------------------------------------------------------------------

BACKTEST_TITLE = "Tier backtest: how often a week at each tier was followed by a resignation"
BACKTEST_CAPTION = (
    "Each bar is a tier's lift, the share of its employee-weeks followed by a voluntary exit "
    "within 90 days divided by the base rate of all weeks (dashed line, lift 1); a useful rule "
    "has lift rising with the tier."
)


@styled
def tier_backtest_chart(source: Source) -> Chart:
    key = "tier_backtest_lift"
    if not source.has("mart_tier_backtest"):
        return _missing(key, BACKTEST_TITLE, BACKTEST_CAPTION, "mart_tier_backtest")
    rows = data.tier_backtest(source)
    if not rows or rows[0].base_rate is None:
        return Chart(
            key,
            BACKTEST_TITLE,
            BACKTEST_CAPTION,
            message="Not enough data: no employee-week's 90-day horizon has passed yet.",
        )
    if all(r.lift is None for r in rows):
        return Chart(
            key,
            BACKTEST_TITLE,
            BACKTEST_CAPTION,
            message=(
                f"All tiers suppressed: each has fewer than {data.min_cell_size()} employees, "
                "or no week was followed by a resignation (base rate 0)."
            ),
        )
    figure = _figure(8.0, 3.6)
    axes = figure.add_subplot()
    axes.grid(axis="x", visible=False)
    tallest = max(1.0, *(r.lift for r in rows if r.lift is not None))
    for row in rows:
        color = TIER_COLORS.get(row.tier, "#999999")
        if row.lift is None:
            axes.text(row.tier, 0.05, "suppressed", ha="center", va="bottom", color="#777777")
            continue
        axes.bar(row.tier, row.lift, color=color, width=0.6)
        axes.text(
            row.tier,
            row.lift + tallest * 0.02,
            f"{row.lift:.2f}\n({percent(row.exit_within_90d_rate)})",
            ha="center",
            va="bottom",
            fontsize=8,
            # A white box keeps the label readable where it crosses the base-rate line.
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
        )
    axes.axhline(
        1.0,
        color="#333333",
        linestyle="--",
        linewidth=1,
        label=f"lift 1 = base rate, {percent(rows[0].base_rate)} of all weeks",
    )
    axes.legend(loc="upper left")
    axes.set_xticks([r.tier for r in rows], [f"Tier {r.tier}" for r in rows])
    axes.set_ylim(0, tallest * 1.25)
    axes.set_ylabel("Lift (rate / base rate)")
    table = NumberTable(
        "backtest-lift",
        ["Tier", "Employee-weeks", "Employees", "Exit within 90 days", "Base rate", "Lift"],
        [
            [
                str(r.tier),
                count(r.employee_weeks),
                count(r.employees),
                percent(r.exit_within_90d_rate),
                percent(r.base_rate),
                "suppressed" if r.lift is None else f"{r.lift:.2f}",
            ]
            for r in rows
        ],
    )
    return Chart(key, BACKTEST_TITLE, BACKTEST_CAPTION, png=_png(figure), tables=(table,))
