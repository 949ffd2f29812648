{#-
    Matched comparison of 12-month voluntary retention
    (docs/retention-and-cohorts.md#matched-comparison): completers of the role bundle started at
    hire against non-completers hired into the same job_code, quarter and department. One row per
    stratum holding at least one of each, and one overall row (row_type 'overall') with the
    completer-weighted difference, its 95% interval and the number of matched employees.
-#}
with outcomes as (
    select * from {{ ref('fct_retention_outcomes') }}
),

eligible as (
    -- Observable for 12 months; completion status known; employed at the end of the completion
    -- window (a landmark, so leaving before one could complete does not make a non-completer);
    -- not censored by an involuntary or other exit within the 12 months.
    select * from outcomes
    where
        hire_date + 365 <= {{ as_of_date() }}
        and is_completer is not null
        and tenure_days >= {{ var('bundle_window_days') }}
        and voluntary_exit_12m is not null
        and not is_censored_12m
),

strata as (
    select
        job_code_at_hire as job_code,
        hire_quarter,
        department_at_hire as department,
        count(*) filter (where is_completer) as completers,
        count(*) filter (where not is_completer) as non_completers,
        avg(case when voluntary_exit_12m then 0e0 else 1e0 end) filter (where is_completer)
            as completer_retention_12m,
        avg(case when voluntary_exit_12m then 0e0 else 1e0 end) filter (where not is_completer)
            as non_completer_retention_12m
    from eligible
    group by job_code_at_hire, hire_quarter, department_at_hire
),

matched as (
    select
        *,
        completers + non_completers as matched_employees,
        completer_retention_12m - non_completer_retention_12m as retention_difference,
        -- Binomial variance of the difference of two independent proportions.
        completer_retention_12m * (1 - completer_retention_12m) / completers
        + non_completer_retention_12m * (1 - non_completer_retention_12m) / non_completers
            as difference_variance
    from strata
    where completers > 0 and non_completers > 0
),

overall as (
    -- Weights w_s = completers_s / all matched completers: the effect among completers.
    select
        'overall' as row_type,
        null as job_code,
        null as hire_quarter,
        null as department,
        cast(sum(completers) as bigint) as completers,
        cast(sum(non_completers) as bigint) as non_completers,
        cast(sum(matched_employees) as bigint) as matched_employees,
        sum(completers * completer_retention_12m) / sum(completers) as completer_retention_12m,
        sum(completers * non_completer_retention_12m) / sum(completers)
            as non_completer_retention_12m,
        sum(completers * retention_difference) / sum(completers) as retention_difference,
        sum(completers * completers * difference_variance) / (sum(completers) * sum(completers))
            as difference_variance,
        cast((select count(*) from eligible) - sum(matched_employees) as bigint)
            as unmatched_employees
    from matched
    having count(*) > 0
),

combined as (
    select
        'stratum' as row_type,
        job_code,
        hire_quarter,
        department,
        completers,
        non_completers,
        matched_employees,
        completer_retention_12m,
        non_completer_retention_12m,
        retention_difference,
        difference_variance,
        cast(null as bigint) as unmatched_employees
    from matched
    union all
    select * from overall
)

select
    row_type,
    job_code,
    hire_quarter,
    department,
    {{ suppress_small('completers', 'matched_employees') }} as completers,
    {{ suppress_small('non_completers', 'matched_employees') }} as non_completers,
    {{ suppress_small('matched_employees', 'matched_employees') }} as matched_employees,
    {{ suppress_small('completer_retention_12m', 'matched_employees') }}
        as completer_retention_12m,
    {{ suppress_small('non_completer_retention_12m', 'matched_employees') }}
        as non_completer_retention_12m,
    {{ suppress_small('retention_difference', 'matched_employees') }} as retention_difference,
    {{ suppress_small(
        clamp('retention_difference - ' ~ normal_quantile_975() ~ ' * sqrt(difference_variance)',
            -1, 1),
        'matched_employees') }} as ci_lower,
    {{ suppress_small(
        clamp('retention_difference + ' ~ normal_quantile_975() ~ ' * sqrt(difference_variance)',
            -1, 1),
        'matched_employees') }} as ci_upper,
    unmatched_employees,
    matched_employees < {{ var('min_cell_size') }} as is_suppressed
from combined
