{#- Weekly learning measures on the employee-week spine (zero-activity weeks included). -#}
with weeks as (
    select * from {{ ref('int_employee_weeks') }}
),

weekly as (
    select * from {{ ref('int_activity_weekly') }}
),

measured as (
    select
        weeks.*,
        coalesce(weekly.activity_count, 0) as activity_count,
        coalesce(weekly.active_days, 0) as active_days,
        coalesce(weekly.learning_minutes, 0) as learning_minutes,
        coalesce(weekly.completions, 0) as completions,
        coalesce(weekly.assessment_attempts, 0) as assessment_attempts,
        weekly.avg_scaled_score
    from weeks
    left join weekly
        on weeks.employee_id = weekly.employee_id and weeks.week_start = weekly.week_start
)

select * from measured
