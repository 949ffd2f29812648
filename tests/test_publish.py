"""Publication for BI tools (docs/publication.md): trusted marts copied atomically beside the
warehouse, skipped when a blocking check fails, readable while the pipeline writes the warehouse."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from orchestration import cli
from orchestration.definitions import build_definitions
from orchestration.defs.publish.assets import PUBLISHED_TABLES, published_table_keys
from orchestration.defs.publish.writer import publish
from orchestration.defs.quality.graph import asset_keys_of
from orchestration.settings import PipelineSettings
from tests.conftest import run_pipeline, settings_for
from tests.landing import build_landing
from tests.quality_helpers import plant_unknown_course_enrollment

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.pipeline

# DuckDB's storage version number for files readable by DuckDB 1.0 and 1.1 (written at byte 12).
DUCKDB_1_0_STORAGE = 64

# A second process: reads the publication every few milliseconds and notes, each time, whether
# another process held a lock on the warehouse file (warehouse_holder asks without taking it).
READER = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    import duckdb
    from orchestration.defs.resources import warehouse_holder
    publication, warehouse, stop, out = sys.argv[1:5]
    observations = []
    while not os.path.exists(stop):
        busy = warehouse_holder(Path(warehouse)) is not None
        try:
            conn = duckdb.connect(publication, read_only=True)
            rows = conn.execute("select count(*) from fct_engagement_weekly").fetchone()[0]
            conn.close()
            observations.append({"busy": busy, "rows": rows})
        except Exception as exc:
            observations.append({"busy": busy, "error": str(exc)})
        time.sleep(0.02)
    json.dump(observations, open(out, "w"))
    """
)


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def first_publication(tmp_path_factory):
    root = tmp_path_factory.mktemp("publish")
    build_landing(root / "landing")
    settings = settings_for(root)
    result = run_pipeline(settings)
    assert result.success
    return settings


@pytest.fixture(scope="module")
def failed_run(first_publication, tmp_path_factory):
    """`retention-pipeline run` with a planted defect, while a second process reads."""
    settings = first_publication
    publish_dir = settings.publish_dir
    before = {
        "duckdb": sha256(publish_dir / "analytics.duckdb"),
        "parquet_link": os.readlink(publish_dir / "parquet"),
        "manifest": (publish_dir / "publication.json").read_text(),
    }
    plant_unknown_course_enrollment(settings.landing_dir)
    scratch = tmp_path_factory.mktemp("reader")
    stop, out = scratch / "stop", scratch / "observations.json"
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            READER,
            str(publish_dir / "analytics.duckdb"),
            str(settings.warehouse),
            str(stop),
            str(out),
        ]
    )
    env = {
        "PIPELINE_LANDING_DIR": str(settings.landing_dir),
        "PIPELINE_WAREHOUSE": str(settings.warehouse),
        "PIPELINE_PUBLISH_DIR": str(publish_dir),
        "PIPELINE_AS_OF": "2024-06-30",
        "PIPELINE_TIMEZONE": "UTC",
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DAGSTER_HOME", raising=False)
        for name in [n for n in os.environ if n.startswith("PIPELINE_ALERT_")]:
            patch.delenv(name)
        for name, value in env.items():
            patch.setenv(name, value)
        stderr = scratch / "stderr.txt"
        real_stderr = sys.stderr
        with stderr.open("w") as handle:
            sys.stderr = handle
            try:
                exit_code = cli.main(["run"])
            finally:
                sys.stderr = real_stderr
    stop.touch()
    reader.wait(timeout=60)
    return {
        "before": before,
        "exit_code": exit_code,
        "stderr": stderr.read_text(),
        "observations": json.loads(out.read_text()),
        "settings": settings,
    }


def test_publication_holds_every_spec_table_that_exists(first_publication):
    defined = asset_keys_of(build_definitions(PipelineSettings.from_env({})))
    expected = [key.path[-1] for key in published_table_keys(defined)]
    assert expected, "none of the marts to publish is built yet"
    conn = duckdb.connect(str(first_publication.publish_dir / "analytics.duckdb"), read_only=True)
    tables = {t for (t,) in conn.execute("select table_name from duckdb_tables()").fetchall()}
    info = conn.execute("select table_name, row_count from publication_info").fetchall()
    conn.close()
    assert set(expected) <= tables <= set(PUBLISHED_TABLES) | {"publication_info"}
    assert {t for t, _ in info} == set(expected)
    parquet = first_publication.publish_dir / "parquet"
    assert parquet.is_symlink()
    for table, rows in info:
        path = parquet / f"{table}.parquet"
        assert duckdb.sql(f"select count(*) from '{path}'").fetchall()[0][0] == rows


def test_publication_is_readable_by_duckdb_1_0_clients(first_publication):
    header = (first_publication.publish_dir / "analytics.duckdb").read_bytes()[:20]
    assert header[8:12] == b"DUCK"
    assert int.from_bytes(header[12:20], "little") == DUCKDB_1_0_STORAGE


def _duckdb_1_1_python() -> Path:
    """A Python with the DuckDB 1.1 client BI drivers still bundle, in its own virtualenv under
    .cache/ (installed the first time, reused after)."""
    venv = ROOT / ".cache" / "duckdb-1.1-venv"
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    if not marker.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "duckdb==1.1.3"], check=True
        )
        marker.touch()
    return python


