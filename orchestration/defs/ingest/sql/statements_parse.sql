-- Parses and validates the staged lines (_statement_lines) of statement files or LRS pages
-- into _statement_parsed: one row per line with the fields read and `problem`, the reason it is
-- quarantined (null when it is kept). Reasons are evaluated in order; the first that holds is
-- the one recorded (docs/extract-contract.md#what-happens-to-bad-input).
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
        -- A device clock that is off: no learning record predates 1970, and nothing happens
        -- more than a day after the LRS stored it (docs/extract-contract.md#bad-clocks).
        when timestamp_at < timestamp '1970-01-01'
            then 'timestamp ' || timestamp_text || ' is before 1970 (a wrong device clock)'
        when timestamp_at > stored_at + interval 1 day
            then 'timestamp ' || timestamp_text || ' is more than a day after it was stored ('
                || coalesce(stored_text, 'at load') || '): a wrong device clock'
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
