"""The data-quality status of a run, read back from the Dagster instance: every asset check
evaluated in the run (the GX suites and the dbt tests), for the report's header."""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from orchestration.defs.quality.suites import CHECK_NAME


@dataclass(frozen=True)
class CheckOutcome:
    asset: str
    check: str
    status: str  # "passed", "failed" (error severity) or "warn"
    blocking: bool
    description: str
    expectations_evaluated: int | None = None
    expectations_failed: int | None = None

    @property
    def is_suite(self) -> bool:
        """A Great Expectations suite (the rest are dbt tests)."""
        return self.check == CHECK_NAME


@dataclass(frozen=True)
class QualityStatus:
    run_id: str
    outcomes: list[CheckOutcome]
    planned: int  # checks the run planned; more than evaluated when a step stopped early

    @property
    def suites(self) -> list[CheckOutcome]:
        return [o for o in self.outcomes if o.is_suite]

    @property
    def dbt_tests(self) -> list[CheckOutcome]:
        return [o for o in self.outcomes if not o.is_suite]

    def count(self, status: str, outcomes: list[CheckOutcome] | None = None) -> int:
        return sum(o.status == status for o in (self.outcomes if outcomes is None else outcomes))

    @property
    def summary(self) -> str:
        if not self.outcomes:
            return f"No asset check results are recorded for run {self.run_id} in this instance."
        text = (
            f"{len(self.outcomes)} checks evaluated in run {self.run_id}: "
            f"{self.count('passed')} passed, {self.count('warn')} warned, "
            f"{self.count('failed')} failed"
        )
        missing = self.planned - len(self.outcomes)
        return text + (f", {missing} planned but not evaluated." if missing > 0 else ".")


def run_quality(instance: dg.DagsterInstance, run_id: str) -> QualityStatus:
    evaluations = [
        record.event_log_entry.dagster_event.event_specific_data
        for record in instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ).records
    ]
    planned = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED
    ).records
    outcomes = sorted(
        (_outcome(evaluation) for evaluation in evaluations),
        key=lambda o: (not o.is_suite, o.asset, o.check),
    )
    return QualityStatus(run_id=run_id, outcomes=outcomes, planned=len(planned))


def _outcome(evaluation) -> CheckOutcome:
    if evaluation.passed:
        status = "passed"
    elif evaluation.severity == dg.AssetCheckSeverity.WARN:
        status = "warn"
    else:
        status = "failed"
    metadata = evaluation.metadata or {}

    def number(key: str) -> int | None:
        value = metadata.get(key)
        return None if value is None else int(value.value)

    return CheckOutcome(
        asset=evaluation.asset_key.to_user_string(),
        check=evaluation.check_name,
        status=status,
        blocking=bool(evaluation.blocking),
        description=evaluation.description or "",
        expectations_evaluated=number("expectations_evaluated"),
        expectations_failed=number("expectations_failed"),
    )
