"""Rules for CSV snapshot extracts (docs/extract-contract.md#csv-extracts): contract errors,
quarantine, idempotence."""

from __future__ import annotations

import pytest

from orchestration.defs.ingest.contract import (
    ALERT_FEEDBACK,
    ENROLLMENTS,
    QUARANTINE_TABLE,
    WORKERS,
)
from orchestration.defs.ingest.csv_snapshot import ExtractContractError, load_csv_snapshot
from tests.landing import build_landing, write_csv

ENROLLMENT_HEADER = ENROLLMENTS.columns


def test_missing_required_column_names_the_file_and_the_column(tmp_path, warehouse):
    landing = build_landing(tmp_path / "landing")
    write_csv(landing / "hris/workers.csv", ["employee_id", "hire_date", "job_code"], [])
    with pytest.raises(ExtractContractError) as error:
        load_csv_snapshot(warehouse(), landing, WORKERS)
    message = str(error.value)
    assert str(landing / "hris/workers.csv") in message
    assert "work_email" in message and "department" in message


def test_missing_file_is_named_with_its_expected_path(tmp_path, warehouse):
    landing = build_landing(tmp_path / "landing")
    (landing / "lms/enrollments.csv").unlink()
    with pytest.raises(ExtractContractError, match=r"lms/enrollments\.csv.*missing"):
        load_csv_snapshot(warehouse(), landing, ENROLLMENTS)


def test_unparsable_rows_are_quarantined_with_line_and_reason(tmp_path, warehouse):
    landing = build_landing(tmp_path / "landing")
    path = landing / "lms/enrollments.csv"
    path.write_text(
        ",".join(ENROLLMENT_HEADER) + "\n"
        "N1,E1,SEC-101,2024-05-01,2024-05-31,,assigned\n"  # line 2: fine
        'N2,E1,SEC-101,2024-05-01,2024-02-30,,"multi\nline"\n'  # lines 3-4: impossible date
        "N3,E2,PY-201,2024-05-01\n"  # line 5: too few fields
        ",E2,PY-201,2024-05-01,,,assigned\n"  # line 6: empty key
        "N4,E3,PY-201,2024-05-02,,,assigned\n",  # line 7: fine
        encoding="utf-8",
    )
    conn = warehouse()
    result = load_csv_snapshot(conn, landing, ENROLLMENTS)

    assert (result.rows_loaded, result.rows_quarantined) == (2, 3)
    assert conn.execute(
        "select enrollment_id, _source_line from raw.lms_enrollments order by 2"
    ).fetchall() == [("N1", 2), ("N4", 7)]
    quarantined = conn.execute(
        f"select source_file, line_number, reason, raw_text from {QUARANTINE_TABLE} order by 2"
    ).fetchall()
    assert [(row[0], row[1]) for row in quarantined] == [
        ("lms/enrollments.csv", 3),
        ("lms/enrollments.csv", 5),
        ("lms/enrollments.csv", 6),
    ]
    assert "due_date" in quarantined[0][2] and "2024-02-30" in quarantined[0][2]
    assert quarantined[0][3] == 'N2,E1,SEC-101,2024-05-01,2024-02-30,,"multi\nline"'
    assert "expected 7 fields, found 4" in quarantined[1][2]
    assert "enrollment_id is empty" in quarantined[2][2]


def test_unknown_extra_columns_are_kept_in_raw(tmp_path, warehouse):
    landing = build_landing(tmp_path / "landing")
    write_csv(
        landing / "lms/enrollments.csv",
        [*ENROLLMENT_HEADER, "Cost_Center"],
        [("N1", "E1", "SEC-101", "2024-05-01", "", "", "assigned", "CC-42")],
    )
    conn = warehouse()
    result = load_csv_snapshot(conn, landing, ENROLLMENTS)
    assert result.extra_columns == ("cost_center",)
    assert conn.execute("select cost_center from raw.lms_enrollments").fetchall() == [("CC-42",)]


