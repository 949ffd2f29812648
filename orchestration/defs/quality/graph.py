"""The asset keys this code location defines, looked up at load time from the ingest and dbt
modules, so checks and publication follow the dbt project as marts are added."""

from __future__ import annotations

import dagster as dg

from orchestration.settings import PipelineSettings


def pipeline_asset_keys(settings: PipelineSettings) -> set[dg.AssetKey]:
    from orchestration.defs.dbt.assets import build_dbt_assets
    from orchestration.defs.ingest.assets import build_statements_asset, csv_assets

    keys: set[dg.AssetKey] = set()
    for assets_def in [*build_dbt_assets(settings), *csv_assets, build_statements_asset(settings)]:
        keys |= set(assets_def.keys)
    return keys
