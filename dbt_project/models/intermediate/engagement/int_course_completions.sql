{#- Every dated completion of a course by an employee: from enrollments and from statements. -#}
select
    employee_id,
    course_id,
    completed_date,
    'enrollment' as evidence
from {{ ref('stg_lms__enrollments') }}
where completed_date is not null
union all
select
    employee_id,
    course_id,
    event_date as completed_date,
    'statement' as evidence
from {{ ref('int_learning_activity') }}
where is_completion and employee_id is not null and course_id is not null
