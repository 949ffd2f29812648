"""Runs benchmarks/floor.sql in a fresh DuckDB and writes each stage's wall time and the tier
counts as JSON (bench.py starts it as its own process, so its memory is measured alone)."""

from __future__ import annotations

import argparse
import json
import re
import string
import sys
import time
from pathlib import Path

import duckdb

FLOOR_SQL = Path(__file__).with_name("floor.sql")
SEEDS_DIR = Path(__file__).resolve().parent.parent / "dbt_project" / "seeds"
_STAGE = re.compile(r"^-- stage: (\w+)\s*$", re.MULTILINE)


def stages(sql: str) -> list[tuple[str, str]]:
    """[(stage name, its SQL)] in script order, split on `-- stage: NAME` lines."""
    parts = _STAGE.split(sql)
    return list(zip(parts[1::2], parts[2::2], strict=True))


def render(
    landing: Path,
    *,
    as_of: str,
    timezone: str,
    memory_limit: str,
    threads: int | None,
    account_homepage: str = "",
) -> str:
    def literal(text: str) -> str:
        return text.replace("'", "''")

    homepage_condition = (
        f"and learning.account_homepage = rtrim('{literal(account_homepage)}', '/')"
        if account_homepage
        else ""
    )
    # safe_substitute: JSON paths ('$.id') hold dollars too; every ${name} is filled below.
    return string.Template(FLOOR_SQL.read_text(encoding="utf-8")).safe_substitute(
        landing=literal(str(landing.resolve())),
        seeds=literal(str(SEEDS_DIR)),
        as_of=literal(as_of),
        timezone=literal(timezone),
        memory_limit=literal(memory_limit),
        threads_statement=f"set threads = {int(threads)};" if threads else "",
        account_homepage_condition=homepage_condition,
    )


def run(sql: str, database: str = ":memory:") -> dict:
    conn = duckdb.connect(database)
    seconds: dict[str, float] = {}
    tiers: dict[str, int] = {}
    for name, text in stages(sql):
        started = time.monotonic()
        if name == "result":
            tiers = {str(tier): count for tier, count in conn.execute(text).fetchall()}
        else:
            conn.execute(text)
        seconds[name] = round(time.monotonic() - started, 3)
    counts = conn.execute(
        "select (select count(*) from statements), (select count(*) from activity), "
        "(select count(*) from engagement)"
    ).fetchone()
    conn.close()
    return {
        "seconds": seconds,
        "tiers": tiers,
        "statements": counts[0],
        "learning_statements": counts[1],
        "employee_weeks": counts[2],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--as-of", required=True, help="YYYY-MM-DD, as PIPELINE_AS_OF")
    parser.add_argument("--timezone", default="UTC")
    parser.add_argument("--memory-limit", default="4GB")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--account-homepage", default="")
    parser.add_argument("--database", default=":memory:", help="a file spills less than memory")
    parser.add_argument("--out", type=Path, default=None, help="JSON result (default: stdout)")
    args = parser.parse_args(argv)
    sql = render(
        args.landing,
        as_of=args.as_of,
        timezone=args.timezone,
        memory_limit=args.memory_limit,
        threads=args.threads,
        account_homepage=args.account_homepage,
    )
    result = json.dumps(run(sql, args.database), indent=2)
    if args.out:
        args.out.write_text(result + "\n", encoding="utf-8")
    else:
        print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
