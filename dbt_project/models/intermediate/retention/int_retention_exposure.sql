{#-
    Exposure for cohort rates (docs/retention-and-cohorts.md#cohort-rates), one row per employee and
    tenure band: the days employed in the trailing cohort_period_days up to the as-of date while in
    that band, and the voluntary exits and internal moves that happened then. A person crossing a
    band boundary in the period counts in both bands, each for its own days, so a band's rate is a
    rate of people in it.
-#}
with employment as (
    select * from {{ ref('int_employment_spells') }}
),

moves as (
    select * from {{ ref('int_internal_moves') }}
),

period as (
    {{ cohort_period() }}
),

employed_days as (
    -- Every day employed in the period; the hire day and the termination day both count.
    select
        employment.employee_id,
        cast(unnest(generate_series(
            greatest(employment.hire_date, period.period_start),
            employment.spell_end_date,
            interval 1 day
        )) as date) as employed_on
    from employment
    cross join period
    where employment.spell_end_date >= period.period_start
),

classified as (
    select
        employed_days.employee_id,
        employed_days.employed_on,
        {{ tenure_band('employed_days.employed_on - employment.hire_date') }} as tenure_band,
        employment.is_voluntary_exit
        and employed_days.employed_on = employment.termination_date as is_voluntary_exit_day,
        moves.move_date is not null as is_move_day
    from employed_days
    inner join employment on employed_days.employee_id = employment.employee_id
    left join moves
        on
            employed_days.employee_id = moves.employee_id
            and employed_days.employed_on = moves.move_date
)

select
    classified.employee_id,
    classified.tenure_band,
    employment.hire_quarter,
    employment.job_code_at_hire,
    employment.department_at_hire,
    employment.manager_at_hire,
    count(*) as person_days,
    count(*) filter (where classified.is_voluntary_exit_day) as voluntary_exits,
    count(*) filter (where classified.is_move_day) as internal_moves
from classified
inner join employment on classified.employee_id = employment.employee_id
group by all
