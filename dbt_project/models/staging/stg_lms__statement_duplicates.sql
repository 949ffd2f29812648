{#- Every further copy of a kept statement id, and kept copies displaced by an earlier `stored`. -#}
-- Waits for the statements' load and its checks, as the models reading it do.
-- depends_on: {{ source('raw', 'lms_statements') }}

with source as (
    select * from {{ source('raw', 'lms_statement_duplicates') }}
),

renamed as (
    select
        statement_id,
        coalesce(
            {{ parse_utc_timestamp(json_text('raw_text', '$.timestamp')) }},
            stored_at
        ) as event_at_utc,
        source_file,
        source_line,
        kept_source_file,
        kept_source_line,
        recorded_at
    from source
)

select * from renamed
