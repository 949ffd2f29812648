"""The asset keys this code location defines, looked up at load time from the ingest and dbt
modules, so checks and publication follow the dbt project as marts are added."""

from __future__ import annotations

import dagster as dg


def pipeline_asset_keys() -> set[dg.AssetKey]:
    from orchestration.defs.dbt.assets import dbt_models
    from orchestration.defs.ingest.assets import csv_assets, lms_statements

    keys: set[dg.AssetKey] = set(dbt_models.keys)
    for assets_def in [*csv_assets, lms_statements]:
        keys |= set(assets_def.keys)
    return keys
