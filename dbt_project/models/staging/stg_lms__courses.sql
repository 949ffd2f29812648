with source as (
    select * from {{ source('raw', 'lms_courses') }}
),

renamed as (
    select
        trim(course_id) as course_id,
        trim(activity_iri) as activity_iri,
        title,
        coalesce({{ to_boolean('is_compliance') }}, false) as is_compliance,
        coalesce({{ to_boolean('is_certification') }}, false) as is_certification,
        try_cast(duration_minutes as integer) as duration_minutes
    from source
)

select * from renamed
