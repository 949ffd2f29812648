{#-
    Weekly learning engagement, one row per employee per complete ISO week employed
    (docs/engagement.md#employee-weeks).

    The baseline is the employee's normal and a drop does not lower it: it walks week by week,
    exactly as the pseudo-code of docs/engagement.md#baseline does,
        if the previous week was a drop week: baseline = the previous week's baseline
        else: baseline = mean(activity of up to 4 previous weeks employed), null if fewer than 2
        drop = baseline >= min_baseline_activity and activity < (1 - activity_drop_pct) * baseline
        drop_streak = previous drop_streak + 1 if drop else 0
    which needs a recursive CTE: each week's baseline depends on the previous week's drop.

    Incremental by employee: an employee's walk is a function of their rows of
    int_engagement_measures alone (measures, role and thresholds), so it is recomputed, whole,
    only for employees whose rows changed since the last build, found by a fingerprint of those
    rows kept beside them (`measures_fingerprint`). A late statement, an HRIS change or a new
    complete week changes the rows it touches and no others; on the day a week completes that is
    everyone. A change to this SQL, the macros or a model upstream makes the run a full refresh
    (orchestration/defs/dbt/builds.py), so stored walks never outlive the rule that made them.
-#}
{{ config(
    materialized=materialized_by_employee(),
    incremental_strategy='delete+insert',
    unique_key='employee_id',
    on_schema_change='fail',
    meta={'finds_changed_rows': true},
    pre_hook="{% if is_incremental() %}delete from {{ this }} where employee_id not in (select employee_id from {{ ref('int_engagement_measures') }}){% endif %}"
) }}

with recursive all_weeks as (
    select * from {{ ref('int_engagement_measures') }}
),

fingerprints as (
    select
        employee_id,
        {{ rows_fingerprint('all_weeks', 'week_index') }} as measures_fingerprint
    from all_weeks
    group by employee_id
),

stored as (
    -- The fingerprints the stored walks were computed from (none on a first or full build).
    {{ stored_fingerprints('measures_fingerprint') }}
),

changed as (
    select fingerprints.*
    from fingerprints
    left join stored on fingerprints.employee_id = stored.employee_id
    where stored.measures_fingerprint is distinct from fingerprints.measures_fingerprint
),

weekly as (
    select * from all_weeks
    where employee_id in (select changed.employee_id from changed)
),

measures as (
    select
        *,
        -- The previous 4 weeks employed; the walk decides whether the baseline uses them.
        avg(activity_count) over previous_four as trailing_avg_activity,
        count(*) over previous_four as trailing_weeks,
        avg(avg_scaled_score) over previous_four as baseline_score
    from weekly
    window previous_four as (
        partition by employee_id order by week_index rows between 4 preceding and 1 preceding
    )
),

walk as (
    -- The first week employed has no previous weeks: no baseline, so no drop.
    select
        employee_id,
        week_index,
        cast(null as double) as baseline_activity,
        false as is_drop,
        0 as drop_streak
    from measures
    where week_index = 1

    union all

    select
        employee_id,
        week_index,
        baseline_activity,
        {{ is_drop('baseline_activity') }} as is_drop,
        case when {{ is_drop('baseline_activity') }} then previous_streak + 1 else 0 end
            as drop_streak
    from (
        select
            this_week.*,
            previous_week.drop_streak as previous_streak,
            case
                when previous_week.is_drop then previous_week.baseline_activity
                when this_week.trailing_weeks >= 2 then this_week.trailing_avg_activity
            end as baseline_activity
        from walk as previous_week
        inner join measures as this_week
            on
                previous_week.employee_id = this_week.employee_id
                and this_week.week_index = previous_week.week_index + 1
    ) as next_week
)

select
    measures.employee_id,
    measures.week_start,
    measures.week_end,
    measures.week_index,
    measures.job_code,
    measures.job_family,
    measures.department,
    measures.manager_id,
    measures.activity_count,
    measures.active_days,
    measures.learning_minutes,
    measures.completions,
    measures.assessment_attempts,
    measures.avg_scaled_score,
    walk.baseline_activity,
    case
        when walk.baseline_activity > 0
            then round(measures.activity_count / walk.baseline_activity - 1, 6)
    end as activity_change_pct,
    measures.baseline_score,
    walk.is_drop,
    walk.drop_streak,
    changed.measures_fingerprint
from measures
inner join walk
    on measures.employee_id = walk.employee_id and measures.week_index = walk.week_index
inner join changed on measures.employee_id = changed.employee_id
