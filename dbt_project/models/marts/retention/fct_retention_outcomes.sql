{#-
    Retention and mobility outcomes (docs/retention-and-cohorts.md#outcomes-per-employee), one row
    per employee hired by the as-of date: the cohort keys at hire, retention at 90/180/365 days,
    voluntary exit and internal move within 12 months (null while not yet observable), and the
    completer flag of the role started at hire.
-#}
with employment as (
    select * from {{ ref('int_employment_spells') }}
),

moves as (
    select * from {{ ref('int_internal_moves') }}
),

bundle_progress as (
    select * from {{ ref('fct_bundle_progress') }}
),

first_moves as (
    select
        moves.employee_id,
        min(moves.move_date) as first_move_date
    from moves
    inner join employment
        on moves.employee_id = employment.employee_id and moves.move_date > employment.hire_date
    group by moves.employee_id
),

hire_bundle as (
    select * from bundle_progress where is_hire_role
)

select
    employment.employee_id,
    employment.hire_date,
    employment.hire_quarter,
    employment.job_code_at_hire,
    employment.job_family_at_hire,
    employment.department_at_hire,
    employment.manager_at_hire,
    employment.termination_date,
    employment.termination_type,
    employment.spell_end_date,
    employment.tenure_days,
    employment.tenure_band,
    employment.is_voluntary_exit,
    -- Retained at N days: still employed on day N (the termination date is the last day
    -- employed). Null until day N has been reached, unless the person left before it.
    case
        when employment.termination_date < employment.hire_date + 90 then false
        when employment.hire_date + 90 <= {{ as_of_date() }} then true
    end as retained_90d,
    case
        when employment.termination_date < employment.hire_date + 180 then false
        when employment.hire_date + 180 <= {{ as_of_date() }} then true
    end as retained_180d,
    case
        when employment.termination_date < employment.hire_date + 365 then false
        when employment.hire_date + 365 <= {{ as_of_date() }} then true
    end as retained_365d,
    case
        when
            employment.is_voluntary_exit
            and employment.termination_date < employment.hire_date + 365
            then true
        when employment.termination_date < employment.hire_date + 365 then false
        when employment.hire_date + 365 <= {{ as_of_date() }} then false
    end as voluntary_exit_12m,
    -- A non-voluntary exit before day 365 censors the voluntary-retention outcome
    -- (docs/retention-and-cohorts.md#exits-and-censoring).
    coalesce(
        employment.termination_date < employment.hire_date + 365
        and not employment.is_voluntary_exit,
        false
    ) as is_censored_12m,
    case
        when first_moves.first_move_date < employment.hire_date + 365 then true
        when employment.termination_date < employment.hire_date + 365 then false
        when employment.hire_date + 365 <= {{ as_of_date() }} then false
    end as internal_move_12m,
    first_moves.first_move_date,
    hire_bundle.completion_share,
    hire_bundle.is_completer,
    hire_bundle.days_to_competency,
    hire_bundle.post_training_score_delta
from employment
left join first_moves on employment.employee_id = first_moves.employee_id
left join hire_bundle on employment.employee_id = hire_bundle.employee_id
