{#-
    Retention and mobility by cohort (docs/retention-and-cohorts.md#cohort-rates): hire quarter x
    job_code at hire x department at hire x tenure band, over the trailing cohort_period_days to the
    as-of date. Cells over fewer than min_cell_size employees have their measures nulled and
    is_suppressed set.
-#}
with exposure as (
    select * from {{ ref('int_retention_exposure') }}
),

outcomes as (
    select * from {{ ref('fct_retention_outcomes') }}
),

employment as (
    select * from {{ ref('int_employment_spells') }}
),

moves as (
    select * from {{ ref('int_internal_moves') }}
),

period as (
    {{ cohort_period() }}
),

fills as (
    -- Every fill of a job_code in a department in the period: external hires and internal moves.
    select
        employment.job_code_at_hire as job_code,
        employment.department_at_hire as department,
        false as is_internal
    from employment
    cross join period
    where employment.hire_date between period.period_start and period.period_end
    union all
    select
        moves.job_code,
        moves.department,
        true as is_internal
    from moves
    cross join period
    where moves.move_date between period.period_start and period.period_end
),

internal_hires as (
    select
        job_code,
        department,
        count(*) as fills,
        avg(case when is_internal then 1e0 else 0e0 end) as internal_hire_ratio
    from fills
    group by job_code, department
),

cells as (
    select
        exposure.hire_quarter,
        exposure.job_code_at_hire as job_code,
        exposure.department_at_hire as department,
        exposure.tenure_band,
        {{ cohort_measures() }}
    from exposure
    inner join outcomes on exposure.employee_id = outcomes.employee_id
    group by
        exposure.hire_quarter,
        exposure.job_code_at_hire,
        exposure.department_at_hire,
        exposure.tenure_band
)

select
    cells.hire_quarter,
    cells.job_code,
    cells.department,
    cells.tenure_band,
    period.period_start,
    period.period_end,
    -- A property of the job_code and department in the period, repeated on each of its cohorts;
    -- also withheld when the job had fewer fills than min_cell_size.
    {{ suppress_small(suppress_small('internal_hires.internal_hire_ratio', 'internal_hires.fills'),
        'cells.cell_size') }} as internal_hire_ratio,
    {{ suppressed_cohort_measures('cells') }}
from cells
cross join period
left join internal_hires
    on cells.job_code = internal_hires.job_code and cells.department = internal_hires.department
