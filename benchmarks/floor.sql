-- The floor of `make bench`: the same ingestion and weekly engagement + tier computation as the
-- pipeline, written as one hand-tuned DuckDB script over the same landing zone.
--
-- It follows the rules of docs/extract-contract.md, docs/engagement.md and
-- docs/intervention-tiers.md exactly as the dbt models do (staging, int_statements__resolved,
-- int_learning_activity, int_employee_weeks, int_engagement_measures, fct_engagement_weekly,
-- fct_milestones, int_risk_signals, fct_risk_tiers), but without what a maintained pipeline pays
-- for: no raw JSON kept, no duplicates or quarantine tables, no per-file ledger, no views
-- re-parsing JSON, no tests or expectation suites, no publication.
-- What it skips on purpose (none of it occurs in generated data): line numbers (duplicate copies
-- with the same `stored` are told apart by file only), statements without an id (an id derived
-- from the line, as the pipeline does, is kept), boolean and integer checks of CSV cells.
--
-- benchmarks/floor.py fills in the ${...} parameters and runs each `-- stage:` block, timed.

-- stage: setup
set TimeZone = 'UTC';
set memory_limit = '${memory_limit}';
${threads_statement}

-- stage: ingest
-- HRIS and LMS snapshots: small, read in file order so a job-history row knows its line.
create table workers as
select
    trim(employee_id) as employee_id,
    lower(trim(work_email)) as work_email,
    trim(work_email) as work_email_as_delivered,
    cast(left(trim(hire_date), 10) as date) as hire_date,
    trim(job_code) as job_code,
    try_cast(left(trim(termination_date), 10) as date) as termination_date
from read_csv('${landing}/hris/workers.csv', header = true, all_varchar = true)
where
    nullif(trim(employee_id), '') is not null
    and nullif(trim(work_email), '') is not null
    and nullif(trim(job_code), '') is not null
    and nullif(trim(department), '') is not null
    and try_cast(left(trim(hire_date), 10) as date) is not null
    and (
        nullif(trim(termination_date), '') is null
        or try_cast(left(trim(termination_date), 10) as date) is not null
    );

create table job_history as
select
    trim(employee_id) as employee_id,
    cast(left(trim(effective_date), 10) as date) as effective_date,
    trim(change_type) as change_type,
    nullif(trim(job_code), '') as job_code,
    source_line
from (
    select *, row_number() over () + 1 as source_line
    from read_csv('${landing}/hris/job_history.csv', header = true, all_varchar = true)
)
where
    nullif(trim(employee_id), '') is not null
    and nullif(trim(change_type), '') is not null
    and try_cast(left(trim(effective_date), 10) as date) is not null;

create table jobs as
select
    trim(job_code) as job_code,
    lower(trim(job_family)) as job_family,
    coalesce(lower(trim(compliance_sensitive)) in ('true', 't', '1', 'yes', 'y'), false)
        as is_compliance_sensitive
from read_csv('${landing}/hris/jobs.csv', header = true, all_varchar = true)
where nullif(trim(job_code), '') is not null and nullif(trim(job_family), '') is not null;

create table courses as
select
    trim(course_id) as course_id,
    trim(activity_iri) as activity_iri,
    coalesce(lower(trim(is_compliance)) in ('true', 't', '1', 'yes', 'y'), false) as is_compliance
from read_csv('${landing}/lms/courses.csv', header = true, all_varchar = true)
where nullif(trim(course_id), '') is not null and nullif(trim(activity_iri), '') is not null;

create table enrollments as
select
    trim(enrollment_id) as enrollment_id,
    trim(employee_id) as employee_id,
    trim(course_id) as course_id,
    cast(left(trim(assigned_date), 10) as date) as assigned_date,
    try_cast(left(trim(due_date), 10) as date) as due_date,
    try_cast(left(trim(completed_date), 10) as date) as completed_date,
    lower(trim(status)) as status
from read_csv('${landing}/lms/enrollments.csv', header = true, all_varchar = true)
where
    nullif(trim(enrollment_id), '') is not null
    and nullif(trim(employee_id), '') is not null
    and nullif(trim(course_id), '') is not null
    and try_cast(left(trim(assigned_date), 10) as date) is not null
    -- A date that is not a date quarantines the row, as ingestion does.
    and (nullif(trim(due_date), '') is null or try_cast(left(trim(due_date), 10) as date) is not null)
    and (
        nullif(trim(completed_date), '') is null
        or try_cast(left(trim(completed_date), 10) as date) is not null
    );

