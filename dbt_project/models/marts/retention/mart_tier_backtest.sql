{#-
    Tier backtest (docs/retention-and-cohorts.md#tier-backtest): for each tier, the share of
    employee-weeks followed by a voluntary exit within backtest_horizon_days of the week's end,
    against the base rate over all tiers (lift), so thresholds can be tuned on the company's own
    history. Only weeks whose horizon has passed by the as-of date count, so a recent week is never
    read as "did not leave".
-#}
with tiers as (
    select * from {{ ref('fct_risk_tiers') }}
),

employment as (
    select * from {{ ref('int_employment_spells') }}
),

observed as (
    select
        tiers.employee_id,
        tiers.tier,
        coalesce(
            employment.is_voluntary_exit
            and employment.termination_date
            between tiers.week_end and tiers.week_end + {{ var('backtest_horizon_days') }},
            false
        ) as is_followed_by_exit
    from tiers
    inner join employment on tiers.employee_id = employment.employee_id
    where
        tiers.week_end + {{ var('backtest_horizon_days') }} <= {{ as_of_date() }}
        -- A week ending after the person left was not evaluated while they were employed.
        and coalesce(employment.termination_date >= tiers.week_end, true)
),

base as (
    select avg(case when is_followed_by_exit then 1.0 else 0.0 end) as base_rate from observed
),

by_tier as (
    select
        tier,
        count(*) as employee_weeks,
        count(distinct employee_id) as employees,
        count(*) filter (where is_followed_by_exit) as weeks_followed_by_exit,
        avg(case when is_followed_by_exit then 1.0 else 0.0 end) as exit_within_90d_rate
    from observed
    group by tier
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
    by_tier.employees < {{ var('min_cell_size') }} as is_suppressed
from by_tier
cross join base
