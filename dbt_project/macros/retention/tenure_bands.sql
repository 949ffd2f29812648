{#-
    The one list of tenure bands. A file of its own: sqlfluff's templater returns a macro's
    `return()` value to a caller in another file only.
-#}

{% macro tenure_band_edges() -%}
    {#-
        The tenure bands and the month each starts at
        (docs/retention-and-cohorts.md#tenure-bands-and-hire-quarters); 6 months = 182.625 days,
        a year = 365.25 days. tenure_band() and tenure_band_days() are both made from this list.
    -#}
    {{ return([('<6m', 0), ('6-12m', 6), ('1-2y', 12), ('2-5y', 24), ('5y+', 60)]) }}
{%- endmacro %}
