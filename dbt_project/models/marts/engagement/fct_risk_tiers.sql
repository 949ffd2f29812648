{#-
    The 3-tier intervention rule as published (docs/intervention-tiers.md#tiers). It is computed
    in int_risk_tiers, incrementally by employee; this view leaves out its bookkeeping.
-#}
{{ config(materialized='view') }}

select {{ select_all_but(ref('int_risk_tiers'), ['inputs_fingerprint']) }}
from {{ ref('int_risk_tiers') }}
