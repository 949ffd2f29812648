{% macro is_drop(baseline) -%}
    {#- Rounded so that exactly at the boundary is never a drop, whatever the float error. -#}
    {#-
        The `drop` signal (docs/engagement.md#drops-and-streaks): a fall of MORE than
        activity_drop_pct below a baseline of at least the minimum.
    -#}
    coalesce(
        {{ baseline }} >= min_baseline_activity
        and activity_count < round((1 - activity_drop_pct) * {{ baseline }}, 9),
        false
    )
{%- endmacro %}
