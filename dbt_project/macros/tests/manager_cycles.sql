{#-
    A generic test: employees who manage themselves, directly (X manages X) or through a cycle
    (A manages B, B manages A). The manager alert list leaves an employee out of their own list;
    a cycle still lists each one's direct reports, but any walk up the hierarchy would never end
    (docs/intervention-tiers.md#manager-alert-list).
-#}
{% test manager_hierarchy_is_acyclic(model, column_name, key='employee_id') %}
    with recursive chain as (
        select
            {{ key }} as employee_id,
            {{ column_name }} as manager_id,
            {{ list_of([key]) }} as path
        from {{ model }}
        where {{ column_name }} is not null
        union all
        select
            chain.employee_id,
            managers.{{ column_name }} as manager_id,
            array_append(chain.path, chain.manager_id) as path
        from chain
        inner join {{ model }} as managers on managers.{{ key }} = chain.manager_id
        where
            managers.{{ column_name }} is not null
            and not array_contains(chain.path, chain.manager_id)
    )

    select distinct employee_id
    from chain
    where manager_id = employee_id
{% endtest %}
