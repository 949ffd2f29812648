{#-
    The staging of xAPI statements, as CTEs over a CTE holding raw.lms_statements rows:
    stg_lms__statements applies it to the whole table, and int_learning_activity to the rows of
    the days it rebuilds. DuckDB does not push a filter below a view's projections, so the
    incremental model filters the raw rows first and stages only those (one rule, two scans).
-#}
{% macro stage_statements(source_cte) -%}
parsed as (
    -- Each payload is parsed once for all the paths read below (one `->>` per path would
    -- parse the whole statement again for each of them).
    select
        *,
        {{ json_texts('payload', [
            '$.verb.id',
            '$.actor.objectType',
            '$.actor.account.name',
            '$.actor.account.homePage',
            '$.actor.mbox',
            '$.actor.mbox_sha1sum',
            '$.object.objectType',
            '$.object.id',
            '$.result.score.scaled',
            '$.result.score.raw',
            '$.result.score.min',
            '$.result.score.max',
            '$.result.success',
            '$.result.completion',
            '$.result.duration'
        ]) }} as fields,
        {{ json_values('payload', [
            '$.context.contextActivities.parent', '$.context.contextActivities.grouping'
        ]) }} as context_activities
    from {{ source_cte }}
),

extracted as (
    select
        statement_id,
        stored_at,
        timestamp_at,
        coalesce(timestamp_at, stored_at) as event_at_utc,
        {{ list_item('fields', 1) }} as verb_id,
        coalesce({{ list_item('fields', 2) }}, 'Agent') as actor_object_type,
        {{ list_item('fields', 3) }} as actor_account_name,
        {{ rtrim_chars(list_item('fields', 4), '/') }} as actor_account_homepage,
        lower(regexp_replace(trim({{ list_item('fields', 5) }}), '(?i)^mailto:', '')) as actor_email,
        lower(trim({{ list_item('fields', 6) }})) as actor_mbox_sha1sum,
        coalesce({{ list_item('fields', 7) }}, 'Activity') as object_type,
        {{ list_item('fields', 8) }} as object_id,
        -- xAPI 1.0.3 wants arrays here; older clients send a single object, which LRSs accept.
        {{ list_concat(
            json_ids(list_item('context_activities', 1)),
            json_ids(list_item('context_activities', 2))
        ) }} as context_activity_ids,
        try_cast({{ list_item('fields', 9) }} as double) as score_scaled,
        try_cast({{ list_item('fields', 10) }} as double) as score_raw,
        try_cast({{ list_item('fields', 11) }} as double) as score_min,
        try_cast({{ list_item('fields', 12) }} as double) as score_max,
        try_cast({{ list_item('fields', 13) }} as boolean) as result_success,
        try_cast({{ list_item('fields', 14) }} as boolean) as result_completion,
        {{ list_item('fields', 15) }} as result_duration,
        {{ iso8601_duration_parts(list_item('fields', 15)) }} as result_duration_parts,
        voids_statement_id,
        loaded_at,
        source_file,
        source_line
    from parsed
),

typed as (
    select
        *,
        {{ verb_name('verb_id') }} as verb,
        {{ iso8601_duration_minutes('result_duration_parts', 'result_duration') }}
            as result_duration_minutes,
        verb_id = 'http://adlnet.gov/expapi/verbs/voided'
        and object_type = 'StatementRef' as is_voiding,
        -- Indexed at load (the same rule), so finding every voided id reads no JSON.
        voids_statement_id as voided_statement_id
    from extracted
)
{%- endmacro %}
