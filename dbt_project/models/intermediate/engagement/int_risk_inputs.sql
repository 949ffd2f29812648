{#-
    One row per employee: a fingerprint of everything the 3-tier rule reads for that employee
    (docs/intervention-tiers.md#signals), so that int_risk_tiers recomputes only employees whose
    inputs changed. The signals of an employee's weeks are a function of
    - their weekly measures, role and thresholds: int_engagement_weekly's measures_fingerprint,
      from which the walk (baseline, drops, streaks) is computed;
    - their milestones (int_milestones: due, completed, compliance);
    - their passed and failed attempts at compliance courses.
    A change to how any of these rows are computed changes the rows, and so the fingerprint; a
    change to the rule itself (int_risk_signals, int_risk_tiers) makes the run a full refresh
    (orchestration/defs/dbt/builds.py).
-#}
with engagement as (
    select distinct
        employee_id,
        measures_fingerprint
    from {{ ref('int_engagement_weekly') }}
),

milestones as (
    select
        milestones.employee_id,
        {{ rows_fingerprint('milestones', 'milestones.milestone_id') }} as milestones_fingerprint
    from {{ ref('int_milestones') }} as milestones
    group by milestones.employee_id
),

compliance_attempts as (
    select
        activity.employee_id,
        activity.course_id,
        activity.event_at,
        activity.outcome
    from {{ ref('int_learning_activity') }} as activity
    inner join {{ ref('stg_lms__courses') }} as courses
        on activity.course_id = courses.course_id
    where courses.is_compliance and activity.outcome in ('failed', 'passed')
),

attempts as (
    select
        compliance_attempts.employee_id,
        {{ rows_fingerprint(
            'compliance_attempts',
            'compliance_attempts.event_at, compliance_attempts.course_id, compliance_attempts.outcome'
        ) }} as attempts_fingerprint
    from compliance_attempts
    group by compliance_attempts.employee_id
)

select
    engagement.employee_id,
    md5(concat_ws(
        '|',
        engagement.measures_fingerprint,
        coalesce(milestones.milestones_fingerprint, ''),
        coalesce(attempts.attempts_fingerprint, '')
    )) as inputs_fingerprint
from engagement
left join milestones on engagement.employee_id = milestones.employee_id
left join attempts on engagement.employee_id = attempts.employee_id
