"""Daily operation: a day's run rebuilds only its days and weeks, re-running any day or backfilling
a range changes no published table, late and voiding statements reach the days they belong to, and
a run killed half-way leaves the warehouse consistent and the publication untouched."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from orchestration.defs.quality.suites import CHECK_NAME
from orchestration.defs.rebuild import DBT_STEP
from orchestration.sample_data import generate
from tests.conftest import last_queue, query, run_pipeline, settings_for
from tests.landing import account, statement, write_statements

pytestmark = pytest.mark.pipeline

END = date(2024, 6, 30)  # a Sunday, and the as-of date
LAST_DAY = END - timedelta(days=1)  # the last complete day: what the daily schedule rebuilds
LOOKBACK = 3
PROJECT_ROOT = Path(__file__).resolve().parents[1]
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def published_tables(settings) -> dict[str, str]:
    """An md5 of every published table's sorted rows (the publication's own bookkeeping aside)."""
    conn = duckdb.connect(str(settings.publish_dir / "analytics.duckdb"), read_only=True)
    try:
        tables = [
            t
            for (t,) in conn.execute("select table_name from duckdb_tables() order by 1").fetchall()
            if t != "publication_info"
        ]
        return {
            table: conn.execute(
                f"""select count(*) || ':' || coalesce(md5(string_agg(r, '|' order by r)), '')
                    from (select cast(t as varchar) as r from "{table}" as t)"""
            ).fetchone()[0]
            for table in tables
        }
    finally:
        conn.close()


def copy_company(source, root: Path, **overrides: str):
    """A private copy of a built company (landing zone, warehouse, publication) to change."""
    for name in ("landing", "published"):
        shutil.copytree(source.landing_dir.parent / name, root / name, symlinks=True)
    shutil.copy(source.warehouse, root / "warehouse.duckdb")
    return settings_for(root, PIPELINE_AS_OF=END.isoformat(), **overrides)


def env_for(settings) -> dict[str, str]:
    return os.environ | {
        "PIPELINE_LANDING_DIR": str(settings.landing_dir),
        "PIPELINE_WAREHOUSE": str(settings.warehouse),
        "PIPELINE_PUBLISH_DIR": str(settings.publish_dir),
        "PIPELINE_AS_OF": settings.as_of.isoformat(),
        "PIPELINE_TIMEZONE": settings.timezone,
    }


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    """A generated company built once over its whole history, as `retention-pipeline run` does."""
    root = tmp_path_factory.mktemp("company")
    generate(root / "landing", employees=60, months=4, seed=5, end_date=END)
    settings = settings_for(root, PIPELINE_AS_OF=END.isoformat())
    assert run_pipeline(settings).success
    return settings, published_tables(settings)


@pytest.fixture
def built(company, tmp_path):
    settings, baseline = company
    return copy_company(settings, tmp_path), baseline


def test_rerunning_a_day_leaves_every_published_table_identical(built):
    settings, baseline = built
    for day in (LAST_DAY, date(2024, 6, 5)):
        result = run_pipeline(settings, day=day.isoformat())
        assert result.success
        days, reasons = last_queue(settings)
        assert days == [day - timedelta(days=n) for n in range(LOOKBACK, -1, -1)]
        assert reasons == ["window"]
        assert_rebuilt_only(settings, days)
        assert published_tables(settings) == baseline
    # The second day's dbt started from the first day's parse: another window and the same
    # profile re-parse only the files that changed, not the whole project.
    parsing = dbt_log_messages(result.run_id, "partial parsing")
    assert parsing and not any(m.startswith("Unable to do partial parsing") for m in parsing)


def dbt_log_messages(run_id: str, containing: str) -> list[str]:
    """The messages of a run's dbt invocation log (its own target folder) that mention a phrase."""
    from orchestration.defs.dbt.project import invocations_dir

    (log,) = invocations_dir().glob(f"{DBT_STEP}-{run_id[:7]}-*/dbt.log")
    messages = [json.loads(line)["info"]["msg"] for line in log.read_text().splitlines()]
    return [m for m in messages if containing.lower() in m.lower()]


