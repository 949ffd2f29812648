"""Large tables are validated in hash-partitioned batches; the merged result equals what one
whole-table validation would find (uniqueness, `mostly`, counts, samples)."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pytest

from orchestration.defs.quality.runner import validate_suite
from orchestration.defs.quality.suites import load_suite

ROWS = 60_000


@pytest.fixture
def table(tmp_path):
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    conn.execute("create schema marts")
    conn.execute(
        f"""create table marts.facts as select
            'S' || i as statement_id,
            case when i % 1000 = 0 then null else 'E' || (i % 50) end as employee_id,
            date '2024-01-01' + (i % 100)::int as week_start,
            case when i = 777 then 1.5 else (i % 10) / 10 end as scaled_score
        from range({ROWS}) t(i)"""
    )
    # Three duplicated ids, far apart, so that a naive split would put copies in other batches.
    conn.execute(
        "insert into marts.facts select * from marts.facts where i_ok(statement_id)".replace(
            "i_ok(statement_id)", "statement_id in ('S5', 'S30005', 'S59995')"
        )
    )
    yield conn
    conn.close()


def suite_file(tmp_path, mostly: float):
    path = tmp_path / "facts.json"
    path.write_text(
        json.dumps(
            {
                "name": "marts.facts",
                "meta": {"batch_key": ["statement_id"]},
                "expectations": [
                    {
                        "type": "expect_column_values_to_be_unique",
                        "kwargs": {"column": "statement_id"},
                    },
                    {
                        "type": "expect_column_values_to_not_be_null",
                        "kwargs": {"column": "employee_id", "mostly": mostly},
                    },
                    {
                        "type": "expect_column_values_to_be_between",
                        "kwargs": {"column": "scaled_score", "min_value": 0, "max_value": 1},
                    },
                    {
                        "type": "expect_column_values_to_be_between",
                        "kwargs": {
                            "column": "week_start",
                            "min_value": "2024-01-01T00:00:00",
                            "max_value": {"$PARAMETER": "as_of"},
                        },
                    },
                ],
            }
        )
    )
    return load_suite(path)


@pytest.mark.parametrize("batch_rows", [1_000_000, 7_000])
def test_batched_validation_finds_exactly_what_one_batch_finds(table, tmp_path, batch_rows):
    # 60 of 60,003 employee ids are null: 99.90% present, short of 99.95%.
    run = validate_suite(
        table, suite_file(tmp_path, mostly=0.9995), as_of=date(2024, 3, 31), batch_rows=batch_rows
    )
    outcomes = {o.label: o for o in run.outcomes}
    assert run.batches == (1 if batch_rows > ROWS else 9)
    unique = outcomes["expect_column_values_to_be_unique(statement_id)"]
    assert not unique.success and unique.unexpected_count == 6
    assert {row["statement_id"] for row in unique.sample_rows} == {"S5", "S30005", "S59995"}
    assert outcomes["expect_column_values_to_not_be_null(employee_id)"].unexpected_count == 60
    assert not outcomes["expect_column_values_to_not_be_null(employee_id)"].success
    score = outcomes["expect_column_values_to_be_between(scaled_score)"]
    assert score.unexpected_count == 1 and score.sample_rows == [
        {"scaled_score": 1.5, "statement_id": "S777"}
    ]
    weeks = outcomes["expect_column_values_to_be_between(week_start)"]
    # Days 91..99 after 2024-01-01 fall after 2024-03-31: 9 of every 100 rows, and the copy
    # of S59995 (day 95).
    assert weeks.unexpected_count == 9 * ROWS // 100 + 1
    assert weeks.sample_rows[0]["week_start"] > "2024-03-31"


def test_mostly_is_judged_on_the_whole_table(table, tmp_path):
    run = validate_suite(
        table, suite_file(tmp_path, mostly=0.99), as_of=date(2024, 12, 31), batch_rows=7_000
    )
    assert run.batches == 9
    assert next(o for o in run.outcomes if "employee_id" in o.label).success


def test_small_cell_suites_follow_the_dbt_var_min_cell_size(monkeypatch):
    """The suites that check suppression use the same cell size as the marts: change the dbt var
    and the checks follow, rather than blocking a publication built with another size."""
    from orchestration.defs.dbt import vars as dbt_vars
    from orchestration.defs.quality import suites

    def metrics() -> dict[str, str]:
        return {
            s.name: s.table_metrics["unsuppressed_small_cells"]
            for s in suites.load_suites()
            if "unsuppressed_small_cells" in s.table_metrics
        }

    default = metrics()
    assert len(default) == 2
    assert all(sql.endswith("< 5)") for sql in default.values())
    monkeypatch.setattr(dbt_vars, "dbt_vars", lambda: {"min_cell_size": 11})
    assert all(sql.endswith("< 11)") for sql in metrics().values())
