{#- Each kept learning statement measured: who, what, when (company time zone) and how much. -#}
with statements as (
    select * from {{ ref("int_statements__resolved") }}
),

measured as (
    select
        statement_id,
        employee_id,
        actor_key,
        identity_method,
        course_id,
        object_id,
        verb_id,
        verb,
        {{ local_time('event_at_utc') }} as event_at,
        stored_at as stored_at_utc,
        -- Scores outside [0, 1] (legal in xAPI for scaled, possible for raw above max) are clamped.
        {{ clamp(
            "coalesce(score_scaled, case when score_max > score_min"
            " then (score_raw - score_min) / (score_max - score_min) end)",
            0.0, 1.0
        ) }} as scaled_score,
        {{ clamp(iso8601_duration_minutes('result_duration'), none, 240.0) }} as learning_minutes,
        verb in ('passed', 'failed', 'scored')
        or score_scaled is not null
        or score_raw is not null as is_assessment,
        verb in ('completed', 'passed') as is_completion,
        result_success,
        source_file,
        source_line
    from statements
)

select
    *,
    cast(event_at as date) as event_date,
    cast(date_trunc('week', event_at) as date) as week_start
from measured
