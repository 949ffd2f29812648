-- The valid parsed lines that are news, ranked within each statement id (first `stored` wins,
-- then file and line), beside the copy already kept in raw.lms_statements, if any. A re-delivered
-- file (changed bytes) re-presents lines an earlier load kept or set aside as duplicates, at the
-- same file and line: those are already loaded, not news.
create or replace temp table _statement_candidates as
with known as (
    select source_file, source_line as line_number from raw.lms_statements
    where source_file in (select distinct source_file from _statement_parsed)
    union
    select source_file, source_line as line_number from raw.lms_statement_duplicates
    where source_file in (select distinct source_file from _statement_parsed)
)
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
left join raw.lms_statements as k on k.statement_id = p.statement_id
where
    p.problem is null
    and not exists (
        select 1 from known
        where known.source_file = p.source_file and known.line_number = p.line_number
    )
