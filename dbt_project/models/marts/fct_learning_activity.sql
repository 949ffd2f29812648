{#- One row per kept learning statement (see int_learning_activity for the measures). -#}
{{ config(materialized='view') }}

select * from {{ ref('int_learning_activity') }}
