{#- One row per LMS course. -#}
select
    course_id,
    activity_iri,
    title,
    is_compliance,
    is_certification,
    duration_minutes
from {{ ref('stg_lms__courses') }}
