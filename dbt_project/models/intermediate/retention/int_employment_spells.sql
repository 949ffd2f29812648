{#-
    One employment spell per employee hired on or before the as-of date
    (docs/retention-and-cohorts.md#employment-spells): hire date to termination date, else the as-of
    date, with the cohort keys as they were at hire. A termination dated after the as-of date has
    not happened yet, as of the run.
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

role_at_hire as (
    -- The role held on the hire date (the latest change on or before it); history that starts
    -- after the hire date falls back to its first row.
    select
        spells.employee_id,
        spells.job_code,
        spells.department,
        spells.manager_id,
        row_number() over (
            partition by spells.employee_id
            order by spells.valid_from > workers.hire_date, abs({{ days_between('spells.valid_from', 'workers.hire_date') }})
        ) as preference
    from spells
    inner join workers on spells.employee_id = workers.employee_id
),

spelled as (
    select
        workers.employee_id,
        workers.hire_date,
        case
            when workers.termination_date <= {{ as_of_date() }} then workers.termination_date
        end as termination_date,
        case
            when workers.termination_date <= {{ as_of_date() }} then workers.termination_type
        end as termination_type,
        coalesce(role_at_hire.job_code, workers.job_code) as job_code_at_hire,
        coalesce(role_at_hire.department, workers.department) as department_at_hire,
        coalesce(role_at_hire.manager_id, workers.manager_id) as manager_at_hire
    from workers
    left join role_at_hire
        on workers.employee_id = role_at_hire.employee_id and role_at_hire.preference = 1
    where workers.hire_date <= {{ as_of_date() }}
)

select
    spelled.employee_id,
    spelled.hire_date,
    {{ hire_quarter('spelled.hire_date') }} as hire_quarter,
    spelled.job_code_at_hire,
    coalesce(jobs.job_family, 'unknown') as job_family_at_hire,
    spelled.department_at_hire,
    spelled.manager_at_hire,
    spelled.termination_date,
    spelled.termination_type,
    coalesce(spelled.termination_date, {{ as_of_date() }}) as spell_end_date,
    {{ days_between('coalesce(spelled.termination_date, ' ~ as_of_date() ~ ')', 'spelled.hire_date') }} as tenure_days,
    {{ tenure_band(days_between('coalesce(spelled.termination_date, ' ~ as_of_date() ~ ')', 'spelled.hire_date')) }}
        as tenure_band,
    coalesce(spelled.termination_type = 'voluntary', false) as is_voluntary_exit
from spelled
left join jobs on spelled.job_code_at_hire = jobs.job_code
