{#- Parsing helpers for values delivered as text in the extracts. -#}

{% macro to_boolean(column) -%}
    case
        when lower(trim({{ column }})) in ('true', 't', '1', 'yes', 'y') then true
        when lower(trim({{ column }})) in ('false', 'f', '0', 'no', 'n') then false
    end
{%- endmacro %}

{% macro to_date(column) -%}
    {#- Ingestion already quarantined values that are not ISO dates; datetimes keep their date. -#}
    try_cast(left(trim({{ column }}), 10) as date)
{%- endmacro %}

{% macro iso8601_duration_parts(column) -%}
    {#- xAPI result.duration (e.g. PT1H30M5S) split into its parts by one regex. A text that is
        not a duration leaves every part empty. -#}
    {{ regex_groups(
        column,
        '^P(?:([0-9.]+)Y)?(?:([0-9.]+)M)?(?:([0-9.]+)W)?(?:([0-9.]+)D)?(?:T(?:([0-9.]+)H)?(?:([0-9.]+)M)?(?:([0-9.]+)S)?)?$',
        ['y', 'mo', 'w', 'd', 'h', 'mi', 's']
    ) }}
{%- endmacro %}

{% macro iso8601_duration_minutes(parts, column) -%}
    {#- Minutes from iso8601_duration_parts; years and months count as 365 and 30 days. Null
        unless the text was a duration with at least one part and no dangling `T`. -#}
    case when concat_ws('', {{ parts }}.y, {{ parts }}.mo, {{ parts }}.w, {{ parts }}.d,
            {{ parts }}.h, {{ parts }}.mi, {{ parts }}.s) <> ''
        and right({{ column }}, 1) <> 'T' then
        coalesce(try_cast(nullif({{ parts }}.y, '') as double), 0) * 525600
        + coalesce(try_cast(nullif({{ parts }}.mo, '') as double), 0) * 43200
        + coalesce(try_cast(nullif({{ parts }}.w, '') as double), 0) * 10080
        + coalesce(try_cast(nullif({{ parts }}.d, '') as double), 0) * 1440
        + coalesce(try_cast(nullif({{ parts }}.h, '') as double), 0) * 60
        + coalesce(try_cast(nullif({{ parts }}.mi, '') as double), 0)
        + coalesce(try_cast(nullif({{ parts }}.s, '') as double), 0) / 60.0
    end
{%- endmacro %}

{% macro verb_name(column) -%}
    {#- The last segment of a verb IRI: http://adlnet.gov/expapi/verbs/passed -> passed. -#}
    lower(regexp_extract({{ column }}, '([^/#]+)/?$', 1))
{%- endmacro %}

{% macro local_time(utc_column) -%}
    {#- A naive UTC timestamp shown as wall-clock time in the company time zone. -#}
    {{ utc_to_local(utc_column, var("timezone")) }}
{%- endmacro %}

{% macro as_of_date() -%}
    {%- if var('as_of') -%}date '{{ var("as_of") }}'{%- else -%}current_date{%- endif -%}
{%- endmacro %}

{% macro clamp(expression, low, high) -%}
    {#- Null stays null: DuckDB's least() and greatest() would skip a null argument instead. -#}
    case
        when ({{ expression }}) is null then null
        {%- if low is not none %}
        when ({{ expression }}) < {{ low }} then {{ low }}
        {%- endif %}
        {%- if high is not none %}
        when ({{ expression }}) > {{ high }} then {{ high }}
        {%- endif %}
        else ({{ expression }})
    end
{%- endmacro %}
