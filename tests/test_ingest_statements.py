"""Rules for xAPI statement files (docs/extract-contract.md#statement-files): dedup by id,
quarantine, idempotent reloads."""

from __future__ import annotations

import json

import pytest

from orchestration.defs.ingest.contract import QUARANTINE_TABLE
from orchestration.defs.ingest.statements import load_statement_files, load_statement_texts
from tests.conftest import SHARED_DATA
from tests.landing import account, statement, statement_id, write_statements

DAY1 = "lms/statements/2024/06/statements-2024-06-03.jsonl.gz"
DAY2 = "lms/statements/2024/06/statements-2024-06-04.jsonl"


def _kept(conn) -> list[tuple]:
    return conn.execute(
        "select statement_id::varchar, source_file, source_line from raw.lms_statements order by 1"
    ).fetchall()


def _counts(result) -> tuple[int, int, int, int]:
    """What a load did with its lines: loaded, duplicates, already loaded, quarantined."""
    return (
        result.rows_loaded,
        result.rows_duplicate,
        result.rows_already_loaded,
        result.rows_quarantined,
    )


def test_duplicate_statement_is_stored_once_and_the_copy_recorded(tmp_path, warehouse):
    landing = tmp_path / "landing"
    first = statement(1, account("E1"))
    write_statements(landing / DAY1, [first, statement(2, account("E2")), first])
    write_statements(landing / DAY2, [first])
    conn = warehouse()
    result = load_statement_files(conn, landing)

    assert (result.rows_loaded, result.rows_duplicate, result.rows_quarantined) == (2, 2, 0)
    assert _kept(conn) == [(statement_id(1), DAY1, 1), (statement_id(2), DAY1, 2)]
    assert conn.execute(
        "select source_file, source_line, kept_source_file, kept_source_line "
        "from raw.lms_statement_duplicates order by 1, 2"
    ).fetchall() == [(DAY1, 3, DAY1, 1), (DAY2, 1, DAY1, 1)]


def test_first_stored_wins_even_when_the_earlier_copy_arrives_later(tmp_path, warehouse):
    landing = tmp_path / "landing"
    late = statement(1, account("E1"), stored="2024-06-03T12:00:00Z")
    early = statement(1, account("E1"), stored="2024-06-03T11:00:00Z", verb="completed")
    write_statements(landing / DAY1, [late])
    conn = warehouse()
    load_statement_files(conn, landing)
    write_statements(landing / DAY2, [early])
    load_statement_files(conn, landing)

    assert _kept(conn) == [(statement_id(1), DAY2, 1)]
    assert (
        conn.execute("select payload ->> '$.verb.id' from raw.lms_statements")
        .fetchone()[0]
        .endswith("completed")
    )
    assert conn.execute(
        "select source_file, kept_source_file from raw.lms_statement_duplicates"
    ).fetchall() == [(DAY1, DAY2)]


def test_unparsable_lines_are_quarantined_with_file_line_and_reason(tmp_path, warehouse):
    landing = tmp_path / "landing"
    no_actor = statement(3, account("E1"))
    del no_actor["actor"]
    lines = [
        statement(1, account("E1")),
        '{"id": "truncated", "actor": {"mbox": "mailto:a@b.c"',  # line 2
        "this is not json",  # line 3
        no_actor,  # line 4
        statement(4, account("E1")) | {"id": "not-a-uuid"},  # line 5
        statement(5, account("E1"), timestamp="yesterday"),  # line 6
        "[1, 2, 3]",  # line 7
        "",  # line 8: blank lines hold no statement and are not counted
        statement(6, account("E2")),  # line 9
    ]
    write_statements(landing / DAY2, lines)
    with (landing / DAY2).open("ab") as handle:
        handle.write(b'{"id": "\xff\xfe"}\n')  # line 10: not UTF-8
    conn = warehouse()
    result = load_statement_files(conn, landing)

    assert (result.rows_loaded, result.rows_quarantined) == (2, 7)
    assert [line for _, _, line in _kept(conn)] == [1, 9]
    reasons = dict(
        conn.execute(
            f"select line_number, reason from {QUARANTINE_TABLE} where source_file = ?", [DAY2]
        ).fetchall()
    )
    assert reasons == {
        2: "invalid JSON (truncated or not JSON)",
        3: "invalid JSON (truncated or not JSON)",
        4: "missing required field: actor",
        5: "id not-a-uuid is not a UUID",
        6: "timestamp yesterday is not an ISO 8601 timestamp",
        7: "a JSON array: statement files hold one statement object per line (JSON lines), "
        "not an array",
        10: "not valid UTF-8",
    }
    raw_text = conn.execute(
        f"select raw_text from {QUARANTINE_TABLE} where line_number = 3"
    ).fetchone()[0]
    assert raw_text == "this is not json"


