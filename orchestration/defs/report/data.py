"""The small aggregates the report's charts draw, queried from the marts in DuckDB.

Every query returns at most a few thousand rows: the aggregation happens in DuckDB, never in
Python. The same queries run against the live warehouse (schema `marts`, for the charts on the
mart assets) and against the published copy (schema `main` of analytics.duckdb, for the report).
Aggregates computed here follow the marts' small-cell rule: a cell of fewer than min_cell_size
employees has its value withheld in SQL, so it never reaches a chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from orchestration.defs.dbt.vars import min_cell_size

WAREHOUSE_SCHEMA = "marts"
PUBLISHED_SCHEMA = "main"
TIERS = (1, 2, 3)


@dataclass(frozen=True)
class Source:
    """Where the marts are: a DuckDB connection and the schema holding them."""

    conn: duckdb.DuckDBPyConnection
    schema: str

    def table(self, name: str) -> str:
        return f'"{self.schema}"."{name}"'

    def describe(self, name: str) -> str:
        if self.schema == PUBLISHED_SCHEMA:
            return f"`{name}` in the published analytics.duckdb"
        return f"`{self.schema}.{name}` in the warehouse"

    def has(self, name: str) -> bool:
        return bool(
            self.conn.execute(
                "select count(*) from information_schema.tables where table_catalog = "
                "current_database() and table_schema = ? and table_name = ?",
                [self.schema, name],
            ).fetchone()[0]
        )

    def rows(self, sql: str, params: list | dict | None = None) -> list[tuple]:
        return self.conn.execute(sql, params or []).fetchall()


@dataclass(frozen=True)
class SurvivalPoint:
    month: int
    at_risk: int | None  # None: suppressed (fewer than min_cell_size at risk)
    survival: float | None
    ci_lower: float | None
    ci_upper: float | None


@dataclass(frozen=True)
class SurvivalCurve:
    group: str
    points: list[SurvivalPoint]

    @property
    def shown(self) -> list[SurvivalPoint]:
        """The months with a published survival value (suppressed months are never drawn)."""
        return [p for p in self.points if p.survival is not None]


def survival_curves(source: Source, group_type: str) -> list[SurvivalCurve]:
    """mart_survival_curves for one group_type ('all', 'completer', 'job_family')."""
    rows = source.rows(
        f"""
        select group_value, tenure_month, at_risk, survival, ci_lower, ci_upper
        from {source.table("mart_survival_curves")}
        where group_type = ?
        order by group_value, tenure_month""",
        [group_type],
    )
    curves: dict[str, list[SurvivalPoint]] = {}
    for group, month, at_risk, survival, lower, upper in rows:
        curves.setdefault(group, []).append(SurvivalPoint(month, at_risk, survival, lower, upper))
    return [SurvivalCurve(group, points) for group, points in curves.items()]


@dataclass(frozen=True)
class TierCount:
    department: str
    week_start: date
    tier: int
    employees: int | None  # None: fewer than min_cell_size (suppressed)


def weekly_tier_counts(source: Source) -> list[TierCount]:
    """Employees at tier 1, 2 and 3 per week and department, from fct_risk_tiers.

    Counted here rather than summed from mart_engagement_trends, whose department x job family
    cells are suppressed one by one: their sum would silently leave the small families out. A
    count below min_cell_size, zero included, is withheld like any other small cell.
    """
    table = source.table("fct_risk_tiers")
    rows = source.rows(
        f"""
        with tiers as (
            select coalesce(department, 'unknown') as department, week_start, tier
            from {table}
        ),
        grid as (
            select weeks.department, weeks.week_start, levels.tier
            from (select distinct department, week_start from tiers) as weeks
            cross join (select unnest($tiers::integer[]) as tier) as levels
        ),
        counts as (
            select department, week_start, tier, count(*) as employees
            from tiers where list_contains($tiers::integer[], tier) group by all
        )
        select
            grid.department, grid.week_start, grid.tier,
            case when counts.employees >= $min_cell then counts.employees end as employees
        from grid
        left join counts using (department, week_start, tier)
        order by grid.department, grid.week_start, grid.tier""",
        {"tiers": list(TIERS), "min_cell": min_cell_size()},
    )
    return [TierCount(*row) for row in rows]


@dataclass(frozen=True)
class RetentionCell:
    hire_quarter: str
    job_family: str
    employees: int | None  # None: suppressed
    retention_12m: float | None


def retention_by_hire_quarter(source: Source) -> list[RetentionCell]:
    """12-month voluntary retention by hire quarter x job family at hire, from
    fct_retention_outcomes: the share of a quarter's hires who had not resigned 12 months on.

    Only quarters whose last hire is a year old count: in a younger quarter the leavers are
    known before the stayers, which would read as low retention. People let go (or leaving for
    other reasons) before 12 months are censored, so they are left out, as in
    mart_matched_retention. The as-of date is the latest spell end: current employees' spells
    end on it.
    """
    table = source.table("fct_retention_outcomes")
    rows = source.rows(
        f"""
        with bounds as (select max(spell_end_date) as as_of from {table}),
        eligible as (
            select outcomes.hire_quarter, outcomes.job_family_at_hire as job_family,
                outcomes.voluntary_exit_12m
            from {table} as outcomes cross join bounds
            where
                cast(date_trunc('quarter', outcomes.hire_date) + interval 3 month as date) + 364
                    <= bounds.as_of
                and not outcomes.is_censored_12m
                and outcomes.voluntary_exit_12m is not null
        ),
        cells as (
            select hire_quarter, job_family, count(*) as employees,
                avg(case when voluntary_exit_12m then 0.0 else 1.0 end) as retention_12m
            from eligible group by all
        )
        select hire_quarter, coalesce(job_family, 'unknown'),
            case when employees >= $min_cell then employees end,
            case when employees >= $min_cell then retention_12m end
        from cells order by 1, 2""",
        {"min_cell": min_cell_size()},
    )
    return [RetentionCell(*row) for row in rows]


@dataclass(frozen=True)
class MatchedRow:
    row_type: str  # 'stratum' or 'overall'
    label: str
    completers: int | None
    non_completers: int | None
    matched_employees: int | None
    completer_retention_12m: float | None
    non_completer_retention_12m: float | None
    retention_difference: float | None
    ci_lower: float | None
    ci_upper: float | None
    unmatched_employees: int | None
    is_suppressed: bool


def matched_retention(source: Source) -> list[MatchedRow]:
    """mart_matched_retention: the overall row first, then strata, largest first."""
    rows = source.rows(
        f"""
        select row_type,
            case when row_type = 'overall' then 'Overall (completer-weighted)'
                else concat_ws(' / ', job_code, hire_quarter, department) end,
            completers, non_completers, matched_employees, completer_retention_12m,
            non_completer_retention_12m, retention_difference, ci_lower, ci_upper,
            unmatched_employees, coalesce(is_suppressed, false)
        from {source.table("mart_matched_retention")}
        order by row_type = 'overall' desc, matched_employees desc nulls last,
            job_code, hire_quarter, department"""
    )
    return [MatchedRow(*row) for row in rows]


@dataclass(frozen=True)
class BacktestRow:
    tier: int
    employee_weeks: int | None
    employees: int | None
    exit_within_90d_rate: float | None
    base_rate: float | None
    lift: float | None
    horizon_days: int
    is_suppressed: bool


def tier_backtest(source: Source) -> list[BacktestRow]:
    rows = source.rows(
        f"""
        select tier, employee_weeks, employees, exit_within_90d_rate, base_rate, lift,
            horizon_days, coalesce(is_suppressed, false)
        from {source.table("mart_tier_backtest")} order by tier"""
    )
    return [BacktestRow(*row) for row in rows]


@dataclass(frozen=True)
class FeedbackRow:
    """One alert tier of mart_tier_backtest with managers' feedback (None: suppressed)."""

    tier: int
    answered_share: float | None
    not_useful_share: float | None
    acted_weeks: int | None
    exit_rate_acted: float | None
    exit_rate_not_acted: float | None
    difference: float | None
    ci_lower: float | None
    ci_upper: float | None


