"""Delivers an alert to a Slack-compatible webhook and by e-mail over SMTP.

A failed delivery is logged and never fails the check or run that raised the alert; messages are
scrubbed of the webhook URL and SMTP password first.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.request
from collections.abc import Callable
from email.message import EmailMessage

from orchestration.defs.alerts.message import Alert
from orchestration.settings import AlertSettings


def send_alert(
    alert: Alert, settings: AlertSettings, log: Callable[[str], None] | None = None
) -> list[str]:
    """Send to every configured channel; returns the channels that accepted it."""
    log = log or (lambda message: None)
    delivered = []
    if settings.webhook_url:
        try:
            post_webhook(settings.webhook_url, alert.webhook_payload(), settings.timeout_seconds)
            delivered.append("webhook")
        except Exception as exc:
            log(f"alert webhook failed: {scrub(exc, settings)}")
    if settings.email_enabled:
        try:
            send_email(alert, settings)
            delivered.append(f"email to {', '.join(settings.smtp_to)}")
        except Exception as exc:
            log(
                f"alert e-mail via {settings.smtp_host}:{settings.smtp_port} failed: "
                f"{scrub(exc, settings)}"
            )
    return delivered


def post_webhook(url: str, payload: dict, timeout: float) -> None:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, default=str).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        response.read()


def send_email(alert: Alert, settings: AlertSettings) -> None:
    message = EmailMessage()
    message["Subject"] = alert.title
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(settings.smtp_to)
    message.set_content(alert.text())
    smtp_send([message], settings)


def smtp_send(messages: list[EmailMessage], settings: AlertSettings) -> None:
    """Send messages over one connection to the configured SMTP server (SSL or STARTTLS, with
    login when a user is set): the alerts and the manager digest use the same server."""
    if settings.smtp_ssl:
        client = smtplib.SMTP_SSL(
            settings.smtp_host,
            settings.smtp_port,
            timeout=settings.timeout_seconds,
            context=ssl.create_default_context(),
        )
    else:
        client = smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.timeout_seconds
        )
    with client:
        if settings.smtp_starttls and not settings.smtp_ssl:
            client.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            client.login(settings.smtp_user, settings.smtp_password or "")
        for message in messages:
            client.send_message(message)


def scrub(error: object, settings: AlertSettings) -> str:
    text = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
    for secret in settings.secrets:
        text = text.replace(secret, "***")
    return text
