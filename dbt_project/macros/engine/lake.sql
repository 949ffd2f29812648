{#-
    The raw tables on Spark (docs/spark.md#the-lake): ingestion writes each raw table as Parquet
    under PIPELINE_LAKE_DIR/raw/<table> (lms_statements partitioned by event_date), and every dbt
    run on Spark registers them, so the sources read what the last load wrote. On DuckDB the
    sources are the warehouse's own raw tables and there is nothing to do.
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

{% macro spark__load_csv_rows(model, agate_table) -%}
    {#-
        Seeds on Spark, with empty cells as null. dbt-spark's own version binds values as
        parameters, and its `session` method renders an empty cell (None) as the text 'None'.
        Here each value is an escaped literal instead.
    -#}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set types = [] -%}
    {%- for col_name in agate_table.column_names -%}
        {%- do types.append(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0))) -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {%- for row in chunk %}
            ({% for value in row -%}
                {%- if value is none -%}
                    cast(null as {{ types[loop.index0] }})
                {%- else -%}
                    cast('{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}' as {{ types[loop.index0] }})
                {%- endif -%}
                {{- ', ' if not loop.last -}}
            {%- endfor %}){{ ',' if not loop.last }}
            {%- endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- do statements.append(sql) -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{%- endmacro %}