def tier_feedback(source: Source) -> list[FeedbackRow]:
    rows = source.rows(
        f"""
        select tier, answered_share, not_useful_share, acted_weeks, exit_rate_acted,
            exit_rate_not_acted, acted_exit_difference, acted_difference_ci_lower,
            acted_difference_ci_upper
        from {source.table("mart_tier_backtest")} where tier >= 1 order by tier"""
    )
    return [FeedbackRow(*row) for row in rows]


@dataclass(frozen=True)
class DataRange:
    """What the published data covers, for the report's header."""

    first_week: date | None
    last_week: date | None
    weekly_employees: int
    cohort_period: tuple[date, date] | None
    longest_tenure_month: int | None


def data_range(source: Source) -> DataRange:
    first_week = last_week = None
    weekly_employees = 0
    if source.has("fct_risk_tiers"):
        first_week, last_week, weekly_employees = source.rows(
            f"select min(week_start), max(week_start), count(distinct employee_id) "
            f"from {source.table('fct_risk_tiers')}"
        )[0]
    period = None
    if source.has("mart_retention_cohorts"):
        start, end = source.rows(
            f"select min(period_start), max(period_end) "
            f"from {source.table('mart_retention_cohorts')}"
        )[0]
        period = (start, end) if start else None
    longest = None
    if source.has("mart_survival_curves"):
        longest = source.rows(
            f"select max(tenure_month) from {source.table('mart_survival_curves')} "
            "where group_type = 'all' and survival is not null"
        )[0][0]
    return DataRange(first_week, last_week, weekly_employees, period, longest)


def hire_date_range(source: Source) -> tuple[date, date] | None:
    first, last = source.rows(
        f"select min(hire_date), max(hire_date) from {source.table('fct_retention_outcomes')}"
    )[0]
    return (first, last) if first else None
