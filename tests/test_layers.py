"""The layers flow one way (README, "Where a change belongs"): landing -> raw -> staging ->
intermediate -> marts -> checks -> publication -> report, in dbt's lineage and in the imports of
the Dagster code location."""

import json
import re
from pathlib import Path

from orchestration.defs.dbt.project import dbt_project, ensure_manifest

ROOT = Path(__file__).resolve().parents[1]
DEFS = ROOT / "orchestration" / "defs"

DBT_LAYERS = ["staging", "intermediate", "marts"]
# Packages of the code location, upstream first. Modules directly in defs/ (rebuild, resources,
# timing, publication, markdown...) are shared names every layer may import; alerts are how any
# layer reports, so any layer may import them.
PACKAGE_LAYERS = [{"ingest", "lrs"}, {"dbt"}, {"quality"}, {"publish"}, {"report", "digest"}]


def test_no_dbt_model_reads_a_later_layer():
    ensure_manifest()
    nodes = json.loads(Path(dbt_project.manifest_path).read_text())["nodes"]
    layer = {
        uid: DBT_LAYERS.index(node["fqn"][1])
        for uid, node in nodes.items()
        if node["resource_type"] == "model"
    }
    back_edges = [
        f"{uid} reads {upstream}"
        for uid in layer
        for upstream in nodes[uid]["depends_on"]["nodes"]
        if upstream in layer and layer[upstream] > layer[uid]
    ]
    assert layer and back_edges == []


def _level(package: str) -> int | None:
    return next((i for i, names in enumerate(PACKAGE_LAYERS) if package in names), None)


def import_back_edges(defs: Path) -> list[str]:
    edges = []
    for path in sorted(defs.rglob("*.py")):
        own = path.relative_to(defs).parts
        mine = _level(own[0]) if len(own) > 1 else None
        if mine is None:
            continue
        for imported in re.findall(r"^\s*from orchestration\.defs\.(\w+)", path.read_text(), re.M):
            theirs = _level(imported)
            if theirs is not None and theirs > mine:
                edges.append(f"{path.relative_to(defs)} imports {imported}")
    return edges


def test_no_package_imports_a_later_layer():
    assert import_back_edges(DEFS) == []


def test_the_import_rule_sees_a_back_edge(tmp_path):
    """The rule would catch the edge it was written for: the dbt step drawing report charts."""
    (tmp_path / "dbt").mkdir()
    (tmp_path / "dbt" / "assets.py").write_text(
        "from orchestration.defs.rebuild import DBT_STEP\n"
        "def f():\n    from orchestration.defs.report.charts import chart_metadata\n"
    )
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "assets.py").write_text("from orchestration.defs.dbt import vars\n")
    assert import_back_edges(tmp_path) == ["dbt/assets.py imports report"]
