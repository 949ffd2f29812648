{#-
    Where DuckDB's SQL and Spark SQL differ (docs/spark.md#one-project-two-engines): each
    difference is one macro here, dispatched on the adapter (default__ is DuckDB, spark__ is
    Spark), so the models are written once. Spark gets the same results; where DuckDB sums
    doubles in a fixed order so that a re-run gives the same bits, Spark's order is its own and
    results agree to about 1e-12.
-#}

{% macro days_between(later, earlier) -%}
    {{ return(adapter.dispatch('days_between')(later, earlier)) }}
{%- endmacro %}
{% macro default__days_between(later, earlier) %}({{ later }} - {{ earlier }}){% endmacro %}
{% macro spark__days_between(later, earlier) %}datediff({{ later }}, {{ earlier }}){% endmacro %}

{% macro json_text(column, path) -%}
    {#- The text at one JSON path. -#}
    {{ return(adapter.dispatch('json_text')(column, path)) }}
{%- endmacro %}
{% macro default__json_text(column, path) %}json_extract_string({{ column }}, '{{ path }}'){% endmacro %}
{% macro spark__json_text(column, path) %}get_json_object({{ column }}, '{{ path }}'){% endmacro %}

{% macro json_texts(column, paths) -%}
    {#- The text at each JSON path, as a list to read with list_item(); DuckDB parses the
        document once for all of them. -#}
    {{ return(adapter.dispatch('json_texts')(column, paths)) }}
{%- endmacro %}
{% macro default__json_texts(column, paths) -%}
    json_extract_string({{ column }}, [
        {%- for path in paths %}
        '{{ path }}'{{ ',' if not loop.last }}
        {%- endfor %}
    ])
{%- endmacro %}
{% macro spark__json_texts(column, paths) -%}
    array(
        {%- for path in paths %}
        get_json_object({{ column }}, '{{ path }}'){{ ',' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{% macro json_values(column, paths) -%}
    {#- The JSON value (objects and arrays as JSON) at each path, as a list. -#}
    {{ return(adapter.dispatch('json_values')(column, paths)) }}
{%- endmacro %}
{% macro default__json_values(column, paths) -%}
    json_extract({{ column }}, [{% for path in paths %}'{{ path }}'{{ ', ' if not loop.last }}{% endfor %}])
{%- endmacro %}
{% macro spark__json_values(column, paths) -%}
    {{ spark__json_texts(column, paths) }}
{%- endmacro %}

{% macro list_item(list, position) -%}
    {#- The position-th item (from 1) of a list. -#}
    {{ return(adapter.dispatch('list_item')(list, position)) }}
{%- endmacro %}
{% macro default__list_item(list, position) %}{{ list }}[{{ position }}]{% endmacro %}
{% macro spark__list_item(list, position) %}element_at({{ list }}, {{ position }}){% endmacro %}

{% macro json_ids(json_value) -%}
    {#- The `id` of each object of a JSON array, or of a single JSON object (xAPI 1.0.3 wants
        arrays; older clients send one object, which LRSs accept); an empty list otherwise. -#}
    {{ return(adapter.dispatch('json_ids')(json_value)) }}
{%- endmacro %}
{% macro default__json_ids(json_value) -%}
    case json_type({{ json_value }})
        when 'ARRAY' then json_extract_string({{ json_value }}, '$[*].id')
        when 'OBJECT' then [{{ json_value }} ->> '$.id']
        else []
    end
{%- endmacro %}
{% macro spark__json_ids(json_value) -%}
    {#- from_json reads a single object as an array of one. -#}
    coalesce(
        transform(from_json({{ json_value }}, 'array<struct<id:string>>'), activity -> activity.id),
        cast(array() as array<string>)
    )
{%- endmacro %}

{% macro list_concat(first, second) -%}
    {{ return(adapter.dispatch('list_concat')(first, second)) }}
{%- endmacro %}
{% macro default__list_concat(first, second) %}list_concat({{ first }}, {{ second }}){% endmacro %}
{% macro spark__list_concat(first, second) %}concat({{ first }}, {{ second }}){% endmacro %}

{% macro regex_groups(column, pattern, names) -%}
    {#- A struct of the pattern's capture groups by name; '' for a group that did not match. -#}
    {{ return(adapter.dispatch('regex_groups')(column, pattern, names)) }}
{%- endmacro %}
{% macro default__regex_groups(column, pattern, names) -%}
    regexp_extract({{ column }}, '{{ pattern }}', [{% for name in names %}'{{ name }}'{{ ', ' if not loop.last }}{% endfor %}])
{%- endmacro %}
{% macro spark__regex_groups(column, pattern, names) -%}
    named_struct(
        {%- for name in names %}
        '{{ name }}', regexp_extract({{ column }}, '{{ pattern }}', {{ loop.index }}){{ ',' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{% macro rtrim_chars(column, chars) -%}
    {{ return(adapter.dispatch('rtrim_chars')(column, chars)) }}
{%- endmacro %}
{% macro default__rtrim_chars(column, chars) %}rtrim({{ column }}, '{{ chars }}'){% endmacro %}
{% macro spark__rtrim_chars(column, chars) %}trim(trailing '{{ chars }}' from {{ column }}){% endmacro %}

{% macro utc_to_local(utc_column, timezone) -%}
    {#- A naive UTC timestamp as naive wall-clock time in a time zone. -#}
    {{ return(adapter.dispatch('utc_to_local')(utc_column, timezone)) }}
{%- endmacro %}
{% macro default__utc_to_local(utc_column, timezone) -%}
    timezone('{{ timezone }}', timezone('UTC', {{ utc_column }}))
{%- endmacro %}
{% macro spark__utc_to_local(utc_column, timezone) -%}
    cast(from_utc_timestamp({{ utc_column }}, '{{ timezone }}') as timestamp_ntz)
{%- endmacro %}

{% macro parse_utc_timestamp(text) -%}
    {#- An ISO 8601 text with an offset as a naive UTC timestamp; null when not a timestamp. -#}
    {{ return(adapter.dispatch('parse_utc_timestamp')(text)) }}
{%- endmacro %}
{% macro default__parse_utc_timestamp(text) -%}
    timezone('UTC', try_cast({{ text }} as timestamptz))
{%- endmacro %}
{% macro spark__parse_utc_timestamp(text) -%}
    {#- The session time zone is UTC (profiles.yml). -#}
    cast(try_cast({{ text }} as timestamp_ltz) as timestamp_ntz)
{%- endmacro %}

{% macro last_non_null(expression) -%}
    {#- The window function: the last non-null value in the frame. -#}
    {{ return(adapter.dispatch('last_non_null')(expression)) }}
{%- endmacro %}
{% macro default__last_non_null(expression) %}last_value({{ expression }} ignore nulls){% endmacro %}
{% macro spark__last_non_null(expression) %}last_value({{ expression }}, true){% endmacro %}

{% macro running_product(expression, window) -%}
    {#- The product of the expression over a named window (Kaplan-Meier survival). -#}
    {{ return(adapter.dispatch('running_product')(expression, window)) }}
{%- endmacro %}
{% macro default__running_product(expression, window) %}product({{ expression }}) over {{ window }}{% endmacro %}
{% macro spark__running_product(expression, window) -%}
    aggregate(collect_list({{ expression }}) over {{ window }}, cast(1 as double), (product, factor) -> product * factor)
{%- endmacro %}

{% macro ordered_avg(expression, order_by) -%}
    {#- avg() over doubles in a fixed order, so that DuckDB gives the same bits run after run. -#}
    {{ return(adapter.dispatch('ordered_avg')(expression, order_by)) }}
{%- endmacro %}
{% macro default__ordered_avg(expression, order_by) %}avg({{ expression }} order by {{ order_by }}){% endmacro %}
{% macro spark__ordered_avg(expression, order_by) %}avg({{ expression }}){% endmacro %}

{% macro ordered_sum(expression, order_by) -%}
    {{ return(adapter.dispatch('ordered_sum')(expression, order_by)) }}
{%- endmacro %}
{% macro default__ordered_sum(expression, order_by) %}sum({{ expression }} order by {{ order_by }}){% endmacro %}
{% macro spark__ordered_sum(expression, order_by) %}sum({{ expression }}){% endmacro %}

{% macro ordered_string_agg(expression, separator, order_by, distinct=false) -%}
    {{ return(adapter.dispatch('ordered_string_agg')(expression, separator, order_by, distinct)) }}
{%- endmacro %}
{% macro default__ordered_string_agg(expression, separator, order_by, distinct) -%}
    string_agg({{ 'distinct ' if distinct }}{{ expression }}, {{ separator }} order by {{ order_by }})
{%- endmacro %}
{% macro spark__ordered_string_agg(expression, separator, order_by, distinct) -%}
    string_agg({{ 'distinct ' if distinct }}{{ expression }}, {{ separator }}) within group (order by {{ order_by }})
{%- endmacro %}

{% macro row_text(relation_alias) -%}
    {#- A whole row as text, for fingerprints: equal rows give equal texts. -#}
    {{ return(adapter.dispatch('row_text')(relation_alias)) }}
{%- endmacro %}
{% macro default__row_text(relation_alias) %}cast({{ relation_alias }} as varchar){% endmacro %}
{% macro spark__row_text(relation_alias) %}to_json(struct({{ relation_alias }}.*)){% endmacro %}

{% macro rows_fingerprint(relation_alias, order_by) -%}
    {#- With group by: a fingerprint of the group's rows, equal for equal rows in any order. On
        DuckDB the sum of a 64-bit hash of each row, and the count: no text is built (the md5 of
        the rows' text took 5 s of a day's run at 10M statements). Spark rebuilds these models
        whole and keeps the md5 of the rows' text, in `order_by` order. -#}
    {{ return(adapter.dispatch('rows_fingerprint')(relation_alias, order_by)) }}
{%- endmacro %}
{% macro default__rows_fingerprint(relation_alias, order_by) -%}
    cast(sum(hash({{ relation_alias }})) as varchar) || ':' || cast(count(*) as varchar)
{%- endmacro %}
{% macro spark__rows_fingerprint(relation_alias, order_by) -%}
    md5({{ ordered_string_agg(row_text(relation_alias), "'|'", order_by) }})
{%- endmacro %}

{% macro date_series(start, stop, step='interval 1 day') -%}
    {#- In a select list: one row per date from start to stop. -#}
    {{ return(adapter.dispatch('date_series')(start, stop, step)) }}
{%- endmacro %}
{% macro default__date_series(start, stop, step) -%}
    cast(unnest(generate_series({{ start }}, {{ stop }}, {{ step }})) as date)
{%- endmacro %}
{% macro spark__date_series(start, stop, step) -%}
    explode(sequence({{ start }}, {{ stop }}, {{ step }}))
{%- endmacro %}

{% macro integer_series(start, stop) -%}
    {#- In a select list: one row per integer from start to stop. -#}
    {{ return(adapter.dispatch('integer_series')(start, stop)) }}
{%- endmacro %}
{% macro default__integer_series(start, stop) -%}
    cast(unnest(generate_series({{ start }}, {{ stop }})) as integer)
{%- endmacro %}
{% macro spark__integer_series(start, stop) -%}
    explode(sequence(cast({{ start }} as integer), cast({{ stop }} as integer)))
{%- endmacro %}

{% macro unnest_list(list) -%}
    {#- In a select list: one row per item of a list. -#}
    {{ return(adapter.dispatch('unnest_list')(list)) }}
{%- endmacro %}
{% macro default__unnest_list(list) %}unnest({{ list }}){% endmacro %}
{% macro spark__unnest_list(list) %}explode({{ list }}){% endmacro %}

{% macro unnest_with_position(list, value_name, position_name) -%}
    {#- In a select list: one row per item with its position in the list (ascending). -#}
    {{ return(adapter.dispatch('unnest_with_position')(list, value_name, position_name)) }}
{%- endmacro %}
{% macro default__unnest_with_position(list, value_name, position_name) -%}
    unnest({{ list }}) as {{ value_name }},
    generate_subscripts({{ list }}, 1) as {{ position_name }}
{%- endmacro %}
{% macro spark__unnest_with_position(list, value_name, position_name) -%}
    posexplode({{ list }}) as ({{ position_name }}, {{ value_name }})
{%- endmacro %}

{% macro split_text(text, separator) -%}
    {{ return(adapter.dispatch('split_text')(text, separator)) }}
{%- endmacro %}
{% macro default__split_text(text, separator) %}string_split({{ text }}, '{{ separator }}'){% endmacro %}
{% macro spark__split_text(text, separator) %}split({{ text }}, '{{ separator }}'){% endmacro %}

{% macro list_of(items) -%}
    {#- A list literal of SQL expressions. -#}
    {{ return(adapter.dispatch('list_of')(items)) }}
{%- endmacro %}
{% macro default__list_of(items) %}[{{ items | join(', ') }}]{% endmacro %}
{% macro spark__list_of(items) %}array({{ items | join(', ') }}){% endmacro %}

{% macro select_all_but(relation, columns) -%}
    {#- Every column of a relation except some: DuckDB's `* exclude`; Spark has no such
        clause, so the columns are listed from the relation. -#}
    {{ return(adapter.dispatch('select_all_but')(relation, columns)) }}
{%- endmacro %}
{% macro default__select_all_but(relation, columns) -%}
    * exclude ({{ columns | join(', ') }})
{%- endmacro %}
{% macro spark__select_all_but(relation, columns) -%}
    {%- if execute -%}
        {%- set kept = [] -%}
        {%- for column in adapter.get_columns_in_relation(relation) if column.name not in columns -%}
            {%- do kept.append(column.name) -%}
        {%- endfor -%}
        {{ kept | join(', ') }}
    {%- else -%}
        *
    {%- endif -%}
{%- endmacro %}

{% macro materialized_by_employee() -%}
    {#- The materialization of the models incremental by employee (int_engagement_weekly,
        int_risk_tiers): delete+insert keyed on employee_id on DuckDB. Spark's Parquet tables have
        no row-level delete, and Spark's merge needs Delta Lake or Iceberg, so on Spark they are
        rebuilt whole (docs/spark.md#incremental-models). -#}
    {{ return(adapter.dispatch('materialized_by_employee')()) }}
{%- endmacro %}
{% macro default__materialized_by_employee() %}{{ return('incremental') }}{% endmacro %}
{% macro spark__materialized_by_employee() %}{{ return('table') }}{% endmacro %}

{#-
    The models incremental by day or week (int_learning_activity, int_activity_weekly,
    int_engagement_trends) replace whole periods (docs/spark.md#incremental-models). On DuckDB a
    pre-hook deletes the periods' rows and delete+insert writes them again. On Spark each period
    is a partition of the table, column `lake_partition`: the pre-hook drops the partitions and
    insert_overwrite writes them again. `lake_partition` exists on Spark only; it names the
    partition's folder and is not in its Parquet files, so the warehouse's views over those
    files (orchestration/defs/dbt/engines.py) show the model's own columns, in their own order.
-#}
{% macro period_strategy() -%}
    {{ return(adapter.dispatch('period_strategy')()) }}
{%- endmacro %}
{% macro default__period_strategy() %}{{ return('delete+insert') }}{% endmacro %}
{% macro spark__period_strategy() %}{{ return('insert_overwrite') }}{% endmacro %}

{% macro period_partitions() -%}
    {{ return(adapter.dispatch('period_partitions')()) }}
{%- endmacro %}
{% macro default__period_partitions() %}{{ return(none) }}{% endmacro %}
{% macro spark__period_partitions() %}{{ return(['lake_partition']) }}{% endmacro %}

{% macro lake_partition(period) -%}
    {#- The last item of a select list: `, <period> as lake_partition` on Spark, nothing on DuckDB. -#}
    {{- adapter.dispatch('lake_partition')(period) -}}
{%- endmacro %}
{% macro default__lake_partition(period) %}{% endmacro %}
{% macro spark__lake_partition(period) %}, {{ period }} as lake_partition{% endmacro %}

{% macro delete_periods(column, periods) -%}
    {#- Remove the model's rows of these periods (ISO date strings of `column`); none when empty. -#}
    {{- adapter.dispatch('delete_periods')(column, periods) -}}
{%- endmacro %}
{% macro default__delete_periods(column, periods) -%}
    delete from {{ this }} where {{ column }} in ({{ date_literals(periods) }})
{%- endmacro %}
{% macro spark__delete_periods(column, periods) -%}
    {%- if periods -%}
        alter table {{ this }} drop if exists
        {%- for period in periods %}
            partition (lake_partition = '{{ period }}'){{ ',' if not loop.last }}
        {%- endfor %}
    {%- endif -%}
{%- endmacro %}

{% macro delete_periods_from(column, first) -%}
    {#- Remove the model's rows from period `first` (an ISO date string) on, or every row when
        `first` is none. -#}
    {{- adapter.dispatch('delete_periods_from')(column, first) -}}
{%- endmacro %}
{% macro default__delete_periods_from(column, first) -%}
    delete from {{ this }}
    {%- if first %} where {{ column }} >= date '{{ first }}'{% endif %}
{%- endmacro %}
{% macro spark__delete_periods_from(column, first) -%}
    {%- set periods = [] -%}
    {%- for period in stored_periods() if first is none or period >= first -%}
        {%- do periods.append(period) -%}
    {%- endfor -%}
    {{- spark__delete_periods(column, periods) -}}
{%- endmacro %}

{% macro stored_periods() -%}
    {#- Spark: the periods the model holds, from its partitions, as ISO date strings. -#}
    {%- set periods = [] -%}
    {%- for row in run_query('show partitions ' ~ this) -%}
        {%- do periods.append(row[0].split('=', 1)[1]) -%}
    {%- endfor -%}
    {{ return(periods | sort) }}
{%- endmacro %}
