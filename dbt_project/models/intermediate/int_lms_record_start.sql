{#-
    When the LMS record begins (docs/engagement.md#employee-weeks): the first day, and its ISO
    week, holding a statement of an employee dated no earlier than a year before that employee's
    hire and not after the as-of date. Before it, weeks would be false zeros and milestones could
    not show completions. A statement from a wrong clock (a device reset to 2010 for someone hired
    in 2024; docs/extract-contract.md#bad-clocks) never moves it.
-#}
with activity as (
    select * from {{ ref('int_learning_activity') }}
),

workers as (
    select * from {{ ref('stg_hris__workers') }}
),

plausible as (
    select activity.event_date
    from activity
    inner join workers on activity.employee_id = workers.employee_id
    where activity.event_date between workers.hire_date - 365 and {{ as_of_date() }}
)

select
    min(event_date) as first_day,
    cast(date_trunc('week', min(event_date)) as date) as first_week
from plausible
