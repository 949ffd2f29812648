{#-
    Weekly engagement by department, job family and tier, for BI trend charts. Cells with fewer than
    min_cell_size employees have their measures nulled and is_suppressed set
    (docs/privacy.md#small-cell-suppression).
-#}
with tiers as (
    select * from {{ ref('fct_risk_tiers') }}
),

engagement as (
    select * from {{ ref('fct_engagement_weekly') }}
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
    employees < {{ var('min_cell_size') }} as is_suppressed
from cells
