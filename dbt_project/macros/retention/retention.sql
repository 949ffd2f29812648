{#-
    Shared definitions for the retention models (docs/retention-and-cohorts.md): tenure bands,
    hire quarters, KM bounds.
-#}

{% macro days_per_month() -%}
    {#- An average Gregorian month (365.25 / 12): tenure months and bands are counted in these. -#}
    30.4375
{%- endmacro %}

{% macro tenure_band(tenure_days) -%}
    {#- Tenure in days into its band. -#}
    {%- set edges = tenure_band_edges() %}
    case
        {%- for band, _ in edges[:-1] %}
        when {{ tenure_days }} < {{ edges[loop.index][1] }} * {{ days_per_month() }} then '{{ band }}'
        {%- endfor %}
        else '{{ edges[-1][0] }}'
    end
{%- endmacro %}

{% macro tenure_band_days() -%}
    {#-
        The bands as rows of whole tenure days: tenure_band(t) = band exactly when t lies in
        first_tenure_day .. last_tenure_day (null: no end), for every whole t >= 0.
    -#}
    {%- set edges = tenure_band_edges() %}
    select * from (values
        {%- for band, start_months in edges %}
        (
            '{{ band }}',
            cast(ceil({{ start_months }} * {{ days_per_month() }}) as integer),
            {%- if loop.last %}
            cast(null as integer)
            {%- else %}
            cast(ceil({{ edges[loop.index][1] }} * {{ days_per_month() }}) as integer) - 1
            {%- endif %}
        ){{ ',' if not loop.last }}
        {%- endfor %}
    ) as bands (tenure_band, first_tenure_day, last_tenure_day)
{%- endmacro %}

{% macro hire_quarter(date_column) -%}
    {#- e.g. 2025-Q3: readable in a BI filter and sorts in time order as text. -#}
    cast(year({{ date_column }}) as string) || '-Q' || quarter({{ date_column }})
{%- endmacro %}

{% macro normal_quantile_975() -%}
    {#- The standard normal 97.5% quantile, for two-sided 95% intervals. -#}
    1.959963984540054
{%- endmacro %}

{% macro km_log_log_bound(survival, greenwood, side) -%}
    {#-
        The exponential Greenwood ("log-log") 95% bound of a Kaplan-Meier survival, which stays
        inside [0, 1]: exp(-exp(ln(-ln S) -/+ z * sqrt(V) / ln S)), V = sum d / (n (n - d)).
        S = 1 gives [1, 1] and S = 0 gives [0, 0] (as lifelines does).
    -#}
    case
        when {{ survival }} is null then null
        when {{ survival }} >= 1 then 1e0
        when {{ survival }} <= 0 then 0e0
        else exp(-exp(
            ln(-ln({{ survival }}))
            {{ '-' if side == 'lower' else '+' }} {{ normal_quantile_975() }} * sqrt({{ greenwood }}) / ln({{ survival }})
        ))
    end
{%- endmacro %}

{% macro cohort_measures() -%}
    {#-
        The cohort measures over a group of int_retention_exposure rows joined to
        fct_retention_outcomes (as `outcomes`), before small-cell suppression. Rates per
        period: person_days / period days is the average headcount.
    -#}
    count(distinct exposure.employee_id) as headcount,
    sum(exposure.person_days) / {{ var('cohort_period_days') }} as average_headcount,
    -- Rates divide by the average headcount, so a cell is only as large as the smaller of the
    -- two: nine people who each spent six weeks in the cell are not a cell of nine.
    least(
        count(distinct exposure.employee_id),
        coalesce(sum(exposure.person_days) / {{ var('cohort_period_days') }}, 0)
    ) as cell_size,
    cast(sum(exposure.voluntary_exits) as bigint) as voluntary_exits,
    sum(exposure.voluntary_exits) * 365e0 / nullif(sum(exposure.person_days), 0)
        as voluntary_turnover_rate,
    cast(sum(exposure.internal_moves) as bigint) as internal_moves,
    sum(exposure.internal_moves) * 1e0
    / nullif(sum(exposure.person_days) / {{ var('cohort_period_days') }}, 0)
        as internal_mobility_rate,
    avg(case when outcomes.is_completer then 1e0 when not outcomes.is_completer then 0e0 end)
        as bundle_completion_rate,
    median(outcomes.days_to_competency) as median_days_to_competency,
    {{ ordered_avg('outcomes.post_training_score_delta', 'outcomes.employee_id') }}
        as post_training_score_delta
{%- endmacro %}

{% macro suppressed_cohort_measures(cells) -%}
    {#- The cohort measures as BI sees them: nulled, with is_suppressed, for a small cell. -#}
    {%- for measure in ['headcount', 'average_headcount', 'voluntary_exits',
        'voluntary_turnover_rate', 'internal_moves', 'internal_mobility_rate',
        'bundle_completion_rate', 'median_days_to_competency', 'post_training_score_delta'] %}
    {{ suppress_small(cells ~ '.' ~ measure, cells ~ '.cell_size') }} as {{ measure }},
    {%- endfor %}
    {{ cells }}.cell_size < {{ var('min_cell_size') }} as is_suppressed
{%- endmacro %}

{% macro cohort_period() -%}
    {#- The trailing period cohort rates cover: cohort_period_days up to the as-of date. -#}
    select
        {{ as_of_date() }} - {{ var('cohort_period_days') }} + 1 as period_start,
        {{ as_of_date() }} as period_end
{%- endmacro %}
