{#-
    Weekly learning engagement as published (docs/engagement.md#employee-weeks). The walk that
    computes it is int_engagement_weekly, in the intermediate layer, so the tier rule
    (int_risk_signals) reads it without an intermediate model reading a mart.
-#}
{{ config(materialized='view') }}

-- The fingerprint is the walk's bookkeeping, not engagement.
select {{ select_all_but(ref('int_engagement_weekly'), ['measures_fingerprint']) }}
from {{ ref('int_engagement_weekly') }}
