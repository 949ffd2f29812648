{#-
    Kept learning statements (voiding statements and the statements they void removed), with the
    actor resolved to an employee and the object to a course (SPEC section 2, "Identity and mapping").
-#}
with statements as (
    select * from {{ ref('stg_lms__statements') }}
),

workers as (
    select * from {{ ref('stg_hris__workers') }}
),

courses as (
    select * from {{ ref('stg_lms__courses') }}
),

voided as (
    select distinct voided_statement_id as statement_id
    from statements
    where is_voiding and voided_statement_id is not null
),

learning as (
    select statements.*
    from statements
    left join voided on statements.statement_id = voided.statement_id
    where not statements.is_voiding and voided.statement_id is null
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
        unnest(context_activity_ids) as activity_iri,
        generate_subscripts(context_activity_ids, 1) as list_position
    from learning
),

context_courses as (
    -- Objects that are not a course themselves map through their context, first listed wins.
    select
        context_activities.statement_id,
        arg_min(courses.course_id, context_activities.list_position) as course_id
    from context_activities
    inner join courses on context_activities.activity_iri = courses.activity_iri
    group by context_activities.statement_id
)

select
    resolved.*,
    coalesce(direct.course_id, context_courses.course_id) as course_id
from resolved
left join courses as direct on resolved.object_id = direct.activity_iri
left join context_courses on resolved.statement_id = context_courses.statement_id
