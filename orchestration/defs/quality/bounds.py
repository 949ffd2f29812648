"""How a suite's datetime bounds meet datetime columns, on either engine: both become
microseconds since the epoch (naive UTC), so GX compares numbers (quality/batches.py).

Standard library only: the Spark validator (quality/spark_validator.py) imports it too."""

from __future__ import annotations

from datetime import UTC, datetime


def epoch_bounds(kwargs: dict, datetimes: set[str] | frozenset[str]) -> dict:
    """Bounds on a date or timestamp column, as microseconds since the epoch like the column."""
    if kwargs.get("column") not in datetimes:
        return kwargs
    converted = dict(kwargs)
    for name in ("min_value", "max_value"):
        if isinstance(kwargs.get(name), str):
            moment = datetime.fromisoformat(kwargs[name])
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            converted[name] = moment.timestamp() * 1_000_000
    return converted
