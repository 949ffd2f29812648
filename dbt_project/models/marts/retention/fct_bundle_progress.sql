{#-
    Capability-bundle progress (docs/retention-and-cohorts.md#onboarding-bundles-and-completion),
    one row per employee and role start: the share of the role's bundle courses completed within
    bundle_window_days of the start, the completer flag, days to competency (100% of the bundle) and
    the post-training score delta.
-#}
with spells as (
    select * from {{ ref('int_role_spells') }}
),

employment as (
    select * from {{ ref('int_employment_spells') }}
),

bundles as (
    select * from {{ ref('capability_bundles') }}
),

completions as (
    select * from {{ ref('int_course_completions') }}
),

activity as (
    select * from {{ ref('int_learning_activity') }}
),

learning_start as (
    select * from {{ ref('int_lms_record_start') }}
),

bundle_courses as (
    -- A job_code's bundle is every course listed for it (one bundle per job_code is expected).
    select
        job_code,
        course_id,
        min(bundle_id) as bundle_id
    from bundles
    group by job_code, course_id
),

role_starts as (
    select
        spells.employee_id,
        spells.valid_from as role_start_date,
        spells.change_type,
        spells.job_code,
        spells.department,
        spells.manager_id,
        row_number() over (
            partition by spells.employee_id order by spells.valid_from
        ) = 1 as is_hire_role
    from spells
    -- Only people employed by the as-of date; starts after it have not happened yet.
    inner join employment on spells.employee_id = employment.employee_id
    where spells.is_role_start and spells.valid_from <= {{ as_of_date() }}
),

course_progress as (
    -- The first completion of each bundle course on or after the start: earlier ones belong to
    -- an earlier role (as in fct_milestones).
    select
        role_starts.employee_id,
        role_starts.role_start_date,
        bundle_courses.course_id,
        bundle_courses.bundle_id,
        min(completions.completed_date) as first_completed_date
    from role_starts
    inner join bundle_courses on role_starts.job_code = bundle_courses.job_code
    left join completions
        on
            role_starts.employee_id = completions.employee_id
            and bundle_courses.course_id = completions.course_id
            and completions.completed_date >= role_starts.role_start_date
            and completions.completed_date <= {{ as_of_date() }}
    group by all
),

score_windows as (
    -- Mean scaled score in the 30 days before and after each completed bundle course (the
    -- completion day itself is in neither); only once the 30 days after have passed.
    select
        course_progress.employee_id,
        course_progress.role_start_date,
        course_progress.course_id,
        -- In statement order: the same double to the last bit however the rows are stored
        -- (int_learning_activity is rebuilt a day at a time).
        {{ ordered_avg('activity.scaled_score', 'activity.statement_id') }} filter (
            where activity.event_date > course_progress.first_completed_date
        ) as score_after,
        {{ ordered_avg('activity.scaled_score', 'activity.statement_id') }} filter (
            where activity.event_date < course_progress.first_completed_date
        ) as score_before
    from course_progress
    inner join activity
        on
            course_progress.employee_id = activity.employee_id
            and activity.event_date between course_progress.first_completed_date - 30
            and course_progress.first_completed_date + 30
            and activity.scaled_score is not null
    where course_progress.first_completed_date + 30 <= {{ as_of_date() }}
    group by all
),

progress as (
    select
        course_progress.employee_id,
        course_progress.role_start_date,
        min(course_progress.bundle_id) as bundle_id,
        count(*) as bundle_courses,
        count(*) filter (
            where course_progress.first_completed_date
            <= course_progress.role_start_date + {{ var('bundle_window_days') }}
        ) as courses_completed_in_window,
        count(course_progress.first_completed_date) as courses_completed,
        case
            when count(course_progress.first_completed_date) = count(*)
                then max(course_progress.first_completed_date)
        end as competency_date,
        {{ ordered_avg(
            'score_windows.score_after - score_windows.score_before', 'score_windows.course_id'
        ) }} as post_training_score_delta
    from course_progress
    left join score_windows
        on
            course_progress.employee_id = score_windows.employee_id
            and course_progress.role_start_date = score_windows.role_start_date
            and course_progress.course_id = score_windows.course_id
    group by course_progress.employee_id, course_progress.role_start_date
),

measured as (
    select
        role_starts.*,
        progress.bundle_id,
        coalesce(progress.bundle_courses, 0) as bundle_courses,
        -- Completions are only visible from the first day of learning data on.
        coalesce(
            role_starts.role_start_date >= learning_start.first_day
            and progress.bundle_courses > 0,
            false
        ) as is_bundle_observable,
        role_starts.role_start_date + {{ var('bundle_window_days') }} <= {{ as_of_date() }}
            as is_window_complete,
        progress.courses_completed_in_window,
        progress.courses_completed,
        progress.courses_completed_in_window / progress.bundle_courses as completion_share,
        progress.competency_date,
        progress.post_training_score_delta
    from role_starts
    cross join learning_start
    left join progress
        on
            role_starts.employee_id = progress.employee_id
            and role_starts.role_start_date = progress.role_start_date
)

select
    employee_id,
    role_start_date,
    change_type,
    is_hire_role,
    job_code,
    department,
    manager_id,
    bundle_id,
    bundle_courses,
    is_bundle_observable,
    is_window_complete,
    case when is_bundle_observable then courses_completed_in_window end
        as courses_completed_in_window,
    case when is_bundle_observable then completion_share end as completion_share,
    -- Known true as soon as the threshold is reached, known false once the window has closed.
    case
        when not is_bundle_observable then null
        when round(completion_share, 9) >= {{ var('completion_threshold') }} then true
        when is_window_complete then false
    end as is_completer,
    case when is_bundle_observable then {{ days_between('competency_date', 'role_start_date') }} end
        as days_to_competency,
    case when is_bundle_observable then post_training_score_delta end
        as post_training_score_delta
from measured
