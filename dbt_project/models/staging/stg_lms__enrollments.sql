with source as (
    select * from {{ source('raw', 'lms_enrollments') }}
),

renamed as (
    select
        trim(enrollment_id) as enrollment_id,
        trim(employee_id) as employee_id,
        trim(course_id) as course_id,
        {{ to_date('assigned_date') }} as assigned_date,
        {{ to_date('due_date') }} as due_date,
        {{ to_date('completed_date') }} as completed_date,
        lower(trim(status)) as status
    from source
)

select * from renamed