def assert_rebuilt_only(settings, days: list[date]) -> None:
    """The last run rewrote statements of its own days only, and weekly measures of the weeks
    holding those days only; the rest of the history was left as it was."""
    weeks = {day - timedelta(days=day.weekday()) for day in days}
    rebuilt_days, untouched = query(
        settings,
        """select
             list_distinct(list(event_date) filter (where queued_at = last.t)),
             count(*) filter (where queued_at < last.t)
           from intermediate.int_learning_activity, (
             select max(queued_at) as t from intermediate.int_statement_rebuild_days
           ) as last""",
    )[0]
    assert rebuilt_days and set(rebuilt_days) <= set(days)
    assert untouched > 0
    rebuilt_weeks = query(
        settings,
        """select distinct week_start from intermediate.int_activity_weekly where queued_at = (
             select max(queued_at) from intermediate.int_statement_rebuild_days
           )""",
    )
    assert {week for (week,) in rebuilt_weeks} == weeks
    # The trend mart: every week from the first queued one on, nothing before it.
    rebuilt, kept = trend_weeks(settings)
    assert rebuilt == {w for w in rebuilt | kept if w >= min(weeks)}
    assert kept and max(kept) < min(weeks)


def trend_weeks(settings) -> tuple[set[date], set[date]]:
    """The weeks of int_engagement_trends the last dbt build wrote, and those it kept."""
    rows = query(
        settings,
        """select distinct week_start, queued_at = (select max(queued_at) from
             intermediate.int_statement_rebuild_days) as rebuilt
           from intermediate.int_engagement_trends""",
    )
    return {w for w, new in rows if new}, {w for w, new in rows if not new}


