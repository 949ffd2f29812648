{#-
    A generic test: rows whose date falls more than `days` days before their employee's hire
    date (a wrong device clock, or an identity matched to the wrong person). Such events never
    move the weekly spine (int_employee_weeks); this test counts them, as a warning with samples
    (docs/engagement.md#employee-weeks).
-#}
{% test dated_before_hire(model, column_name, days=365) %}
    select rows.employee_id, rows.{{ column_name }}, workers.hire_date
    from {{ model }} as rows
    inner join {{ ref('stg_hris__workers') }} as workers
        on rows.employee_id = workers.employee_id
    where rows.{{ column_name }} < workers.hire_date - {{ days }}
{% endtest %}
