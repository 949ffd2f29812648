{#- Weekly learning measures on the employee-week spine (zero-activity weeks included). -#}
with weeks as (
    select * from {{ ref('int_employee_weeks') }}
),

activity as (
    select * from {{ ref('int_learning_activity') }}
    where employee_id is not null
),

weekly as (
    select
        employee_id,
        week_start,
        count(*) as activity_count,
        count(distinct event_date) as active_days,
        coalesce(sum(learning_minutes), 0) as learning_minutes,
        count(distinct case when is_completion then course_id end) as completions,
        count(*) filter (where is_assessment) as assessment_attempts,
        avg(scaled_score) as avg_scaled_score
    from activity
    group by employee_id, week_start
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
