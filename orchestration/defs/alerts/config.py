"""Alert settings from PIPELINE_ALERT_* environment variables; none set means no alerts."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_DAGSTER_URL = "http://127.0.0.1:3000"


@dataclass(frozen=True)
class AlertSettings:
    # Secrets are excluded from repr, so logging the settings never prints them.
    webhook_url: str | None = field(default=None, repr=False)
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_from: str = "retention-pipeline@localhost"
    smtp_to: tuple[str, ...] = ()
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    dagster_url: str = DEFAULT_DAGSTER_URL
    on_warn: bool = False
    timeout_seconds: float = 10.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> AlertSettings:
        env = dict(os.environ if env is None else env)
        port_text = env.get("PIPELINE_ALERT_SMTP_PORT") or ""
        ssl = _flag(env.get("PIPELINE_ALERT_SMTP_SSL"), default=port_text == "465")
        return cls(
            webhook_url=env.get("PIPELINE_ALERT_WEBHOOK_URL") or None,
            smtp_host=env.get("PIPELINE_ALERT_SMTP_HOST") or None,
            smtp_port=int(port_text) if port_text else (465 if ssl else 587),
            smtp_user=env.get("PIPELINE_ALERT_SMTP_USER") or None,
            smtp_password=env.get("PIPELINE_ALERT_SMTP_PASSWORD") or None,
            smtp_from=env.get("PIPELINE_ALERT_SMTP_FROM") or "retention-pipeline@localhost",
            smtp_to=tuple(
                a.strip() for a in (env.get("PIPELINE_ALERT_SMTP_TO") or "").split(",") if a.strip()
            ),
            smtp_starttls=_flag(env.get("PIPELINE_ALERT_SMTP_STARTTLS"), default=not ssl),
            smtp_ssl=ssl,
            dagster_url=(env.get("PIPELINE_DAGSTER_URL") or DEFAULT_DAGSTER_URL).rstrip("/"),
            on_warn=_flag(env.get("PIPELINE_ALERT_ON_WARN"), default=False),
        )

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host and self.smtp_to)

    @property
    def enabled(self) -> bool:
        return bool(self.webhook_url) or self.email_enabled

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in a log line or in metadata."""
        return tuple(s for s in (self.webhook_url, self.smtp_password) if s)

    def run_url(self, run_id: str) -> str:
        return f"{self.dagster_url}/runs/{run_id}"


def _flag(value: str | None, *, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")