-- The dbt seeds, typed as dbt_project/seeds/_seeds.yml types them.
create table role_thresholds as
select * from read_csv('${seeds}/role_thresholds.csv', header = true, columns = {
    'job_family': 'varchar', 'min_baseline_activity': 'double', 'activity_drop_pct': 'double',
    'score_drop_threshold': 'double', 'milestone_window_days': 'integer',
    'tier2_missed_milestones': 'integer', 'tier3_drop_weeks': 'integer',
    'compliance_grace_days': 'integer', 'compliance_grace_days_sensitive': 'integer',
    'follow_up_days': 'integer', 'repeat_window_weeks': 'integer'
});

create table capability_bundles as
select * from read_csv('${seeds}/capability_bundles.csv', header = true, columns = {
    'bundle_id': 'varchar', 'job_code': 'varchar', 'course_id': 'varchar',
    'due_day_offset': 'integer', 'is_milestone': 'boolean'
});

-- Statements: every line parsed once into the few fields the rules read, validated as
-- ingestion validates. Context activities are reduced to the first course IRI listed at once,
-- so no JSON is kept.
set preserve_insertion_order = false;
set variable course_iris = (select list(activity_iri) from courses);

create table parsed_statements as
with lines as (
    select filename as source_file, line
    from read_csv(
        '${landing}/lms/statements/**/*.jsonl.gz',
        columns = {'line': 'varchar'}, header = false, delim = '\x01', quote = '', escape = '',
        filename = true, compression = 'gzip'
    )
    where trim(line) <> ''
),

