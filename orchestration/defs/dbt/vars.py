"""The dbt project's vars (dbt_project/dbt_project.yml), for the Python side that must apply the
same rule parameters: the small-cell size in the report's charts and in the expectation suites."""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml

from orchestration.settings import DBT_PROJECT_DIR


@cache
def dbt_vars() -> dict[str, Any]:
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return dict(project.get("vars") or {})


def min_cell_size() -> int:
    """The dbt var `min_cell_size`, the one home of the small-cell rule (docs/privacy.md)."""
    return int(dbt_vars()["min_cell_size"])
