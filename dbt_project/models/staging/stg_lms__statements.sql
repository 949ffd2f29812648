{#- One row per kept xAPI statement with the fields the pipeline reads pulled out of the JSON. -#}

with source as (
    select * from {{ source('raw', 'lms_statements') }}
),

{{ stage_statements('source') }}

select * from typed