def test_reloading_the_same_file_changes_nothing(tmp_path, warehouse):
    landing = build_landing(tmp_path / "landing")
    conn = warehouse()
    first = load_csv_snapshot(conn, landing, WORKERS)
    before = conn.execute("select * from raw.hris_workers order by employee_id").fetchall()
    second = load_csv_snapshot(conn, landing, WORKERS)
    assert second.unchanged_files == 1 and second.files_read == 0
    assert second.rows_loaded == first.rows_loaded == 3
    assert conn.execute("select * from raw.hris_workers order by employee_id").fetchall() == before


def test_a_new_snapshot_replaces_the_previous_rows_and_quarantine(tmp_path, warehouse):
    landing = build_landing(tmp_path / "landing")
    conn = warehouse()
    path = landing / "lms/enrollments.csv"
    write_csv(path, ENROLLMENT_HEADER, [("N1", "E1", "SEC-101", "not-a-date", "", "", "")])
    load_csv_snapshot(conn, landing, ENROLLMENTS)
    assert conn.execute(f"select count(*) from {QUARANTINE_TABLE}").fetchone() == (1,)

    write_csv(path, ENROLLMENT_HEADER, [("N1", "E1", "SEC-101", "2024-05-01", "", "", "")])
    load_csv_snapshot(conn, landing, ENROLLMENTS)
    assert conn.execute(f"select count(*) from {QUARANTINE_TABLE}").fetchone() == (0,)
    assert conn.execute("select assigned_date from raw.lms_enrollments").fetchall() == [
        ("2024-05-01",)
    ]


def test_an_optional_extract_not_delivered_is_an_empty_table(tmp_path, warehouse):
    """lms/alert_feedback.csv is optional (docs/extract-contract.md#alert-feedback)."""
    landing = build_landing(tmp_path / "landing")
    assert not (landing / ALERT_FEEDBACK.path).exists()
    conn = warehouse()
    result = load_csv_snapshot(conn, landing, ALERT_FEEDBACK)
    assert (result.rows_loaded, result.rows_quarantined) == (0, 0)
    columns = [
        c
        for (c,) in conn.execute(
            f"select column_name from (describe {ALERT_FEEDBACK.raw_table})"
        ).fetchall()
    ]
    assert columns[: len(ALERT_FEEDBACK.columns)] == list(ALERT_FEEDBACK.columns)
    assert conn.execute(f"select count(*) from {ALERT_FEEDBACK.raw_table}").fetchone() == (0,)


def test_free_text_in_a_note_code_is_quarantined_without_the_text(tmp_path, warehouse):
    landing = build_landing(tmp_path / "landing")
    write_csv(
        landing / ALERT_FEEDBACK.path,
        ["employee_id", "week_start", "manager_id", "status", "recorded_at"],  # no note_code
        [("E2", "2024-06-10", "E1", "acted", "2024-06-12T09:00:00Z")],
    )
    conn = warehouse()
    assert load_csv_snapshot(conn, landing, ALERT_FEEDBACK).rows_loaded == 1
    # An optional column left out is there, empty.
    assert conn.execute(f"select note_code from {ALERT_FEEDBACK.raw_table}").fetchall() == [(None,)]

    (landing / ALERT_FEEDBACK.path).write_text(
        ",".join(ALERT_FEEDBACK.columns) + "\n"
        "E2,2024-06-10,E1,acted,2024-06-12T09:00:00Z,workload\n"
        "E3,2024-06-10,E1,acted,2024-06-12,she told me about her divorce\n",
        encoding="utf-8",
    )
    result = load_csv_snapshot(conn, landing, ALERT_FEEDBACK)
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    ((line, reason, raw_text),) = conn.execute(
        f"select line_number, reason, raw_text from {QUARANTINE_TABLE} "
        f"where source_table = '{ALERT_FEEDBACK.raw_table}'"
    ).fetchall()
    assert line == 3 and "note_code is not a code" in reason and "free text" in reason
    assert "divorce" not in raw_text and raw_text.startswith("E3,2024-06-10,E1,acted")
