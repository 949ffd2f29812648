"""Loads xAPI statement files (JSON lines, optionally gzipped) into the raw statements table.

Python only streams lines with their file and line number into DuckDB; parsing, validation,
deduplication by statement id and quarantine are set-based SQL, so the cost per statement stays
small and memory stays bounded by the group size, not by the number of files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from orchestration.defs.ingest.bookkeeping import (
    ensure_bookkeeping,
    file_sha256,
    loaded_versions,
    record_files,
)
from orchestration.defs.ingest.contract import (
    QUARANTINE_TABLE,
    STATEMENT_DUPLICATES_TABLE,
    STATEMENTS_TABLE,
)
from orchestration.defs.ingest.csv_snapshot import LoadResult
from orchestration.defs.ingest.statement_lines import (
    Stager,
    create_staging,
    lines_table,
    stage_batch,
    statement_files,
)

GROUP_LINES = 1_000_000  # lines validated and deduplicated in one transaction


def ensure_statement_tables(conn: duckdb.DuckDBPyConnection) -> None:
    ensure_bookkeeping(conn)
    conn.execute(
        f"""
        create table if not exists {STATEMENTS_TABLE} (
            statement_id uuid not null,
            stored_at timestamp not null,  -- UTC
            timestamp_at timestamp,        -- UTC
            payload json not null,         -- the statement as delivered
            id_assigned boolean not null,  -- no id was delivered: derived from the content
            stored_assigned boolean not null,  -- no stored was delivered: the load time
            source_file varchar not null,
            source_line bigint not null,
            loaded_at timestamp not null default current_timestamp,
            -- The statement a voiding statement voids, indexed at load as an LRS does, so a
            -- day's rebuild finds every voided id without parsing the whole history.
            voids_statement_id uuid
        )"""
    )
    _add_voids_column(conn)
    conn.execute(
        f"""
        create table if not exists {STATEMENT_DUPLICATES_TABLE} (
            statement_id uuid not null,
            stored_at timestamp,
            source_file varchar not null,
            source_line bigint not null,
            kept_source_file varchar not null,
            kept_source_line bigint not null,
            raw_text varchar not null,
            recorded_at timestamp not null default current_timestamp
        )"""
    )


# xAPI 1.0.3 section 2.4.4.1: a voiding statement has this verb and a StatementRef object.
# (_PARSE_SQL applies the same rule to the paths it has already read.)
_VOIDS_SQL = """
case when (j ->> '$.verb.id') = 'http://adlnet.gov/expapi/verbs/voided'
      and (j ->> '$.object.objectType') = 'StatementRef'
    then try_cast(j ->> '$.object.id' as uuid) end"""


def _add_voids_column(conn: duckdb.DuckDBPyConnection) -> None:
    """Warehouses written before voids_statement_id existed get it, filled from their payloads."""
    has_column = conn.execute(
        """
        select count(*) from duckdb_columns()
        where schema_name = 'raw' and table_name = 'lms_statements'
          and column_name = 'voids_statement_id'"""
    ).fetchone()[0]
    if has_column:
        return
    conn.execute(f"alter table {STATEMENTS_TABLE} add column voids_statement_id uuid")
    conn.execute(
        f"update {STATEMENTS_TABLE} set voids_statement_id = "
        + _VOIDS_SQL.replace("j ->>", "payload ->>")
    )


def load_statement_files(
    conn: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    files: list[Path] | None = None,
    *,
    log: Callable[[str], None] = lambda _msg: None,
    group_lines: int = GROUP_LINES,
) -> LoadResult:
    """Load the given (or all) statement files not yet loaded with the same content."""
    ensure_statement_tables(conn)
    conn.execute("set TimeZone = 'UTC'")
    result = LoadResult(table=STATEMENTS_TABLE)
    files = statement_files(landing_dir) if files is None else files
    loaded = loaded_versions(conn, STATEMENTS_TABLE)
    pending: list[tuple[str, Path, str]] = []
    for path in files:
        relative = path.relative_to(landing_dir).as_posix()
        sha256 = file_sha256(path)
        if loaded.get(relative) == sha256:
            result.unchanged_files += 1
        else:
            pending.append((relative, path, sha256))

    create_staging(conn)
    # Lines of many small files (a day each, say) are staged together: one insert per file
    # would cost more than the lines.
    staging = Stager(conn)
    group: list[tuple[str, Path, str]] = []
    group_size = 0
    report_every = max(1, len(pending) // 10)
    for done, (relative, path, sha256) in enumerate(pending, start=1):
        group_size += staging.add_file(relative, path)
        group.append((relative, path, sha256))
        if done % report_every == 0:
            log(f"statements: read {done}/{len(pending)} new files")
        if group_size >= group_lines or done == len(pending):
            staging.flush()
            _merge_group(conn, group, result)
            log(
                f"statements: {done}/{len(pending)} new or changed files: "
                f"{result.rows_loaded:,} lines loaded, {result.rows_duplicate:,} duplicates set "
                f"aside, {result.rows_already_loaded:,} already loaded, "
                f"{result.rows_quarantined:,} quarantined"
            )
            group, group_size = [], 0
    conn.execute("drop table if exists _statement_lines")
    result.files_read = len(pending)
    return result


def load_statement_texts(
    conn: duckdb.DuckDBPyConnection, source: str, texts: list[str], *, first_line: int = 1
) -> LoadResult:
    """Load statements that came from somewhere other than a file (an LRS page, say).

    They take exactly the path file lines take (validation, dedup by id, quarantine); `source`
    and the position in `texts` stand in for file and line in the quarantine and duplicates.
    """
    ensure_statement_tables(conn)
    conn.execute("set TimeZone = 'UTC'")
    result = LoadResult(table=STATEMENTS_TABLE)
    create_staging(conn)
    numbers = list(range(first_line, first_line + len(texts)))
    stage_batch(conn, lines_table(source, numbers, texts, [None] * len(texts)))
    conn.execute("begin transaction")
    try:
        counts = _merge_staged(conn, [source])
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    finally:
        conn.execute("drop table if exists _statement_lines")
    (
        result.rows_loaded,
        result.rows_quarantined,
        result.rows_duplicate,
        result.rows_already_loaded,
    ) = counts[source]
    return result


_SQL_DIR = Path(__file__).parent / "sql"
# Validation, ranking, the merge and its counts are set-based SQL, kept beside this module.
_PARSE_SQL = (_SQL_DIR / "statements_parse.sql").read_text(encoding="utf-8")
_RANK_SQL = (_SQL_DIR / "statements_rank.sql").read_text(encoding="utf-8")
_MERGE_SQL = (_SQL_DIR / "statements_merge.sql").read_text(encoding="utf-8")
_COUNTS_SQL = (_SQL_DIR / "statements_counts.sql").read_text(encoding="utf-8")


def _merge_group(
    conn: duckdb.DuckDBPyConnection, group: list[tuple[str, Path, str]], result: LoadResult
) -> None:
    """Merge the staged lines of a group of files, and record each file in the ledger."""
    names = [relative for relative, _, _ in group]
    conn.execute("begin transaction")
    try:
        counts = _merge_staged(conn, names)
        record_files(
            conn,
            STATEMENTS_TABLE,
            [
                (relative, sha256, path.stat().st_size, *counts[relative][:3])
                for relative, path, sha256 in group
            ],
        )
        for loaded, quarantined, duplicate, already in counts.values():
            result.rows_loaded += loaded
            result.rows_quarantined += quarantined
            result.rows_duplicate += duplicate
            result.rows_already_loaded += already
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise


def _merge_staged(
    conn: duckdb.DuckDBPyConnection, names: list[str]
) -> dict[str, tuple[int, int, int, int]]:
    """Validate, deduplicate and quarantine the staged lines of `names` (inside the caller's
    transaction); returns (loaded, quarantined, duplicates, already loaded) per source."""
    conn.execute(_PARSE_SQL)
    conn.execute(_RANK_SQL)
    conn.execute(
        f"delete from {QUARANTINE_TABLE} where source_table = ? and list_contains(?, source_file)",
        [STATEMENTS_TABLE, names],
    )
    conn.execute(_MERGE_SQL)
    counts = dict.fromkeys(names, (0, 0, 0, 0))
    for name, *line_counts in conn.execute(_COUNTS_SQL).fetchall():
        counts[name] = tuple(line_counts)
    conn.execute("delete from _statement_lines")
    return counts
