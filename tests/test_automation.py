"""Unattended operation: the daily schedule, the landing-zone sensor, one warehouse writer."""

from __future__ import annotations

import os
from datetime import date, datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from orchestration.definitions import build_definitions
from orchestration.defs.rebuild import RebuildDays, Window, resolve
from orchestration.defs.resources import WAREHOUSE_POOL
from tests.conftest import settings_for
from tests.landing import build_landing


@pytest.fixture(scope="module")
def defs(tmp_path_factory):
    root = tmp_path_factory.mktemp("automation")
    settings = settings_for(
        root, PIPELINE_SCHEDULE_CRON="30 5 * * 1-5", PIPELINE_SCHEDULE_TIMEZONE="Europe/Paris"
    )
    return build_definitions(settings), settings


def test_daily_schedule_time_and_zone_come_from_settings(defs):
    definitions, _ = defs
    schedule = definitions.resolve_schedule_def("daily_pipeline")
    assert schedule.cron_schedule == "30 5 * * 1-5"
    assert schedule.execution_timezone == "Europe/Paris"
    assert schedule.job_name == "retention_pipeline"


def test_the_schedule_asks_once_a_day_for_a_run_with_the_default_window(defs):
    """The default run config rebuilds the last complete day before the run's as-of date."""
    definitions, _ = defs
    schedule = definitions.resolve_schedule_def("daily_pipeline")
    tick = datetime(2024, 7, 1, 5, 30, tzinfo=ZoneInfo("Europe/Paris"))
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)
        (request,) = schedule.evaluate_tick(context).run_requests
    assert request.run_key == "2024-07-01"
    assert not request.run_config
    assert resolve(RebuildDays(), date(2024, 7, 1)) == Window(date(2024, 6, 30), date(2024, 6, 30))


def test_sensor_requests_a_run_only_when_files_land_or_change(defs):
    definitions, settings = defs
    sensor = definitions.resolve_sensor_def("landing_zone_files")
    with dg.instance_for_test() as instance:
        empty = sensor(dg.build_sensor_context(instance=instance))
        assert isinstance(empty, dg.SkipReason)

        build_landing(settings.landing_dir)
        context = dg.build_sensor_context(instance=instance)
        first = sensor(context)
        assert isinstance(first, dg.RunRequest)

        again = sensor(dg.build_sensor_context(instance=instance, cursor=context.cursor))
        assert isinstance(again, dg.SkipReason)

        changed = settings.landing_dir / "hris/jobs.csv"
        changed.write_text(changed.read_text() + "OPS-1,back_office,Operator,false,false,false\n")
        os.utime(changed, ns=(1, 10**18))
        after_change = sensor(dg.build_sensor_context(instance=instance, cursor=context.cursor))
        assert isinstance(after_change, dg.RunRequest)
        assert after_change.run_key != first.run_key


def test_every_asset_that_opens_the_warehouse_is_in_the_writer_pool(defs):
    definitions, _ = defs
    graph = definitions.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if key.path[0] in ("raw", "staging", "intermediate", "marts", "config"):
            assert node.pools == {WAREHOUSE_POOL}, key.to_user_string()
