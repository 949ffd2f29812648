{#-
    Kept learning statements, one row each, measured: who (identity resolution: account name,
    then mbox, then mbox_sha1sum; first match wins), what (course: object id, then context
    parent/grouping), when (company time zone, ISO week) and how much (scaled score clamped to
    [0, 1], minutes capped at 240). Voiding statements and the statements they void are removed.

    Incremental by event day: a run rebuilds the days queued in int_statement_rebuild_days since
    this model's last build (delete+insert keyed on event_date), so a day costs its own statements,
    not the history. Identity and course mapping are those of the HRIS and course extracts when a
    day was last rebuilt: the lookback, a backfill or a full run applies later changes to a day.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy=period_strategy(),
    unique_key='event_date',
    partition_by=period_partitions(),
    on_schema_change='sync_all_columns',
    pre_hook="{{ delete_queued('event_date') }}",
) }}
-- depends_on: {{ ref('int_statement_rebuild_days') }}
{%- set days = queued_since_last_build('day') %}

-- depends_on: {{ ref('stg_lms__statements') }}
with source as (
    -- The raw rows of the queued days only, staged exactly as stg_lms__statements stages them:
    -- a filter on the view would come after its JSON extraction of the whole history.
    {%- if days is none %}
        select * from {{ source('raw', 'lms_statements') }}
    {%- else %}
        select * from ({{ statements_between(source('raw', 'lms_statements'), days, pad_days=1) }})
        -- Offsets from UTC are under a day: a UTC date one day either side finds every
        -- statement of a queued local day.
        where cast(coalesce(timestamp_at, stored_at) as date) in (
            {{ date_literals(days, pad_days=1) }}
        )
    {%- endif %}
),

{{ stage_statements('source') }},

statements as (
    select * from typed
),

voiding as (
    -- Every voided id, from the whole history: a rebuilt day must not bring a voided one back.
    select voided_statement_id as statement_id
    from {{ ref('stg_lms__statements') }}
    where voided_statement_id is not null
),

workers as (
    select * from {{ ref('stg_hris__workers') }}
),

courses as (
    select * from {{ ref('stg_lms__courses') }}
),

vocabulary as (
    select * from {{ ref('verb_vocabulary') }}
),

learning as (
    select statements.*
    from statements
    where
        not statements.is_voiding
        and statements.statement_id not in (select voiding.statement_id from voiding)
),

-- One employee per identifier, so a shared or re-used address can never duplicate a statement;
-- the most recent hire holds it.
by_account as (
    select
        employee_id as account_name,
        employee_id
    from workers
),

by_email as (
    select
        work_email,
        employee_id
    from workers
    qualify row_number() over (partition by work_email order by hire_date desc, employee_id asc) = 1
),

sha1_candidates as (
    select
        employee_id,
        hire_date,
        sha1('mailto:' || work_email) as sha1_value
    from workers
    union
    select
        employee_id,
        hire_date,
        sha1('mailto:' || work_email_as_delivered) as sha1_value
    from workers
),

by_sha1 as (
    select
        sha1_value,
        employee_id
    from sha1_candidates
    qualify row_number() over (partition by sha1_value order by hire_date desc, employee_id asc) = 1
),

resolved as (
    select
        learning.*,
        coalesce(by_account.employee_id, by_email.employee_id, by_sha1.employee_id) as employee_id,
        case
            when by_account.employee_id is not null then 'account'
            when by_email.employee_id is not null then 'mbox'
            when by_sha1.employee_id is not null then 'mbox_sha1sum'
        end as identity_method,
        case
            when learning.actor_account_name is not null
                then
                    'account:' || coalesce(learning.actor_account_homepage, '') || '|'
                    || learning.actor_account_name
            when learning.actor_email is not null then 'mbox:' || learning.actor_email
            when learning.actor_mbox_sha1sum is not null
                then 'mbox_sha1sum:' || learning.actor_mbox_sha1sum
            else 'unidentified:' || learning.actor_object_type
        end as actor_key
    from learning
    left join by_account
        on
            learning.actor_account_name = by_account.account_name
            {%- if var('account_homepage') %}
                and learning.actor_account_homepage = rtrim('{{ var("account_homepage") }}', '/')
            {%- endif %}
    left join by_email on learning.actor_email = by_email.work_email
    left join by_sha1 on learning.actor_mbox_sha1sum = by_sha1.sha1_value
),

context_activities as (
    select
        statement_id,
        {{ unnest_with_position('context_activity_ids', 'activity_iri', 'list_position') }}
    from learning
),

context_courses as (
    -- Objects that are not a course themselves map through their context, first listed wins.
    select
        context_activities.statement_id,
        min_by(courses.course_id, context_activities.list_position) as course_id
    from context_activities
    inner join courses on context_activities.activity_iri = courses.activity_iri
    group by context_activities.statement_id
),

statements_resolved as (
    select
        resolved.*,
        coalesce(direct.course_id, context_courses.course_id) as course_id
    from resolved
    left join courses as direct on resolved.object_id = direct.activity_iri
    left join context_courses on resolved.statement_id = context_courses.statement_id
),

with_vocabulary as (
    -- What the verb means, from the vocabulary seed; unknown verbs keep null here.
    select
        statements_resolved.*,
        vocabulary.verb_id is not null as is_known_verb,
        vocabulary.verb as known_verb,
        vocabulary.is_completion as known_completion,
        vocabulary.is_assessment as known_assessment,
        nullif(vocabulary.outcome, '') as known_outcome
    from statements_resolved
    left join vocabulary on statements_resolved.verb_id = vocabulary.verb_id
),

measured as (
    select
        statement_id,
        employee_id,
        actor_key,
        identity_method,
        course_id,
        object_id,
        verb_id,
        coalesce(known_verb, verb) as verb,
        is_known_verb,
        {{ local_time('event_at_utc') }} as event_at,
        stored_at as stored_at_utc,
        -- A negative scaled score is legal xAPI but means nothing for engagement: it counts as 0.
        -- Durations count at most 240 minutes (docs/extract-contract.md#identity-and-mapping).
        -- Both are flagged, and counted on this model's asset (meta.counts), never changed
        -- silently; values xAPI forbids (scaled above 1, raw outside [min, max]) were
        -- quarantined at load.
        {{ clamp(
            "coalesce(score_scaled, case when score_max > score_min"
            " then (score_raw - score_min) / (score_max - score_min) end)",
            0.0, 1.0
        ) }} as scaled_score,
        coalesce(score_scaled < 0, false) as is_score_clamped,
        {{ clamp('result_duration_minutes', none, 240.0) }} as learning_minutes,
        coalesce(result_duration_minutes > 240, false) as is_duration_capped,
        -- Verbs of the vocabulary seed mean what it says; any other verb keeps the rule of its
        -- last IRI segment.
        coalesce(known_assessment, verb in ('passed', 'failed', 'scored'))
        or score_scaled is not null
        or score_raw is not null as is_assessment,
        coalesce(known_completion, verb in ('completed', 'passed')) as is_completion,
        case
            when is_known_verb then known_outcome
            when verb in ('passed', 'failed') then verb
        end as outcome,
        result_success,
        source_file,
        source_line
    from with_vocabulary
)

select
    *,
    cast(event_at as date) as event_date,
    cast(date_trunc('week', event_at) as date) as week_start,
    {{ run_queued_at() }} as queued_at
{{ lake_partition('cast(event_at as date)') }}
from measured
{%- if days is not none %}
    where cast(event_at as date) in ({{ date_literals(days) }})
{%- endif %}
