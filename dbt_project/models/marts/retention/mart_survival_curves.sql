{#-
    Kaplan-Meier voluntary-retention curves by tenure month
    (docs/retention-and-cohorts.md#survival-curves), for all employees, by completer group and by
    job family at hire. Involuntary and other exits and current employees are censored. Row m holds
    the survival at m x 30.4375 days and the at-risk, events and censored of the month ending then;
    rows with fewer than min_cell_size at risk are suppressed.
-#}
with outcomes as (
    select * from {{ ref('fct_retention_outcomes') }}
),

subjects as (
    select
        'all' as group_type,
        'all' as group_value,
        tenure_days,
        is_voluntary_exit as is_event
    from outcomes
    union all
    -- Completion is only known after the window, so these curves hold the people still employed
    -- at its end (a landmark): a person who left before could not have completed.
    select
        'completer' as group_type,
        case when is_completer then 'completer' else 'non_completer' end as group_value,
        tenure_days,
        is_voluntary_exit as is_event
    from outcomes
    where is_completer is not null and tenure_days >= {{ var('bundle_window_days') }}
    union all
    select
        'job_family' as group_type,
        job_family_at_hire as group_value,
        tenure_days,
        is_voluntary_exit as is_event
    from outcomes
),

by_day as (
    select
        group_type,
        group_value,
        tenure_days,
        count(*) as leaving,
        count(*) filter (where is_event) as events
    from subjects
    group by all
),

risk_sets as (
    select
        *,
        -- At risk on a tenure day: everyone whose exit or censoring is on or after it.
        sum(leaving) over (
            partition by group_type, group_value
            order by tenure_days desc
            rows between unbounded preceding and current row
        ) as at_risk
    from by_day
),

kaplan_meier as (
    select
        *,
        {{ running_product('1.0 - events / at_risk', 'running') }} as survival,
        -- Greenwood: sum of d / (n (n - d)); a term with d = n (survival reaches 0) adds nothing.
        sum(
            case when events < at_risk then events / (at_risk * (at_risk - events)) else 0 end
        ) over running as greenwood
    from risk_sets
    window running as (
        partition by group_type, group_value
        order by tenure_days
        rows between unbounded preceding and current row
    )
),

by_month as (
    -- Tenure day d falls in month ceil(d / 30.4375): month m ends at m x 30.4375 days.
    select
        group_type,
        group_value,
        cast(ceil(tenure_days / {{ days_per_month() }}) as integer) as tenure_month,
        sum(leaving) as leaving,
        sum(events) as events,
        sum(leaving - events) as censored,
        min(survival) as survival,
        max(greenwood) as greenwood
    from kaplan_meier
    group by all
),

months as (
    select
        group_type,
        group_value,
        {{ integer_series('0', 'max(tenure_month)') }} as tenure_month
    from by_month
    group by group_type, group_value
),

curves as (
    select
        months.group_type,
        months.group_value,
        months.tenure_month,
        cast(sum(coalesce(by_month.leaving, 0)) over (
            partition by months.group_type, months.group_value
            order by months.tenure_month desc
            rows between unbounded preceding and current row
        ) as bigint) as at_risk,
        cast(coalesce(by_month.events, 0) as bigint) as events,
        cast(coalesce(by_month.censored, 0) as bigint) as censored,
        -- Survival only falls and Greenwood's sum only grows: carry them through empty months.
        coalesce(min(by_month.survival) over running, 1.0) as survival,
        coalesce(max(by_month.greenwood) over running, 0.0) as greenwood
    from months
    left join by_month
        on
            months.group_type = by_month.group_type
            and months.group_value = by_month.group_value
            and months.tenure_month = by_month.tenure_month
    window running as (
        partition by months.group_type, months.group_value
        order by months.tenure_month
        rows between unbounded preceding and current row
    )
)

select
    group_type,
    group_value,
    tenure_month,
    -- The type DuckDB infers; Spark's would be one digit wider.
    cast(tenure_month * {{ days_per_month() }} as decimal(16, 4)) as tenure_days,
    {{ suppress_small('at_risk', 'at_risk') }} as at_risk,
    {{ suppress_small('events', 'at_risk') }} as events,
    {{ suppress_small('censored', 'at_risk') }} as censored,
    {{ suppress_small('survival', 'at_risk') }} as survival,
    {{ suppress_small(km_log_log_bound('survival', 'greenwood', 'lower'), 'at_risk') }}
        as ci_lower,
    {{ suppress_small(km_log_log_bound('survival', 'greenwood', 'upper'), 'at_risk') }}
        as ci_upper,
    at_risk < {{ var('min_cell_size') }} as is_suppressed
from curves
