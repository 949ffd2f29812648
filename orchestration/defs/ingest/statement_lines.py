"""Reads statement files (JSON lines, optionally gzipped) into Arrow batches of numbered lines,
and stages them in DuckDB for validation (statements.py). A line that cannot be read whole (bad
UTF-8, a damaged gzip stream) is staged with the reason, so it is quarantined by file and line."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.defs.ingest.contract import STATEMENT_GLOBS, STATEMENTS_DIR

ARROW_BATCH_LINES = 100_000
_LINES_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("line_number", pa.int64()),
        ("line", pa.string()),
        ("read_problem", pa.string()),  # why the line could not be read whole, if it could not
    ]
)


def statement_files(landing_dir: Path) -> list[Path]:
    root = landing_dir / STATEMENTS_DIR
    if not root.is_dir():
        return []
    found = {path for pattern in STATEMENT_GLOBS for path in root.glob(pattern) if path.is_file()}
    return sorted(found)


def create_staging(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(
        "create or replace temp table _statement_lines "
        "(source_file varchar, line_number bigint, line varchar, read_problem varchar)"
    )


def stage_batch(conn: duckdb.DuckDBPyConnection, batch: pa.Table) -> None:
    conn.register("_batch", batch)
    conn.execute("insert into _statement_lines select * from _batch")
    conn.unregister("_batch")


class Stager:
    """Stages the lines of files in inserts of about ARROW_BATCH_LINES lines each."""

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn = conn
        self.batches: list[pa.Table] = []
        self.lines = 0

    def add_file(self, relative: str, path: Path) -> int:
        staged = 0
        for batch in line_batches(relative, path):
            self.batches.append(batch)
            self.lines += batch.num_rows
            staged += batch.num_rows
            if self.lines >= ARROW_BATCH_LINES:
                self.flush()
        return staged

    def flush(self) -> None:
        if self.batches:
            stage_batch(self.conn, pa.concat_tables(self.batches))
        self.batches, self.lines = [], 0


def line_batches(relative: str, path: Path) -> Iterator[pa.Table]:
    """The file's non-blank lines with their numbers. A gzip file that ends early or is corrupt
    keeps the lines read before the damage; one more line, numbered after them, records where
    and why reading stopped, so the file is quarantined by name rather than failing the load."""
    gzipped = path.suffix == ".gz"
    numbers: list[int] = []
    lines: list[str] = []
    problems: list[str | None] = []
    number = 0
    with (gzip.open if gzipped else open)(path, "rb") as handle:
        try:
            for number, raw in enumerate(handle, start=1):  # noqa: B007 (read after the loop)
                if number == 1:
                    raw = raw.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark is no content
                if not raw.strip():
                    continue  # a blank line holds no statement
                try:
                    text, problem = raw.decode("utf-8"), None
                except UnicodeDecodeError:
                    text, problem = (
                        raw.decode("utf-8", errors="backslashreplace"),
                        "not valid UTF-8",
                    )
                numbers.append(number)
                lines.append(text.rstrip("\r\n"))
                problems.append(problem)
                if len(lines) >= ARROW_BATCH_LINES:
                    yield lines_table(relative, numbers, lines, problems)
                    numbers, lines, problems = [], [], []
        except (EOFError, OSError, zlib.error) as exc:
            if not gzipped:
                raise
            numbers.append(number + 1)
            lines.append("")
            problems.append(
                f"unreadable gzip after line {number}: {exc} (the file is truncated or "
                "corrupt; the lines before were loaded, deliver it again whole)"
            )
    if lines:
        yield lines_table(relative, numbers, lines, problems)


def lines_table(
    relative: str, numbers: list[int], lines: list[str], problems: list[str | None]
) -> pa.Table:
    return pa.table(
        [
            pa.array([relative] * len(lines)),
            pa.array(numbers),
            pa.array(lines),
            pa.array(problems, type=pa.string()),
        ],
        schema=_LINES_SCHEMA,
    )
