{#-
    The by-manager variant of mart_retention_cohorts (SPEC 6): manager at hire x tenure band, over
    the trailing cohort_period_days to the as-of date, with the same measures and suppression.
-#}
with exposure as (
    select * from {{ ref('int_retention_exposure') }}
),

outcomes as (
    select * from {{ ref('fct_retention_outcomes') }}
),

period as (
    select
        {{ as_of_date() }} - {{ var('cohort_period_days') }} + 1 as period_start,
        {{ as_of_date() }} as period_end
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
    {{ suppress_small('cells.headcount', 'cells.cell_size') }} as headcount,
    {{ suppress_small('cells.average_headcount', 'cells.cell_size') }} as average_headcount,
    {{ suppress_small('cells.voluntary_exits', 'cells.cell_size') }} as voluntary_exits,
    {{ suppress_small('cells.voluntary_turnover_rate', 'cells.cell_size') }}
        as voluntary_turnover_rate,
    {{ suppress_small('cells.internal_moves', 'cells.cell_size') }} as internal_moves,
    {{ suppress_small('cells.internal_mobility_rate', 'cells.cell_size') }}
        as internal_mobility_rate,
    {{ suppress_small('cells.bundle_completion_rate', 'cells.cell_size') }}
        as bundle_completion_rate,
    {{ suppress_small('cells.median_days_to_competency', 'cells.cell_size') }}
        as median_days_to_competency,
    {{ suppress_small('cells.post_training_score_delta', 'cells.cell_size') }}
        as post_training_score_delta,
    cells.cell_size < {{ var('min_cell_size') }} as is_suppressed
from cells
cross join period
