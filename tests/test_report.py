"""The retention report: written after each publication, self-contained, faithful to the published
marts, honest about small cells, and the same charts on the report asset in the Dagster UI."""

from __future__ import annotations

import contextlib
import csv
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from orchestration.defs import markdown as md
from orchestration.defs.report import charts, data, page
from orchestration.defs.report.assets import report_path, retention_report
from orchestration.defs.report.quality import QualityStatus
from orchestration.defs.resources import pipeline_resource
from orchestration.sample_data import generate
from tests.conftest import free_port, published, run_pipeline, settings_for, stop_service
from tests.landing import build_landing

pytestmark = pytest.mark.ui

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "report"
END = date(2026, 11, 22)
CHART_SECTIONS = [
    "survival_by_completer",
    "survival_by_job_family",
    "weekly_tiers_by_department",
    "retention_12m_heatmap",
    "matched_retention_forest",
    "tier_backtest_lift",
    "tier_feedback_acted",
]
# A department name as a hostile or careless HRIS admin might type it: markup, a table pipe, a
# Markdown link and dollar signs (TeX to matplotlib). It must show as text everywhere.
HOSTILE_DEPARTMENT = 'R&D <script>alert("x")</script> | $5 & $6 [link](http://example.invalid)'


def _rename_department(landing: Path, old: str, new: str) -> None:
    for name in ("hris/workers.csv", "hris/job_history.csv"):
        path = landing / name
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        for row in rows:
            if row["department"] == old:
                row["department"] = new
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


METADATA_LIMIT = 300_000  # characters of chart Markdown per asset
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    """A generated company with 18 months of learning: enough hires a year past their bundle
    window for a matched comparison. The run is kept in a real instance, for the UI test."""
    root = tmp_path_factory.mktemp("report")
    generate(root / "landing", employees=400, months=18, seed=11, end_date=END)
    _rename_department(root / "landing", "Engineering", HOSTILE_DEPARTMENT)
    settings = settings_for(root, PIPELINE_AS_OF=END.isoformat())
    home = root / "dagster_home"
    home.mkdir()
    with dg.DagsterInstance.local_temp(tempdir=str(home)) as instance:
        result = run_pipeline(settings, instance=instance)
    assert result.success
    html = report_path(settings.publish_dir).read_text(encoding="utf-8")
    return SimpleNamespace(settings=settings, result=result, html=html, home=home)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Three hand-written employees: every aggregate is a small cell."""
    root = tmp_path_factory.mktemp("tiny")
    build_landing(root / "landing")
    settings = settings_for(root)
    result = run_pipeline(settings)
    assert result.success
    return SimpleNamespace(settings=settings, html=report_path(settings.publish_dir).read_text())


class _Page(HTMLParser):
    """The report's tables by id (rows of cell texts) and every src and href."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.references: list[str] = []
        self._table: str | None = None
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.references += [attributes[a] for a in ("src", "href") if a in attributes]
        if tag == "table":
            self._table = attributes.get("id")
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []

    def handle_data(self, text):
        if self._cell is not None:
            self._cell.append(text)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None


def sections(html: str) -> dict[str, str]:
    return dict(re.findall(r'<section id="([^"]+)">(.*?)</section>', html, re.S))


def number(text: str) -> float:
    """'1,234' -> 1234, '7.1%' -> 7.1, '+4.0 pp' -> 4.0"""
    return float(text.replace(",", "").replace("%", "").replace("pp", "").strip())


def close_to_printed(printed: str, value: float, scale: float = 1.0) -> bool:
    """The printed number is the value rounded to the digits printed."""
    digits = len(printed.split(".")[1].rstrip("% p")) if "." in printed else 0
    return abs(number(printed) - value * scale) <= 0.5 * 10**-digits + 1e-9


def test_the_report_is_written_for_a_generated_company(company):
    html = company.html
    assert "<title>Retention and engagement report, as of 2026-11-22</title>" in html
    found = sections(html)
    assert list(found) == CHART_SECTIONS
    for key, body in found.items():
        assert 'src="data:image/png;base64,' in body, f"{key} has no picture"
    # Written under a temporary name and renamed: nothing else is left beside it.
    assert [p.name for p in report_path(company.settings.publish_dir).parent.iterdir()] == [
        "index.html"
    ]


