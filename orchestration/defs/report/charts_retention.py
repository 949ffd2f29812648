"""The 12-month retention charts: the hire-quarter heatmap and the matched forest plot."""

from __future__ import annotations

import math

import matplotlib
from matplotlib import cm, colors, ticker
from matplotlib.patches import Patch, Rectangle

from orchestration.defs.report import data
from orchestration.defs.report.chart import Chart, NumberTable, _missing, count, percent, points
from orchestration.defs.report.data import Source
from orchestration.defs.report.style import SUPPRESSED_COLOR, _figure, _png, styled

# --- 12-month retention heatmap ------------------------------------------------------------

HEATMAP_TITLE = "12-month voluntary retention by hire quarter and job family"
HEATMAP_CAPTION = (
    "Each cell is the share of a quarter's hires in a job family who had not resigned 12 months "
    "later (darker is better); hatched grey cells had fewer than "
    f"{data.min_cell_size()} such hires and are suppressed, blank cells had none."
)


@styled
def retention_heatmap_chart(source: Source) -> Chart:
    key = "retention_12m_heatmap"
    if not source.has("fct_retention_outcomes"):
        return _missing(key, HEATMAP_TITLE, HEATMAP_CAPTION, "fct_retention_outcomes")
    cells = data.retention_by_hire_quarter(source)
    if not cells:
        return Chart(
            key,
            HEATMAP_TITLE,
            HEATMAP_CAPTION,
            message="Not enough data: no hire quarter is 12 months old yet.",
        )
    if all(c.retention_12m is None for c in cells):
        return Chart(
            key,
            HEATMAP_TITLE,
            HEATMAP_CAPTION,
            message=(
                "All cells suppressed: no hire quarter and job family had "
                f"{data.min_cell_size()} or more hires observable for 12 months."
            ),
        )
    quarters = sorted({c.hire_quarter for c in cells})
    families = sorted({c.job_family for c in cells})
    shown = [c.retention_12m for c in cells if c.retention_12m is not None]
    low = min(0.5, math.floor(min(shown) * 10) / 10)
    figure = _figure(min(10.5, 2.4 + 0.32 * len(quarters)), 1.5 + 0.42 * len(families))
    axes = figure.add_subplot()
    axes.grid(False)
    colormap = matplotlib.colormaps["YlGnBu"]
    norm = colors.Normalize(vmin=low, vmax=1.0)
    annotate = len(quarters) <= 48
    for cell in cells:
        x, y = quarters.index(cell.hire_quarter), families.index(cell.job_family)
        if cell.retention_12m is None:
            axes.add_patch(
                Rectangle(
                    (x - 0.5, y - 0.5),
                    1,
                    1,
                    facecolor=SUPPRESSED_COLOR,
                    hatch="///",
                    edgecolor="white",
                    linewidth=0.8,
                )
            )
            continue
        color = colormap(norm(cell.retention_12m))
        axes.add_patch(
            Rectangle((x - 0.5, y - 0.5), 1, 1, facecolor=color, edgecolor="white", linewidth=0.8)
        )
        if annotate:
            dark = norm(cell.retention_12m) > 0.6
            axes.text(
                x,
                y,
                f"{cell.retention_12m * 100:.0f}",
                ha="center",
                va="center",
                fontsize=6.5,
                color="white" if dark else "#222222",
            )
    axes.set_xlim(-0.5, len(quarters) - 0.5)
    axes.set_ylim(len(families) - 0.5, -0.5)
    axes.set_xticks(range(len(quarters)), quarters, rotation=90)
    axes.set_yticks(range(len(families)), families)
    axes.spines[["left", "bottom"]].set_visible(False)
    axes.tick_params(length=0)
    mappable = cm.ScalarMappable(norm=norm, cmap=colormap)
    bar = figure.colorbar(mappable, ax=axes, fraction=0.03, pad=0.01)
    bar.ax.yaxis.set_major_formatter(ticker.PercentFormatter(1.0, decimals=0))
    bar.set_label("Retained at 12 months", fontsize=8)
    axes.legend(
        handles=[
            Patch(
                facecolor=SUPPRESSED_COLOR,
                hatch="///",
                edgecolor="white",
                label=f"suppressed (fewer than {data.min_cell_size()} hires)",
            )
        ],
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        borderaxespad=0.2,
    )
    return Chart(key, HEATMAP_TITLE, HEATMAP_CAPTION, png=_png(figure))


