"""Resources shared by every module: run settings and the DuckDB warehouse."""

import struct
import sys
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from orchestration.settings import (
    DEFAULT_DUCKDB_MEMORY_LIMIT,
    PipelineSettings,
    SettingsError,
    today,
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


class PipelineConfig(dg.ConfigurableResource):
    """The run settings of SPEC section 8, resolved from PIPELINE_* variables at load time."""

    landing_dir: str
    warehouse: str
    publish_dir: str
    timezone: str = "UTC"
    # Empty unless PIPELINE_AS_OF is set: a long-running code server then reads today's date
    # when each run starts, not the day it loaded the definitions.
    as_of: str = ""
    # Today's date when the run started, so every step of a run that crosses midnight
    # builds, checks and reports as of the same day.
    _run_as_of: date | None = PrivateAttr(default=None)
    account_homepage: str = ""
    lookback_days: int = 3
    full_validation_days: int = 7
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    duckdb_threads: int = 0  # 0: DuckDB's default

    @classmethod
    def from_settings(cls, settings: PipelineSettings) -> "PipelineConfig":
        return cls(
            landing_dir=str(settings.landing_dir),
            warehouse=str(settings.warehouse),
            publish_dir=str(settings.publish_dir),
            timezone=settings.timezone,
            as_of=settings.as_of.isoformat() if settings.as_of_fixed else "",
            account_homepage=settings.account_homepage or "",
            lookback_days=settings.lookback_days,
            full_validation_days=settings.full_validation_days,
            duckdb_memory_limit=settings.duckdb_memory_limit,
            duckdb_threads=settings.duckdb_threads or 0,
        )

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._run_as_of = self._as_of()

    def _as_of(self) -> date:
        if self.as_of:
            return date.fromisoformat(self.as_of)
        return self._run_as_of or today(self.timezone)

    @property
    def settings(self) -> PipelineSettings:
        return PipelineSettings(
            landing_dir=Path(self.landing_dir),
            warehouse=Path(self.warehouse),
            publish_dir=Path(self.publish_dir),
            timezone=self.timezone,
            as_of=self._as_of(),
            as_of_fixed=bool(self.as_of),
            account_homepage=self.account_homepage or None,
            lookback_days=self.lookback_days,
            full_validation_days=self.full_validation_days,
            duckdb_memory_limit=self.duckdb_memory_limit,
            duckdb_threads=self.duckdb_threads or None,
        )


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
