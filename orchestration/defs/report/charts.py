"""The report's charts, drawn with matplotlib from the marts, and the same charts as asset metadata.

Each chart is a `Chart`: a title, a one-sentence caption saying how to read it, a PNG (or, when
the data cannot carry a picture, a message saying why), and the numbers the reader may want to
quote, as a small table. The HTML report and the Dagster UI show the same objects.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from html import escape

import dagster as dg
import duckdb
import matplotlib
from matplotlib import cm, colors, ticker
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from PIL import Image

from orchestration.defs import markdown as md
from orchestration.defs.report import data
from orchestration.defs.report.data import Source

# Okabe-Ito: distinguishable with the common colour-vision deficiencies, and in greyscale print.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000")
TIER_COLORS = {1: "#E6A100", 2: "#D55E00", 3: "#8E1B1B"}
COMPLETER_COLORS = {"completer": "#0072B2", "non_completer": "#999999"}
SUPPRESSED_COLOR = "#d9d9d9"
STYLE = {
    "font.family": "DejaVu Sans",  # ships with matplotlib: the same glyphs on every machine
    "font.size": 9,
    # Titles and labels hold names from the extracts: a `$` in a department is a dollar sign,
    # never the start of a TeX formula (which would fail to draw).
    "text.parse_math": False,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9,
    "axes.edgecolor": "#888888",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#e6e6e6",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
}
# Modest resolution keeps a chart near 30-80 KB, so a mart's metadata stays small.
DPI = 96


@dataclass(frozen=True)
class NumberTable:
    """Numbers printed beside a chart; `table_id` lets readers (and tests) find them."""

    table_id: str
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]

    def html(self) -> str:
        head = "".join(f"<th>{escape(h)}</th>" for h in self.headers)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>"
            for row in self.rows
        )
        return (
            f'<table id="{escape(self.table_id)}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>"
        )

    def markdown(self) -> str:
        lines = [
            "| " + " | ".join(md.text(h) for h in self.headers) + " |",
            "|" + "---|" * len(self.headers),
        ]
        lines += ["| " + " | ".join(md.text(cell) for cell in row) + " |" for row in self.rows]
        return "\n".join(lines)


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    caption: str  # one sentence: how to read the chart
    png: bytes | None = None
    message: str | None = None  # why there is no picture: not enough data, all suppressed
    tables: tuple[NumberTable, ...] = field(default_factory=tuple)
    source: str = ""  # the table drawn, and where it was read

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png or b"").decode("ascii")

    def markdown(self) -> str:
        """The chart as Markdown for asset metadata: the Dagster UI renders data-URI images."""
        parts = [f"**{self.title}**"]
        if self.png is not None:
            parts.append(f"![{self.title}]({self.data_uri})")
        else:
            parts.append(f"_{self.message}_")
        parts.append(self.caption + (f" Source: {self.source}." if self.source else ""))
        parts += [table.markdown() for table in self.tables]
        return "\n\n".join(parts)


def styled(draw):
    """Draw under the report's style (matplotlib reads rcParams as each artist is made)."""
    return matplotlib.rc_context(STYLE)(draw)


def _figure(width: float, height: float) -> Figure:
    # Figure on an Agg canvas, not pyplot: no global figure registry, no GUI backend loaded.
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    # Charts are a few flat colours plus anti-aliasing: a 256-colour palette looks the same and
    # is about a third of the size.
    image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB").quantize(colors=256)
    small = io.BytesIO()
    image.save(small, format="PNG", optimize=True)
    return small.getvalue()


def _missing(key: str, title: str, caption: str, table: str) -> Chart:
    return Chart(key, title, caption, message=f"No data: there is no table `{table}` yet.")


def percent(value: float | None, digits: int = 1) -> str:
    return "suppressed" if value is None else f"{value * 100:.{digits}f}%"


def points(value: float | None, digits: int = 1) -> str:
    """A difference of shares in percentage points, signed."""
    return "suppressed" if value is None else f"{value * 100:+.{digits}f} pp"


def count(value: int | None) -> str:
    return "suppressed" if value is None else f"{value:,}"


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


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


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
