{#-
    The queue of event days (company time zone) whose statement-derived rows must be rebuilt,
    appended to by every run, so the incremental models downstream rebuild exactly what changed:
      - `window`: the run's days (dbt vars min_date, max_date, from the run config of the
        Dagster dbt step; the last complete day by default), widened by `lookback_days` for
        statements that arrive a few days late;
      - `new_statements`: the days of every statement loaded since the previous run, however
        late, including a first load of the whole history;
      - `voided`: the days of statements that newly loaded voiding statements void;
      - `displaced`: the days of copies set aside since the previous run (a kept statement
        replaced by an earlier-`stored` copy leaves its old day).
    A day queued by a run that stopped half-way stays queued for the models that did not finish.
-#}
{{ config(materialized='incremental', incremental_strategy='append') }}

with statements as (
    select * from {{ ref('stg_lms__statements') }}
),

duplicates as (
    select * from {{ ref('stg_lms__statement_duplicates') }}
),

loaded_through as (
    select
        greatest(
            (select max(loaded_at) from statements),
            (select max(recorded_at) from duplicates)
        ) as loaded_through
),

previously_loaded_through as (
    {% if is_incremental() -%}
        select coalesce(max(loaded_through), timestamp '1970-01-01') as loaded_through
        from {{ this }}
    {%- else -%}
        select timestamp '1970-01-01' as loaded_through
    {%- endif %}
),

new_statements as (
    select
        statement_id,
        event_at_utc,
        voided_statement_id
    from statements
    where loaded_at > (select previously_loaded_through.loaded_through from previously_loaded_through)
),

queued as (
    {%- if var('min_date', none) and var('max_date', none) %}
        select
            {{ date_series(
                "date '" ~ var("min_date") ~ "' - " ~ var('lookback_days'),
                "date '" ~ var("max_date") ~ "'"
            ) }} as event_date,
            'window' as reason
        union all
    {%- endif %}
    select
        cast({{ local_time('event_at_utc') }} as date) as event_date,
        'new_statements' as reason
    from new_statements
    union all
    select
        cast({{ local_time('statements.event_at_utc') }} as date) as event_date,
        'voided' as reason
    from statements
    where
        statements.statement_id in (
            select new_statements.voided_statement_id from new_statements
            where new_statements.voided_statement_id is not null
        )
    union all
    select
        cast({{ local_time('event_at_utc') }} as date) as event_date,
        'displaced' as reason
    from duplicates
    where recorded_at > (select previously_loaded_through.loaded_through from previously_loaded_through)
)

select
    queued.event_date,
    array_sort(array_agg(distinct queued.reason)) as reasons,
    {{ run_queued_at() }} as queued_at,
    any_value(loaded_through.loaded_through) as loaded_through
from queued
cross join loaded_through
group by queued.event_date
