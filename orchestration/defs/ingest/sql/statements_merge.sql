-- The parsed and ranked lines of a group of files (statements_parse.sql, statements_rank.sql)
-- into the raw tables, inside the loader's transaction. The loader has already removed the
-- group's earlier quarantine rows, so a re-delivered file is quarantined once.

-- Lines that are not a valid statement, with file, line and reason.
insert into raw.ingest_quarantine
    (source_table, source_file, line_number, reason, raw_text)
select 'raw.lms_statements', source_file, line_number, problem, line
from _statement_parsed where problem is not null;

-- The winner of each id in this group: it replaces a kept statement only when it was stored
-- earlier (first `stored` wins), otherwise it is a duplicate of the kept one.
create or replace temp table _statement_winners as
select *,
    kept_source_file is null as is_new,
    kept_source_file is not null and stored_at < kept_stored_at as replaces_kept
from _statement_candidates where rank_in_group = 1;

insert into raw.lms_statement_duplicates
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
from raw.lms_statements as k
join _statement_winners as w using (statement_id)
where w.replaces_kept;

delete from raw.lms_statements
where statement_id in (select statement_id from _statement_winners where replaces_kept);

insert into raw.lms_statements
    (statement_id, stored_at, timestamp_at, payload, id_assigned, stored_assigned,
     source_file, source_line, voids_statement_id)
select statement_id, stored_at, timestamp_at, j, id_assigned, stored_assigned,
       source_file, line_number, voids_statement_id
from _statement_winners where is_new or replaces_kept
order by source_file, line_number;