def test_the_report_opens_offline(company):
    html = company.html.lower()
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert "url(" not in html and "@font-face" not in html
    for reference in _Page(company.html).references:
        assert reference.startswith(("data:image/png;base64,", "#")), reference


def test_the_report_states_its_as_of_date_and_data_range(company):
    first_week, last_week = published(
        company.settings, "select min(week_start), max(week_start) from fct_risk_tiers"
    )[0]
    header = company.html.split("<nav>")[0]
    assert "As of 2026-11-22" in header
    assert f"weeks starting {first_week} to {last_week}" in header
    assert "Hire dates" in header and "Cohort period" in header


def test_backtest_lift_in_the_report_equals_the_mart(company):
    rows = _Page(company.html).tables["backtest-lift"]
    assert rows[0] == [
        "Tier",
        "Employee-weeks",
        "Employees",
        "Exit within 90 days",
        "Base rate",
        "Lift",
    ]
    mart = published(
        company.settings,
        "select tier, employee_weeks, employees, exit_within_90d_rate, base_rate, lift "
        "from mart_tier_backtest order by tier",
    )
    assert len(rows) - 1 == len(mart) == 4
    for printed, (tier, weeks, employees, rate, base, lift) in zip(rows[1:], mart, strict=True):
        assert printed[0] == str(tier)
        assert number(printed[1]) == weeks and number(printed[2]) == employees
        assert close_to_printed(printed[3], rate, 100)
        assert close_to_printed(printed[4], base, 100)
        assert close_to_printed(printed[5], lift)


def test_the_matched_overall_row_in_the_report_equals_the_mart(company):
    printed = _Page(company.html).tables["matched-overall"][1]
    (overall,) = published(
        company.settings,
        "select completers, non_completers, matched_employees, completer_retention_12m, "
        "non_completer_retention_12m, retention_difference, ci_lower, ci_upper, "
        "unmatched_employees from mart_matched_retention where row_type = 'overall'",
    )
    completers, non_completers, matched, kept, kept_without, difference, low, high, unmatched = (
        overall
    )
    assert matched >= 5, "the fixture company should give an unsuppressed matched comparison"
    assert [number(printed[i]) for i in (0, 1, 2, 7)] == [
        completers,
        non_completers,
        matched,
        unmatched,
    ]
    assert close_to_printed(printed[3], kept, 100)
    assert close_to_printed(printed[4], kept_without, 100)
    assert close_to_printed(printed[5], difference, 100)
    lower, upper = printed[6].split(" to ")
    assert close_to_printed(lower, low, 100) and close_to_printed(upper, high, 100)


@pytest.mark.parametrize("group_type", ["completer", "job_family"])
def test_numbers_at_risk_in_the_report_equal_the_mart(company, group_type):
    header, *rows = _Page(company.html).tables[f"at-risk-{group_type}"]
    months = [int(h.removesuffix(" mo")) for h in header[1:]]
    assert months[0] == 0 and len(months) >= 2
    mart = {
        (group, month): at_risk
        for group, month, at_risk in published(
            company.settings,
            "select group_value, tenure_month, at_risk from mart_survival_curves "
            "where group_type = ?",
            [group_type],
        )
    }
    names = {"Completers": "completer", "Non-completers": "non_completer"}
    assert rows
    for label, *cells in rows:
        group = names.get(label, label)
        for month, cell in zip(months, cells, strict=True):
            if (group, month) not in mart:
                assert cell == "-"
            elif mart[(group, month)] is None:
                assert cell == "<5"  # suppressed in the mart: never a number in the report
            else:
                assert number(cell) == mart[(group, month)]


def test_the_report_shows_the_checks_of_the_run_that_published(company):
    result = company.result
    evaluations = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    suites = {
        e.asset_key.to_user_string() for e in evaluations if e.check_name == "expectation_suite"
    }
    assert (
        f"{len(evaluations)} checks evaluated in run {result.run_id}: "
        f"{len(evaluations)} passed, 0 warned, 0 failed" in company.html
    )
    table = _Page(company.html).tables["quality-suites"]
    assert {row[0] for row in table[1:]} == suites
    assert {(row[1], row[2]) for row in table[1:]} == {("blocking", "passed")}


