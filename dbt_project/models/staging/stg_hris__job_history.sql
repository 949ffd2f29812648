with source as (
    select * from {{ source('raw', 'hris_job_history') }}
),

renamed as (
    select
        trim(employee_id) as employee_id,
        {{ to_date('effective_date') }} as effective_date,
        lower(trim(change_type)) as change_type,
        nullif(trim(job_code), '') as job_code,
        nullif(trim(department), '') as department,
        nullif(trim(manager_id), '') as manager_id,
        _source_line as source_line
    from source
)

select * from renamed
