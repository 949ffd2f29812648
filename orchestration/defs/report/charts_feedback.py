"""The rule, measured with managers' feedback (docs/manager-digest.md#the-rule-measured): by
alert tier, the exit rate of alerts a manager acted on against the others, with its interval."""

from __future__ import annotations

from orchestration.defs.report import data
from orchestration.defs.report.chart import Chart, NumberTable, _missing, count, percent
from orchestration.defs.report.data import Source
from orchestration.defs.report.style import TIER_COLORS, _figure, _png, styled

FEEDBACK_TITLE = "Alerts managers acted on, and exits within 90 days (an association)"
FEEDBACK_CAPTION = (
    "For each alert tier, the share of alerts (employee-weeks) followed by a resignation within "
    "90 days when the manager answered 'acted' in lms/alert_feedback.csv, minus the share for "
    "the other alerts of that tier, with a 95% interval. An association, not an effect: "
    "managers choose where they act, and a person's weeks are not independent."
)


@styled
def tier_feedback_chart(source: Source) -> Chart:
    key = "tier_feedback_acted"
    if not source.has("mart_tier_backtest"):
        return _missing(key, FEEDBACK_TITLE, FEEDBACK_CAPTION, "mart_tier_backtest")
    rows = data.tier_feedback(source)
    if not any(r.answered_share for r in rows):
        return Chart(
            key,
            FEEDBACK_TITLE,
            FEEDBACK_CAPTION,
            message=(
                "Not enough data: no alert whose 90 days have passed has an answer in "
                "lms/alert_feedback.csv (docs/extract-contract.md#alert-feedback)."
            ),
        )
    shown = [r for r in rows if r.difference is not None]
    table = NumberTable(
        "tier-feedback",
        [
            "Tier",
            "Answered",
            "Not useful",
            "Acted on",
            "Exit if acted",
            "Exit otherwise",
            "Difference (95% interval)",
        ],  # fmt: skip
        [
            [
                str(r.tier),
                percent(r.answered_share),
                percent(r.not_useful_share),
                count(r.acted_weeks) if r.acted_weeks is not None else "suppressed",
                percent(r.exit_rate_acted),
                percent(r.exit_rate_not_acted),
                "suppressed"
                if r.difference is None
                else f"{r.difference * 100:+.1f} pts ({r.ci_lower * 100:+.1f} to "
                f"{r.ci_upper * 100:+.1f})",
            ]
            for r in rows
        ],
    )
    if not shown:
        return Chart(
            key,
            FEEDBACK_TITLE,
            FEEDBACK_CAPTION,
            message=(
                f"All tiers suppressed: the alerts acted on, or the others, concern fewer than "
                f"{data.min_cell_size()} employees in every tier."
            ),
            tables=(table,),
        )
    figure = _figure(8.0, 1.2 + 0.7 * len(rows))
    axes = figure.add_subplot()
    for y, row in enumerate(reversed(rows)):
        if row.difference is None:
            axes.text(0, y, "suppressed", ha="center", va="center", color="#777777")
            continue
        middle = row.difference * 100
        axes.errorbar(
            [middle],
            [y],
            xerr=[[middle - row.ci_lower * 100], [row.ci_upper * 100 - middle]],
            fmt="o",
            color=TIER_COLORS.get(row.tier, "#333333"),
            markersize=7,
            elinewidth=1.4,
            capsize=3,
        )
    axes.axvline(0, color="#333333", linewidth=1, linestyle="--")
    axes.set_yticks(range(len(rows)), [f"Tier {r.tier}" for r in reversed(rows)])
    axes.set_ylim(-0.7, len(rows) - 0.3)
    axes.set_xlabel("Exit rate if acted minus otherwise (percentage points)")
    return Chart(key, FEEDBACK_TITLE, FEEDBACK_CAPTION, png=_png(figure), tables=(table,))
