"""The report as one self-contained HTML page: charts inlined as PNG data URIs, no scripts, no
web fonts and no links that leave the file, so it opens the same offline, in a mail attachment
or on a file share."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from orchestration.defs.report.data import DataRange, min_cell_size
from orchestration.defs.report.quality import CheckOutcome, QualityStatus

if TYPE_CHECKING:  # the chart modules import matplotlib, which only the drawing step needs
    from orchestration.defs.report.chart import Chart

TITLE = "Retention and engagement report"
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  color: #1f2328; margin: 0; background: #f6f7f9; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 19px; margin: 36px 0 8px; padding-top: 12px; border-top: 1px solid #e3e5e8; }
.subtitle { color: #57606a; margin: 0 0 16px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dl.facts dt { color: #57606a; } dl.facts dd { margin: 0; }
figure { margin: 8px 0 0; } figure img { max-width: 100%; height: auto; display: block; }
figcaption, .caption { color: #3d444d; font-size: 14px; margin: 6px 0 10px; max-width: 900px; }
.empty { border: 1px dashed #b5bcc4; background: #f3f4f6; color: #3d444d; padding: 28px 20px;
  text-align: center; font-size: 15px; border-radius: 4px; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0 4px;
  font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d8dce1; padding: 3px 8px; text-align: right; }
th { background: #f3f4f6; font-weight: 600; }
td:first-child, th:first-child, .text { text-align: left; }
.status { font-weight: 600; }
.passed { color: #1a7f37; } .warn { color: #9a6700; } .failed { color: #cf222e; }
nav ol { margin: 4px 0 0; padding-left: 20px; columns: 2; }
footer, .source { color: #57606a; font-size: 12px; }
footer { margin-top: 40px; }
"""


@dataclass(frozen=True)
class ReportInfo:
    as_of: date
    publication_id: str
    published_at: datetime | None
    publication_run_id: str
    generated_at: datetime
    data_range: DataRange
    hire_dates: tuple[date, date] | None


def render(info: ReportInfo, charts: list[Chart], quality: QualityStatus) -> str:
    sections = [_header(info), _contents(charts), _quality(quality)]
    sections += [_chart(chart) for chart in charts]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{TITLE}, as of {info.as_of.isoformat()}</title>"
        f"<style>{STYLE}</style></head><body><main>\n"
        + "\n".join(sections)
        + f"\n<footer>Written {info.generated_at:%Y-%m-%d %H:%M} UTC by the retention_report "
        "asset. Small cells are suppressed as in the marts: a value over fewer than "
        f"{min_cell_size()} employees is never shown.</footer>\n"
        "</main></body></html>\n"
    )


def _header(info: ReportInfo) -> str:
    span = info.data_range
    facts = [
        ("As of", info.as_of.isoformat()),
        (
            "Publication",
            f"{info.publication_id}"
            + (f", published {info.published_at:%Y-%m-%d %H:%M} UTC" if info.published_at else "")
            + f", run {info.publication_run_id}",
        ),
        (
            "Weekly engagement",
            f"weeks starting {_day(span.first_week)} to {_day(span.last_week)}, "
            f"{span.weekly_employees:,} employees"
            if span.first_week
            else "no weeks yet",
        ),
        (
            "Hire dates",
            f"{_day(info.hire_dates[0])} to {_day(info.hire_dates[1])}"
            if info.hire_dates
            else "no hires yet",
        ),
        (
            "Cohort period",
            f"{_day(span.cohort_period[0])} to {_day(span.cohort_period[1])}"
            if span.cohort_period
            else "no cohort rows",
        ),
        (
            "Longest tenure shown",
            f"{span.longest_tenure_month} months"
            if span.longest_tenure_month is not None
            else "none",
        ),
    ]
    rows = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
    return (
        f"<h1>{TITLE}</h1>"
        f'<p class="subtitle" id="as-of">As of {info.as_of.isoformat()}: what BI tools read '
        "in this publication.</p>"
        f'<dl class="facts" id="data-range">{rows}</dl>'
    )


def _contents(charts: list[Chart]) -> str:
    items = "".join(f'<li><a href="#{c.key}">{escape(c.title)}</a></li>' for c in charts)
    return (
        f'<nav><ol><li><a href="#data-quality">Data quality of this run</a></li>{items}</ol></nav>'
    )


