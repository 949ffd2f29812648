{#-
    What a manager sees (docs/intervention-tiers.md#manager-alert-list,
    docs/privacy.md#manager-alert-list): for the latest complete week, each direct report with tier
    1 or more, the reasons, the action and banded signals. Never raw statements, timestamps, devices
    or free text. manager_id is the manager at that week, for row-level filtering.
-#}
with tiers as (
    select * from {{ ref('fct_risk_tiers') }}
),

latest as (
    select max(week_start) as week_start from tiers
)

select
    tiers.manager_id,
    tiers.employee_id,
    tiers.week_start,
    tiers.department,
    tiers.job_family,
    tiers.tier,
    tiers.tier_label,
    tiers.reason_codes,
    tiers.recommended_action,
    tiers.follow_up_due,
    tiers.escalate_to_hr,
    case
        when not tiers.is_drop then null
        else
            'activity down '
            || case
                when tiers.activity_change_pct <= -0.75 then '75-100%'
                else '50-75%'
            end
            || ' for ' || tiers.drop_streak || ' week' || case when tiers.drop_streak > 1 then 's' else '' end
    end as activity_signal,
    case
        when not tiers.is_score_drop then null
        when tiers.baseline_score - tiers.avg_scaled_score >= 0.30 then 'scores down 30+ points'
        else 'scores down 15-30 points'
    end as score_signal,
    case
        when tiers.missed_milestones = 0 then null
        when tiers.missed_milestones = 1 then '1 missed milestone in the last 30 days'
        else tiers.missed_milestones || ' missed milestones in the last 30 days'
    end as milestone_signal,
    tiers.is_compliance_breach as has_compliance_breach
from tiers
inner join latest on tiers.week_start = latest.week_start
-- Nobody is alerted about themselves: a self-managed employee (an HRIS error the dbt test
-- manager_hierarchy_is_acyclic warns about) stays in fct_risk_tiers for HR.
where tiers.tier >= 1 and tiers.manager_id is not null and tiers.manager_id <> tiers.employee_id