def test_every_line_is_accounted_for(tmp_path, warehouse):
    landing = tmp_path / "landing"
    write_statements(
        landing / DAY1,
        [statement(n, account("E1")) for n in range(1, 6)] + ["{oops", statement(2, account("E1"))],
    )
    conn = warehouse()
    result = load_statement_files(conn, landing)
    lines = 7
    assert result.rows_loaded + result.rows_duplicate + result.rows_quarantined == lines
    counts = conn.execute(
        "select (select count(*) from raw.lms_statements), "
        "(select count(*) from raw.lms_statement_duplicates), "
        f"(select count(*) from {QUARANTINE_TABLE})"
    ).fetchone()
    assert sum(counts) == lines


def test_reloading_the_same_files_changes_nothing(tmp_path, warehouse):
    landing = tmp_path / "landing"
    write_statements(landing / DAY1, [statement(1, account("E1")), statement(1, account("E1"))])
    write_statements(landing / DAY2, [statement(2, account("E2")), "garbage"])
    conn = warehouse()
    load_statement_files(conn, landing)
    snapshot = "select * exclude (loaded_at) from raw.lms_statements order by statement_id"
    duplicates = "select * exclude (recorded_at) from raw.lms_statement_duplicates order by 1"
    quarantine = f"select * exclude (quarantined_at) from {QUARANTINE_TABLE} order by 2, 3"
    before = [conn.execute(sql).fetchall() for sql in (snapshot, duplicates, quarantine)]

    again = load_statement_files(conn, landing)
    assert (again.files_read, again.unchanged_files) == (0, 2)
    assert [conn.execute(sql).fetchall() for sql in (snapshot, duplicates, quarantine)] == before


def test_a_rewritten_file_adds_only_its_new_lines(tmp_path, warehouse):
    landing = tmp_path / "landing"
    write_statements(landing / DAY1, [statement(1, account("E1")), "garbage"])
    conn = warehouse()
    load_statement_files(conn, landing)
    write_statements(
        landing / DAY1, [statement(1, account("E1")), "garbage", statement(2, account("E1"))]
    )
    result = load_statement_files(conn, landing)

    assert result.files_read == 1
    assert [line for _, _, line in _kept(conn)] == [1, 3]
    assert conn.execute("select count(*) from raw.lms_statement_duplicates").fetchone() == (0,)
    assert conn.execute(f"select count(*) from {QUARANTINE_TABLE}").fetchone() == (1,)
    # What this load did, line by line: 3 lines = 1 loaded + 1 already loaded + 1 quarantined.
    assert _counts(result) == (1, 0, 1, 1)


def test_a_changed_file_reports_what_it_added_and_records_no_duplicate_twice(tmp_path, warehouse):
    """A file with a duplicate inside is re-delivered with two more lines, one a new statement
    and one another copy of a kept one: the counts say exactly that, and the copy that the
    first load set aside is not recorded again."""
    landing = tmp_path / "landing"
    first = [statement(n, account("E1")) for n in range(1, 6)] + [statement(1, account("E1"))]
    write_statements(landing / DAY1, first)
    conn = warehouse()
    load_statement_files(conn, landing)
    duplicates_before = conn.execute("select count(*) from raw.lms_statement_duplicates").fetchone()
    write_statements(
        landing / DAY1, [*first, statement(9, account("E1")), statement(2, account("E1"))]
    )
    result = load_statement_files(conn, landing)

    lines = 8
    assert _counts(result) == (1, 1, 6, 0)
    assert sum((result.rows_loaded, result.rows_duplicate, result.rows_already_loaded)) == lines
    assert duplicates_before == (1,)
    assert conn.execute(
        "select source_line, kept_source_line from raw.lms_statement_duplicates order by 1"
    ).fetchall() == [(6, 1), (8, 2)]
    assert [line for _, _, line in _kept(conn)] == [1, 2, 3, 4, 5, 7]


def test_loading_in_small_groups_gives_the_same_result(tmp_path, warehouse):
    landing = tmp_path / "landing"
    for day in range(1, 6):
        write_statements(
            landing / f"lms/statements/2024/06/statements-2024-06-0{day}.jsonl",
            [statement(n, account("E1")) for n in range(day, day + 3)] + ["bad"],
        )
    conn = warehouse()
    result = load_statement_files(conn, landing, group_lines=2)
    assert (result.rows_loaded, result.rows_duplicate, result.rows_quarantined) == (7, 8, 5)
    assert len(_kept(conn)) == 7


