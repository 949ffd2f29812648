with source as (
    select * from {{ source('raw', 'hris_workers') }}
),

renamed as (
    select
        trim(employee_id) as employee_id,
        lower(trim(work_email)) as work_email,
        trim(work_email) as work_email_as_delivered,
        {{ to_date('hire_date') }} as hire_date,
        trim(job_code) as job_code,
        trim(department) as department,
        nullif(trim(manager_id), '') as manager_id,
        trim(location) as location,
        lower(trim(employment_status)) as employment_status,
        {{ to_date('termination_date') }} as termination_date,
        lower(trim(termination_type)) as termination_type,
        termination_reason,
        coalesce({{ to_boolean('is_high_potential') }}, false) as is_high_potential,
        _source_line as source_line
    from source
)

select * from renamed