# --- Matched comparison (forest plot) ------------------------------------------------------

MATCHED_TITLE = "Completers vs similar non-completers: 12-month voluntary retention"
MATCHED_CAPTION = (
    "Each row is the difference in 12-month retention between bundle completers and "
    "non-completers hired into the same job, quarter and department, with its 95% interval; "
    "right of 0 means completers stayed more, and an interval crossing 0 shows no clear "
    "difference."
)
MAX_STRATA = 30


@styled
def matched_retention_chart(source: Source) -> Chart:
    key = "matched_retention_forest"
    if not source.has("mart_matched_retention"):
        return _missing(key, MATCHED_TITLE, MATCHED_CAPTION, "mart_matched_retention")
    rows = data.matched_retention(source)
    overall = next((r for r in rows if r.row_type == "overall"), None)
    strata = [r for r in rows if r.row_type == "stratum"]
    visible = [r for r in strata if r.retention_difference is not None]
    if overall is None or (overall.retention_difference is None and not visible):
        return Chart(
            key,
            MATCHED_TITLE,
            MATCHED_CAPTION,
            message=(
                "Not enough data: no stratum holds both a completer and a non-completer "
                "observable for 12 months."
                if overall is None
                else f"All strata suppressed: each has fewer than {data.min_cell_size()} "
                "matched employees."
            ),
        )
    shown = visible[:MAX_STRATA]
    suppressed = len(strata) - len(visible)
    note = f"{len(shown)} of {len(strata)} strata shown, largest first"
    if suppressed:
        note += f"; {suppressed} suppressed (fewer than {data.min_cell_size()} matched)"
    figure = _figure(10.0, 1.3 + 0.24 * (len(shown) + 2))
    axes = figure.add_subplot()
    positions: list[float] = list(range(len(shown)))
    labels = [f"{row.label} (n={row.matched_employees})" for row in shown]
    for y, row in zip(positions, shown, strict=True):
        _interval(axes, y, row, "#0072B2", "s", 4)
    if overall.retention_difference is not None:
        # The overall row sits apart, below a rule, as in a meta-analysis forest plot.
        positions.append(len(shown) + 0.6)
        labels.append(f"Overall (n={overall.matched_employees})")
        _interval(axes, positions[-1], overall, "#000000", "D", 7)
        axes.axhline(len(shown) - 0.2, color="#bbbbbb", linewidth=0.6)
    axes.set_yticks(positions, labels, fontsize=7 if len(shown) > 12 else 8)
    axes.invert_yaxis()
    axes.axvline(0, color="#555555", linewidth=0.9, linestyle="--")
    axes.set_xlim(-105, 105)
    axes.set_xlabel("Completers minus non-completers, 12-month retention (percentage points)")
    axes.set_title(note, fontsize=8, fontweight="normal", color="#555555")
    table = NumberTable(
        "matched-overall",
        [
            "Completers",
            "Non-completers",
            "Matched employees",
            "Completer retention",
            "Non-completer retention",
            "Difference",
            "95% interval",
            "Unmatched employees",
        ],
        [
            [
                count(overall.completers),
                count(overall.non_completers),
                count(overall.matched_employees),
                percent(overall.completer_retention_12m),
                percent(overall.non_completer_retention_12m),
                points(overall.retention_difference),
                f"{points(overall.ci_lower)} to {points(overall.ci_upper)}",
                count(overall.unmatched_employees),
            ]
        ],
    )
    return Chart(key, MATCHED_TITLE, MATCHED_CAPTION, png=_png(figure), tables=(table,))


def _interval(axes, y: float, row: data.MatchedRow, color: str, marker: str, size: int) -> None:
    middle = row.retention_difference * 100
    axes.errorbar(
        [middle],
        [y],
        xerr=[[middle - row.ci_lower * 100], [row.ci_upper * 100 - middle]],
        fmt=marker,
        color=color,
        markersize=size,
        elinewidth=1.2,
        capsize=2,
    )
