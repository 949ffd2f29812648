-- What a merge did with each source's lines (source_file, loaded, quarantined, duplicates,
-- already loaded), so that lines = loaded + quarantined + duplicates + already loaded ties out.
with parsed as (
    select source_file, count(*) as lines,
           count(*) filter (where problem is not null) as quarantined
    from _statement_parsed group by source_file
),
candidates as (
    select source_file, count(*) as candidates,
           count(*) filter (where rank_in_group > 1) as later_copies
    from _statement_candidates group by source_file
),
winners as (
    select source_file,
           count(*) filter (where is_new or replaces_kept) as loaded,
           count(*) filter (where not is_new and not replaces_kept) as lost
    from _statement_winners group by source_file
)
select parsed.source_file,
       coalesce(winners.loaded, 0),
       parsed.quarantined,
       coalesce(candidates.later_copies, 0) + coalesce(winners.lost, 0),
       parsed.lines - parsed.quarantined - coalesce(candidates.candidates, 0)
from parsed
left join candidates using (source_file)
left join winners using (source_file)
