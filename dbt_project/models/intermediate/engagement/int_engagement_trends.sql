{#-
    The rows of mart_engagement_trends (docs/engagement.md#engagement-trends), with the time of the
    build that wrote each week. Incremental by week: a week's cells are a function of that week's
    tier and engagement rows alone, and a statement changes only the weeks from its own event day
    on (the walk, the drop streak and the milestone window look back, never ahead), so a run
    recomputes every week from the first week it queued (int_statement_rebuild_days) to the last.
    Anything else can change old weeks, and then every week is rebuilt: a snapshot extract loaded
    since the last dbt build (a retroactive department change, a corrected due date), an edited
    threshold seed, model, var or setting upstream. The dbt step vouches for "only statements
    changed" in the var only_queued_weeks (orchestration/defs/dbt/builds.py); without it (dbt run
    by hand) every week is rebuilt, this model's own edits included (with their columns).
-#}
{{ config(
    materialized='incremental',
    incremental_strategy=period_strategy(),
    unique_key='week_start',
    partition_by=period_partitions(),
    on_schema_change='sync_all_columns',
    pre_hook="{{ delete_trend_weeks() }}",
) }}
-- depends_on: {{ ref('int_statement_rebuild_days') }}
{%- set from_week = trend_weeks_from() %}

with tiers as (
    select * from {{ ref('int_risk_tiers') }}
    {%- if from_week %}
        where week_start >= date '{{ from_week }}'
    {%- endif %}
),

engagement as (
    select * from {{ ref('int_engagement_weekly') }}
    {%- if from_week %}
        where week_start >= date '{{ from_week }}'
    {%- endif %}
),

cells as (
    select
        tiers.week_start,
        coalesce(tiers.department, 'unknown') as department,
        tiers.job_family,
        tiers.tier,
        count(*) as employees,
        -- Doubles averaged in employee order: a re-run publishes the same bits.
        avg(engagement.activity_count) as avg_activity_count,
        {{ ordered_avg('engagement.learning_minutes', 'engagement.employee_id') }} as avg_learning_minutes,
        avg(engagement.active_days) as avg_active_days,
        {{ ordered_avg('engagement.avg_scaled_score', 'engagement.employee_id') }} as avg_scaled_score,
        count(*) filter (where tiers.escalate_to_hr) as escalations
    from tiers
    inner join engagement
        on tiers.employee_id = engagement.employee_id and tiers.week_start = engagement.week_start
    group by all
)

select
    week_start,
    department,
    job_family,
    tier,
    {{ suppress_small('employees', 'employees') }} as employees,
    {{ suppress_small('avg_activity_count', 'employees') }} as avg_activity_count,
    {{ suppress_small('avg_learning_minutes', 'employees') }} as avg_learning_minutes,
    {{ suppress_small('avg_active_days', 'employees') }} as avg_active_days,
    {{ suppress_small('avg_scaled_score', 'employees') }} as avg_scaled_score,
    {{ suppress_small('escalations', 'employees') }} as escalations,
    employees < {{ var('min_cell_size') }} as is_suppressed,
    {{ run_queued_at() }} as queued_at
{{ lake_partition('week_start') }}
from cells
