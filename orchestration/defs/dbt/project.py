"""The dbt project as Dagster sees it: a cached DbtProject, parsed when its manifest is stale."""

from __future__ import annotations

import os
import shutil
import sys
from functools import cache, cached_property
from importlib import metadata
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

from orchestration.settings import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR)


def invocations_dir() -> Path:
    """Where dagster-dbt gives each dbt invocation its own folder, and where the kept partial
    parse lives: `target/` in the dbt project, or dbt's own DBT_TARGET_PATH (relative to the
    project, or absolute), which dagster-dbt honours too. Two processes that build different
    warehouses at the same time (the test suite's workers) each set their own, so one's parse
    does not replace the other's (assets.py, keep_partial_parse)."""
    return Path(dbt_project.project_dir) / os.environ.get("DBT_TARGET_PATH", "target")


def dbt_executable() -> str:
    """The dbt installed beside this interpreter, so an unactivated virtualenv still works."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


class DbtCli(DbtCliResource):
    """dagster-dbt's dbt resource without two start-up costs of every dbt step, about 4 s
    together, that buy this pipeline nothing:
    - it runs `dbt --version` in a subprocess (2-3 s) to learn the version of the dbt beside
      this interpreter, which the installed dbt-core package already states;
    - it loads a dbt adapter in-process (about 1.5 s), used only to fetch column metadata, which
      this pipeline does not ask for (row counts are read after dbt exits, in assets.py)."""

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable).parent != Path(sys.executable).parent:
            return super()._cli_version  # another dbt: ask it
        return version.parse(metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):  # noqa: ARG002 (dagster-dbt's signature)
        return None


@cache
def ensure_manifest() -> None:
    """Parse the project when developing, or when the manifest is missing or older than the
    project (a fresh clone, or a model edited since the last parse). Once per process: the
    publication reads the manifest too."""
    # dagster-dbt's preparer looks for `dbt` on PATH.
    bin_dir = str(Path(dbt_executable()).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    if _manifest_is_stale():
        dbt_project.preparer.prepare(dbt_project)
    else:
        dbt_project.prepare_if_dev()


def _manifest_is_stale() -> bool:
    """True when there is no manifest, or a model, macro, seed or config file changed since."""
    manifest = dbt_project.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    project_dir = Path(dbt_project.project_dir)
    sources = [project_dir / "dbt_project.yml", project_dir / "profiles.yml"]
    for folder in ("models", "macros", "seeds", "tests"):
        sources += [p for p in (project_dir / folder).rglob("*") if p.is_file()]
    return any(path.stat().st_mtime > built for path in sources if path.exists())
