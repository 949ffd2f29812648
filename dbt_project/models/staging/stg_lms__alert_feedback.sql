{#-
    Managers' answers to alerts (docs/extract-contract.md#alert-feedback): one row per answer,
    typed. Ingestion quarantined unparsable dates and note codes that are not codes; the
    raw.lms_alert_feedback suite judges statuses, weeks and employees.
-#}
with source as (
    select * from {{ source('raw', 'lms_alert_feedback') }}
),

typed as (
    select
        trim(employee_id) as employee_id,
        {{ to_date('week_start') }} as week_start,
        trim(manager_id) as manager_id,
        lower(trim(status)) as status,
        try_cast(trim(recorded_at) as timestamp) as recorded_at,
        nullif(trim(note_code), '') as note_code
    from source
)

select * from typed