def test_a_duckdb_1_1_client_reads_every_published_table(first_publication):
    """Not only the header: DuckDB 1.1 opens the file and counts what publication.json says."""
    read = textwrap.dedent(
        """
        import json, sys
        import duckdb
        conn = duckdb.connect(sys.argv[1], read_only=True)
        tables = [t for (t,) in conn.execute("select table_name from duckdb_tables()").fetchall()]
        print(json.dumps({
            "version": duckdb.__version__,
            "rows": {t: conn.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables},
        }))
        """
    )
    database = first_publication.publish_dir / "analytics.duckdb"
    done = subprocess.run(
        [str(_duckdb_1_1_python()), "-c", read, str(database)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout)
    manifest = json.loads((first_publication.publish_dir / "publication.json").read_text())
    assert answer["version"].startswith("1.1.")
    assert {t: answer["rows"][t] for t in manifest["tables"]} == manifest["tables"]


def test_failed_blocking_check_exits_non_zero_naming_the_check(failed_run):
    assert failed_run["exit_code"] == 1
    assert "check expectation_suite on raw/lms_enrollments" in failed_run["stderr"]
    assert "expect_column_values_to_be_in_set(course_in_catalog)" in failed_run["stderr"]
    assert "Nothing was published" in failed_run["stderr"]


def test_failed_blocking_check_leaves_the_previous_publication_untouched(failed_run):
    publish_dir = failed_run["settings"].publish_dir
    before = failed_run["before"]
    assert sha256(publish_dir / "analytics.duckdb") == before["duckdb"]
    assert os.readlink(publish_dir / "parquet") == before["parquet_link"]
    assert (publish_dir / "publication.json").read_text() == before["manifest"]
    assert not [p for p in publish_dir.iterdir() if p.name.startswith(".")]


def test_a_second_process_reads_the_publication_while_the_warehouse_is_written(failed_run):
    observations = failed_run["observations"]
    assert observations and not [o for o in observations if "error" in o], observations[:3]
    assert any(o["busy"] for o in observations), "the reader never saw the warehouse locked"


MIX_READER = textwrap.dedent(
    """
    import json, os, sys, time
    import duckdb
    publish_dir, stop, out = sys.argv[1:4]
    seen = []
    while not os.path.exists(stop):
        conn = duckdb.connect(os.path.join(publish_dir, "analytics.duckdb"), read_only=True)
        in_db = [conn.execute(f"select min(v), max(v) from {t}").fetchone() for t in ("t1", "t2")]
        conn.close()
        # A Parquet reader resolves the `parquet` link once, then reads every table under it.
        current = os.path.realpath(os.path.join(publish_dir, "parquet"))
        in_parquet = [
            duckdb.sql(f"select min(v), max(v) from '{current}/{t}.parquet'").fetchall()[0]
            for t in ("t1", "t2")
        ]
        seen.append({"duckdb": in_db, "parquet": in_parquet})
    json.dump(seen, open(out, "w"))
    """
)


def test_a_reader_sees_the_old_or_the_new_publication_never_a_mix(tmp_path):
    publish_dir = tmp_path / "published"
    conn = duckdb.connect()
    conn.execute("create schema marts")

    def publish_version(version: int) -> None:
        for table in ("t1", "t2"):
            conn.execute(
                f"create or replace table marts.{table} as select {version} as v from range(200000)"
            )
        publish(conn, ["t1", "t2"], publish_dir, run_id=f"run-{version}")

    publish_version(1)
    stop, out = tmp_path / "stop", tmp_path / "seen.json"
    reader = subprocess.Popen(
        [sys.executable, "-c", MIX_READER, str(publish_dir), str(stop), str(out)]
    )
    time.sleep(1.0)  # let the reader start reading
    for version in range(2, 10):
        publish_version(version)
    stop.touch()
    reader.wait(timeout=60)
    seen = json.loads(out.read_text())
    assert len(seen) > 5
    for observation in seen:
        for copy in ("duckdb", "parquet"):
            (low1, high1), (low2, high2) = observation[copy]
            assert low1 == high1 == low2 == high2, observation  # one version per table and copy
    assert len({obs["duckdb"][0][0] for obs in seen}) > 1, "the reader saw only one version"
    assert len(list((publish_dir / "parquet_versions").iterdir())) == 3
    assert not [p for p in publish_dir.iterdir() if p.name.startswith(".")]
