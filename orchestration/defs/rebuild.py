"""Which statement days a run rebuilds from raw: the run config every way of starting a run
(schedule, sensor, UI launchpad, `retention-pipeline run`, `dagster asset materialize`) shares.

Statement assets are deliberately not partitioned by day. Dagster records one event per partition
per asset in a run over a range (dagster-io/dagster issues 18789 and 31694), so a whole-history
run over years of day partitions spends minutes on bookkeeping whatever the data size. Here a run
names a window of event days in its config instead, and dbt's rebuild queue
(`int_statement_rebuild_days`) adds the days of every statement loaded since the previous run, so
the run's cost follows the data, not the number of days of history
(docs/operations.md#statement-days-and-incremental-models).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg
from pydantic import Field

# The dbt step reads the window; its op name is what run config addresses.
DBT_STEP = "dbt_models"

# How the dbt step hands the window to dbt for one invocation (dbt_project.yml's vars read them).
REBUILD_FIRST_DAY = "RETENTION_REBUILD_FIRST_DAY"
REBUILD_LAST_DAY = "RETENTION_REBUILD_LAST_DAY"


class RebuildDays(dg.Config):
    """Run config of the dbt step: the event days (company time zone) to rebuild from raw.

    Leave everything unset for a daily run: the last complete day before the as-of date. The
    days of statements loaded since the previous run are rebuilt in every case, however late."""

    first_day: str = Field(
        default="",
        description="First event day to rebuild, YYYY-MM-DD (default: the last complete day).",
    )
    last_day: str = Field(
        default="",
        description="Last event day to rebuild, YYYY-MM-DD (default: first_day, or the last "
        "complete day).",
    )
    full_refresh: bool = Field(
        default=False,
        description="Rebuild every model from raw over the whole history (dbt --full-refresh); "
        "first_day and last_day are then ignored.",
    )

    @property
    def is_default(self) -> bool:
        """Nothing asked for, as the schedule asks: the last complete day, and nothing at all
        when nothing changed since the last build. Days asked for are always rebuilt."""
        return not (self.first_day or self.last_day or self.full_refresh)


@dataclass(frozen=True)
class Window:
    """A resolved rebuild request: every day from scratch, or the days first..last."""

    first: date | None = None
    last: date | None = None

    @property
    def full_refresh(self) -> bool:
        return self.first is None

    def dbt_args(self) -> list[str]:
        """`dbt build` arguments: `--full-refresh` for the whole history, else none."""
        return ["--full-refresh"] if self.full_refresh else []

    def dbt_env(self) -> dict[str, str]:
        """The window for dbt, as the environment variables its vars min_date / max_date read
        (dbt_project.yml; the rebuild queue widens them by PIPELINE_LOOKBACK_DAYS for statements
        that arrive late). Not `--vars`: changed vars cost dbt a full re-parse, about 2 s, every
        day, where a changed environment variable re-parses only the files that read it."""
        if self.full_refresh:
            return {REBUILD_FIRST_DAY: "", REBUILD_LAST_DAY: ""}
        return {REBUILD_FIRST_DAY: self.first.isoformat(), REBUILD_LAST_DAY: self.last.isoformat()}

    def describe(self) -> str:
        if self.full_refresh:
            return "the whole history, rebuilt from raw"
        if self.first == self.last:
            return f"day {self.first}"
        return f"days {self.first} .. {self.last}"


def daily(as_of: date) -> Window:
    """The daily run's window, the default: the last complete day before the as-of date."""
    return Window(as_of - timedelta(days=1), as_of - timedelta(days=1))


class WindowError(ValueError):
    """Rebuild days that cannot be built; the message names the setting and the fix."""


def resolve(config: RebuildDays, as_of: date) -> Window:
    """The run's window from its config, checked against the as-of date (the pipeline's today)."""
    if config.full_refresh:
        return Window()
    default = daily(as_of).first
    first = _day(config.first_day, "first_day") or _day(config.last_day, "last_day") or default
    last = _day(config.last_day, "last_day") or (first if config.first_day else default)
    return check_window(first, last, as_of, first_name="first_day", last_name="last_day")


def check_window(
    first: date, last: date, as_of: date, *, first_name: str, last_name: str
) -> Window:
    if first > last:
        raise WindowError(f"{first_name} {first} is after {last_name} {last}: swap them")
    if last >= as_of:
        raise WindowError(
            f"{last_name} {last} is not a complete day: days run up to {as_of - timedelta(1)}, "
            f"the day before the as-of date {as_of} (PIPELINE_AS_OF, default today)"
        )
    return Window(first, last)


def run_config(window: Window | None) -> dict:
    """The job's run config for a window (what the launchpad shows, as YAML); None: the
    default, a daily run."""
    if window is None:
        return {}
    if window.full_refresh:
        config: dict = {"full_refresh": True}
    else:
        config = {"first_day": window.first.isoformat(), "last_day": window.last.isoformat()}
    return {"ops": {DBT_STEP: {"config": config}}}


def rebuilds_whole_history(config: dict) -> bool:
    """Whether a run's config (as `run_config` builds it) asks for the whole history."""
    return bool(config.get("ops", {}).get(DBT_STEP, {}).get("config", {}).get("full_refresh"))


def run_tags(window: Window | None) -> dict[str, str]:
    """Tags that show a run's days in the UI's run list."""
    if window is None:
        return {"pipeline/days": "daily"}
    return {"pipeline/days": "all" if window.full_refresh else f"{window.first}..{window.last}"}


def _day(text: str, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise WindowError(f"{name} {text!r} is not a date: write it as YYYY-MM-DD") from None