def test_small_cells_never_reach_a_chart(company):
    """The aggregates the report computes itself follow the marts' small-cell rule."""
    conn = duckdb.connect(str(company.settings.warehouse), read_only=True)
    try:
        source = data.Source(conn, data.WAREHOUSE_SCHEMA)
        cells = data.retention_by_hire_quarter(source)
        counts = data.weekly_tier_counts(source)
        exact = dict(
            ((q, f), n)
            for q, f, n in conn.execute(
                "select hire_quarter, job_family_at_hire, count(*) "
                "from marts.fct_retention_outcomes where not is_censored_12m group by all"
            ).fetchall()
        )
    finally:
        conn.close()
    assert any(c.retention_12m is not None for c in cells)
    assert any(c.retention_12m is None for c in cells)
    for cell in cells:
        assert (cell.employees is None) == (cell.retention_12m is None)
        assert (
            cell.employees is None or cell.employees == exact[(cell.hire_quarter, cell.job_family)]
        )
        assert cell.employees is None or cell.employees >= data.min_cell_size()
    assert all(c.employees is None or c.employees >= data.min_cell_size() for c in counts)
    assert any(c.employees is None for c in counts) and any(c.employees for c in counts)


def test_the_report_asset_carries_its_charts_and_path(company):
    (event,) = [
        e
        for e in company.result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey("retention_report")
    ]
    metadata = event.materialization.metadata
    assert metadata["report"].value == str(report_path(company.settings.publish_dir))
    assert metadata["as_of"].value == "2026-11-22"
    chart_keys = {key for key in metadata if key.startswith("chart_")}
    assert chart_keys == {f"chart_{key}" for key in CHART_SECTIONS}
    for key in chart_keys:
        assert "](data:image/png;base64," in metadata[key].value
    assert sum(len(metadata[key].value) for key in chart_keys) < METADATA_LIMIT
    assert "checks evaluated" in metadata["data_quality"].value


def test_charts_are_drawn_on_the_report_side_only(company):
    """The layers flow one way: the dbt step records dbt's results and row counts; every chart
    is the report's (docs/report.md#in-the-dagster-ui)."""
    charted = {
        e.asset_key.to_user_string()
        for e in company.result.get_asset_materialization_events()
        if any(key.startswith("chart_") for key in e.materialization.metadata)
    }
    assert charted == {"retention_report"}
    dbt_step = (ROOT / "orchestration/defs/dbt/assets.py").read_text()
    assert "report" not in re.findall(r"^from orchestration\.defs\.(\w+)", dbt_step, re.M)


def test_chromium_opens_the_report_from_disk(company):
    """Debian's Chromium, offline: every request other than file: and data: is refused."""
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    network: list[str] = []

    def only_local(route):
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            network.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page_ = browser.new_page(viewport={"width": 1200, "height": 900})
        page_.route("**/*", only_local)
        page_.goto(report_path(company.settings.publish_dir).as_uri())
        expect(page_.get_by_role("heading", name="Retention and engagement report")).to_be_visible()
        widths = page_.evaluate("[...document.images].map(i => i.complete && i.naturalWidth)")
        page_.screenshot(path=ARTIFACTS / "report.png", full_page=True)
        browser.close()
    assert len(widths) == len(CHART_SECTIONS) and all(w and w > 0 for w in widths), widths
    assert network == []


def test_the_dagster_ui_shows_a_report_chart(company):
    """dagster-webserver on the run's instance: the report's chart metadata opens as a picture."""
    from dagster_graphql import DagsterGraphQLClient
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect, sync_playwright

    settings, port = company.settings, free_port()
    env = (
        os.environ
        | settings.dbt_env()
        | {
            "PIPELINE_LANDING_DIR": str(settings.landing_dir),
            "PIPELINE_PUBLISH_DIR": str(settings.publish_dir),
            "DAGSTER_HOME": str(company.home),
        }
    )
    log_path = company.home / "webserver.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "dagster-webserver"),
                *("-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        client = DagsterGraphQLClient("127.0.0.1", port_number=port)
        deadline = time.monotonic() + 180
        while True:
            try:
                if client._execute("{ assetNodes { id } }")["assetNodes"]:
                    break
            except Exception:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("dagster-webserver did not come up:\n" + log_path.read_text()[-3000:])
            time.sleep(1)

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                args=CHROMIUM_ARGS,
            )
            ui = browser.new_page(viewport={"width": 1400, "height": 1000})
            ui.goto(f"http://127.0.0.1:{port}/assets/retention_report")
            skip = ui.get_by_role("button", name="Skip")  # the first-visit community dialog
            with contextlib.suppress(PlaywrightTimeout):
                skip.click(timeout=8000)
            row = ui.locator("tr", has_text="chart_tier_backtest_lift").first
            expect(row).to_be_visible(timeout=60000)
            # Long Markdown sits behind a link that opens it in a dialog.
            row.get_by_text("[Show Markdown]").click()
            image = ui.locator('img[src^="data:image/png;base64,"]').first
            expect(image).to_be_visible(timeout=15000)
            width = image.evaluate("i => i.complete && i.naturalWidth")
            ui.screenshot(path=ARTIFACTS / "ui-report-chart.png")
            browser.close()
        assert width and width > 0
    finally:
        stop_service(server)


