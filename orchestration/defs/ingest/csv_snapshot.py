"""Loads one CSV snapshot extract into its raw table, quarantining rows that cannot be parsed."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.defs.ingest.bookkeeping import (
    QUARANTINE_COLUMNS,
    already_loaded,
    ensure_bookkeeping,
    file_sha256,
    record_file,
)
from orchestration.defs.ingest.contract import BOOLEAN_VALUES, QUARANTINE_TABLE, CsvExtract

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ][0-9:.+\-Z]*)?$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_CODE = re.compile(r"^[a-z0-9_]{1,40}$")
FREE_TEXT = "free text is not accepted"


class ExtractContractError(ValueError):
    """An extract breaks the contract as a whole (missing file or column): nothing is loaded."""


@dataclass
class LoadResult:
    table: str
    files_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    rows_already_loaded: int = 0  # lines of a re-delivered file that an earlier load took
    unchanged_files: int = 0
    extra_columns: tuple[str, ...] = ()
    sample_quarantine: list[dict] = field(default_factory=list)

    def metadata(self) -> dict:
        return {
            "files_read": self.files_read,
            "unchanged_files_skipped": self.unchanged_files,
            "rows_loaded": self.rows_loaded,
            "rows_quarantined": self.rows_quarantined,
            "rows_duplicate": self.rows_duplicate,
            "rows_already_loaded": self.rows_already_loaded,
            "extra_columns_kept": ", ".join(self.extra_columns) or "none",
        }


def load_csv_snapshot(
    conn: duckdb.DuckDBPyConnection, landing_dir: Path, extract: CsvExtract
) -> LoadResult:
    path = landing_dir / extract.path
    if not path.is_file() and extract.file_optional:
        return _load_nothing(conn, extract)
    if not path.is_file():
        raise ExtractContractError(
            f"{path}: extract file is missing; the contract expects {extract.path} "
            f"in the landing zone {landing_dir}"
        )
    ensure_bookkeeping(conn)
    result = LoadResult(table=extract.raw_table)
    sha256 = file_sha256(path)
    previous = already_loaded(conn, extract.raw_table, extract.path, sha256)
    if previous is not None and _table_exists(conn, extract.raw_table):
        # Same bytes as the last load: reloading could only rewrite identical rows.
        result.unchanged_files = 1
        result.rows_loaded, result.rows_quarantined, _ = previous
        return result

    header, columns, quarantined = _parse(path, extract)
    result.files_read = 1
    result.rows_loaded = len(columns["_line"])
    result.rows_quarantined = len(quarantined)
    result.extra_columns = tuple(c for c in header if c not in extract.columns)
    result.sample_quarantine = quarantined[:5]

    line_numbers = columns.pop("_line")
    # An optional column the file leaves out is there, empty: models need no special case.
    for name in extract.optional:
        columns.setdefault(name, [None] * len(line_numbers))
    arrow = pa.table(
        {name: pa.array(values, type=pa.string()) for name, values in columns.items()}
        | {
            "_source_file": pa.array([extract.path] * len(line_numbers), type=pa.string()),
            "_source_line": pa.array(line_numbers, type=pa.int64()),
        }
    )
    quarantine = pa.table(
        {name: [q[name] for q in quarantined] for name in QUARANTINE_COLUMNS},
        schema=pa.schema(
            [(n, pa.int64() if n == "line_number" else pa.string()) for n in QUARANTINE_COLUMNS]
        ),
    )
    conn.execute("begin transaction")
    try:
        conn.register("_snapshot", arrow)
        conn.execute(f"create or replace table {extract.raw_table} as select * from _snapshot")
        conn.execute(f"delete from {QUARANTINE_TABLE} where source_table = ?", [extract.raw_table])
        conn.register("_quarantine", quarantine)
        conn.execute(
            f"insert into {QUARANTINE_TABLE} ({', '.join(QUARANTINE_COLUMNS)}) "
            f"select {', '.join(QUARANTINE_COLUMNS)} from _quarantine"
        )
        record_file(
            conn,
            source_table=extract.raw_table,
            source_file=extract.path,
            sha256=sha256,
            size_bytes=path.stat().st_size,
            rows_loaded=result.rows_loaded,
            rows_quarantined=result.rows_quarantined,
        )
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    finally:
        conn.unregister("_snapshot")
        conn.unregister("_quarantine")
    return result


def _load_nothing(conn: duckdb.DuckDBPyConnection, extract: CsvExtract) -> LoadResult:
    """An optional extract not delivered: its table exists, empty, with the contract's columns,
    so that models reading it need no special case."""
    ensure_bookkeeping(conn)
    columns = ", ".join(f'"{c}" varchar' for c in extract.columns)
    conn.execute("begin transaction")
    try:
        conn.execute(
            f"create or replace table {extract.raw_table} "
            f"({columns}, _source_file varchar, _source_line bigint)"
        )
        conn.execute(f"delete from {QUARANTINE_TABLE} where source_table = ?", [extract.raw_table])
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    return LoadResult(table=extract.raw_table)


def _table_exists(conn: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, name = qualified.split(".")
    return bool(
        conn.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )


def _parse(path: Path, extract: CsvExtract):
    """Return (header, column lists incl. '_line', quarantined rows) for one CSV file."""
    lines = _LineReader(path)
    reader = csv.reader(lines, strict=True)
    try:
        raw_header = next(reader)
    except StopIteration:
        raise ExtractContractError(f"{path}: file is empty; expected a header row") from None
    lines.take()
    header = [name.strip().lower() for name in raw_header]
    missing = [name for name in extract.required if name not in header]
    if missing:
        raise ExtractContractError(
            f"{path}: missing required column(s) {', '.join(missing)}; "
            f"header has {', '.join(header) or 'no columns'}{_delimiter_hint(header)}"
        )
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise ExtractContractError(f"{path}: column(s) appear twice: {', '.join(duplicated)}")

    columns: dict[str, list] = {name: [] for name in header} | {"_line": []}
    quarantined: list[dict] = []
    checks = _value_checks(extract, header)
    while True:
        start = lines.line_number + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            row, broken = None, f"unparsable CSV: {exc}"
        else:
            broken = None
            if lines.spans_lines() and len(row) != len(header):
                broken = f"expected {len(header)} fields, found {len(row)}"
        if broken and lines.spans_lines():
            # A stray quote opened a field that swallowed the lines after it (to the end, or to
            # another stray quote): only its own line is quarantined, and the lines it
            # swallowed are read again as records.
            reason = f"{broken} (a quote opened on this line is not closed where it should be)"
            quarantined.append(_quarantine(extract, start, reason, lines.take_first()))
            reader = csv.reader(lines, strict=True)
            continue
        if broken:
            quarantined.append(_quarantine(extract, start, broken, lines.take()))
            continue
        raw_text = lines.take()
        if lines.undecodable:
            lines.undecodable = False
            quarantined.append(_quarantine(extract, start, "not valid UTF-8", raw_text))
            continue
        if not any(cell.strip() for cell in row):
            continue  # a blank line holds no record
        reason = _row_problem(row, header, checks)
        if reason:
            if reason.endswith(FREE_TEXT):
                # Kept for the fix, but not the text itself, which may be about a person.
                raw_text = ",".join(
                    "(free text, not kept)" if name in extract.codes else value
                    for name, value in zip(header, row, strict=True)
                )
            quarantined.append(_quarantine(extract, start, reason, raw_text))
            continue
        for name, value in zip(header, row, strict=True):
            columns[name].append(value if value.strip() else None)
        columns["_line"].append(start)
    return header, columns, quarantined


def _delimiter_hint(header: list[str]) -> str:
    """Name the likely cause when the header is one column holding another delimiter."""
    if len(header) != 1:
        return ""
    for delimiter, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes")):
        if delimiter in header[0]:
            return (
                f" (the columns look separated by {name}: extracts must be comma-separated, "
                "RFC 4180)"
            )
    return ""


def _value_checks(extract: CsvExtract, header: list[str]):
    checks = []
    for index, name in enumerate(header):
        if name in extract.required:
            checks.append((index, name, "required"))
        if name in extract.dates:
            checks.append((index, name, "date"))
        if name in extract.booleans:
            checks.append((index, name, "boolean"))
        if name in extract.integers:
            checks.append((index, name, "integer"))
        if name in extract.codes:
            checks.append((index, name, "code"))
    return checks


def _row_problem(row: list[str], header: list[str], checks) -> str | None:
    if len(row) != len(header):
        return f"expected {len(header)} fields, found {len(row)}"
    for index, name, kind in checks:
        value = row[index].strip()
        if kind == "required":
            if not value:
                return f"required column {name} is empty"
            continue
        if not value:
            continue
        if kind == "date" and not _is_date(value):
            return f"column {name}: {value!r} is not an ISO 8601 date"
        if kind == "boolean" and value.lower() not in BOOLEAN_VALUES:
            return f"column {name}: {value!r} is not a boolean (true/false)"
        if kind == "integer" and not _INTEGER.match(value):
            return f"column {name}: {value!r} is not a whole number"
        if kind == "code" and not _CODE.match(value):
            # The value is not echoed: it may be free text about a person.
            return (
                f"column {name} is not a code (lowercase letters, digits and _, at most 40); "
                + FREE_TEXT
            )
    return None


def _is_date(value: str) -> bool:
    if not _ISO_DATE.match(value):
        return False
    try:
        date.fromisoformat(value[:10])
    except ValueError:
        return False
    return True


def _quarantine(extract: CsvExtract, line: int, reason: str, raw_text: str) -> dict:
    return {
        "source_table": extract.raw_table,
        "source_file": extract.path,
        "line_number": line,
        "reason": reason,
        "raw_text": raw_text,
    }


class _LineReader:
    """Feeds decoded lines to csv.reader while keeping each record's raw text and line count.

    Lines given back (`take_first`) are fed again before the file's next line."""

    def __init__(self, path: Path) -> None:
        self._handle = path.open("rb")
        self.line_number = 0
        self.undecodable = False
        self._pending: list[str] = []
        self._replay: list[str] = []
        self._first = True

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if self._replay:
            text = self._replay.pop(0)
            self.line_number += 1
            self._pending.append(text)
            return text
        if self._handle.closed:
            raise StopIteration
        raw = self._handle.readline()
        if not raw:
            self._handle.close()
            raise StopIteration
        self.line_number += 1
        if self._first:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
            self._first = False
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.undecodable = True
            text = raw.decode("utf-8", errors="backslashreplace")
        self._pending.append(text)
        return text

    def spans_lines(self) -> bool:
        """The record just read took more than one line."""
        return len(self._pending) > 1

    def take(self) -> str:
        text = "".join(self._pending).rstrip("\r\n")
        self._pending.clear()
        return text

    def take_first(self) -> str:
        """The record's first line; the lines after it are given back, to be read again."""
        first, *rest = self._pending
        self._replay[:0] = rest
        self.line_number -= len(rest)
        self._pending.clear()
        self.undecodable = False
        return first.rstrip("\r\n")
