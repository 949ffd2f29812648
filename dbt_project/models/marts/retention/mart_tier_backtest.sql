{#-
    Tier backtest (docs/retention-and-cohorts.md#tier-backtest): for each tier, the share of
    employee-weeks followed by a voluntary exit within backtest_horizon_days of the week's end,
    against the base rate over all tiers (lift), so thresholds can be tuned on the company's own
    history. Only weeks whose horizon has passed by the as-of date count, so a recent week is never
    read as "did not leave".

    With managers' feedback (lms/alert_feedback.csv, docs/manager-digest.md#the-rule-measured),
    each alert tier also gets the share of its alerts answered and marked not_useful, and the exit
    rate of alerts whose manager acted against those whose manager did not, with a 95% interval
    for the difference. That comparison is an association, not an effect: managers choose where
    to act.
-#}
with tiers as (
    select * from {{ ref('fct_risk_tiers') }}
),

employment as (
    select * from {{ ref('int_employment_spells') }}
),

feedback as (
    select
        employee_id,
        week_start,
        bool_or(status = 'acted') as is_acted,
        bool_or(status = 'not_useful') as is_not_useful
    from {{ ref('stg_lms__alert_feedback') }}
    group by employee_id, week_start
),

observed as (
    select
        tiers.employee_id,
        tiers.tier,
        feedback.employee_id is not null as is_answered,
        coalesce(feedback.is_acted, false) as is_acted,
        coalesce(feedback.is_not_useful, false) as is_not_useful,
        coalesce(
            employment.is_voluntary_exit
            and employment.termination_date
            between tiers.week_end and tiers.week_end + {{ var('backtest_horizon_days') }},
            false
        ) as is_followed_by_exit
    from tiers
    inner join employment on tiers.employee_id = employment.employee_id
    left join feedback
        on tiers.employee_id = feedback.employee_id and tiers.week_start = feedback.week_start
    where
        tiers.week_end + {{ var('backtest_horizon_days') }} <= {{ as_of_date() }}
        -- A week ending after the person left was not evaluated while they were employed.
        and coalesce(employment.termination_date >= tiers.week_end, true)
),

base as (
    select avg(case when is_followed_by_exit then 1e0 else 0e0 end) as base_rate from observed
),

by_tier as (
    select
        tier,
        count(*) as employee_weeks,
        count(distinct employee_id) as employees,
        count(*) filter (where is_followed_by_exit) as weeks_followed_by_exit,
        avg(case when is_followed_by_exit then 1e0 else 0e0 end) as exit_within_90d_rate,
        avg(case when is_answered then 1e0 else 0e0 end) as answered_share,
        avg(case when is_not_useful then 1e0 else 0e0 end) as not_useful_share,
        count(*) filter (where is_acted) as acted_weeks,
        count(distinct employee_id) filter (where is_acted) as acted_employees,
        count(distinct employee_id) filter (where not is_acted) as not_acted_employees,
        avg(case when is_followed_by_exit then 1e0 else 0e0 end) filter (where is_acted)
            as exit_rate_acted,
        avg(case when is_followed_by_exit then 1e0 else 0e0 end) filter (where not is_acted)
            as exit_rate_not_acted,
        count(*) filter (where not is_acted) as not_acted_weeks
    from observed
    group by tier
),

acted as (
    -- Acted minus not acted, with a Wald 95% interval (clamped to [-1, 1]); shown only when
    -- both groups hold at least min_cell_size employees.
    select
        tier,
        exit_rate_acted - exit_rate_not_acted as difference,
        1.96 * sqrt(
            exit_rate_acted * (1 - exit_rate_acted) / acted_weeks
            + exit_rate_not_acted * (1 - exit_rate_not_acted) / not_acted_weeks
        ) as margin,
        tier >= 1
        and acted_employees >= {{ var('min_cell_size') }}
        and not_acted_employees >= {{ var('min_cell_size') }} as is_shown
    from by_tier
)

select
    by_tier.tier,
    {{ suppress_small('by_tier.employee_weeks', 'by_tier.employees') }} as employee_weeks,
    {{ suppress_small('by_tier.employees', 'by_tier.employees') }} as employees,
    {{ suppress_small('by_tier.weeks_followed_by_exit', 'by_tier.employees') }}
        as weeks_followed_by_exit,
    {{ suppress_small('by_tier.exit_within_90d_rate', 'by_tier.employees') }}
        as exit_within_90d_rate,
    base.base_rate,
    {{ suppress_small('by_tier.exit_within_90d_rate / nullif(base.base_rate, 0)', 'by_tier.employees') }}
        as lift,
    {{ var('backtest_horizon_days') }} as horizon_days,
    case when by_tier.tier >= 1 then by_tier.answered_share end as answered_share,
    case when by_tier.tier >= 1 then by_tier.not_useful_share end as not_useful_share,
    case when acted.is_shown then by_tier.acted_weeks end as acted_weeks,
    case when acted.is_shown then by_tier.exit_rate_acted end as exit_rate_acted,
    case when acted.is_shown then by_tier.exit_rate_not_acted end as exit_rate_not_acted,
    case when acted.is_shown then acted.difference end as acted_exit_difference,
    case
        when acted.is_shown then round(greatest(acted.difference - acted.margin, -1), 6)
    end as acted_difference_ci_lower,
    case
        when acted.is_shown then round(least(acted.difference + acted.margin, 1), 6)
    end as acted_difference_ci_upper,
    by_tier.employees < {{ var('min_cell_size') }} as is_suppressed
from by_tier
cross join base
inner join acted on by_tier.tier = acted.tier
