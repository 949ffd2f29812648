"""Extracts as a careless or hostile sender delivers them (docs/extract-contract.md): each gets a
clear one-line error naming the file, or quarantine rows with file, line and reason, and nothing
that could be read is lost."""

from __future__ import annotations

import csv
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.defs.ingest.contract import ENROLLMENTS, QUARANTINE_TABLE, WORKERS
from orchestration.defs.ingest.csv_snapshot import ExtractContractError, load_csv_snapshot
from orchestration.defs.ingest.statements import load_statement_files
from orchestration.outcome import failures
from tests.conftest import query, run_pipeline, settings_for
from tests.landing import (
    account,
    build_landing,
    mbox,
    sha1_actor,
    statement,
    statement_id,
    write_statements,
)

DAY = "lms/statements/2024/06/statements-2024-06-03.jsonl"
ENROLLMENT_HEADER = ENROLLMENTS.columns


def _workers(conn) -> list[tuple]:
    return conn.execute(
        "select employee_id, work_email, department, _source_line from raw.hris_workers order by 1"
    ).fetchall()


def _quarantine(conn) -> list[tuple]:
    return conn.execute(
        f"select source_file, line_number, reason, raw_text from {QUARANTINE_TABLE} "
        "order by source_file, line_number"
    ).fetchall()


def _kept(conn) -> list[tuple]:
    return conn.execute(
        "select statement_id::varchar, source_file, source_line from raw.lms_statements "
        "order by source_file, source_line"
    ).fetchall()


# --- CSV ---------------------------------------------------------------------------------------


def test_a_bom_and_crlf_line_ends_load_like_a_plain_file(tmp_path, warehouse):
    plain = build_landing(tmp_path / "plain")
    windows = build_landing(tmp_path / "windows")
    text = (plain / WORKERS.path).read_text(encoding="utf-8").replace("\r\n", "\n")
    (windows / WORKERS.path).write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    expected = warehouse()
    load_csv_snapshot(expected, plain, WORKERS)
    conn = warehouse()
    result = load_csv_snapshot(conn, windows, WORKERS)

    assert result.rows_quarantined == 0
    # Every column equal, so no stray \r on the last column and no BOM on the first.
    everything = "select * from raw.hris_workers order by employee_id"
    assert conn.execute(everything).fetchall() == expected.execute(everything).fetchall()
    assert [row[0] for row in _workers(conn)] == ["E1", "E2", "E3"]


def test_a_semicolon_delimited_csv_is_refused_naming_the_file_and_the_delimiter(
    tmp_path, warehouse
):
    landing = build_landing(tmp_path / "landing")
    path = landing / WORKERS.path
    path.write_text(path.read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8")
    with pytest.raises(ExtractContractError) as error:
        load_csv_snapshot(warehouse(), landing, WORKERS)
    message = str(error.value)
    assert str(path) in message and "work_email" in message
    assert "separated by semicolons" in message and "\n" not in message


def test_a_duplicated_header_is_refused_naming_the_column(tmp_path, warehouse):
    landing = build_landing(tmp_path / "landing")
    path = landing / WORKERS.path
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[0] += ",department"
    path.write_text("\n".join(f"{line}," if i else line for i, line in enumerate(lines)) + "\n")
    conn = warehouse()
    with pytest.raises(ExtractContractError, match=r"workers\.csv: column\(s\) appear twice: "):
        load_csv_snapshot(conn, landing, WORKERS)
    assert not conn.execute(
        "select count(*) from information_schema.tables where table_name = 'hris_workers'"
    ).fetchone()[0]


def test_non_utf8_rows_are_quarantined_and_the_others_load(tmp_path, warehouse):
    landing = build_landing(tmp_path / "landing")
    path = landing / WORKERS.path
    lines = path.read_bytes().splitlines(keepends=True)
    # Line 3 in Windows-1252: "Grâce" with a lone 0xE2 byte.
    lines[2] = lines[2].replace(b"grace@", b"gr\xe2ce@")
    path.write_bytes(b"".join(lines))
    conn = warehouse()
    result = load_csv_snapshot(conn, landing, WORKERS)

    assert (result.rows_loaded, result.rows_quarantined) == (2, 1)
    assert [row[0] for row in _workers(conn)] == ["E1", "E3"]
    ((source, line, reason, raw),) = _quarantine(conn)
    assert (source, line, reason) == (WORKERS.path, 3, "not valid UTF-8")
    assert raw.startswith("E2,gr\\xe2ce@")  # the offending byte, shown as itself


def _check(result, name: str):
    """The one check evaluation of the run whose name holds `name`."""
    (evaluation,) = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and name in e.event_specific_data.check_name
    ]
    return evaluation


