{#-
    Milestones as published (docs/engagement.md#milestones), from int_milestones, which the tier
    rule (int_risk_signals) also reads.
-#}
{{ config(materialized='view') }}

select * from {{ ref('int_milestones') }}
