"""Run settings read from PIPELINE_* environment variables, each with the SPEC's default."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


class SettingsError(ValueError):
    """A PIPELINE_* variable holds a value the pipeline cannot use."""


@dataclass(frozen=True)
class PipelineSettings:
    landing_dir: Path
    warehouse: Path
    publish_dir: Path
    timezone: str
    as_of: date
    account_homepage: str | None
    schedule_cron: str = "0 6 * * *"
    schedule_timezone: str = "UTC"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> PipelineSettings:
        env = dict(os.environ if env is None else env)
        timezone = env.get("PIPELINE_TIMEZONE") or "UTC"
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(
                f"PIPELINE_TIMEZONE={timezone!r} is not an IANA time zone (e.g. Europe/Paris)"
            ) from exc
        as_of_text = env.get("PIPELINE_AS_OF") or ""
        try:
            as_of = date.fromisoformat(as_of_text) if as_of_text else date.today()
        except ValueError as exc:
            raise SettingsError(
                f"PIPELINE_AS_OF={as_of_text!r} is not an ISO date (YYYY-MM-DD)"
            ) from exc
        return cls(
            landing_dir=_path(env, "PIPELINE_LANDING_DIR", "data/landing"),
            warehouse=_path(env, "PIPELINE_WAREHOUSE", "data/warehouse.duckdb"),
            publish_dir=_path(env, "PIPELINE_PUBLISH_DIR", "data/published"),
            timezone=timezone,
            as_of=as_of,
            account_homepage=env.get("PIPELINE_ACCOUNT_HOMEPAGE") or None,
            schedule_cron=env.get("PIPELINE_SCHEDULE_CRON") or "0 6 * * *",
            schedule_timezone=env.get("PIPELINE_SCHEDULE_TIMEZONE") or timezone,
        )

    def dbt_env(self) -> dict[str, str]:
        """Environment for dbt: absolute paths, because dbt runs inside dbt_project/."""
        return {
            "PIPELINE_WAREHOUSE": str(self.warehouse),
            "PIPELINE_TIMEZONE": self.timezone,
            "PIPELINE_AS_OF": self.as_of.isoformat(),
            "PIPELINE_ACCOUNT_HOMEPAGE": self.account_homepage or "",
        }


def _path(env: dict[str, str], name: str, default: str) -> Path:
    # Relative paths are relative to where the user runs the command, as for any CLI.
    return Path(env.get(name) or default).expanduser().resolve()
