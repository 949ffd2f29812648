{#-
    Weekly learning measures per employee and ISO week with any activity
    (docs/engagement.md#activity-measures), incremental: a run recomputes only the weeks holding a
    day queued since this model's last build, from that whole week's statements (delete+insert keyed
    on week_start).
-#}
{{ config(
    materialized='incremental',
    incremental_strategy=period_strategy(),
    unique_key='week_start',
    partition_by=period_partitions(),
    on_schema_change='sync_all_columns',
    pre_hook="{{ delete_queued('week_start', grain='week') }}",
) }}
-- depends_on: {{ ref('int_statement_rebuild_days') }}
{%- set weeks = queued_since_last_build('week') %}

with activity as (
    select * from {{ ref('int_learning_activity') }}
    where employee_id is not null
    {%- if weeks is not none %}
        and week_start in ({{ date_literals(weeks) }})
    {%- endif %}
)

select
    employee_id,
    week_start,
    count(*) as activity_count,
    count(distinct event_date) as active_days,
    -- Summed in statement order: a rebuilt week gives the same double to the last bit,
    -- whatever order its rows were stored in.
    coalesce({{ ordered_sum('learning_minutes', 'statement_id') }}, 0) as learning_minutes,
    count(distinct case when is_completion then course_id end) as completions,
    count(*) filter (where is_assessment) as assessment_attempts,
    {{ ordered_avg('scaled_score', 'statement_id') }} as avg_scaled_score,
    {{ run_queued_at() }} as queued_at
{{ lake_partition('week_start') }}
from activity
group by employee_id, week_start