def test_names_from_the_extracts_are_text_in_the_report_and_the_ui(company):
    """The hostile department reaches the report's tables escaped, never as markup, and the
    report chart's Markdown in the Dagster UI escapes it too."""
    assert escape(HOSTILE_DEPARTMENT) in company.html
    assert "<script" not in company.html and "example.invalid" not in re.findall(
        r'(?:href|src)="([^"]*)"', company.html
    )
    (tiers,) = [
        e.materialization.metadata["chart_weekly_tiers_by_department"].value
        for e in company.result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey("retention_report")
    ]
    assert md.text(HOSTILE_DEPARTMENT) in tiers
    assert not re.search(r"(?<!\\)<script", tiers) and "](http://example.invalid)" not in tiers


def test_a_tiny_company_gets_a_message_per_chart(tiny):
    found = sections(tiny.html)
    assert list(found) == CHART_SECTIONS
    for key, body in found.items():
        assert "<img" not in body, f"{key} drew a picture from suppressed cells"
        assert re.search(r'class="empty">(Not enough data|All [^<]* suppressed)', body), key


def test_an_empty_publication_gets_a_message_per_chart(company, tmp_path):
    """Every table present but empty: each chart says so, nothing crashes."""
    conn = duckdb.connect(str(tmp_path / "empty.duckdb"))
    try:
        conn.execute(
            f"attach '{company.settings.publish_dir / 'analytics.duckdb'}' as src (read_only)"
        )
        conn.execute(f"attach '{company.settings.warehouse}' as wh (read_only)")
        for (table,) in conn.execute(
            "select table_name from information_schema.tables where table_catalog = 'src'"
        ).fetchall():
            conn.execute(f'create table main."{table}" as from src.main."{table}" limit 0')
        conn.execute("create schema marts")
        conn.execute(
            "create table marts.fct_retention_outcomes as "
            "from wh.marts.fct_retention_outcomes limit 0"
        )
        conn.execute("detach src")
        conn.execute("detach wh")
        drawn = charts.report_charts(
            data.Source(conn, data.PUBLISHED_SCHEMA), data.Source(conn, data.WAREHOUSE_SCHEMA)
        )
        span = data.data_range(data.Source(conn, data.PUBLISHED_SCHEMA))
    finally:
        conn.close()
    assert [c.key for c in drawn] == CHART_SECTIONS
    assert all(c.png is None and c.message.startswith("Not enough data") for c in drawn)
    info = page.ReportInfo(
        as_of=END,
        publication_id="empty",
        published_at=None,
        publication_run_id="none",
        generated_at=datetime.now(UTC),
        data_range=span,
        hire_dates=None,
    )
    html = page.render(info, drawn, QualityStatus(run_id="none", outcomes=[], planned=0))
    assert html.count('class="empty"') == len(CHART_SECTIONS)
    assert "no weeks yet" in html and "No asset check results are recorded" in html


def test_without_a_publication_the_report_says_what_to_materialize(tmp_path):
    settings = settings_for(tmp_path)
    result = dg.materialize(
        [retention_report],
        resources={
            "pipeline": pipeline_resource(settings),
            "warehouse": DuckDBResource(database=str(tmp_path / "warehouse.duckdb")),
        },
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert "materialize `published` first" in failure.step_failure_data.error.message
