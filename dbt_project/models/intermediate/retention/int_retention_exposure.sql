{#-
    Exposure for cohort rates (docs/retention-and-cohorts.md#cohort-rates), one row per employee and
    tenure band: the days employed in the trailing cohort_period_days up to the as-of date while in
    that band, and the voluntary exits and internal moves that happened then. A person crossing a
    band boundary in the period counts in both bands, each for its own days, so a band's rate is a
    rate of people in it.

    Counted as intervals, not day by day: a band's days in the period are where two ranges of
    tenure days overlap, the employee's days in the period and the band's (hire and termination
    day both count), so the model costs a row per employee and band, whatever the period's length.
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

bands as (
    {{ tenure_band_days() }}
),

in_period as (
    -- Each employee's days in the period, as tenure days (days since the hire date).
    select
        employment.*,
        {{ days_between('greatest(employment.hire_date, period.period_start)', 'employment.hire_date') }}
            as first_tenure_day,
        {{ days_between('employment.spell_end_date', 'employment.hire_date') }} as last_tenure_day
    from employment
    cross join period
    where employment.spell_end_date >= period.period_start
),

in_band as (
    select
        in_period.employee_id,
        bands.tenure_band,
        greatest(in_period.first_tenure_day, bands.first_tenure_day) as first_tenure_day,
        least(
            in_period.last_tenure_day, coalesce(bands.last_tenure_day, in_period.last_tenure_day)
        ) as last_tenure_day
    from in_period
    inner join bands
        on
            bands.first_tenure_day <= in_period.last_tenure_day
            and (bands.last_tenure_day is null or bands.last_tenure_day >= in_period.first_tenure_day)
),

moves_in_band as (
    select
        in_band.employee_id,
        in_band.tenure_band,
        count(*) as internal_moves
    from in_band
    inner join employment on in_band.employee_id = employment.employee_id
    inner join moves
        on
            in_band.employee_id = moves.employee_id
            and {{ days_between('moves.move_date', 'employment.hire_date') }}
            between in_band.first_tenure_day and in_band.last_tenure_day
    group by in_band.employee_id, in_band.tenure_band
)

select
    in_band.employee_id,
    in_band.tenure_band,
    employment.hire_quarter,
    employment.job_code_at_hire,
    employment.department_at_hire,
    employment.manager_at_hire,
    cast(in_band.last_tenure_day - in_band.first_tenure_day + 1 as bigint) as person_days,
    cast(
        employment.is_voluntary_exit
        and {{ days_between('employment.termination_date', 'employment.hire_date') }}
        between in_band.first_tenure_day and in_band.last_tenure_day
        as bigint
    ) as voluntary_exits,
    coalesce(moves_in_band.internal_moves, 0) as internal_moves
from in_band
inner join employment on in_band.employee_id = employment.employee_id
left join moves_in_band
    on
        in_band.employee_id = moves_in_band.employee_id
        and in_band.tenure_band = moves_in_band.tenure_band
