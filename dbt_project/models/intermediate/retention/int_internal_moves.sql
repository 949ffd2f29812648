{#-
    Internal moves (docs/retention-and-cohorts.md#internal-mobility): promotions, transfers and
    lateral moves, one row per move with the job_code, department and manager moved into. Demotions
    and manager changes are not moves.
-#}
with spells as (
    select * from {{ ref('int_role_spells') }}
)

select
    employee_id,
    valid_from as move_date,
    change_type,
    job_code,
    department,
    manager_id
from spells
where
    change_type in ('promotion', 'transfer', 'lateral')
    and valid_from <= {{ as_of_date() }}
