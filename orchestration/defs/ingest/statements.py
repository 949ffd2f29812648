"""Loads xAPI statement files (JSON lines, optionally gzipped) into the raw statements table.

Python only streams lines with their file and line number into DuckDB; parsing, validation,
deduplication by statement id and quarantine are set-based SQL, so the cost per statement stays
small and memory stays bounded by the group size, not by the number of files.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.defs.ingest.bookkeeping import (
    ensure_bookkeeping,
    file_sha256,
    loaded_versions,
    record_files,
)
from orchestration.defs.ingest.contract import (
    QUARANTINE_TABLE,
    STATEMENT_DUPLICATES_TABLE,
    STATEMENT_GLOBS,
    STATEMENTS_DIR,
    STATEMENTS_TABLE,
)
from orchestration.defs.ingest.csv_snapshot import LoadResult

ARROW_BATCH_LINES = 100_000
GROUP_LINES = 1_000_000  # lines validated and deduplicated in one transaction

_LINES_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("line_number", pa.int64()),
        ("line", pa.string()),
        ("read_problem", pa.string()),  # why the line could not be read whole, if it could not
    ]
)


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


def statement_files(landing_dir: Path) -> list[Path]:
    root = landing_dir / STATEMENTS_DIR
    if not root.is_dir():
        return []
    found = {path for pattern in STATEMENT_GLOBS for path in root.glob(pattern) if path.is_file()}
    return sorted(found)


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

    _create_staging(conn)
    # Lines of many small files (a day each, say) are staged together: one insert per file
    # would cost more than the lines.
    staging = _Stager(conn)
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
                f"statements: {done}/{len(pending)} new files, {result.rows_loaded:,} loaded, "
                f"{result.rows_duplicate:,} duplicates, {result.rows_quarantined:,} quarantined"
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
    _create_staging(conn)
    numbers = list(range(first_line, first_line + len(texts)))
    _stage_batch(conn, _lines_table(source, numbers, texts, [None] * len(texts)))
    conn.execute("begin transaction")
    try:
        counts = _merge_staged(conn, [source])
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    finally:
        conn.execute("drop table if exists _statement_lines")
    result.rows_loaded, result.rows_quarantined, result.rows_duplicate = counts[source]
    return result


def _create_staging(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(
        "create or replace temp table _statement_lines "
        "(source_file varchar, line_number bigint, line varchar, read_problem varchar)"
    )


def _stage_batch(conn: duckdb.DuckDBPyConnection, batch: pa.Table) -> None:
    conn.register("_batch", batch)
    conn.execute("insert into _statement_lines select * from _batch")
    conn.unregister("_batch")


class _Stager:
    """Stages the lines of files in inserts of about ARROW_BATCH_LINES lines each."""

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn = conn
        self.batches: list[pa.Table] = []
        self.lines = 0

    def add_file(self, relative: str, path: Path) -> int:
        staged = 0
        for batch in _line_batches(relative, path):
            self.batches.append(batch)
            self.lines += batch.num_rows
            staged += batch.num_rows
            if self.lines >= ARROW_BATCH_LINES:
                self.flush()
        return staged

    def flush(self) -> None:
        if self.batches:
            _stage_batch(self.conn, pa.concat_tables(self.batches))
        self.batches, self.lines = [], 0


def _line_batches(relative: str, path: Path) -> Iterator[pa.Table]:
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
                    yield _lines_table(relative, numbers, lines, problems)
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
        yield _lines_table(relative, numbers, lines, problems)


def _lines_table(
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


# Reasons are evaluated in order; the first that holds is the one recorded.
_PARSE_SQL = r"""
create or replace temp table _statement_parsed as
with decoded as (
    select
        source_file, line_number, line, read_problem,
        case when read_problem is null and json_valid(line) then line::json end as j
    from _statement_lines
),
pretty_printed as (
    -- A lone `[` or `{` on a line: the file is one pretty-printed JSON document.
    select distinct source_file from _statement_lines where trim(line) in ('[', '{')
),
members as (
    -- Every path read below, from one parse of each line (one `->>` per path would parse the
    -- whole statement again for each).
    select
        *,
        json_type(j) as j_type,
        json_extract_string(j, [
            '$.id', '$.stored', '$.timestamp', '$.objectType',
            '$.verb.id', '$.object.objectType', '$.object.id',
            '$.result.score.scaled', '$.result.score.raw', '$.result.score.min',
            '$.result.score.max', '$.result.duration', '$.actor.mbox'
        ]) as m,
        json_type(j, ['$.actor', '$.object']) as member_types
    from decoded
),
fields as (
    select
        *,
        m[1] as id_text,
        -- Like an LRS, assign what the sender may leave out: an id (here derived from the
        -- content, so a re-delivered copy still deduplicates) and `stored` (the load time).
        coalesce(
            try_cast(m[1] as uuid),
            case when m[1] is null then cast(regexp_replace(
                md5(line), '^(.{8})(.{4})(.{4})(.{4})(.{12})$', '\1-\2-\3-\4-\5'
            ) as uuid) end
        ) as statement_id,
        m[1] is null as id_assigned,
        m[2] as stored_text,
        m[3] as timestamp_text,
        coalesce(
            timezone('UTC', try_cast(m[2] as timestamptz)),
            case when m[2] is null then timezone('UTC', current_timestamp) end
        ) as stored_at,
        m[2] is null as stored_assigned,
        timezone('UTC', try_cast(m[3] as timestamptz)) as timestamp_at,
        -- _VOIDS_SQL's rule, on the paths already read.
        case when m[5] = 'http://adlnet.gov/expapi/verbs/voided' and m[6] = 'StatementRef'
            then try_cast(m[7] as uuid) end as voids_statement_id,
        try_cast(m[8] as double) as scaled,
        try_cast(m[9] as double) as score_raw,
        try_cast(m[10] as double) as score_min,
        try_cast(m[11] as double) as score_max
    from members
)
select
    *,
    case
        when read_problem is not null then read_problem
        when j is null and source_file in (select p.source_file from pretty_printed as p)
            then 'invalid JSON: the file is one pretty-printed JSON document, but statement '
                || 'files hold one statement per line (JSON lines)'
        when j is null then 'invalid JSON (truncated or not JSON)'
        when j_type = 'ARRAY'
            then 'a JSON array: statement files hold one statement object per line '
                || '(JSON lines), not an array'
        when j_type <> 'OBJECT' then 'not a JSON object'
        when m[4] = 'SubStatement'
            then 'a SubStatement is only valid as the object of a statement'
        when statement_id is null then 'id ' || id_text || ' is not a UUID'
        when member_types[1] is distinct from 'OBJECT'
            then 'missing required field: actor'
        when m[5] is null then 'missing required field: verb.id'
        when member_types[2] is distinct from 'OBJECT'
            then 'missing required field: object'
        when stored_at is null
            then 'stored ' || stored_text || ' is not an ISO 8601 timestamp'
        when timestamp_text is not null and timestamp_at is null
            then 'timestamp ' || timestamp_text || ' is not an ISO 8601 timestamp'
        -- The value rules of xAPI 1.0.3 (part 2, 4.1.5 Result and 4.1.2 Actor): a conformant
        -- LRS rejects a statement that breaks them, so it is quarantined, never altered.
        when m[8] is not null and scaled is null
            then 'result.score.scaled ' || m[8] || ' is not a number (xAPI 1.0.3 Score)'
        when scaled not between -1 and 1
            then 'result.score.scaled ' || m[8] || ' is outside [-1, 1] (xAPI 1.0.3 Score)'
        when (m[9] is not null and score_raw is null)
            or (m[10] is not null and score_min is null)
            or (m[11] is not null and score_max is null)
            then 'result.score raw/min/max is not a number (xAPI 1.0.3 Score)'
        when score_min >= score_max
            then 'result.score.min ' || m[10] || ' is not below max ' || m[11]
                || ' (xAPI 1.0.3 Score)'
        when score_raw < score_min or score_raw > score_max
            then 'result.score.raw ' || m[9] || ' is outside [min, max] ['
                || coalesce(m[10], '') || ', ' || coalesce(m[11], '') || '] (xAPI 1.0.3 Score)'
        when m[12] is not null and not (
            regexp_full_match(
                m[12],
                'P(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?'
                || '(T(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?'
            )
            and m[12] not in ('P', 'PT')
            and right(m[12], 1) <> 'T'
        )
            then 'result.duration ' || m[12] || ' is not an ISO 8601 duration (xAPI 1.0.3 Result)'
        when m[13] is not null and not regexp_full_match(m[13], 'mailto:[^@\s]+@[^@\s]+')
            then 'actor.mbox ' || m[13] || ' is not a mailto: IRI (xAPI 1.0.3 Actor)'
    end as problem
