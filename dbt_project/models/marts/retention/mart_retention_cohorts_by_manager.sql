{#-
    The by-manager variant of mart_retention_cohorts
    (docs/retention-and-cohorts.md#cohorts-by-manager): manager at hire x tenure band, over the
    trailing cohort_period_days to the as-of date, with the same measures and suppression.
-#}
with exposure as (
    select * from {{ ref('int_retention_exposure') }}
),

outcomes as (
    select * from {{ ref('fct_retention_outcomes') }}
),

period as (
    {{ cohort_period() }}
),

cells as (
    select
        exposure.manager_at_hire as manager_id,
        exposure.tenure_band,
        {{ cohort_measures() }}
    from exposure
    inner join outcomes on exposure.employee_id = outcomes.employee_id
    group by exposure.manager_at_hire, exposure.tenure_band
)

select
    cells.manager_id,
    cells.tenure_band,
    period.period_start,
    period.period_end,
    {{ suppressed_cohort_measures('cells') }}
from cells
cross join period
