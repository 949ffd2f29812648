"""Resources shared by every module: run settings and the DuckDB warehouse."""

import struct
import sys
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.settings import (
    DEFAULT_DUCKDB_MEMORY_LIMIT,
    PipelineSettings,
    SettingsError,
)

# Every asset that opens the DuckDB warehouse runs in this pool. dagster.yaml limits it to one
# run at a time (run granularity), so a second run waits in the queue instead of failing on
# DuckDB's single-writer file lock.
WAREHOUSE_POOL = "duckdb_warehouse"


def warehouse_holder(path: Path) -> int | None:
    """The id of another process holding DuckDB's write lock on `path`, if one does.

    DuckDB locks its file with a POSIX record lock; F_GETLK asks who holds it without taking
    it. Linux only (the `struct flock` layout differs elsewhere): None on other systems.
    """
    if not sys.platform.startswith("linux") or not path.is_file():
        return None
    import fcntl

    layout = "hhqqi4x"  # l_type, l_whence, l_start, l_len, l_pid (x86-64 and arm64)
    with path.open("rb") as handle:
        query = struct.pack(layout, fcntl.F_WRLCK, 0, 0, 0, 0)
        lock_type, _, _, _, pid = struct.unpack(
            layout, fcntl.fcntl(handle.fileno(), fcntl.F_GETLK, query)
        )
    return None if lock_type == fcntl.F_UNLCK else pid


def pipeline_resource(settings: PipelineSettings) -> dg.ResourceDefinition:
    """The `pipeline` resource: the run's settings themselves. Assets and checks take it as
    `pipeline: dg.ResourceParam[PipelineSettings]`.

    It is made once per run (the code location runs steps in the run's process), so without
    PIPELINE_AS_OF every step of a run that crosses midnight works as of the day it started,
    and a long-running code server's next run takes the next day."""

    @dg.resource(description="The PIPELINE_* settings of the run (orchestration/settings.py).")
    def pipeline(_context: dg.InitResourceContext) -> PipelineSettings:
        return settings.for_run()

    return pipeline


class WarehouseResource(DuckDBResource):
    """The DuckDB warehouse, opened with the run's memory limit and thread count.

    They are SET right after connecting rather than passed as connection config: DuckDB refuses
    a second connection to an open file with a different config, and readers in this process
    (the run summary, tests) open the file with dagster's plain config."""

    memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    threads: int = 0  # 0: DuckDB's default, one per core

    @contextmanager
    def get_connection(self):
        with super().get_connection() as conn:
            apply_duckdb_limits(conn, self.memory_limit, self.threads or None)
            yield conn


def apply_duckdb_limits(conn, memory_limit: str, threads: int | None) -> None:
    """PIPELINE_DUCKDB_MEMORY_LIMIT / _THREADS on a connection (they hold for its database)."""
    conn.execute(f"set memory_limit = '{memory_limit}'")
    if threads:
        conn.execute(f"set threads = {int(threads)}")


def warehouse_resource(settings: PipelineSettings) -> WarehouseResource:
    try:
        settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(
            f"PIPELINE_WAREHOUSE={str(settings.warehouse)!r}: cannot create its folder "
            f"({exc.strerror}); set it to a file in a folder you can write"
        ) from None
    return WarehouseResource(
        database=str(settings.warehouse),
        memory_limit=settings.duckdb_memory_limit,
        threads=settings.duckdb_threads or 0,
    )
