{#- One row per worker with job family and role exposure; the current state from the HRIS. -#}
with workers as (
    select * from {{ ref('stg_hris__workers') }}
),

jobs as (
    select * from {{ ref('stg_hris__jobs') }}
)

select
    workers.employee_id,
    workers.hire_date,
    workers.termination_date,
    workers.termination_type,
    workers.termination_reason,
    coalesce(
        workers.employment_status,
        case when workers.termination_date is null then 'active' else 'terminated' end
    ) as employment_status,
    workers.job_code,
    coalesce(jobs.job_family, 'unknown') as job_family,
    jobs.job_title,
    workers.department,
    workers.manager_id,
    workers.location,
    workers.is_high_potential,
    coalesce(jobs.is_customer_facing, false) as is_customer_facing,
    coalesce(jobs.is_compliance_sensitive, false) as is_compliance_sensitive,
    coalesce(jobs.is_leadership_pipeline, false) as is_leadership_pipeline
from workers
left join jobs on workers.job_code = jobs.job_code
