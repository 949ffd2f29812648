{#-
    The signals of the 3-tier rule (docs/intervention-tiers.md#signals) for each employee-week,
    evaluated at the week's end.

    A view: int_risk_tiers reads it for the employees whose inputs changed (int_risk_inputs)
    only, so a day's run does not evaluate every employee's history.
-#}
{{ config(materialized='view') }}

with engagement as (
    select * from {{ ref('int_engagement_weekly') }}
),

weeks as (
    select * from {{ ref('int_employee_weeks') }}
),

milestones as (
    select * from {{ ref('int_milestones') }}
),

activity as (
    select * from {{ ref('int_learning_activity') }}
),

courses as (
    select * from {{ ref('stg_lms__courses') }}
),

missed as (
    select
        weeks.employee_id,
        weeks.week_start,
        count(*) as missed_milestones
    from weeks
    inner join milestones
        on
            weeks.employee_id = milestones.employee_id
            and milestones.due_date <= weeks.week_end
            and milestones.due_date > weeks.week_end - weeks.milestone_window_days
    where milestones.completed_date is null or milestones.completed_date > milestones.due_date
    group by weeks.employee_id, weeks.week_start
),

overdue as (
    -- Overdue by more than the grace days at the week's end, and still not completed then.
    select
        weeks.employee_id,
        weeks.week_start,
        'compliance_overdue:' || milestones.course_id as reason
    from weeks
    inner join milestones
        on
            weeks.employee_id = milestones.employee_id
            and milestones.is_compliance
            and {{ days_between('weeks.week_end', 'milestones.due_date') }} > weeks.compliance_grace_days
    where milestones.completed_date is null or milestones.completed_date > weeks.week_end
),

compliance_attempts as (
    select
        activity.employee_id,
        activity.course_id,
        activity.event_at,
        activity.event_date,
        activity.outcome = 'failed' as is_failure,
        activity.outcome = 'passed' as is_pass
    from activity
    inner join courses on activity.course_id = courses.course_id
    where courses.is_compliance and activity.outcome in ('failed', 'passed')
),

failures as (
    -- A failed attempt is a breach from its day until a later pass (or for good).
    select
        failed.employee_id,
        failed.course_id,
        failed.event_date as breach_from,
        min(passed.event_date) as passed_on
    from compliance_attempts as failed
    left join compliance_attempts as passed
        on
            failed.employee_id = passed.employee_id
            and failed.course_id = passed.course_id
            and passed.is_pass
            and passed.event_at > failed.event_at
    where failed.is_failure
    group by failed.employee_id, failed.course_id, failed.event_at, failed.event_date
),

failed_unpassed as (
    select
        weeks.employee_id,
        weeks.week_start,
        'compliance_failed:' || failures.course_id as reason
    from weeks
    inner join failures
        on
            weeks.employee_id = failures.employee_id
            and failures.breach_from <= weeks.week_end
            and (failures.passed_on is null or failures.passed_on > weeks.week_end)
),

breaches as (
    select
        employee_id,
        week_start,
        {{ ordered_string_agg('reason', "', '", 'reason', distinct=true) }} as breach_reasons
    from (
        select * from overdue
        union all
        select * from failed_unpassed
    ) as reasons
    group by employee_id, week_start
)

select
    engagement.employee_id,
    engagement.week_start,
    engagement.week_end,
    engagement.job_family,
    engagement.department,
    engagement.manager_id,
    engagement.activity_count,
    engagement.baseline_activity,
    engagement.activity_change_pct,
    engagement.avg_scaled_score,
    engagement.baseline_score,
    engagement.is_drop,
    engagement.drop_streak,
    coalesce(
        round(engagement.baseline_score - engagement.avg_scaled_score, 9)
        >= weeks.score_drop_threshold,
        false
    ) as is_score_drop,
    coalesce(missed.missed_milestones, 0) as missed_milestones,
    breaches.breach_reasons is not null as is_compliance_breach,
    breaches.breach_reasons,
    weeks.tier2_missed_milestones,
    weeks.tier3_drop_weeks,
    weeks.follow_up_days,
    weeks.repeat_window_weeks
from engagement
inner join weeks
    on engagement.employee_id = weeks.employee_id and engagement.week_start = weeks.week_start
left join missed
    on engagement.employee_id = missed.employee_id and engagement.week_start = missed.week_start
left join breaches
    on
        engagement.employee_id = breaches.employee_id
        and engagement.week_start = breaches.week_start
