{#- Actors of kept statements that match no worker: counted here, never silently dropped. -#}
select
    actor_key,
    split_part(actor_key, ':', 1) as identifier_kind,
    count(*) as statements,
    min(event_at) as first_event_at,
    max(event_at) as last_event_at
from {{ ref('fct_learning_activity') }}
where employee_id is null
group by actor_key