def _quality(quality: QualityStatus) -> str:
    suites = quality.suites
    rows = "".join(_suite_row(o) for o in suites)
    suite_table = (
        '<table id="quality-suites"><thead><tr><th>Asset</th><th>Kind</th><th>Status</th>'
        '<th>Expectations</th><th>Failed</th><th class="text">Result</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
        if suites
        else ""
    )
    tests = quality.dbt_tests
    tests_line = (
        f"<p>dbt tests: {quality.count('passed', tests)} passed, "
        f"{quality.count('warn', tests)} warned, {quality.count('failed', tests)} failed.</p>"
        if tests
        else ""
    )
    not_passed = [o for o in tests if o.status != "passed"]
    tests_table = (
        '<table id="quality-dbt-tests"><thead><tr><th>Asset</th><th>dbt test</th>'
        "<th>Status</th></tr></thead><tbody>"
        + "".join(
            f"<tr><td>{escape(o.asset)}</td><td>{escape(o.check)}</td>"
            f'<td class="status {o.status}">{o.status}</td></tr>'
            for o in not_passed
        )
        + "</tbody></table>"
        if not_passed
        else ""
    )
    return (
        '<h2 id="data-quality">Data quality of this run</h2>'
        f'<p id="quality-summary">{escape(quality.summary)}</p>'
        "<p>Blocking suites stop publication when an error-severity expectation fails, so a "
        "published report has passed them all; warnings do not block and are listed here.</p>"
        + suite_table
        + tests_line
        + tests_table
    )


def _suite_row(outcome: CheckOutcome) -> str:
    kind = "blocking" if outcome.blocking else "warning"
    evaluated = (
        "" if outcome.expectations_evaluated is None else f"{outcome.expectations_evaluated}"
    )
    failed = "" if outcome.expectations_failed is None else f"{outcome.expectations_failed}"
    return (
        f"<tr><td>{escape(outcome.asset)}</td><td>{kind}</td>"
        f'<td class="status {outcome.status}">{outcome.status}</td>'
        f"<td>{evaluated}</td><td>{failed}</td>"
        f'<td class="text">{escape(outcome.description)}</td></tr>'
    )


def _chart(chart: Chart) -> str:
    if chart.png is not None:
        body = (
            f'<figure><img src="{chart.data_uri}" alt="{escape(chart.title)}">'
            f"<figcaption>{escape(chart.caption)}</figcaption></figure>"
        )
    else:
        body = (
            f'<div class="empty">{escape(chart.message or "No data.")}</div>'
            f'<p class="caption">{escape(chart.caption)}</p>'
        )
    source = f'<p class="source">Source: {_code(chart.source)}.</p>' if chart.source else ""
    tables = "".join(table.html() for table in chart.tables)
    return (
        f'<section id="{chart.key}"><h2>{escape(chart.title)}</h2>{body}{tables}{source}</section>'
    )


def _code(text: str) -> str:
    """`name` (Markdown code, as in the metadata) as <code>name</code>."""
    parts = escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def _day(value: date | None) -> str:
    return value.isoformat() if value else "-"


def write_atomically(path: Path, html: str) -> Path:
    """Write beside the target and rename over it: a reader sees the old page or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with staged.open("w", encoding="utf-8") as handle:
            handle.write(html)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(staged, path)
    finally:
        staged.unlink(missing_ok=True)
    return path


def stale_page(publication_id: str, error: str, previous: str | None) -> str:
    """The page that stands in for the report when the current publication's report could not
    be drawn: the tables BI tools read are newer than any report."""
    link = (
        f'<p>The last report drawn, for an earlier publication, is <a href="{escape(previous)}">'
        f"{escape(previous)}</a>: its numbers may differ from the published tables.</p>"
        if previous
        else "<p>No earlier report exists.</p>"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{TITLE}: not current</title>"
        f"<style>{STYLE}</style></head><body><main>\n"
        f'<h1 id="report-stale">{TITLE}: not current</h1>'
        f"<p>Publication <code>{escape(publication_id)}</code> is what BI tools read now, and "
        f"its report could not be drawn: <code>{escape(error)}</code>. The next run that "
        "draws it replaces this page.</p>"
        f"{link}"
        "</main></body></html>\n"
    )
