"""The weekly manager digest (issue 18, docs/manager-digest.md): one email per manager with
alerts, only their own reports, over a real local SMTP server; a re-run the same week sends
nothing; a dry run writes RFC 5322 files; an allowlist limits a pilot."""

from __future__ import annotations

import email
import re
import shutil
from datetime import date
from email import policy
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller

from orchestration.definitions import build_definitions
from orchestration.sample_data.generator import generate
from tests.conftest import free_port, query, run_pipeline, settings_for

pytestmark = pytest.mark.pipeline

END = date(2026, 11, 22)
EMPLOYEE = re.compile(r"^\* (E\d+): tier (\d)", re.M)


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    root = tmp_path_factory.mktemp("digest")
    generate(root / "landing", employees=300, months=12, seed=5, end_date=END)
    settings = settings_for(root, PIPELINE_AS_OF=END.isoformat())
    assert run_pipeline(settings).success
    alerts = query(
        settings,
        """select a.manager_id, w.work_email, a.employee_id, a.script
           from marts.mart_manager_alerts as a
           left join staging.stg_hris__workers as w on w.employee_id = a.manager_id""",
    )
    teams: dict[str, set[str]] = {}
    for manager, _, employee, _ in alerts:
        teams.setdefault(manager, set()).add(employee)
    addresses = {manager: address for manager, address, _, _ in alerts}
    assert len(teams) >= 3 and all(addresses.values())
    assert all(script for *_, script in alerts)
    return SimpleNamespace(root=root, teams=teams, addresses=addresses)


def digest_settings(company, tmp_path: Path, **env: str):
    """A copy of the built warehouse (its own ledger), with the digest turned on."""
    shutil.copy(company.root / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    shutil.copytree(company.root / "landing", tmp_path / "landing")
    return settings_for(
        tmp_path, PIPELINE_AS_OF=END.isoformat(), PIPELINE_MANAGER_DIGEST="on", **env
    )


def smtp_env(controller: Controller) -> dict[str, str]:
    """The alert SMTP settings pointing at the local server (plain SMTP on loopback)."""
    return {
        "PIPELINE_ALERT_SMTP_HOST": "127.0.0.1",
        "PIPELINE_ALERT_SMTP_PORT": str(controller.port),
        "PIPELINE_ALERT_SMTP_STARTTLS": "false",
    }


def listed(body: str) -> set[str]:
    return {employee for employee, _ in EMPLOYEE.findall(body)}


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 OK"


@pytest.fixture
def smtp():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, mailbox
    controller.stop()


def test_the_digest_is_off_unless_turned_on(company):
    keys = {
        k.to_user_string()
        for k in build_definitions(settings_for(company.root)).resolve_all_asset_keys()
    }
    assert "manager_digest" not in keys


def test_each_manager_gets_one_email_with_only_their_reports_and_a_rerun_sends_nothing(
    company, smtp, tmp_path
):
    controller, mailbox = smtp
    settings = digest_settings(
        company,
        tmp_path,
        **smtp_env(controller),
        PIPELINE_ALERT_SMTP_FROM="people-analytics@example.com",
        PIPELINE_BI_URL="http://bi.example.com/superset/dashboard/manager-alerts/",
    )
    assert run_pipeline(settings, selection="manager_digest").success
    assert len(mailbox.messages) == len(company.teams)
    for recipients, message in mailbox.messages:
        manager = message["X-Retention-Manager"]
        assert recipients == [company.addresses[manager]]
        body = message.get_content()
        assert listed(body) == company.teams[manager]  # their reports, nobody else's
        assert "Script: " in body and "bi.example.com" in body
        assert not re.search(r"\d{2}:\d{2}", body)  # no timestamps
    ledger = query(
        settings, "select count(*), count(distinct manager_id) from pipeline.manager_digests"
    )
    assert ledger == [(len(company.teams), len(company.teams))]

    # The same week again (the daily run the next day): nothing is sent twice.
    assert run_pipeline(settings, selection="manager_digest").success
    assert len(mailbox.messages) == len(company.teams)
    assert query(settings, "select count(*) from pipeline.manager_digests")[0][0] == len(
        company.teams
    )


def test_a_dry_run_writes_one_rfc5322_file_per_manager(company, tmp_path):
    out = tmp_path / "eml"
    settings = digest_settings(company, tmp_path, PIPELINE_DIGEST_DRY_RUN=str(out))
    assert run_pipeline(settings, selection="manager_digest").success
    files = sorted(out.glob("*.eml"))
    assert {f.stem for f in files} == set(company.teams)
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert message["To"] == company.addresses[path.stem]
        assert message["Message-ID"] and message["Date"] and message["Subject"]
        assert listed(message.get_content()) == company.teams[path.stem]


def test_an_allowlist_limits_a_pilot(company, smtp, tmp_path):
    controller, mailbox = smtp
    pilot = sorted(company.teams)[:2]
    settings = digest_settings(
        company,
        tmp_path,
        **smtp_env(controller),
        PIPELINE_DIGEST_ALLOWLIST=",".join(pilot),
    )
    result = run_pipeline(settings, selection="manager_digest")
    assert result.success
    assert sorted(m["X-Retention-Manager"] for _, m in mailbox.messages) == pilot
    (event,) = result.get_asset_materialization_events()
    assert event.materialization.metadata["not_in_allowlist"].value == len(company.teams) - 2


def test_turned_on_without_a_mail_server_fails_with_what_to_set(company, tmp_path):
    settings = digest_settings(company, tmp_path)
    result = run_pipeline(settings, selection="manager_digest")
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "PIPELINE_ALERT_SMTP_HOST" in failure.step_failure_data.error.message or (
        "PIPELINE_ALERT_SMTP_HOST" in str(failure.event_specific_data)
    )
