"""The asset keys of some Definitions, so checks and publication follow the assets that exist
(the dbt project's marts, the raw extracts) as they are added."""

from __future__ import annotations

import dagster as dg


def asset_keys_of(*definitions: dg.Definitions) -> set[dg.AssetKey]:
    return {key for defs in definitions for asset in defs.assets or [] for key in asset.keys}
