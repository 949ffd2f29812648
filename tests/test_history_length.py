"""Whole-history runs: what Dagster records does not grow with the days of history, an as-of date
years before today needs no other setting, and a wrong setting or window is one clear line."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

from orchestration.definitions import build_definitions
from orchestration.defs.rebuild import RebuildDays, Window, WindowError, resolve
from orchestration.sample_data import generate
from orchestration.settings import PipelineSettings, SettingsError, today
from tests.conftest import query, run_pipeline, settings_for

pytestmark = pytest.mark.pipeline

END = date(2019, 6, 30)  # a Sunday, years before today: a past HR analysis
SHORT, LONG = 3, 30  # months of history
# What a run records per asset and per check; none of it may grow with the days of history.
BOOKKEEPING = (
    "ASSET_MATERIALIZATION",
    "ASSET_MATERIALIZATION_PLANNED",
    "ASSET_CHECK_EVALUATION",
    "STEP_START",
    "STEP_SUCCESS",
)
PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The same company size over 3 and over 30 months, each built over its whole history with
    default settings on a persistent (SQLite) instance, as DAGSTER_HOME gives."""
    root = tmp_path_factory.mktemp("history")
    (root / "dagster_home").mkdir()
    built = {}
    with dg.instance_for_test(temp_dir=str(root / "dagster_home")) as instance:
        for months in (SHORT, LONG):
            company = root / f"months-{months}"
            generate(company / "landing", employees=40, months=months, seed=3, end_date=END)
            settings = settings_for(company, PIPELINE_AS_OF=END.isoformat())
            result = run_pipeline(settings, instance=instance)
            assert result.success, [e.message for e in result.get_step_failure_events()]
            events = Counter(
                record.dagster_event.event_type_value
                for record in instance.all_logs(result.run_id)
                if record.dagster_event is not None
            )
            built[months] = settings, {kind: events[kind] for kind in BOOKKEEPING}
    return built


def test_a_run_over_years_records_what_a_run_over_months_records(runs):
    (_, short), (_, long) = runs[SHORT], runs[LONG]
    assert long == short
    # Each asset is materialized once per run, not once per day of history.
    assets = build_definitions(runs[LONG][0]).resolve_asset_graph().get_all_asset_keys()
    assert long["ASSET_MATERIALIZATION"] == len(assets)


def test_the_long_run_builds_every_week_of_its_years(runs):
    settings, _ = runs[LONG]
    first, last, weeks = query(
        settings,
        "select min(week_start), max(week_start), count(distinct week_start) "
        "from marts.fct_engagement_weekly",
    )[0]
    assert first <= END - timedelta(days=2 * 365)
    assert last == END - timedelta(days=6)  # the last complete week before the as-of date
    assert weeks >= 2 * 52


def test_an_as_of_date_years_ago_publishes_that_date_and_nothing_after_it(runs):
    settings, _ = runs[LONG]
    import duckdb

    published = duckdb.connect(str(settings.publish_dir / "analytics.duckdb"), read_only=True)
    try:
        (last_week,) = published.execute(
            "select max(week_start) from fct_engagement_weekly"
        ).fetchone()
        (tiers_after,) = published.execute(
            "select count(*) from fct_risk_tiers where week_start > ?", [END]
        ).fetchone()
    finally:
        published.close()
    assert last_week == END - timedelta(days=6)
    assert tiers_after == 0


# Rebuild windows: the run config every trigger shares, resolved against the as-of date.
AS_OF = date(2024, 6, 30)


@pytest.mark.parametrize(
    ("config", "window"),
    [
        ({}, Window(date(2024, 6, 29), date(2024, 6, 29))),  # the last complete day
        ({"first_day": "2024-06-01"}, Window(date(2024, 6, 1), date(2024, 6, 1))),
        (
            {"first_day": "2024-06-01", "last_day": "2024-06-10"},
            Window(date(2024, 6, 1), date(2024, 6, 10)),
        ),
        ({"last_day": "2024-06-10"}, Window(date(2024, 6, 10), date(2024, 6, 10))),
        ({"full_refresh": True, "first_day": "2024-06-01"}, Window()),
    ],
)
def test_a_run_config_names_the_days_to_rebuild(config, window):
    assert resolve(RebuildDays(**config), AS_OF) == window


