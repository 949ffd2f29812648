{#-
    What a manager sees (docs/intervention-tiers.md#manager-alert-list,
    docs/privacy.md#manager-alert-list): for the latest complete week, each direct report with tier
    1 or more, the reasons, the action, banded signals and the conversation script
    (docs/manager-digest.md#scripts). Never raw statements, timestamps, devices or free text.
    manager_id is the manager at that week, for row-level filtering.
-#}
with tiers as (
    select * from {{ ref('fct_risk_tiers') }}
),

latest as (
    select max(week_start) as week_start from tiers
),

alerts as (
    select tiers.*
    from tiers
    inner join latest on tiers.week_start = latest.week_start
    -- Nobody is alerted about themselves: a self-managed employee (an HRIS error the dbt test
    -- manager_hierarchy_is_acyclic warns about) stays in fct_risk_tiers for HR.
    where
        tiers.tier >= 1
        and tiers.manager_id is not null
        and tiers.manager_id <> tiers.employee_id
),

codes as (
    select
        employee_id,
        tier,
        {{ unnest_list(split_text('reason_codes', ', ')) }} as code
    from alerts
),

reasons as (
    -- activity_drop_2w -> activity_drop; compliance_overdue:SEC-101 -> compliance_overdue, SEC-101
    select
        employee_id,
        tier,
        regexp_replace(split_part(code, ':', 1), '_[0-9]+w?$', '') as reason,
        nullif(split_part(code, ':', 2), '') as course_id
    from codes
),

scripted as (
    -- The scripts of an alert's reasons at its tier, in the seed's order; {course} is the
    -- compliance course's title, the only course detail a script carries.
    select
        reasons.employee_id,
        {{ ordered_string_agg(
            "replace(scripts.script, '{course}', coalesce(courses.title, reasons.course_id, 'the course'))",
            "' '",
            'scripts.priority, reasons.course_id'
        ) }} as script
    from reasons
    inner join {{ ref('intervention_scripts') }} as scripts
        on reasons.tier = scripts.tier and reasons.reason = scripts.reason
    left join {{ ref('dim_course') }} as courses on reasons.course_id = courses.course_id
    group by reasons.employee_id
)

select
    alerts.manager_id,
    alerts.employee_id,
    alerts.week_start,
    alerts.department,
    alerts.job_family,
    alerts.tier,
    alerts.tier_label,
    alerts.reason_codes,
    alerts.recommended_action,
    alerts.follow_up_due,
    alerts.escalate_to_hr,
    case
        when not alerts.is_drop then null
        else
            'activity down '
            || case
                when alerts.activity_change_pct <= -0.75 then '75-100%'
                else '50-75%'
            end
            || ' for ' || alerts.drop_streak || ' week'
            || case when alerts.drop_streak > 1 then 's' else '' end
    end as activity_signal,
    case
        when not alerts.is_score_drop then null
        when alerts.baseline_score - alerts.avg_scaled_score >= 0.30 then 'scores down 30+ points'
        else 'scores down 15-30 points'
    end as score_signal,
    case
        when alerts.missed_milestones = 0 then null
        when alerts.missed_milestones = 1 then '1 missed milestone in the last 30 days'
        else alerts.missed_milestones || ' missed milestones in the last 30 days'
    end as milestone_signal,
    alerts.is_compliance_breach as has_compliance_breach,
    scripted.script
from alerts
left join scripted on alerts.employee_id = scripted.employee_id
