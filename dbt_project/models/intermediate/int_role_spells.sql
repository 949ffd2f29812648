{#-
    Each employee's job, department and manager over time, from the job history (values carried
    forward through rows that change only one of them), one row per change with its validity.
    Employees without history get a single spell from their hire date, from hris/workers.csv.
-#}
with history as (
    select * from {{ ref('stg_hris__job_history') }}
),

workers as (
    select * from {{ ref('stg_hris__workers') }}
),

changes as (
    select
        employee_id,
        effective_date,
        change_type,
        job_code,
        department,
        manager_id,
        source_line
    from history
    where change_type <> 'termination'
    union all
    select
        employee_id,
        hire_date as effective_date,
        'hire' as change_type,
        job_code,
        department,
        manager_id,
        0 as source_line
    from workers
    where employee_id not in (select h.employee_id from history as h)
),

carried as (
    select
        employee_id,
        effective_date,
        change_type,
        {{ last_non_null('job_code') }} over carry as job_code,
        {{ last_non_null('department') }} over carry as department,
        {{ last_non_null('manager_id') }} over carry as manager_id,
        row_number() over (
            partition by employee_id, effective_date order by source_line desc
        ) as rank_on_day
    from changes
    window carry as (
        partition by employee_id
        order by effective_date, source_line
        rows between unbounded preceding and current row
    )
),

spells as (
    select
        carried.employee_id,
        carried.effective_date as valid_from,
        carried.change_type,
        carried.change_type in ('hire', 'promotion', 'transfer', 'lateral', 'demotion')
            as is_role_start,
        coalesce(carried.job_code, workers.job_code) as job_code,
        coalesce(carried.department, workers.department) as department,
        coalesce(carried.manager_id, workers.manager_id) as manager_id,
        coalesce(
            lead(carried.effective_date) over (
                partition by carried.employee_id order by carried.effective_date
            ) - 1,
            date '9999-12-31'
        ) as valid_to
    from carried
    inner join workers on carried.employee_id = workers.employee_id
    -- Several changes on one day: the last listed holds.
    where carried.rank_on_day = 1
)

select * from spells