def test_a_window_reaches_dbt_as_environment_and_the_whole_history_as_full_refresh():
    window = Window(date(2024, 6, 1), date(2024, 6, 2))
    assert window.dbt_args() == []
    assert window.dbt_env() == {
        "RETENTION_REBUILD_FIRST_DAY": "2024-06-01",
        "RETENTION_REBUILD_LAST_DAY": "2024-06-02",
    }
    assert Window().dbt_args() == ["--full-refresh"]
    # Cleared, so a value left in the environment cannot narrow a full refresh.
    assert Window().dbt_env() == {
        "RETENTION_REBUILD_FIRST_DAY": "",
        "RETENTION_REBUILD_LAST_DAY": "",
    }


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"first_day": "2024-06-10", "last_day": "2024-06-01"}, "is after last_day"),
        ({"first_day": "2024-06-30"}, "not a complete day: days run up to 2024-06-29"),
        ({"first_day": "June 1st"}, "first_day 'June 1st' is not a date: write it as YYYY-MM-DD"),
    ],
)
def test_a_window_that_cannot_be_built_is_refused_with_the_fix(config, message):
    with pytest.raises(WindowError, match=message):
        resolve(RebuildDays(**config), AS_OF)


def test_an_as_of_date_after_today_is_refused():
    tomorrow = today("UTC") + timedelta(days=1)
    with pytest.raises(SettingsError, match=r"PIPELINE_AS_OF=.* is after today"):
        PipelineSettings.from_env({"PIPELINE_AS_OF": tomorrow.isoformat()})


def cli(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    (tmp_path / "landing").mkdir(exist_ok=True)
    return subprocess.run(
        [str(Path(sys.executable).parent / "retention-pipeline"), *args],
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", "PIPELINE_LANDING_DIR": str(tmp_path / "landing")} | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["run"], {"PIPELINE_AS_OF": "2999-01-01"}, "PIPELINE_AS_OF=2999-01-01 is after today"),
        (["run"], {"PIPELINE_AS_OF": "01/06/2019"}, "PIPELINE_AS_OF='01/06/2019' is not an ISO"),
        (["run"], {"PIPELINE_TIMEZONE": "Mars/Base"}, "PIPELINE_TIMEZONE='Mars/Base' is not"),
        (["run"], {"PIPELINE_LOOKBACK_DAYS": "-1"}, "PIPELINE_LOOKBACK_DAYS='-1' is not"),
        (
            ["run", "--day", "2019-01-01"],
            {"PIPELINE_AS_OF": "2019-01-01"},
            "--day 2019-01-01 is not a complete day: days run up to 2018-12-31",
        ),
        (
            ["run", "--from", "2019-02-01", "--to", "2019-01-01"],
            {"PIPELINE_AS_OF": "2019-06-30"},
            "--from 2019-02-01 is after --to 2019-01-01",
        ),
        (["run", "--to", "2019-01-01"], {}, "--to needs --from"),
    ],
)
def test_a_wrong_setting_or_window_is_one_line_naming_it_and_no_traceback(
    tmp_path, args, env, message
):
    done = cli(tmp_path, *args, **env)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr


def test_a_run_keeps_the_as_of_date_it_started_with(monkeypatch):
    """Unset PIPELINE_AS_OF is today when the run starts, for every step of that run, and a
    long-running code server's next run takes the next day."""
    from orchestration import settings as settings_module
    from orchestration.defs.resources import pipeline_resource

    monkeypatch.setattr(settings_module, "today", lambda _tz: date(2026, 12, 3))
    loaded = settings_module.PipelineSettings.from_env({})  # a code server starts
    resource = pipeline_resource(loaded)
    with dg.build_resources({"pipeline": resource}) as run:
        monkeypatch.setattr(settings_module, "today", lambda _tz: date(2026, 12, 4))  # midnight
        assert run.pipeline.as_of == date(2026, 12, 3)
        assert not run.pipeline.as_of_fixed
    with dg.build_resources({"pipeline": resource}) as next_run:
        assert next_run.pipeline.as_of == date(2026, 12, 4)
    fixed = settings_module.PipelineSettings.from_env({"PIPELINE_AS_OF": "2024-06-30"})
    with dg.build_resources({"pipeline": pipeline_resource(fixed)}) as run:
        assert run.pipeline.as_of == date(2024, 6, 30)
