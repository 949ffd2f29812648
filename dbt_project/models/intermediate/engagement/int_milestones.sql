{#-
    Milestones (docs/engagement.md#milestones): every enrollment with a due date, and every
    capability-bundle item marked is_milestone for each role start (due = start + due_day_offset). A
    milestone is missed when it was not completed by its due date, and it counts in the week holding
    the due date.
-#}
with enrollments as (
    select * from {{ ref('stg_lms__enrollments') }}
),

spells as (
    select * from {{ ref('int_role_spells') }}
),

bundles as (
    select * from {{ ref('capability_bundles') }}
),

courses as (
    select * from {{ ref('stg_lms__courses') }}
),

completions as (
    select * from {{ ref('int_course_completions') }}
),

enrollment_milestones as (
    select
        'enrollment:' || enrollment_id as milestone_id,
        'enrollment' as milestone_source,
        employee_id,
        course_id,
        null as bundle_id,
        assigned_date as start_date,
        due_date,
        status as enrollment_status
    from enrollments
    where due_date is not null and coalesce(status, '') <> 'withdrawn'
),

learning_start as (
    select * from {{ ref('int_lms_record_start') }}
),

bundle_milestones as (
    -- Only for roles started once the LMS record begins: earlier starts cannot show completions.
    select
        'bundle:' || bundles.bundle_id || ':' || spells.employee_id || ':'
        || bundles.course_id || ':' || cast(spells.valid_from as string) as milestone_id,
        'capability_bundle' as milestone_source,
        spells.employee_id,
        bundles.course_id,
        bundles.bundle_id,
        spells.valid_from as start_date,
        spells.valid_from + bundles.due_day_offset as due_date,
        null as enrollment_status
    from spells
    inner join bundles on spells.job_code = bundles.job_code
    cross join learning_start
    where
        spells.is_role_start
        and bundles.is_milestone
        and spells.valid_from >= learning_start.first_day
),

milestones as (
    select * from enrollment_milestones
    union all
    select * from bundle_milestones
),

completed as (
    -- The first completion on or after the start: an earlier one belongs to an earlier cycle.
    select
        milestones.milestone_id,
        min(completions.completed_date) as completed_date
    from milestones
    inner join completions
        on
            milestones.employee_id = completions.employee_id
            and milestones.course_id = completions.course_id
            and completions.completed_date >= milestones.start_date
    group by milestones.milestone_id
)

select
    milestones.milestone_id,
    milestones.milestone_source,
    milestones.employee_id,
    milestones.course_id,
    milestones.bundle_id,
    milestones.start_date,
    milestones.due_date,
    cast(date_trunc('week', milestones.due_date) as date) as due_week_start,
    completed.completed_date,
    coalesce(courses.is_compliance, false) as is_compliance,
    milestones.due_date < {{ as_of_date() }}
    and (completed.completed_date is null or completed.completed_date > milestones.due_date)
        as is_missed
from milestones
left join completed on milestones.milestone_id = completed.milestone_id
left join courses on milestones.course_id = courses.course_id