from fields
"""

_RANK_SQL = f"""
create or replace temp table _statement_candidates as
select
    p.*,
    row_number() over (
        partition by p.statement_id
        order by p.stored_at, p.source_file, p.line_number
    ) as rank_in_group,
    k.stored_at as kept_stored_at,
    k.source_file as kept_source_file,
    k.source_line as kept_source_line
from _statement_parsed as p
left join {STATEMENTS_TABLE} as k on k.statement_id = p.statement_id
where p.problem is null
"""


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
                (relative, sha256, path.stat().st_size, *counts[relative])
                for relative, path, sha256 in group
            ],
        )
        for loaded, quarantined, duplicate in counts.values():
            result.rows_loaded += loaded
            result.rows_quarantined += quarantined
            result.rows_duplicate += duplicate
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise


def _merge_staged(
    conn: duckdb.DuckDBPyConnection, names: list[str]
) -> dict[str, tuple[int, int, int]]:
    """Validate, deduplicate and quarantine the staged lines of `names` (inside the caller's
    transaction); returns (loaded, quarantined, duplicates) per source."""
    conn.execute(_PARSE_SQL)
    conn.execute(_RANK_SQL)
    # A reloaded file (changed bytes) re-presents lines already kept: those are no news.
    conn.execute(
        """
        delete from _statement_candidates
        where kept_source_file = source_file and kept_source_line = line_number"""
    )
    conn.execute(
        f"delete from {QUARANTINE_TABLE} where source_table = ? and list_contains(?, source_file)",
        [STATEMENTS_TABLE, names],
    )
    conn.execute(
        f"""
        insert into {QUARANTINE_TABLE}
            (source_table, source_file, line_number, reason, raw_text)
        select '{STATEMENTS_TABLE}', source_file, line_number, problem, line
        from _statement_parsed where problem is not null"""
    )
    # The winner of each id in this group: it replaces a kept statement only when it was
    # stored earlier (first `stored` wins), otherwise it is a duplicate of the kept one.
    conn.execute(
        """
        create or replace temp table _statement_winners as
        select *,
            kept_source_file is null as is_new,
            kept_source_file is not null and stored_at < kept_stored_at as replaces_kept
        from _statement_candidates where rank_in_group = 1"""
    )
    conn.execute(
        f"""
        insert into {STATEMENT_DUPLICATES_TABLE}
            (statement_id, stored_at, source_file, source_line,
             kept_source_file, kept_source_line, raw_text)
        -- later copies inside this group
        select c.statement_id, c.stored_at, c.source_file, c.line_number,
               coalesce(case when w.replaces_kept or w.is_new then w.source_file end,
                        w.kept_source_file),
               coalesce(case when w.replaces_kept or w.is_new then w.line_number end,
                        w.kept_source_line),
               c.line
        from _statement_candidates as c
        join _statement_winners as w using (statement_id)
        where c.rank_in_group > 1
        union all
        -- group winners that lost to an already kept statement
        select statement_id, stored_at, source_file, line_number,
               kept_source_file, kept_source_line, line
        from _statement_winners where not is_new and not replaces_kept
        union all
        -- kept statements displaced by an earlier-stored copy
        select k.statement_id, k.stored_at, k.source_file, k.source_line,
               w.source_file, w.line_number, k.payload::varchar
        from {STATEMENTS_TABLE} as k
        join _statement_winners as w using (statement_id)
        where w.replaces_kept"""
    )
    conn.execute(
        f"""
        delete from {STATEMENTS_TABLE}
        where statement_id in (select statement_id from _statement_winners where replaces_kept)
        """
    )
    conn.execute(
        f"""
        insert into {STATEMENTS_TABLE}
            (statement_id, stored_at, timestamp_at, payload, id_assigned, stored_assigned,
             source_file, source_line, voids_statement_id)
        select statement_id, stored_at, timestamp_at, j, id_assigned, stored_assigned,
               source_file, line_number, voids_statement_id
        from _statement_winners where is_new or replaces_kept
        order by source_file, line_number"""
    )
    counts = dict.fromkeys(names, (0, 0, 0))
    for name, loaded, quarantined, duplicate in conn.execute(
        """
        select source_file,
               count(*) filter (where problem is null) as parsed,
               count(*) filter (where problem is not null) as quarantined,
               0
        from _statement_parsed group by source_file"""
    ).fetchall():
        counts[name] = (loaded, quarantined, duplicate)
    for name, duplicate in conn.execute(
        f"""
        select source_file, count(*) from {STATEMENT_DUPLICATES_TABLE}
        where list_contains(?, source_file) group by source_file""",
        [names],
    ).fetchall():
        parsed, quarantined, _ = counts[name]
        counts[name] = (parsed - duplicate, quarantined, duplicate)
    conn.execute("delete from _statement_lines")
    return counts
