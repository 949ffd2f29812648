{#-
    The raw tables on Spark (docs/spark.md#the-lake): ingestion writes each raw table as Parquet
    under PIPELINE_LAKE_DIR/raw/<table> (lms_statements partitioned by event_date_utc), and
    every dbt run on Spark registers them, so the sources read what the last load wrote. On
    DuckDB the sources are the warehouse's own raw tables and there is nothing to do.
-#}

{% macro register_lake_sources() -%}
    {{ return(adapter.dispatch('register_lake_sources')()) }}
{%- endmacro %}

{% macro default__register_lake_sources() -%}
    select 1
{%- endmacro %}

{% macro spark__register_lake_sources() -%}
    {%- if execute -%}
        {%- do run_query('create schema if not exists raw') -%}
        {%- for source in graph.sources.values() if source.source_name == 'raw' -%}
            {%- set location = var('lake_dir') ~ '/raw/' ~ source.name -%}
            {#- External tables: dropping one leaves its files; re-creating it picks up new
                columns and partitions. -#}
            {%- do run_query('drop table if exists raw.' ~ source.name) -%}
            {%- do run_query("create table raw." ~ source.name ~ " using parquet location '" ~ location ~ "'") -%}
            {%- if source.meta.get('partitioned_by') -%}
                {%- do run_query('msck repair table raw.' ~ source.name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}

{% macro lake_days_between(first, after) -%}
    {#- Spark: the same range of UTC days on the statements' partition column, `and`-ed to the
        timestamp range of statements_between, so a day's rebuild lists and reads the files of
        its own days only. Nothing on DuckDB, whose raw table has no such column. -#}
    {{- adapter.dispatch('lake_days_between')(first, after) -}}
{%- endmacro %}
{% macro default__lake_days_between(first, after) %}{% endmacro %}
{% macro spark__lake_days_between(first, after) %}
            and event_date_utc >= date '{{ first }}' and event_date_utc < date '{{ after }}'
{%- endmacro %}