def test_a_backfill_of_a_range_from_either_cli_changes_no_published_table(built, tmp_path):
    """The window is run config: Dagster's own CLI takes it as JSON, `retention-pipeline run`
    as --from/--to. Each rebuilds exactly its days (and the lookback before them)."""
    settings, baseline = built
    first, last = date(2024, 5, 27), date(2024, 6, 9)
    home = tmp_path / "dagster_home"
    home.mkdir()
    window = {"first_day": first.isoformat(), "last_day": last.isoformat()}
    dagster_cli = [
        str(Path(sys.executable).parent / "dagster"),
        *("asset", "materialize", "-m", "orchestration.definitions", "--select", "*"),
        *("--config-json", json.dumps({"ops": {DBT_STEP: {"config": window}}})),
    ]
    our_cli = [
        str(Path(sys.executable).parent / "retention-pipeline"),
        *("run", "--from", "2024-04-29", "--to", "2024-05-05"),
    ]
    for command, (start, end) in (
        (dagster_cli, (first, last)),
        (our_cli, (date(2024, 4, 29), date(2024, 5, 5))),
    ):
        done = subprocess.run(
            command,
            cwd=PROJECT_ROOT,
            env=env_for(settings) | {"DAGSTER_HOME": str(home)},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        days, reasons = last_queue(settings)
        span = (end - start).days + 1 + LOOKBACK
        assert days == [start - timedelta(days=LOOKBACK - n) for n in range(span)]
        assert reasons == ["window"]
        assert published_tables(settings) == baseline


def test_a_daily_run_with_nothing_new_rebuilds_nothing_and_keeps_the_publication(built):
    settings, baseline = built
    publication = (settings.publish_dir / "publication.json").read_text()
    queued = query(settings, "select count(*) from intermediate.int_statement_rebuild_days")
    result = run_pipeline(settings, daily=True)
    assert result.success
    built_now = {e.asset_key.path[0] for e in result.get_asset_materialization_events()}
    assert built_now == {"raw"}  # the loads found nothing new; dbt and publication did not run
    assert not result.get_asset_check_evaluations() or {
        e.asset_key.path[0] for e in result.get_asset_check_evaluations()
    } == {"raw"}
    assert (settings.publish_dir / "publication.json").read_text() == publication
    assert query(settings, "select count(*) from intermediate.int_statement_rebuild_days") == queued

    # A file lands: the same daily run builds what it brought, and publishes.
    _late_file(settings)
    result = run_pipeline(settings, daily=True)
    assert result.success
    assert (settings.publish_dir / "publication.json").read_text() != publication
    days, reasons = last_queue(settings)
    assert LAST_DAY in days and {"window", "new_statements"} <= set(reasons)


def check_metadata(result, asset: str) -> dict:
    (evaluation,) = [
        e
        for e in result.get_asset_check_evaluations()
        if e.asset_key.to_user_string() == asset and e.check_name == CHECK_NAME
    ]
    return {"passed": evaluation.passed} | {k: v.value for k, v in evaluation.metadata.items()}


def test_a_days_checks_validate_the_rows_it_wrote_and_catch_a_bad_row_on_an_old_day(built):
    settings, _ = built
    result = run_pipeline(settings, day=LAST_DAY.isoformat())
    assert result.success
    days, _ = last_queue(settings)
    activity = check_metadata(result, "marts/fct_learning_activity")
    assert activity["validation_scope"] == "changed rows"
    assert (
        activity["rows_validated"]
        == query(
            settings,
            "select count(*) from marts.fct_learning_activity where event_date between ? and ?",
            [days[0], days[-1]],
        )[0][0]
    )
    assert activity["rows_validated"] < activity["table_rows"]

    # A statement arrives today for a day 45 days back, with a verb nobody knows.
    employee = query(settings, "select min(employee_id) from marts.dim_employee")[0][0]
    bad = statement(
        900003,
        account(employee),
        timestamp=f"{LAST_DAY - timedelta(days=45)}T09:00:00Z",
        stored=f"{LAST_DAY}T11:00:00Z",
    )
    bad["verb"]["id"] = "https://example.com/verbs/unheard-of"
    write_statements(settings.landing_dir / "lms/statements/late/bad.jsonl", [bad])
    result = run_pipeline(settings, day=LAST_DAY.isoformat())
    # An unknown verb is a warning (it still counts as activity): the run publishes.
    assert result.success
    raw = check_metadata(result, "raw/lms_statements")
    assert (raw["validation_scope"], raw["rows_validated"]) == ("changed rows", 1)
    activity = check_metadata(result, "marts/fct_learning_activity")
    assert not activity["passed"]
    assert activity["validation_scope"] == "changed rows"
    (failure,) = activity["failures"]
    assert failure["expectation"] == "expect_column_values_to_be_in_set(is_known_verb)"
    assert failure["severity"] == "warn"
    assert [row["statement_id"] for row in failure["sample_rows"]] == [bad["id"]]
    assert query(
        settings,
        "select count(*) from marts.fct_learning_activity where statement_id = ?",
        [bad["id"]],
    ) == [(1,)]


def _late_file(settings, ids_from=None) -> tuple[str, str]:
    """A file landing today with a statement 60 days late and the voiding of a 90-day-old one."""
    late_day = LAST_DAY - timedelta(days=60)
    old_id, employee = query(
        ids_from or settings,
        """select statement_id::varchar, employee_id from intermediate.int_learning_activity
           where employee_id is not null and event_date = ? order by statement_id limit 1""",
        [LAST_DAY - timedelta(days=90)],
    )[0]
    late = statement(
        900001,
        account(employee),
        verb="completed",
        timestamp=f"{late_day}T09:00:00Z",
        stored=f"{LAST_DAY}T09:00:00Z",
    )
    voiding = statement(
        900002,
        account(employee),
        verb="voided",
        timestamp=f"{LAST_DAY}T10:00:00Z",
        stored=f"{LAST_DAY}T10:00:00Z",
    )
    voiding["verb"]["id"] = VOIDED
    voiding["object"] = {"objectType": "StatementRef", "id": old_id}
    write_statements(
        settings.landing_dir / "lms/statements/late/arrived-today.jsonl", [late, voiding]
    )
    return late["id"], old_id


def test_late_and_voiding_statements_reach_the_days_they_belong_to(built, late_file_full_build):
    settings, _ = built
    tier_inputs = "select distinct employee_id, inputs_fingerprint from intermediate.int_risk_tiers"
    before = set(query(settings, tier_inputs))
    late_id, voided_id = _late_file(settings)
    assert run_pipeline(settings, day=LAST_DAY.isoformat()).success
    _, reasons = last_queue(settings)
    assert {"new_statements", "voided", "window"} <= set(reasons)
    # The tier rule ran again for the one employee whose old weeks changed, no one else.
    (employee,) = query(
        settings,
        "select employee_id from intermediate.int_learning_activity where statement_id = ?",
        [late_id],
    )[0]
    assert {e for e, _ in set(query(settings, tier_inputs)) - before} == {employee}
    facts = {
        sid
        for (sid,) in query(
            settings,
            """select statement_id::varchar from marts.fct_learning_activity
               where statement_id in (?, ?)""",
            [late_id, voided_id],
        )
    }
    assert facts == {late_id}
    # The day run converges on exactly what a full build of the same files publishes.
    assert published_tables(settings) == late_file_full_build


def test_a_retroactive_hris_change_rebuilds_every_trend_week_and_equals_a_full_build(
    built, tmp_path
):
    """A department change dated months back changes old weeks: the day's run rebuilds every
    week of the trend mart, not only the queued ones, and publishes what a full build does."""
    settings, _ = built
    _transfer_an_employee(settings.landing_dir)
    assert run_pipeline(settings, day=LAST_DAY.isoformat()).success
    rebuilt, kept = trend_weeks(settings)
    assert rebuilt and not kept
    fresh = settings_for(tmp_path / "fresh", PIPELINE_AS_OF=END.isoformat())
    shutil.copytree(settings.landing_dir, fresh.landing_dir)
    assert run_pipeline(fresh).success
    assert published_tables(settings) == published_tables(fresh)


def _transfer_an_employee(landing: Path) -> None:
    """Appends to hris/job_history.csv a transfer, 90 days before the as-of date, of the first
    employee hired before then into another employee's department."""
    path = landing / "hris" / "job_history.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    rows = [dict(zip(header, line.split(","), strict=True)) for line in lines[1:]]
    gone = {r["employee_id"] for r in rows if r["change_type"] == "termination"}
    moved = next(
        r
        for r in rows
        if r["change_type"] == "hire"
        and r["manager_id"]
        and r["employee_id"] not in gone
        and r["effective_date"] < (END - timedelta(days=180)).isoformat()
    )
    other = next(r["department"] for r in rows if r["department"] != moved["department"])
    transfer = moved | {
        "effective_date": (END - timedelta(days=90)).isoformat(),
        "change_type": "transfer",
        "department": other,
    }
    path.write_text("\n".join([*lines, ",".join(transfer[c] for c in header)]) + "\n")


@pytest.fixture(scope="module")
def late_file_full_build(company, tmp_path_factory) -> dict[str, str]:
    """What a full build from an empty warehouse publishes once the late file has landed."""
    source, _ = company
    root = tmp_path_factory.mktemp("fresh")
    shutil.copytree(source.landing_dir, root / "landing")
    fresh = settings_for(root, PIPELINE_AS_OF=END.isoformat())
    _late_file(fresh, ids_from=source)
    assert run_pipeline(fresh).success
    return published_tables(fresh)


def test_a_run_killed_half_way_leaves_the_warehouse_consistent_and_the_publication_untouched(
    built, late_file_full_build
):
    settings, baseline = built
    late_id, _ = _late_file(settings)
    manifest = (settings.publish_dir / "publication.json").read_text()
    run = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "retention-pipeline"),
            "run",
            "--day",
            LAST_DAY.isoformat(),
        ],
        cwd=PROJECT_ROOT,
        env=env_for(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: the dbt subprocess dies with it
    )
    seen = []
    try:
        for line in run.stdout:
            seen.append(line)
            # The day's statements are committed; the weekly measures are being rebuilt.
            if "START sql incremental model intermediate.int_activity_weekly" in line:
                os.killpg(run.pid, signal.SIGKILL)
                break
    finally:
        run.wait(timeout=120)
    assert run.returncode == -signal.SIGKILL, "".join(seen[-40:])

    # BI tools still read the last good publication, byte for byte.
    assert (settings.publish_dir / "publication.json").read_text() == manifest
    assert published_tables(settings) == baseline
    assert query(settings, "select count(*) from marts.fct_risk_tiers")[0][0] > 0  # opens fine

    # The next run finishes what the killed one started, and publishes what a full build would.
    assert run_pipeline(settings, day=LAST_DAY.isoformat()).success
    assert query(
        settings,
        "select count(*) from marts.fct_learning_activity where statement_id = ?",
        [late_id],
    ) == [(1,)]
    assert published_tables(settings) == late_file_full_build
    assert json.loads((settings.publish_dir / "publication.json").read_text()) != json.loads(
        manifest
    )
