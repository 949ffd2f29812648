"""Alerts (docs/alerts.md): a planted bad row reaches a real local webhook receiver and a real
local SMTP server, naming the run, asset, expectation and sample failing rows; secrets never
leak."""

from __future__ import annotations

import email
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from orchestration.defs.alerts.message import Alert
from orchestration.defs.alerts.runs import notify_run_failure
from orchestration.defs.alerts.senders import send_alert
from orchestration.settings import AlertSettings
from tests.conftest import free_port, run_pipeline, settings_for
from tests.landing import build_landing
from tests.quality_helpers import plant_unknown_course_enrollment

WEBHOOK_TOKEN = "T000/B000/s3cr3t-webhook-token"
SMTP_PASSWORD = "s3cr3t-smtp-password"
DAGSTER_URL = "http://dagster.example.com:3000"
ALERT_VARIABLES = ("PIPELINE_ALERT_", "PIPELINE_DAGSTER_URL")


class WebhookReceiver:
    def __init__(self) -> None:
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append({"path": self.path, "json": json.loads(body)})
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/services/{WEBHOOK_TOKEN}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        self.messages.append(
            {"to": envelope.rcpt_tos, "message": email.message_from_bytes(envelope.content)}
        )
        return "250 OK"


@pytest.fixture
def smtp_server():
    mailbox = Mailbox()
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=auth_data.password.decode() == SMTP_PASSWORD)

    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    yield controller, mailbox, logins
    controller.stop()


@pytest.fixture
def alert_env(monkeypatch, smtp_server):
    controller, mailbox, logins = smtp_server
    with WebhookReceiver() as receiver:
        for name, value in {
            "PIPELINE_ALERT_WEBHOOK_URL": receiver.url,
            "PIPELINE_ALERT_SMTP_HOST": "127.0.0.1",
            "PIPELINE_ALERT_SMTP_PORT": str(controller.port),
            "PIPELINE_ALERT_SMTP_STARTTLS": "false",
            "PIPELINE_ALERT_SMTP_USER": "pipeline",
            "PIPELINE_ALERT_SMTP_PASSWORD": SMTP_PASSWORD,
            "PIPELINE_ALERT_SMTP_FROM": "pipeline@example.com",
            "PIPELINE_ALERT_SMTP_TO": "data-eng@example.com, oncall@example.com",
            "PIPELINE_DAGSTER_URL": DAGSTER_URL,
        }.items():
            monkeypatch.setenv(name, value)
        yield receiver, mailbox, logins


@pytest.mark.pipeline
def test_planted_bad_row_alerts_by_webhook_and_email(tmp_path, alert_env, caplog):
    receiver, mailbox, logins = alert_env
    build_landing(tmp_path / "landing")
    plant_unknown_course_enrollment(tmp_path / "landing")
    alert_vars = {k: v for k, v in os.environ.items() if k.startswith(ALERT_VARIABLES)}
    result = run_pipeline(settings_for(tmp_path, **alert_vars))
    assert not result.success
    run_link = f"{DAGSTER_URL}/runs/{result.run_id}"

    [hook] = [r for r in receiver.received if "raw.lms_enrollments" in r["json"]["text"]]
    text = hook["json"]["text"]
    assert hook["path"] == f"/services/{WEBHOOK_TOKEN}"
    assert run_link in text and result.run_id in text
    assert "Asset: raw/lms_enrollments" in text
    assert "Failed expectation: expect_column_values_to_be_in_set(course_in_catalog)" in text
    assert '"enrollment_id": "N9"' in text  # the sample failing row
    assert "Data Docs: file://" in text
    assert hook["json"]["blocks"][-1]["elements"][0]["url"] == run_link

    [mail] = [m for m in mailbox.messages if "raw.lms_enrollments" in m["message"]["Subject"]]
    body = mail["message"].get_payload(decode=True).decode()
    assert mail["to"] == ["data-eng@example.com", "oncall@example.com"]
    assert "publication stopped" in mail["message"]["Subject"]
    assert run_link in body and '"enrollment_id": "N9"' in body
    assert logins == [("pipeline", SMTP_PASSWORD)] * len(mailbox.messages)

    # Secrets appear nowhere in the run's events, metadata or logs.
    records = "\n".join(str(event) for event in result.all_events) + caplog.text
    assert WEBHOOK_TOKEN not in records and SMTP_PASSWORD not in records
    checks = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.event_specific_data.passed
    ]
    [check] = [c for c in checks if c.asset_key.to_user_string() == "raw/lms_enrollments"]
    assert check.metadata["alerts_sent_to"].value == (
        "webhook, email to data-eng@example.com, oncall@example.com"
    )
    assert check.metadata["data_docs"].value.startswith("file://")


def test_no_alert_configuration_means_no_alert_and_no_failure():
    settings = AlertSettings.from_env({})
    assert not settings.enabled
    assert notify_run_failure("run-1", "retention_pipeline", ["step x failed"], settings) == []


def test_run_failure_alert_names_the_run_and_what_failed(alert_env):
    receiver, mailbox, _ = alert_env
    delivered = notify_run_failure(
        "run-42", "retention_pipeline", ["step dbt_models: boom"], AlertSettings.from_env()
    )
    assert delivered == ["webhook", "email to data-eng@example.com, oncall@example.com"]
    text = receiver.received[0]["json"]["text"]
    assert f"{DAGSTER_URL}/runs/run-42" in text and "step dbt_models: boom" in text
    assert "run of retention_pipeline failed" in mailbox.messages[0]["message"]["Subject"]


def test_unreachable_channels_are_logged_without_secrets():
    settings = AlertSettings.from_env(
        {
            "PIPELINE_ALERT_WEBHOOK_URL": f"http://127.0.0.1:{free_port()}/{WEBHOOK_TOKEN}",
            "PIPELINE_ALERT_SMTP_HOST": "127.0.0.1",
            "PIPELINE_ALERT_SMTP_PORT": str(free_port()),
            "PIPELINE_ALERT_SMTP_PASSWORD": SMTP_PASSWORD,
            "PIPELINE_ALERT_SMTP_TO": "a@example.com",
        }
    )
    logged = []
    alert = Alert(title="t", run_id="r", run_url=settings.run_url("r"))
    assert send_alert(alert, settings, logged.append) == []
    assert len(logged) == 2
    assert not [line for line in logged if WEBHOOK_TOKEN in line or SMTP_PASSWORD in line]
    assert WEBHOOK_TOKEN not in repr(settings) and SMTP_PASSWORD not in repr(settings)
