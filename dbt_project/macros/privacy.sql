{% macro suppress_small(measure, headcount) -%}
    {#-
        Small cells (docs/privacy.md#small-cell-suppression): a measure over fewer than
        min_cell_size employees is nulled.
    -#}
    case when {{ headcount }} >= {{ var('min_cell_size') }} then {{ measure }} end
{%- endmacro %}