def test_xapi_specification_examples_are_accepted_and_explained(tmp_path, warehouse):
    """Every valid example loads; what the loader did with each is recorded on the row."""
    examples = json.loads((SHARED_DATA / "xapi-spec-examples.json").read_text())
    landing = tmp_path / "landing"
    write_statements(landing / DAY2, examples)
    conn = warehouse()
    result = load_statement_files(conn, landing)

    rows = {
        line: (assigned_id, assigned_stored)
        for line, assigned_id, assigned_stored in conn.execute(
            "select source_line, id_assigned, stored_assigned from raw.lms_statements"
        ).fetchall()
    }
    # Lines 1, 3, 4: no id in the example, so one is derived from the content (as an LRS would).
    assert {line for line, (assigned, _) in rows.items() if assigned} == {1, 3, 4}
    # Only example 6 carries `stored`; the others are stamped with the load time, as an LRS would.
    assert {line for line, (_, assigned) in rows.items() if assigned} == {1, 2, 3, 4, 5, 8}
    # Line 7 is a bare SubStatement, which xAPI only allows inside a statement's object.
    assert conn.execute(f"select line_number, reason from {QUARANTINE_TABLE}").fetchall() == [
        (7, "a SubStatement is only valid as the object of a statement")
    ]
    # Lines 8 and 9 share an id: the first is kept, the second (with attachments) recorded.
    assert conn.execute(
        "select source_line, kept_source_line from raw.lms_statement_duplicates"
    ).fetchall() == [(9, 8)]
    assert (result.rows_loaded, result.rows_duplicate, result.rows_quarantined) == (7, 1, 1)


def test_statements_from_elsewhere_take_the_same_path_as_file_lines(tmp_path, warehouse):
    """An LRS page is validated, deduplicated and quarantined exactly like a file."""
    landing = tmp_path / "landing"
    write_statements(landing / DAY1, [statement(1, account("E1"))])
    conn = warehouse()
    load_statement_files(conn, landing)
    source = "lrs:https://lrs.example.com/xAPI/statements"
    texts = [
        json.dumps(statement(1, account("E1"))),
        "{not json",
        json.dumps(statement(2, account("E2"))),
    ]
    result = load_statement_texts(conn, source, texts, first_line=101)

    assert (result.rows_loaded, result.rows_duplicate, result.rows_quarantined) == (1, 1, 1)
    assert (statement_id(2), source, 103) in _kept(conn)
    assert conn.execute(f"select source_file, line_number from {QUARANTINE_TABLE}").fetchall() == [
        (source, 102)
    ]


@pytest.mark.parametrize(
    ("result", "actor", "reason"),
    [
        (
            {"score": {"scaled": 7.5}},
            None,
            "result.score.scaled 7.5 is outside [-1, 1] (xAPI 1.0.3 Score)",
        ),
        (
            {"score": {"scaled": "high"}},
            None,
            "result.score.scaled high is not a number (xAPI 1.0.3 Score)",
        ),
        (
            {"score": {"raw": 12, "min": 0, "max": 10}},
            None,
            "result.score.raw 12 is outside [min, max] [0, 10] (xAPI 1.0.3 Score)",
        ),
        (
            {"score": {"raw": 1, "min": 5, "max": 5}},
            None,
            "result.score.min 5 is not below max 5 (xAPI 1.0.3 Score)",
        ),
        (
            {"duration": "90 minutes"},
            None,
            "result.duration 90 minutes is not an ISO 8601 duration (xAPI 1.0.3 Result)",
        ),
        (
            {"duration": "PT"},
            None,
            "result.duration PT is not an ISO 8601 duration (xAPI 1.0.3 Result)",
        ),
        (
            None,
            {"mbox": "ada@example.com"},
            "actor.mbox ada@example.com is not a mailto: IRI (xAPI 1.0.3 Actor)",
        ),
    ],
)
def test_a_statement_breaking_an_xapi_value_rule_is_quarantined_not_altered(
    warehouse, result, actor, reason
):
    bad = statement(1, actor or account("E1"), **({"result": result} if result else {}))
    conn = warehouse()
    loaded = load_statement_texts(conn, "lrs", [json.dumps(bad)])
    assert (loaded.rows_loaded, loaded.rows_quarantined) == (0, 1)
    assert conn.execute(f"select reason from {QUARANTINE_TABLE}").fetchall() == [(reason,)]


def test_legal_but_odd_values_are_kept(warehouse):
    kept = [
        statement(1, account("E1"), result={"score": {"scaled": -0.5}}),  # legal xAPI
        statement(2, account("E1"), result={"score": {"raw": 0, "min": 0, "max": 10}}),
        statement(3, account("E1"), result={"duration": "PT0.5S"}),
        statement(4, account("E1"), result={"duration": "P1DT2H"}),
    ]
    conn = warehouse()
    loaded = load_statement_texts(conn, "lrs", [json.dumps(s) for s in kept])
    assert (loaded.rows_loaded, loaded.rows_quarantined) == (4, 0)
