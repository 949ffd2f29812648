{#-
    The 3-tier intervention rule (docs/intervention-tiers.md#tiers), one row per employee-week: the
    highest tier that holds, readable reason codes, the recommended action, the follow-up date and
    HR escalation. Published as fct_risk_tiers.

    Incremental by employee: an employee's tiers are a function of their signals alone, so they
    are recomputed, whole, only for employees whose inputs changed since the last build
    (int_risk_inputs; the fingerprint is kept beside the rows). The repeated-concern look-back
    stays within one employee's weeks. A change to this SQL or to int_risk_signals makes the run a
    full refresh (orchestration/defs/dbt/builds.py).
-#}
{{ config(
    materialized=materialized_by_employee(),
    incremental_strategy='delete+insert',
    unique_key='employee_id',
    on_schema_change='fail',
    meta={'finds_changed_rows': true},
    pre_hook="{% if is_incremental() %}delete from {{ this }} where employee_id not in (select employee_id from {{ ref('int_risk_inputs') }}){% endif %}"
) }}

with inputs as (
    select * from {{ ref('int_risk_inputs') }}
),

stored as (
    -- The fingerprints the stored tiers were computed from (none on a first or full build).
    {{ stored_fingerprints('inputs_fingerprint') }}
),

changed as (
    -- Employees whose inputs differ from those their stored tiers were computed from.
    select inputs.employee_id
    from inputs
    left join stored on inputs.employee_id = stored.employee_id
    where stored.inputs_fingerprint is distinct from inputs.inputs_fingerprint
),

signals as (
    select * from {{ ref('int_risk_signals') }}
    {%- if is_incremental() %}
        where employee_id in (select changed.employee_id from changed)
    {%- endif %}
),

tiered as (
    select
        *,
        case
            when
                is_compliance_breach
                or drop_streak >= tier3_drop_weeks
                or (is_score_drop and drop_streak >= 2)
                then 3
            when
                drop_streak >= 2
                or missed_milestones >= tier2_missed_milestones
                or (is_score_drop and is_drop)
                then 2
            when is_drop or is_score_drop then 1
            else 0
        end as tier
    from signals
),

previous as (
    -- The highest tier in the repeat window before each week ("repeated concern").
    select
        this_week.employee_id,
        this_week.week_start,
        max(earlier.tier) as previous_max_tier
    from tiered as this_week
    inner join tiered as earlier
        on
            this_week.employee_id = earlier.employee_id
            and earlier.week_start < this_week.week_start
            and earlier.week_start >= this_week.week_start - 7 * this_week.repeat_window_weeks
    where this_week.tier = 2
    group by this_week.employee_id, this_week.week_start
),

with_history as (
    select
        tiered.*,
        previous.previous_max_tier,
        inputs.inputs_fingerprint
    from tiered
    left join previous
        on tiered.employee_id = previous.employee_id and tiered.week_start = previous.week_start
    left join inputs on tiered.employee_id = inputs.employee_id
)

select
    employee_id,
    week_start,
    week_end,
    job_family,
    department,
    manager_id,
    tier,
    case tier
        when 3 then 'high-risk' when 2 then 'concern' when 1 then 'alert' else 'none'
    end as tier_label,
    concat_ws(
        ', ',
        breach_reasons,
        case when is_drop then 'activity_drop_' || drop_streak || 'w' end,
        case when is_score_drop then 'score_drop' end,
        case when missed_milestones > 0 then 'missed_milestones_' || missed_milestones end
    ) as reason_codes,
    case tier
        when 3 then 'support_plan_escalate'
        when 2 then 'manager_check_in'
        when 1 then 'nudge'
        else 'none'
    end as recommended_action,
    case when tier >= 2 then week_end + follow_up_days end as follow_up_due,
    tier = 3 or (tier = 2 and coalesce(previous_max_tier, 0) >= 2) as escalate_to_hr,
    is_drop,
    drop_streak,
    is_score_drop,
    missed_milestones,
    is_compliance_breach,
    activity_count,
    baseline_activity,
    activity_change_pct,
    avg_scaled_score,
    baseline_score,
    inputs_fingerprint
from with_history
