-- The valid parsed lines, ranked within each statement id (first `stored` wins, then file and
-- line), beside the copy already kept in raw.lms_statements, if any.
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
left join raw.lms_statements as k on k.statement_id = p.statement_id
where p.problem is null
