{#-
    The staging of xAPI statements, as CTEs over a CTE holding raw.lms_statements rows:
    stg_lms__statements applies it to the whole table, and int_learning_activity to the rows of
    the days it rebuilds. DuckDB does not push a filter below a view's projections, so the
    incremental model filters the raw rows first and stages only those (one rule, two scans).
-#}
{% macro stage_statements(source_cte) -%}
extracted as (
    select
        statement_id,
        stored_at,
        timestamp_at,
        coalesce(timestamp_at, stored_at) as event_at_utc,
        payload ->> '$.verb.id' as verb_id,
        coalesce(payload ->> '$.actor.objectType', 'Agent') as actor_object_type,
        payload ->> '$.actor.account.name' as actor_account_name,
        rtrim(payload ->> '$.actor.account.homePage', '/') as actor_account_homepage,
        lower(regexp_replace(trim(payload ->> '$.actor.mbox'), '^mailto:', '', 'i')) as actor_email,
        lower(trim(payload ->> '$.actor.mbox_sha1sum')) as actor_mbox_sha1sum,
        coalesce(payload ->> '$.object.objectType', 'Activity') as object_type,
        payload ->> '$.object.id' as object_id,
        -- xAPI 1.0.3 wants arrays here; older clients send a single object, which LRSs accept.
        list_concat(
            case json_type(payload, '$.context.contextActivities.parent')
                when 'ARRAY'
                    then json_extract_string(payload, '$.context.contextActivities.parent[*].id')
                when 'OBJECT'
                    then [payload ->> '$.context.contextActivities.parent.id']
                else []
            end,
            case json_type(payload, '$.context.contextActivities.grouping')
                when 'ARRAY'
                    then json_extract_string(payload, '$.context.contextActivities.grouping[*].id')
                when 'OBJECT'
                    then [payload ->> '$.context.contextActivities.grouping.id']
                else []
            end
        ) as context_activity_ids,
        try_cast(payload ->> '$.result.score.scaled' as double) as score_scaled,
        try_cast(payload ->> '$.result.score.raw' as double) as score_raw,
        try_cast(payload ->> '$.result.score.min' as double) as score_min,
        try_cast(payload ->> '$.result.score.max' as double) as score_max,
        try_cast(payload ->> '$.result.success' as boolean) as result_success,
        try_cast(payload ->> '$.result.completion' as boolean) as result_completion,
        payload ->> '$.result.duration' as result_duration,
        voids_statement_id,
        loaded_at,
        source_file,
        source_line
    from {{ source_cte }}
),

typed as (
    select
        *,
        {{ verb_name('verb_id') }} as verb,
        verb_id = 'http://adlnet.gov/expapi/verbs/voided'
        and object_type = 'StatementRef' as is_voiding,
        -- Indexed at load (the same rule), so finding every voided id reads no JSON.
        voids_statement_id as voided_statement_id
    from extracted
)
{%- endmacro %}
