"""The result model of a suite run: what each expectation found (Outcome), the whole run
(SuiteRun), and the sum of an expectation's per-batch GX results into one outcome."""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd

from orchestration.defs.quality.suites import Expectation, Suite

SAMPLE_ROWS = 10


@dataclass
class Outcome:
    """What one expectation found over the whole table."""

    expectation: Expectation
    success: bool
    observed: Any = None
    element_count: int | None = None
    unexpected_count: int | None = None
    sample_rows: list[dict[str, Any]] = field(default_factory=list)
    skipped: str | None = None
    exception: str | None = None

    @property
    def label(self) -> str:
        return self.expectation.label

    def as_dict(self) -> dict[str, Any]:
        return {
            "expectation": self.label,
            "severity": self.expectation.severity,
            "observed": self.observed,
            "unexpected_count": self.unexpected_count,
            "element_count": self.element_count,
            "sample_rows": self.sample_rows,
            **(
                {"notes": self.expectation.meta["notes"]}
                if "notes" in self.expectation.meta
                else {}
            ),
            **({"exception": self.exception} if self.exception else {}),
        }


@dataclass
class SuiteRun:
    suite: Suite
    outcomes: list[Outcome]
    rows: int  # rows the row-level expectations saw
    batches: int
    seconds: float
    data_docs_url: str | None = None
    table_rows: int | None = None  # rows in the table; more than `rows` when rows_filter was set

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success]

    @property
    def severity(self) -> str | None:
        """The worst severity among failed expectations; None when every expectation passed."""
        severities = {o.expectation.severity for o in self.failed}
        return "error" if "error" in severities else ("warn" if severities else None)

    @property
    def skipped(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.skipped]


class _Accumulator:
    """Sums one row-level expectation's per-batch results into the whole-table result."""

    def __init__(self, expectation: Expectation, datetimes: set[str]) -> None:
        self.expectation = expectation
        self.datetimes = datetimes
        self.element_count = 0
        self.missing_count = 0
        self.unexpected_count = 0
        self.batch_failed = False
        self.samples: list[dict[str, Any]] = []
        self.value_counts: dict[Any, int] = {}
        self.exception: str | None = None
        self.config = None

    def add(self, evr) -> None:
        self.config = evr.expectation_config
        exception = _exception(evr)
        if exception:
            self.exception = self.exception or exception
            return
        result = evr.result or {}
        self.element_count += int(result.get("element_count") or 0)
        self.missing_count += int(result.get("missing_count") or 0)
        self.unexpected_count += int(result.get("unexpected_count") or 0)
        self.batch_failed |= not evr.success
        room = SAMPLE_ROWS - len(self.samples)
        if room > 0:
            rows = result.get("partial_unexpected_index_list") or []
            self.samples += [{k: self._shown(k, v) for k, v in row.items()} for row in rows[:room]]
        for item in result.get("partial_unexpected_counts") or []:
            value = self._shown(self.expectation.columns[0], item["value"])
            key = repr(value)
            self.value_counts[key] = self.value_counts.get(key, 0) + item["count"]

    def _shown(self, column: str, value: Any) -> Any:
        value = _plain(value)
        if column in self.datetimes and isinstance(value, int | float):
            return _from_epoch_us(value)
        return value

    def outcome(self):
        from great_expectations.core import ExpectationValidationResult

        mostly = self.expectation.kwargs.get("mostly")
        considered = self.element_count - self.missing_count
        if self.exception:
            success = False
        elif mostly is not None:
            success = considered == 0 or (1 - self.unexpected_count / considered) >= mostly
        else:
            success = not self.batch_failed
        share = self.unexpected_count / considered * 100 if considered else 0.0
        observed = f"{self.unexpected_count:,} of {considered:,} rows unexpected ({share:.4g}%)"
        if self.value_counts:
            top = sorted(self.value_counts.items(), key=lambda kv: -kv[1])[:5]
            observed += "; e.g. " + ", ".join(f"{value} x{count}" for value, count in top)
        outcome = Outcome(
            self.expectation,
            success=success,
            observed=observed,
            element_count=self.element_count,
            unexpected_count=self.unexpected_count,
            sample_rows=self.samples,
            exception=self.exception,
        )
        evr = ExpectationValidationResult(
            success=success,
            expectation_config=self.config,
            result={
                "element_count": self.element_count,
                "missing_count": self.missing_count,
                "unexpected_count": self.unexpected_count,
                "unexpected_percent": share,
                "partial_unexpected_list": [next(iter(row.values()), None) for row in self.samples],
                "partial_unexpected_index_list": self.samples,
            },
            exception_info={
                "raised_exception": bool(self.exception),
                "exception_message": self.exception,
                "exception_traceback": None,
            },
        )
        return outcome, evr


def _from_epoch_us(value: float) -> str:
    return datetime.fromtimestamp(value / 1_000_000, UTC).replace(tzinfo=None).isoformat()


def _exception(evr) -> str | None:
    info = evr.exception_info or {}
    # A failed metric is reported as {metric id: {...}}; a direct failure as {...}.
    items = [info] if "raised_exception" in info else list(info.values())
    for item in items:
        if isinstance(item, dict) and item.get("raised_exception"):
            return str(item.get("exception_message") or "exception")
    return None


def _plain(value: Any) -> Any:
    """JSON-safe Python value (numpy scalars, NaN, timestamps, decimals)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        with contextlib.suppress(ValueError, AttributeError):
            value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, int | float | str | bool):
        return value
    if isinstance(value, pd.Timestamp | datetime | date):
        return value.isoformat()
    return str(value)