def _enrollments(landing, lines: int, broken: dict[int, str]) -> None:
    """`lines` enrollment rows after the header; the rows at the given line numbers replaced."""
    rows = [",".join(ENROLLMENT_HEADER)]
    for line in range(2, lines + 2):
        rows.append(broken.get(line, f"N{line},E1,PY-201,2024-05-01,,,assigned"))
    (landing / ENROLLMENTS.path).write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_a_stray_quote_quarantines_its_line_and_the_lines_after_it_load(tmp_path, warehouse):
    landing = build_landing(tmp_path / "landing")
    _enrollments(landing, 300, {200: 'N200,E1,"PY-201,2024-05-01,,,assigned'})
    conn = warehouse()
    result = load_csv_snapshot(conn, landing, ENROLLMENTS)

    assert (result.rows_loaded, result.rows_quarantined) == (299, 1)
    ((source, line, reason, raw),) = _quarantine(conn)
    assert (source, line, raw) == (ENROLLMENTS.path, 200, 'N200,E1,"PY-201,2024-05-01,,,assigned')
    assert "quote opened on this line is not closed" in reason
    loaded = conn.execute("select _source_line from raw.lms_enrollments order by 1").fetchall()
    assert [line for (line,) in loaded] == [n for n in range(2, 302) if n != 200]


def test_a_stray_quote_closed_lines_later_quarantines_only_its_own_line(tmp_path, warehouse):
    """Line 120 opens a quote; the quote in line 180's last field closes it for the parser, so
    lines 120-180 read as one broken record. Only line 120 is quarantined; 121-180 load (in 180,
    a quote inside an unquoted field is a literal character)."""
    landing = build_landing(tmp_path / "landing")
    _enrollments(
        landing,
        300,
        {
            120: 'N120,E1,PY-201,2024-05-01,,,"assigned',
            180: 'N180,E1,PY-201,2024-05-01,,,assigned"x',
        },
    )
    conn = warehouse()
    result = load_csv_snapshot(conn, landing, ENROLLMENTS)

    assert (result.rows_loaded, result.rows_quarantined) == (299, 1)
    assert [row[1] for row in _quarantine(conn)] == [120]
    assert conn.execute(
        "select status from raw.lms_enrollments where _source_line = 180"
    ).fetchone() == ('assigned"x',)


# --- Statement files -----------------------------------------------------------------------


