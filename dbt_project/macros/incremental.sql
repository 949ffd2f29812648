{#-
    Incremental builds by event day. `int_statement_rebuild_days` queues the event days a run
    must rebuild; each incremental model rebuilds every day (or ISO week) queued after its own
    last build. The queue is read while the model's SQL and its pre-hook are rendered, so before the
    model changes anything, and rendered as date literals, so DuckDB filters the statement scan
    instead of joining against the queue.
-#}

{% macro queued_since_last_build(grain='day') -%}
    {#- The days (grain='day') or week starts (grain='week') to rebuild, as ISO date strings;
        none on a first or full-refresh build, which rebuilds everything. -#}
    {%- if not (execute and is_incremental()) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set period = "event_date" if grain == "day" else "cast(date_trunc('week', event_date) as date)" -%}
    {%- set sql -%}
        select distinct cast({{ period }} as string) as period
        from {{ ref('int_statement_rebuild_days') }}
        where queued_at > (
            select coalesce(max(queued_at), timestamp '1970-01-01') from {{ this }}
        )
        order by period
    {%- endset -%}
    {{ return(run_query(sql).columns[0].values() | list) }}
{%- endmacro %}

{% macro date_literals(days, pad_days=0) -%}
    {#- `date '...'` literals for an IN list, widened by pad_days either side; `null` when empty
        (so `x in (null)` selects nothing). -#}
    {%- set literals = [] -%}
    {%- for day in days -%}
        {%- set parsed = modules.datetime.date.fromisoformat(day) -%}
        {%- for offset in range(-pad_days, pad_days + 1) -%}
            {%- set literal = "date '" ~ (parsed + modules.datetime.timedelta(days=offset)).isoformat() ~ "'" -%}
            {%- if literal not in literals -%}{%- do literals.append(literal) -%}{%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{- literals | join(', ') if literals else 'null' -}}
{%- endmacro %}

{% macro statements_between(relation, days, pad_days=0) -%}
    {#- The raw statements whose timestamp (else stored time) falls between the first and the last
        of `days` (ISO dates, sorted), widened by pad_days: one range per timestamp column, which
        DuckDB pushes into the scan, so the row groups of other days are skipped with their JSON
        payloads. Filtering on coalesce(timestamp_at, stored_at) instead read every payload of
        the history: 8.7 s of a day's run at 10M statements, against 0.1 s. -#}
    {%- if days -%}
        {%- set first = modules.datetime.date.fromisoformat(days[0]) - modules.datetime.timedelta(days=pad_days) -%}
        {%- set after = modules.datetime.date.fromisoformat(days[-1]) + modules.datetime.timedelta(days=pad_days + 1) -%}
        select * from {{ relation }}
        where
            timestamp_at >= timestamp '{{ first }}' and timestamp_at < timestamp '{{ after }}'
            {{- lake_days_between(first, after) }}
        union all
        select * from {{ relation }}
        where
            timestamp_at is null
            and stored_at >= timestamp '{{ first }}' and stored_at < timestamp '{{ after }}'
            {{- lake_days_between(first, after) }}
    {%- else -%}
        select * from {{ relation }} where false
    {%- endif -%}
{%- endmacro %}

{% macro delete_queued(column, grain='day') -%}
    {#- A pre-hook: clear every queued period first, so a period that is now empty (all of its
        statements voided) does not keep its old rows. -#}
    {%- if is_incremental() -%}
        {{ delete_periods(column, queued_since_last_build(grain)) }}
    {%- endif -%}
{%- endmacro %}

{% macro run_queued_at() -%}
    {#- The dbt invocation's start time: one queue entry per run, ordered across runs. -#}
    {%- if run_started_at is defined %}
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
    {%- else %}
        {#- Outside dbt (sqlfluff's templater) there is no invocation. -#}
        current_timestamp
    {%- endif %}
{%- endmacro %}

{% macro stored_fingerprints(fingerprint) -%}
    {#- For the models that recompute whole employees whose inputs changed (int_engagement_weekly,
        int_risk_tiers): each employee's fingerprint of the inputs their stored rows were computed
        from; no rows on a first or full-refresh build. -#}
    {%- if is_incremental() -%}
        select distinct
            employee_id,
            {{ fingerprint }}
        from {{ this }}
    {%- else -%}
        select
            cast(null as string) as employee_id,
            cast(null as string) as {{ fingerprint }}
        where false
    {%- endif -%}
{%- endmacro %}

{% macro trend_weeks_from() -%}
    {#- The first week int_engagement_trends rebuilds, as an ISO date string: the week of the
        earliest day queued since its last build, or the first week after the latest it holds
        (weeks completed since, with or without statements), whichever is earlier. None (every
        week) on a first or full build, when it holds nothing, and unless the dbt step vouches
        that only statements changed since the last build (var only_queued_weeks). -#}
    {%- if not (execute and is_incremental()) or not var('only_queued_weeks') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set after_latest = run_query(
        "select cast(max(week_start) + 7 as string) from " ~ this
    ).columns[0].values()[0] -%}
    {%- if after_latest is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return((queued_since_last_build('week') + [after_latest]) | min) }}
{%- endmacro %}

{% macro delete_trend_weeks() -%}
    {#- A pre-hook: clear every week from the first one rebuilt, so a week left without rows (the
        as-of date moved back) does not keep its old cells. -#}
    {%- if is_incremental() -%}
        {{ delete_periods_from('week_start', trend_weeks_from()) }}
    {%- endif -%}
{%- endmacro %}
