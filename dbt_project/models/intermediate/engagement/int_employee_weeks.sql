{#-
    The spine of weekly engagement: one row per employee per complete ISO week employed, from the
    later of the hire week and the first week of learning data, to the termination week or the
    last complete week before the as-of date. Each week carries the role held at the week's end
    and the intervention thresholds of that role's job family (the `default` row otherwise).
-#}
with workers as (
    select * from {{ ref('stg_hris__workers') }}
),

spells as (
    select * from {{ ref('int_role_spells') }}
),

jobs as (
    select * from {{ ref('stg_hris__jobs') }}
),

thresholds as (
    select * from {{ ref('role_thresholds') }}
),

learning_start as (
    select * from {{ ref('int_lms_record_start') }}
),

bounds as (
    select
        workers.employee_id,
        greatest(
            cast(date_trunc('week', workers.hire_date) as date), learning_start.first_week
        ) as first_week,
        least(
            coalesce(cast(date_trunc('week', workers.termination_date) as date), date '9999-12-27'),
            -- The last week whose Sunday is on or before the as-of date.
            cast(date_trunc('week', {{ as_of_date() }} - 6) as date)
        ) as last_week
    from workers
    cross join learning_start
),

weeks as (
    select
        employee_id,
        {{ date_series('first_week', 'last_week', 'interval 7 day') }} as week_start
    from bounds
    where first_week <= last_week
),

placed as (
    select
        weeks.employee_id,
        weeks.week_start,
        weeks.week_start + 6 as week_end,
        spells.job_code,
        spells.department,
        spells.manager_id,
        coalesce(jobs.job_family, 'unknown') as job_family,
        coalesce(jobs.is_compliance_sensitive, false) as is_compliance_sensitive,
        -- bigint on both engines (Spark's row_number is an int).
        cast(row_number() over (
            partition by weeks.employee_id order by weeks.week_start
        ) as bigint) as week_index
    from weeks
    left join spells
        on
            weeks.employee_id = spells.employee_id
            and weeks.week_start + 6 between spells.valid_from and spells.valid_to
    left join jobs on spells.job_code = jobs.job_code
)

select
    placed.*,
    coalesce(family.min_baseline_activity, fallback.min_baseline_activity)
        as min_baseline_activity,
    coalesce(family.activity_drop_pct, fallback.activity_drop_pct) as activity_drop_pct,
    coalesce(family.score_drop_threshold, fallback.score_drop_threshold) as score_drop_threshold,
    coalesce(family.milestone_window_days, fallback.milestone_window_days)
        as milestone_window_days,
    coalesce(family.tier2_missed_milestones, fallback.tier2_missed_milestones)
        as tier2_missed_milestones,
    coalesce(family.tier3_drop_weeks, fallback.tier3_drop_weeks) as tier3_drop_weeks,
    case
        when placed.is_compliance_sensitive
            then coalesce(
                family.compliance_grace_days_sensitive, fallback.compliance_grace_days_sensitive
            )
        else coalesce(family.compliance_grace_days, fallback.compliance_grace_days)
    end as compliance_grace_days,
    coalesce(family.follow_up_days, fallback.follow_up_days) as follow_up_days,
    coalesce(family.repeat_window_weeks, fallback.repeat_window_weeks) as repeat_window_weeks
from placed
left join thresholds as family on placed.job_family = family.job_family
cross join (select * from thresholds where job_family = 'default') as fallback