parsed as (
    -- One parse for the fields, one for the types of actor and object (which must be objects).
    select
        source_file,
        line,
        try(json_transform(line, '{
            "id": "VARCHAR", "objectType": "VARCHAR",
            "actor": {"objectType": "VARCHAR", "mbox": "VARCHAR", "mbox_sha1sum": "VARCHAR",
                      "account": {"name": "VARCHAR", "homePage": "VARCHAR"}},
            "verb": {"id": "VARCHAR"},
            "object": {"objectType": "VARCHAR", "id": "VARCHAR"},
            "context": {"contextActivities": {"parent": "JSON", "grouping": "JSON"}},
            "result": {"duration": "VARCHAR",
                       "score": {"scaled": "VARCHAR", "raw": "VARCHAR",
                                 "min": "VARCHAR", "max": "VARCHAR"}},
            "timestamp": "VARCHAR", "stored": "VARCHAR"}')) as s,
        try(json_type(line, ['$.actor', '$.object'])) as kinds
    from lines
),

valid as (
    select
        coalesce(
            try_cast(s.id as uuid),
            case when s.id is null then cast(regexp_replace(
                md5(line), '^(.{8})(.{4})(.{4})(.{4})(.{12})$', '\1-\2-\3-\4-\5'
            ) as uuid) end
        ) as statement_id,
        timezone('UTC', try_cast(s.stored as timestamptz)) as stored_at,
        timezone('UTC', try_cast(s.timestamp as timestamptz)) as timestamp_at,
        s,
        source_file
    from parsed
    where
        -- Not JSON, or JSON that is not an object, has no verb.id.
        s.verb.id is not null
        and s.objectType is distinct from 'SubStatement'
        and kinds = ['OBJECT', 'OBJECT']
)

select
    statement_id,
    source_file,
    stored_at,
    coalesce(timestamp_at, stored_at) as event_at_utc,
    s.verb.id as verb_id,
    s.actor.account.name as account_name,
    rtrim(s.actor.account.homePage, '/') as account_homepage,
    lower(regexp_replace(trim(s.actor.mbox), '^mailto:', '', 'i')) as email,
    lower(trim(s.actor.mbox_sha1sum)) as mbox_sha1sum,
    coalesce(s.object.objectType, 'Activity') as object_type,
    s.object.id as object_id,
    -- Objects that are not a course themselves map through their context, first listed wins.
    case when not coalesce(list_contains(getvariable('course_iris'), s.object.id), false) then list_filter(
        list_concat(
            case json_type(s.context.contextActivities.parent)
                when 'ARRAY' then json_extract_string(s.context.contextActivities.parent, '$[*].id')
                when 'OBJECT' then [s.context.contextActivities.parent ->> '$.id']
                else []
            end,
            case json_type(s.context.contextActivities.grouping)
                when 'ARRAY'
                    then json_extract_string(s.context.contextActivities.grouping, '$[*].id')
                when 'OBJECT' then [s.context.contextActivities.grouping ->> '$.id']
                else []
            end
        ),
        lambda iri: list_contains(getvariable('course_iris'), iri)
    )[1] end as context_course_iri,
    try_cast(s.result.score.scaled as double) as score_scaled,
    try_cast(s.result.score.raw as double) as score_raw,
    try_cast(s.result.score.min as double) as score_min,
    try_cast(s.result.score.max as double) as score_max,
    s.result.duration as duration
from valid
where
    statement_id is not null
    and stored_at is not null
    and (s.timestamp is null or timestamp_at is not null);

-- One row per statement id, the first `stored` winning: ids seen once (nearly all) are kept as
-- they are, and only the few seen twice are aggregated.
create table statements as
with repeated as (
    select statement_id from parsed_statements group by statement_id having count(*) > 1
)

select * from parsed_statements anti join repeated using (statement_id)
union all
select unnest(arg_min(parsed_statements, (stored_at, source_file)))
from parsed_statements semi join repeated using (statement_id)
group by statement_id;

drop table parsed_statements;

-- stage: compute
-- Voiding, identity and course resolution, and the measures of each kept learning statement.
create table activity as
with flat as (
    select * from statements
),

voided as (
    select distinct try_cast(object_id as uuid) as statement_id
    from flat
    where verb_id = 'http://adlnet.gov/expapi/verbs/voided' and object_type = 'StatementRef'
),

learning as (
    select flat.*
    from flat
    anti join voided on flat.statement_id = voided.statement_id
    where not (verb_id = 'http://adlnet.gov/expapi/verbs/voided' and object_type = 'StatementRef')
),

by_email as (
    select work_email, employee_id from workers
    qualify row_number() over (partition by work_email order by hire_date desc, employee_id) = 1
),

by_sha1 as (
    select sha1_value, employee_id
    from (
        select employee_id, hire_date, sha1('mailto:' || work_email) as sha1_value from workers
        union
        select employee_id, hire_date, sha1('mailto:' || work_email_as_delivered) from workers
    )
    qualify row_number() over (partition by sha1_value order by hire_date desc, employee_id) = 1
),

resolved as (
    select
        learning.statement_id,
        coalesce(by_account.employee_id, by_email.employee_id, by_sha1.employee_id) as employee_id,
        coalesce(direct.course_id, context_courses.course_id) as course_id,
        lower(regexp_extract(learning.verb_id, '([^/#]+)/?$', 1)) as verb,
        timezone('${timezone}', timezone('UTC', learning.event_at_utc)) as event_at,
        learning.score_scaled,
        learning.score_raw,
        case
            when learning.score_max > learning.score_min
                then (learning.score_raw - learning.score_min)
                / (learning.score_max - learning.score_min)
        end as score_from_raw,
        regexp_extract(
            learning.duration,
            '^P(?:([0-9.]+)Y)?(?:([0-9.]+)M)?(?:([0-9.]+)W)?(?:([0-9.]+)D)?'
            || '(?:T(?:([0-9.]+)H)?(?:([0-9.]+)M)?(?:([0-9.]+)S)?)?$',
            ['y', 'mo', 'w', 'd', 'h', 'mi', 's']
        ) as duration_parts,
        learning.duration
    from learning
    left join workers as by_account
        on learning.account_name = by_account.employee_id ${account_homepage_condition}
    left join by_email on learning.email = by_email.work_email
    left join by_sha1 on learning.mbox_sha1sum = by_sha1.sha1_value
    left join courses as direct on learning.object_id = direct.activity_iri
    left join courses as context_courses
        on learning.context_course_iri = context_courses.activity_iri
)

select
    statement_id,
    employee_id,
    course_id,
    verb,
    event_at,
    cast(event_at as date) as event_date,
    cast(date_trunc('week', event_at) as date) as week_start,
    case
        when coalesce(score_scaled, score_from_raw) < 0 then 0.0
        when coalesce(score_scaled, score_from_raw) > 1 then 1.0
        else coalesce(score_scaled, score_from_raw)
    end as scaled_score,
    -- One regexp_extract for all seven parts; a string that does not match gives only empty
    -- parts, as do 'P' and 'PT', which the length and last-letter tests leave out.
    case
        when
            length(duration) > 1 and right(duration, 1) <> 'T'
            and concat(
                duration_parts.y, duration_parts.mo, duration_parts.w, duration_parts.d,
                duration_parts.h, duration_parts.mi, duration_parts.s
            ) <> ''
            then least(
                coalesce(try_cast(nullif(duration_parts.y, '') as double), 0) * 525600
                + coalesce(try_cast(nullif(duration_parts.mo, '') as double), 0) * 43200
                + coalesce(try_cast(nullif(duration_parts.w, '') as double), 0) * 10080
                + coalesce(try_cast(nullif(duration_parts.d, '') as double), 0) * 1440
                + coalesce(try_cast(nullif(duration_parts.h, '') as double), 0) * 60
                + coalesce(try_cast(nullif(duration_parts.mi, '') as double), 0)
                + coalesce(try_cast(nullif(duration_parts.s, '') as double), 0) / 60.0,
                240.0
            )
    end as learning_minutes,
    verb in ('passed', 'failed', 'scored') or score_scaled is not null or score_raw is not null
        as is_assessment,
    verb in ('completed', 'passed') as is_completion
from resolved;

-- Role spells (int_role_spells): job at each date, values carried through partial rows.
create table spells as
with changes as (
    select employee_id, effective_date, change_type, job_code, source_line
    from job_history where change_type <> 'termination'
    union all
    select employee_id, hire_date, 'hire', job_code, 0
    from workers where employee_id not in (select employee_id from job_history)
),

carried as (
    select
        employee_id,
        effective_date,
        change_type,
        last_value(job_code ignore nulls) over (
            partition by employee_id order by effective_date, source_line
            rows between unbounded preceding and current row
        ) as job_code,
        row_number() over (
            partition by employee_id, effective_date order by source_line desc
        ) as rank_on_day
    from changes
)

select
    carried.employee_id,
    carried.effective_date as valid_from,
    carried.change_type in ('hire', 'promotion', 'transfer', 'lateral', 'demotion')
        as is_role_start,
    coalesce(carried.job_code, workers.job_code) as job_code
from carried
inner join workers using (employee_id)
where carried.rank_on_day = 1;

-- The employee-week spine with the thresholds of the job family held at each week's end.
create table weeks as
with learning_start as (
    -- As int_lms_record_start: plausibly dated statements of employees only.
    select min(activity.week_start) as first_week, min(activity.event_date) as first_day
    from activity
    inner join workers on activity.employee_id = workers.employee_id
    where activity.event_date between workers.hire_date - 365 and date '${as_of}'
),

bounds as (
    select
        workers.employee_id,
        greatest(cast(date_trunc('week', workers.hire_date) as date), learning_start.first_week)
            as first_week,
        least(
            coalesce(cast(date_trunc('week', workers.termination_date) as date), date '9999-12-27'),
            cast(date_trunc('week', date '${as_of}' - 6) as date)
        ) as last_week
    from workers cross join learning_start
),

spine as (
    select
        employee_id,
        first_week,
        cast(unnest(generate_series(first_week, last_week, interval 7 day)) as date) as week_start
    from bounds
    where first_week <= last_week
),

placed as (
    select
        spine.employee_id,
        spine.week_start,
        spine.week_start + 6 as week_end,
        cast((spine.week_start - spine.first_week) // 7 + 1 as integer) as week_index,
        coalesce(jobs.job_family, 'unknown') as job_family,
        coalesce(jobs.is_compliance_sensitive, false) as is_compliance_sensitive
    from spine
    asof left join spells
        on spine.employee_id = spells.employee_id and spine.week_start + 6 >= spells.valid_from
    left join jobs on spells.job_code = jobs.job_code
)

select
    placed.*,
    coalesce(family.min_baseline_activity, fallback.min_baseline_activity)
        as min_baseline_activity,
    coalesce(family.activity_drop_pct, fallback.activity_drop_pct) as activity_drop_pct,
    coalesce(family.score_drop_threshold, fallback.score_drop_threshold) as score_drop_threshold,
    coalesce(family.milestone_window_days, fallback.milestone_window_days)
        as milestone_window_days,
    coalesce(family.tier2_missed_milestones, fallback.tier2_missed_milestones)
        as tier2_missed_milestones,
    coalesce(family.tier3_drop_weeks, fallback.tier3_drop_weeks) as tier3_drop_weeks,
    case
        when placed.is_compliance_sensitive
            then coalesce(
                family.compliance_grace_days_sensitive, fallback.compliance_grace_days_sensitive
            )
        else coalesce(family.compliance_grace_days, fallback.compliance_grace_days)
    end as compliance_grace_days,
    coalesce(family.repeat_window_weeks, fallback.repeat_window_weeks) as repeat_window_weeks
from placed
left join role_thresholds as family on placed.job_family = family.job_family
cross join (select * from role_thresholds where job_family = 'default') as fallback;

-- docs/engagement.md#activity-measures: weekly measures on the spine, zero-activity weeks
-- included.
create table engagement as
with weekly as (
    select
        employee_id,
        week_start,
        count(*) as activity_count,
        count(distinct event_date) as active_days,
        coalesce(sum(learning_minutes), 0) as learning_minutes,
        count(distinct case when is_completion then course_id end) as completions,
        count(*) filter (where is_assessment) as assessment_attempts,
        avg(scaled_score) as avg_scaled_score
    from activity
    where employee_id is not null
    group by employee_id, week_start
)

select
    weeks.employee_id,
    weeks.week_start,
    weeks.week_index,
    weeks.min_baseline_activity,
    weeks.activity_drop_pct,
    coalesce(weekly.activity_count, 0) as activity_count,
    coalesce(weekly.active_days, 0) as active_days,
    coalesce(weekly.learning_minutes, 0) as learning_minutes,
    coalesce(weekly.completions, 0) as completions,
    coalesce(weekly.assessment_attempts, 0) as assessment_attempts,
    weekly.avg_scaled_score,
    avg(coalesce(weekly.activity_count, 0)) over previous_four as trailing_avg_activity,
    count(*) over previous_four as trailing_weeks,
    avg(weekly.avg_scaled_score) over previous_four as baseline_score
from weeks
left join weekly using (employee_id, week_start)
window previous_four as (
    partition by weeks.employee_id order by weeks.week_index
    rows between 4 preceding and 1 preceding
);

-- The walk of docs/engagement.md#baseline: the baseline freezes while a drop streak lasts (one
-- step per week).
create table walk as
with recursive steps as (
    select employee_id, week_index, cast(null as double) as baseline_activity,
           false as is_drop, 0 as drop_streak
    from engagement where week_index = 1
    union all
    select
        employee_id,
        week_index,
        baseline_activity,
        coalesce(
            baseline_activity >= min_baseline_activity
            and activity_count < round((1 - activity_drop_pct) * baseline_activity, 9),
            false
        ) as is_drop,
        case
            when coalesce(
                baseline_activity >= min_baseline_activity
                and activity_count < round((1 - activity_drop_pct) * baseline_activity, 9),
                false
            ) then previous_streak + 1
            else 0
        end
    from (
        select
            this_week.employee_id,
            this_week.week_index,
            this_week.activity_count,
            this_week.min_baseline_activity,
            this_week.activity_drop_pct,
            previous_week.drop_streak as previous_streak,
            case
                when previous_week.is_drop then previous_week.baseline_activity
                when this_week.trailing_weeks >= 2 then this_week.trailing_avg_activity
            end as baseline_activity
        from steps as previous_week
        inner join engagement as this_week
            on previous_week.employee_id = this_week.employee_id
            and this_week.week_index = previous_week.week_index + 1
    )
)
select * from steps;

-- Milestones (docs/engagement.md#milestones), and the signals and tier of each employee-week
-- (docs/intervention-tiers.md#signals, docs/intervention-tiers.md#tiers).
create table tiers as
with completions as (
    select employee_id, course_id, completed_date
    from enrollments where completed_date is not null
    union all
    select employee_id, course_id, event_date
    from activity where is_completion and employee_id is not null and course_id is not null
),

milestones as (
    select 'enrollment:' || enrollment_id as milestone_id, employee_id, course_id,
           assigned_date as start_date, due_date
    from enrollments
    where due_date is not null and coalesce(status, '') <> 'withdrawn'
    union all
    select
        'bundle:' || bundles.bundle_id || ':' || spells.employee_id || ':' || bundles.course_id
        || ':' || strftime(spells.valid_from, '%Y-%m-%d'),
        spells.employee_id, bundles.course_id, spells.valid_from,
        spells.valid_from + bundles.due_day_offset
    from spells
    inner join capability_bundles as bundles on spells.job_code = bundles.job_code
    where
        spells.is_role_start and bundles.is_milestone
        and spells.valid_from >= (select min(event_date) from activity)
),

dated as (
    select
        milestones.employee_id,
        milestones.course_id,
        milestones.due_date,
        coalesce(courses.is_compliance, false) as is_compliance,
        (
            select min(c.completed_date) from completions as c
            where c.employee_id = milestones.employee_id and c.course_id = milestones.course_id
                and c.completed_date >= milestones.start_date
        ) as completed_date
    from milestones
    left join courses using (course_id)
),

missed as (
    select weeks.employee_id, weeks.week_start, count(*) as missed_milestones
    from weeks
    inner join dated
        on weeks.employee_id = dated.employee_id
        and dated.due_date <= weeks.week_end
        and dated.due_date > weeks.week_end - weeks.milestone_window_days
    where dated.completed_date is null or dated.completed_date > dated.due_date
    group by all
),

compliance_attempts as (
    select activity.employee_id, activity.course_id, activity.event_at, activity.event_date,
           activity.verb
    from activity inner join courses using (course_id)
    where courses.is_compliance and activity.verb in ('failed', 'passed')
),

failures as (
    select
        failed.employee_id,
        failed.event_date as breach_from,
        min(passed.event_date) as passed_on
    from compliance_attempts as failed
    left join compliance_attempts as passed
        on failed.employee_id = passed.employee_id
        and failed.course_id = passed.course_id
        and passed.verb = 'passed'
        and passed.event_at > failed.event_at
    where failed.verb = 'failed'
    group by failed.employee_id, failed.course_id, failed.event_at, failed.event_date
),

breaches as (
    select distinct weeks.employee_id, weeks.week_start
    from weeks
    inner join dated
        on weeks.employee_id = dated.employee_id
        and dated.is_compliance
        and weeks.week_end - dated.due_date > weeks.compliance_grace_days
    where dated.completed_date is null or dated.completed_date > weeks.week_end
    union
    select weeks.employee_id, weeks.week_start
    from weeks
    inner join failures
        on weeks.employee_id = failures.employee_id
        and failures.breach_from <= weeks.week_end
        and (failures.passed_on is null or failures.passed_on > weeks.week_end)
),

signals as (
    select
        weeks.employee_id,
        weeks.week_start,
        walk.is_drop,
        walk.drop_streak,
        coalesce(
            round(engagement.baseline_score - engagement.avg_scaled_score, 9)
            >= weeks.score_drop_threshold,
            false
        ) as is_score_drop,
        coalesce(missed.missed_milestones, 0) as missed_milestones,
        breaches.employee_id is not null as is_compliance_breach,
        weeks.tier2_missed_milestones,
        weeks.tier3_drop_weeks
    from weeks
    inner join engagement using (employee_id, week_start)
    inner join walk on weeks.employee_id = walk.employee_id and weeks.week_index = walk.week_index
    left join missed using (employee_id, week_start)
    left join breaches using (employee_id, week_start)
)

select
    employee_id,
    week_start,
    case
        when is_compliance_breach or drop_streak >= tier3_drop_weeks
            or (is_score_drop and drop_streak >= 2) then 3
        when drop_streak >= 2 or missed_milestones >= tier2_missed_milestones
            or (is_score_drop and is_drop) then 2
        when is_drop or is_score_drop then 1
        else 0
    end as tier
from signals;

-- stage: result
select tier, count(*) as employee_weeks from tiers group by tier order by tier;
