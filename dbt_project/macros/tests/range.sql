{#- A generic test: every non-null value lies in [min_value, max_value]. (No dbt packages here.) -#}
{% test value_in_range(model, column_name, min_value, max_value) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} < {{ min_value }} or {{ column_name }} > {{ max_value }}
{% endtest %}
