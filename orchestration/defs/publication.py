"""The publication's names and its manifest, which any layer may read without importing the
writer: the dbt step (does the publication hold the last build?), the report and the CLI.
Written only by publish/writer.py (docs/publication.md)."""

from __future__ import annotations

import json
from pathlib import Path

DUCKDB_FILE = "analytics.duckdb"
MANIFEST = "publication.json"
INFO_TABLE = "publication_info"


def read_manifest(publish_dir: Path) -> dict | None:
    """What was last published, when and by which run; None before the first publication."""
    path = publish_dir / MANIFEST
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
