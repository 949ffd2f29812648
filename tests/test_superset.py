"""Superset on the publication (issue 17, docs/bi-tools.md#superset): the assets of bi/superset
import into a real Superset started on loopback; every chart's query, run by Superset, gives the
numbers the same SQL gives on analytics.duckdb; a manager sees only their own reports; every
dashboard renders in Chromium. Superset runs from its own virtualenv (`make superset`)."""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import subprocess
import time
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from bi.superset.screenshots import DASHBOARDS, render_dashboards
from orchestration.sample_data.generator import generate
from tests.conftest import free_port, published, run_pipeline, settings_for, stop_service

pytestmark = [pytest.mark.pipeline, pytest.mark.ui]

ROOT = Path(__file__).resolve().parents[1]
SUPERSET_PYTHON = ROOT / ".cache" / "superset-venv" / "bin" / "python"
SUPERSET = SUPERSET_PYTHON.parent / "superset"
ARTIFACTS = ROOT / "test-artifacts" / "superset"
END = date(2026, 11, 22)
ADMIN_PASSWORD = "admin-for-tests"


@pytest.fixture(scope="module")
def bi(tmp_path_factory):
    """A generated company's publication, a provisioned Superset home, and Superset serving it
    on a free loopback port, with the two managers who have the most alerts as users."""
    assert SUPERSET_PYTHON.exists(), "Superset's virtualenv is missing: run `make superset`"
    root = tmp_path_factory.mktemp("superset")
    generate(root / "landing", employees=400, months=18, seed=11, end_date=END)
    settings = settings_for(root, PIPELINE_AS_OF=END.isoformat())
    assert run_pipeline(settings).success
    managers = [
        m
        for (m,) in published(
            settings,
            "select manager_id from mart_manager_alerts group by all "
            "order by count(*) desc, manager_id limit 2",
        )
    ]
    assert len(managers) == 2
    env = os.environ | {
        "SUPERSET_HOME": str(root / "superset_home"),
        "SUPERSET_CONFIG_PATH": str(ROOT / "bi/superset/superset_config.py"),
        "SUPERSET_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "FLASK_APP": "superset",
    }
    done = subprocess.run(
        [
            str(SUPERSET_PYTHON),
            str(ROOT / "bi/superset/provision.py"),
            *("--publish-dir", str(settings.publish_dir)),
            *(arg for m in managers for arg in ("--manager", f"{m}:pw-{m}")),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    port = free_port()
    log_path = root / "superset.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [str(SUPERSET), "run", "-h", "127.0.0.1", "-p", str(port), "--with-threads"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("Superset did not come up:\n" + log_path.read_text()[-3000:])
            time.sleep(1)
        yield SimpleNamespace(settings=settings, base=base, managers=managers, log=log_path)
    finally:
        stop_service(server)


def api(base: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    answer = session.post(
        f"{base}/api/v1/security/login",
        json={"username": username, "password": password, "provider": "db"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    return session


def charts(session: requests.Session, base: str) -> dict[str, int]:
    answer = session.get(f"{base}/api/v1/chart/", params={"q": "(page_size:100)"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return {c["slice_name"]: c["id"] for c in answer.json()["result"]}


def chart_data(session, base: str, chart_id: int, kind: str = "full") -> requests.Response:
    return session.get(
        f"{base}/api/v1/chart/{chart_id}/data/", params={"format": "json", "type": kind}, timeout=60
    )


def _same(superset_value, duckdb_value) -> bool:
    if isinstance(duckdb_value, dt.datetime | dt.date):
        return True  # Superset sends times as epoch milliseconds; the numbers are what count
    if isinstance(duckdb_value, float) or isinstance(superset_value, float):
        if duckdb_value is None or superset_value is None:
            return duckdb_value is superset_value
        return math.isclose(superset_value, duckdb_value, rel_tol=1e-9, abs_tol=1e-12)
    return superset_value == duckdb_value


def test_every_chart_gives_the_numbers_of_the_same_query_on_the_publication(bi):
    """Superset runs each chart's saved query; its SQL, run on analytics.duckdb by DuckDB,
    returns the same rows. Suppressed cells stay null (or 'suppressed'), never 0."""
    admin = api(bi.base, "admin", ADMIN_PASSWORD)
    found = charts(admin, bi.base)
    assert len(found) == sum(DASHBOARDS.values())
    for name, chart_id in found.items():
        answer = chart_data(admin, bi.base, chart_id)
        assert answer.status_code == 200, f"{name}: {answer.text[:500]}"
        (result,) = answer.json()["result"]
        assert not result.get("error"), f"{name}: {result.get('error')}"
        rows, columns = result["data"], result["colnames"]
        (query,) = chart_data(admin, bi.base, chart_id, kind="query").json()["result"]
        expected = published(bi.settings, query["query"])
        assert rows, f"{name}: no rows"
        assert len(rows) == len(expected), name
        for got, want in zip(rows, expected, strict=True):
            values = [got[c] for c in columns]
            assert all(_same(g, w) for g, w in zip(values, want, strict=True)), (name, got, want)
    cohorts = chart_data(admin, bi.base, found["Retention and mobility cohorts"]).json()
    shown = [row["headcount_shown"] for row in cohorts["result"][0]["data"]]
    assert "suppressed" in shown and "0" not in shown


def test_a_manager_sees_only_their_direct_reports(bi):
    expected = {
        m: {
            e
            for (e,) in published(
                bi.settings, "select employee_id from mart_manager_alerts where manager_id = ?", [m]
            )
        }
        for m in bi.managers
    }
    for manager in bi.managers:
        session = api(bi.base, manager, f"pw-{manager}")
        visible = charts(session, bi.base)
        assert set(visible) == {"This week's alerts, by report", "Alerts by tier"}
        answer = chart_data(session, bi.base, visible["This week's alerts, by report"])
        assert answer.status_code == 200, answer.text[:500]
        rows = answer.json()["result"][0]["data"]
        assert {r["manager_id"] for r in rows} == {manager}
        assert {r["employee_id"] for r in rows} == expected[manager]
        datasets = session.get(f"{bi.base}/api/v1/dataset/", timeout=30).json()["result"]
        assert [d["table_name"] for d in datasets] == ["mart_manager_alerts"]
    # The raw marts stay out of reach: a chart on another table is refused, not filtered.
    admin_ids = charts(api(bi.base, "admin", ADMIN_PASSWORD), bi.base)
    manager = api(bi.base, bi.managers[0], f"pw-{bi.managers[0]}")
    refused = chart_data(manager, bi.base, admin_ids["Retention and mobility cohorts"])
    assert refused.status_code in (403, 404), refused.text[:300]
    token = manager.get(f"{bi.base}/api/v1/security/csrf_token/", timeout=30)
    if token.status_code == 200:
        manager.headers.update({"X-CSRFToken": token.json()["result"], "Referer": bi.base})
    sql_lab = manager.post(
        f"{bi.base}/api/v1/sqllab/execute/",
        json={"database_id": 1, "sql": "select * from fct_risk_tiers", "runAsync": False},
        timeout=30,
    )
    assert sql_lab.status_code in (401, 403), sql_lab.text[:300]


def test_every_dashboard_renders_in_chromium(bi):
    """Logged in as admin, each dashboard draws every chart, with no error on any."""
    rendered = render_dashboards(bi.base, "admin", ADMIN_PASSWORD, ARTIFACTS)
    assert [r.slug for r in rendered] == list(DASHBOARDS)
    for result in rendered:
        assert result.errors == [], (result.slug, result.errors)
        assert result.charts == result.drawn == DASHBOARDS[result.slug], result
        assert result.screenshot.stat().st_size > 20_000
