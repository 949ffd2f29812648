{#-
    Weekly engagement by department, job family and tier, for BI trend charts
    (docs/engagement.md#engagement-trends). Cells with fewer than min_cell_size employees have
    their measures nulled and is_suppressed set (docs/privacy.md#small-cell-suppression). Built
    a week at a time in int_engagement_trends; ordered, so a publication is written in the same
    order however its weeks were built.
-#}
{{ config(materialized='view') }}

select {{ select_all_but(ref('int_engagement_trends'), ['queued_at']) }}
from {{ ref('int_engagement_trends') }}
order by week_start, department, job_family, tier
