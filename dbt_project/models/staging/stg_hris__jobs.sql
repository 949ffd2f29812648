with source as (
    select * from {{ source('raw', 'hris_jobs') }}
),

renamed as (
    select
        trim(job_code) as job_code,
        lower(trim(job_family)) as job_family,
        job_title,
        coalesce({{ to_boolean('customer_facing') }}, false) as is_customer_facing,
        coalesce({{ to_boolean('compliance_sensitive') }}, false) as is_compliance_sensitive,
        coalesce({{ to_boolean('leadership_pipeline') }}, false) as is_leadership_pipeline
    from source
)

select * from renamed
