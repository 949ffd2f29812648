"""Rules for CSV snapshot extracts (docs/extract-contract.md#csv-extracts): contract errors,
quarantine, idempotence."""

from __future__ import annotations

import pytest

from orchestration.defs.ingest.contract import ENROLLMENTS, QUARANTINE_TABLE, WORKERS
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