def test_a_truncated_gzip_keeps_the_lines_before_and_names_the_file(tmp_path, warehouse):
    landing = tmp_path / "landing"
    broken = landing / "lms/statements/2024/06/statements-2024-06-03.jsonl.gz"
    write_statements(broken, [statement(n, account(f"E{n}")) for n in range(1, 2001)])
    data = broken.read_bytes()
    broken.write_bytes(data[: len(data) * 2 // 3])  # the transfer stopped two thirds in
    other = write_statements(landing / DAY.replace("03", "04"), [statement(9999, account("E1"))])
    conn = warehouse()
    result = load_statement_files(conn, landing)

    kept = _kept(conn)
    from_broken = [row for row in kept if row[1].endswith(".gz")]
    assert 0 < len(from_broken) < 2000
    assert [row[2] for row in from_broken] == list(range(1, len(from_broken) + 1))
    assert (statement_id(9999), other.relative_to(landing).as_posix(), 1) in kept
    ((source, line, reason, _),) = _quarantine(conn)
    assert source == broken.relative_to(landing).as_posix()
    assert line == len(from_broken) + 1
    assert reason.startswith(f"unreadable gzip after line {len(from_broken)}: ")
    assert "truncated or corrupt" in reason
    assert result.rows_quarantined == 1

    # Delivered again whole, the file loads the rest; the quarantine row goes.
    write_statements(broken, [statement(n, account(f"E{n}")) for n in range(1, 2001)])
    load_statement_files(conn, landing)
    assert len([row for row in _kept(conn) if row[1].endswith(".gz")]) == 2000
    assert _quarantine(conn) == []


def test_a_file_named_gz_that_is_not_gzip_is_quarantined_by_name(tmp_path, warehouse):
    landing = tmp_path / "landing"
    path = landing / "lms/statements/2024/06/statements-2024-06-03.jsonl.gz"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(statement(1, account("E1"))) + "\n", encoding="utf-8")
    write_statements(landing / DAY.replace("03", "04"), [statement(2, account("E2"))])
    conn = warehouse()
    load_statement_files(conn, landing)

    assert [row[0] for row in _kept(conn)] == [statement_id(2)]
    ((source, line, reason, _),) = _quarantine(conn)
    assert (source, line) == (path.relative_to(landing).as_posix(), 1)
    assert reason.startswith("unreadable gzip after line 0: Not a gzipped file")


def test_a_json_array_file_is_quarantined_with_a_reason_that_says_so(tmp_path, warehouse):
    landing = tmp_path / "landing"
    one_line = landing / DAY
    one_line.parent.mkdir(parents=True)
    one_line.write_text(json.dumps([statement(1, account("E1")), statement(2, account("E2"))]))
    pretty = landing / DAY.replace("03", "04")
    pretty.write_text(json.dumps([statement(3, account("E3"))], indent=2))
    conn = warehouse()
    load_statement_files(conn, landing)

    assert _kept(conn) == []
    rows = _quarantine(conn)
    assert rows[0][:2] == (DAY, 1) and rows[0][2].startswith("a JSON array: statement files hold")
    assert json.loads(rows[0][3])[1]["id"] == statement_id(2)  # the whole line is kept
    pretty_rows = [row for row in rows if row[0] != DAY]
    assert len(pretty_rows) == len(pretty.read_text().splitlines())  # every line kept
    assert all("one pretty-printed JSON document" in row[2] for row in pretty_rows)


def test_a_bom_and_crlf_in_a_statement_file_are_not_content(tmp_path, warehouse):
    landing = tmp_path / "landing"
    path = landing / DAY
    path.parent.mkdir(parents=True)
    lines = [json.dumps(statement(n, account(f"E{n}"))) for n in (1, 2)]
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    conn = warehouse()
    result = load_statement_files(conn, landing)

    assert (result.rows_loaded, result.rows_quarantined) == (2, 0)
    assert _kept(conn) == [(statement_id(1), DAY, 1), (statement_id(2), DAY, 2)]


def test_a_one_megabyte_statement_loads_whole(tmp_path, warehouse):
    landing = tmp_path / "landing"
    big = statement(
        1, account("E1"), context={"extensions": {"https://x.example/blob": "a" * 2**20}}
    )
    write_statements(landing / DAY, [big, statement(2, account("E2"))])
    conn = warehouse()
    result = load_statement_files(conn, landing)

    assert (result.rows_loaded, result.rows_quarantined) == (2, 0)
    assert conn.execute(
        "select length(payload -> '$.context.extensions' ->> '$.\"https://x.example/blob\"') "
        "from raw.lms_statements where source_line = 1"
    ).fetchone() == (2**20,)


def test_non_utf8_statement_lines_are_quarantined_and_the_others_load(tmp_path, warehouse):
    landing = tmp_path / "landing"
    path = landing / DAY
    path.parent.mkdir(parents=True)
    good = json.dumps(statement(1, account("E1"))).encode()
    latin = json.dumps(statement(2, account("Ren\u00e9"))).encode().replace(b"\\u00e9", b"\xe9")
    with gzip.open(path.with_suffix(".jsonl.gz"), "wb") as handle:
        handle.write(good + b"\n" + latin + b"\n")
    conn = warehouse()
    load_statement_files(conn, landing)

    assert [row[0] for row in _kept(conn)] == [statement_id(1)]
    ((_, line, reason, raw),) = _quarantine(conn)
    assert (line, reason) == (2, "not valid UTF-8")
    assert "Ren\\xe9" in raw


# --- Two writers -------------------------------------------------------------------------------

HOLDER = (
    "import duckdb, sys, time\n"
    "conn = duckdb.connect(sys.argv[1])\n"
    "conn.execute('create table held (x integer)')\n"
    "print('holding', flush=True)\n"
    "sys.stdin.read()\n"
)


def test_a_run_started_while_another_process_writes_the_warehouse_refuses_at_once(tmp_path):
    """A second `retention-pipeline run` (or one started while `make dev` runs the schedule)
    would queue every step behind DuckDB's lock: it stops before any step, naming the holder."""
    settings = settings_for(tmp_path)
    build_landing(settings.landing_dir)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(settings.warehouse)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        run = subprocess.run(
            [str(Path(sys.executable).parent / "retention-pipeline"), "run"],
            env=os.environ
            | {
                "PIPELINE_LANDING_DIR": str(settings.landing_dir),
                "PIPELINE_WAREHOUSE": str(settings.warehouse),
                "PIPELINE_PUBLISH_DIR": str(settings.publish_dir),
                "PIPELINE_AS_OF": "2024-06-30",
                "DAGSTER_HOME": "",
            },
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        holder.communicate("")
    assert run.returncode == 2, run.stdout + run.stderr
    (line,) = run.stderr.splitlines()
    assert f"the warehouse {settings.warehouse} is in use by process {holder.pid}" in line
    assert "nothing was run" in line
    conn = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        tables = conn.execute("select table_name from information_schema.tables").fetchall()
    finally:
        conn.close()
    assert tables == [("held",)]
    assert not settings.publish_dir.exists()


@pytest.mark.pipeline
def test_a_failed_step_is_summarized_by_its_cause_not_by_dagsters_wrapper(tmp_path):
    """The line the CLI prints and the run-failure alert sends names the file and the column."""
    settings = settings_for(tmp_path)
    landing = build_landing(settings.landing_dir)
    path = landing / WORKERS.path
    text = path.read_text(encoding="utf-8").replace("work_email", "email")
    path.write_text(text, encoding="utf-8")
    result = run_pipeline(settings)

    assert not result.success
    (line,) = [f for f in failures(result) if "raw__hris_workers" in f]
    assert "ExtractContractError: " in line and str(path) in line
    assert line.count("ExtractContractError") == 1  # named once, not module path and all
    assert "missing required column(s) work_email" in line
    assert "DagsterExecutionStepExecutionError" not in line


@pytest.mark.pipeline
def test_statements_from_wrong_clocks_never_reshape_the_marts(tmp_path):
    """Absurd timestamps are quarantined; a plausible but wrong one (2010, for people hired in
    2024) is kept, warned about, and moves nobody's weeks: the marts equal those without them."""
    usual = [
        statement(1, account("E1")),
        statement(2, mbox("ada.lovelace@example.com")),
        statement(3, sha1_actor("alan@example.com")),
    ]
    wrong = [
        statement(11, account("E2"), timestamp="1900-01-01T00:00:00Z"),
        statement(12, account("E2"), timestamp="0001-01-01T00:00:00Z"),
        statement(13, account("E3"), timestamp="2099-06-03T10:00:00Z"),
        statement(14, account("E1"), timestamp="2010-06-03T10:00:00Z"),
    ]
    marts = {}
    for name, statements in (("usual", usual), ("wrong", usual + wrong)):
        settings = settings_for(tmp_path / name)
        build_landing(settings.landing_dir, statements)
        result = run_pipeline(settings)
        assert result.success, name
        marts[name] = {
            table: query(settings, f"select * from marts.{table} order by all")
            for table in ("fct_engagement_weekly", "fct_risk_tiers", "mart_engagement_trends")
        }
    assert marts["wrong"] == marts["usual"]
    assert len(marts["usual"]["fct_engagement_weekly"]) > 0

    reasons = dict(
        query(
            settings,
            f"select raw_text::json ->> '$.timestamp', reason from {QUARANTINE_TABLE} "
            "where source_table = 'raw.lms_statements'",
        )
    )
    assert reasons["1900-01-01T00:00:00Z"].endswith("is before 1970 (a wrong device clock)")
    assert reasons["0001-01-01T00:00:00Z"].endswith("is before 1970 (a wrong device clock)")
    assert "is more than a day after it was stored" in reasons["2099-06-03T10:00:00Z"]
    assert "2010-06-03T10:00:00Z" not in reasons  # plausible: kept, and warned about
    warning = _check(result, "dated_before_hire")
    assert not warning.passed and warning.severity == dg.AssetCheckSeverity.WARN


@pytest.mark.pipeline
def test_self_managers_and_management_cycles_are_a_warning_naming_them(tmp_path):
    settings = settings_for(tmp_path)
    landing = build_landing(settings.landing_dir)
    managers = {"E1": "E1", "E2": "E3", "E3": "E2"}  # E1 manages E1; E2 and E3 manage each other
    for name in ("hris/workers.csv", "hris/job_history.csv"):
        path = landing / name
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        for row in rows:
            row["manager_id"] = managers[row["employee_id"]]
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    result = run_pipeline(settings)

    assert result.success  # a warning: the marts are built and published
    warning = _check(result, "manager_hierarchy_is_acyclic")
    assert not warning.passed and warning.severity == dg.AssetCheckSeverity.WARN
    assert warning.metadata["dagster_dbt/failed_row_count"].value == 3
    assert (settings.publish_dir / "analytics.duckdb").is_file()


@pytest.mark.pipeline
def test_a_report_that_cannot_be_drawn_is_marked_stale_beside_the_new_publication(
    tmp_path, monkeypatch
):
    from orchestration.defs.publication import read_manifest
    from orchestration.defs.report import charts
    from orchestration.defs.report.assets import report_path

    settings = settings_for(tmp_path)
    build_landing(settings.landing_dir)
    assert run_pipeline(settings).success
    first = read_manifest(settings.publish_dir)["publication_id"]
    drawn = report_path(settings.publish_dir).read_text(encoding="utf-8")

    def broken(*_args, **_kwargs):
        raise ValueError("cannot draw <this>")

    monkeypatch.setattr(charts, "report_charts", broken)
    result = run_pipeline(settings)

    assert not result.success
    (line,) = failures(result)
    assert line.startswith("step retention_report: ") and "cannot draw <this>" in line
    second = read_manifest(settings.publish_dir)["publication_id"]
    assert second != first  # the marts were published
    index = report_path(settings.publish_dir)
    stale = index.read_text(encoding="utf-8")
    assert 'id="report-stale"' in stale and second in stale
    assert "cannot draw &lt;this&gt;" in stale and 'href="previous.html"' in stale
    assert index.with_name("previous.html").read_text(encoding="utf-8") == drawn
