"""Secrets stay secret: a run that pulls from a real LRS (Ralph, on 127.0.0.1) with a password
and alerts a real webhook receiver through a URL that carries its token writes neither secret to
its output, the Dagster instance (events, metadata, logs), the warehouse, the publication, the
report, Data Docs or dbt's files (docs/alerts.md, docs/lrs.md)."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.settings import DBT_PROJECT_DIR
from tests.landing import account, build_landing, statement
from tests.lrs_server import PASSWORD, USER, RalphServer, ralph_executable
from tests.test_alerts import WEBHOOK_TOKEN, WebhookReceiver

pytestmark = pytest.mark.pipeline

SECRETS = (PASSWORD, WEBHOOK_TOKEN)


def _duckdb_leaks(path: Path, secret: str) -> list[str]:
    """Cells of any text column of any table holding `secret` (DuckDB compresses strings, so
    the file's bytes alone would not show it)."""
    conn = duckdb.connect(str(path), read_only=True)
    try:
        found = []
        for schema, table, column in conn.execute(
            "select schema_name, table_name, column_name from duckdb_columns() "
            "where data_type in ('VARCHAR', 'JSON') and database_name = current_database()"
        ).fetchall():
            hits = conn.execute(
                f'select count(*) from "{schema}"."{table}" where contains("{column}", ?)',
                [secret],
            ).fetchone()[0]
            if hits:
                found.append(f"{path}: {schema}.{table}.{column}")
        return found
    finally:
        conn.close()


def leaks(paths: list[Path], secret: str) -> list[str]:
    found = []
    for path in paths:
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        if secret.encode() in data:
            found.append(str(path))
        if path.suffix == ".duckdb":
            found += _duckdb_leaks(path, secret)
    return found


@pytest.fixture
def lrs(tmp_path):
    server = RalphServer(tmp_path / "ralph", ralph_executable()).start()
    yield server
    server.stop()


def test_no_secret_is_written_anywhere_by_a_run_that_pulls_and_alerts(tmp_path, lrs):
    started = time.time()
    landing = build_landing(tmp_path / "landing")
    # Pulled from the LRS: one statement with a verb no vocabulary knows, a warning that alerts.
    lrs.post(
        [
            statement(101, account("E1"), verb="juggled", stored=None),
            statement(102, account("E2"), stored=None),
        ]
    )
    home = tmp_path / "dagster_home"
    home.mkdir()
    with WebhookReceiver() as receiver:
        env = os.environ | {
            "DAGSTER_HOME": str(home),
            "PIPELINE_LANDING_DIR": str(landing),
            "PIPELINE_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
            "PIPELINE_PUBLISH_DIR": str(tmp_path / "published"),
            "PIPELINE_AS_OF": "2024-06-30",
            "PIPELINE_LRS_URL": lrs.endpoint,
            "PIPELINE_LRS_USER": USER,
            "PIPELINE_LRS_PASSWORD": PASSWORD,
            "PIPELINE_ALERT_WEBHOOK_URL": receiver.url,
            "PIPELINE_ALERT_ON_WARN": "true",
        }
        run = subprocess.run(
            [str(Path(sys.executable).parent / "retention-pipeline"), "run"],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-3000:]

    # The secrets were used: the pull authenticated and the warning reached the receiver.
    conn = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    try:
        pulled = conn.execute(
            "select count(*) from raw.lms_statements where source_file like 'lrs:%'"
        ).fetchone()[0]
    finally:
        conn.close()
    assert pulled == 2
    assert any("juggled" in str(hook["json"]) for hook in receiver.received), receiver.received
    assert (tmp_path / "published" / "analytics.duckdb").is_file()
    assert list((tmp_path / "data_docs").rglob("*.html"))
    assert list(home.rglob("*.db")), "the run was kept in the persistent instance"

    written = [p for p in tmp_path.rglob("*") if p.is_file() and "ralph" not in p.parts]
    written += [
        p
        for p in DBT_PROJECT_DIR.rglob("*")
        if p.is_file() and p.stat().st_mtime >= started and ".venv" not in p.parts
    ]
    assert len(written) > 20
    for secret in SECRETS:
        assert secret not in output
        assert leaks(written, secret) == [], secret
