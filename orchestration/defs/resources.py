"""Resources shared by every module: run settings and the DuckDB warehouse."""

from datetime import date
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.settings import PipelineSettings

# Every asset that opens the DuckDB warehouse runs in this pool. dagster.yaml limits it to one
# run at a time (run granularity), so a second run waits in the queue instead of failing on
# DuckDB's single-writer file lock.
WAREHOUSE_POOL = "duckdb_warehouse"


class PipelineConfig(dg.ConfigurableResource):
    """The run settings of SPEC section 8, resolved from PIPELINE_* variables at load time."""

    landing_dir: str
    warehouse: str
    publish_dir: str
    timezone: str = "UTC"
    as_of: str = ""
    account_homepage: str = ""

    @classmethod
    def from_settings(cls, settings: PipelineSettings) -> "PipelineConfig":
        return cls(
            landing_dir=str(settings.landing_dir),
            warehouse=str(settings.warehouse),
            publish_dir=str(settings.publish_dir),
            timezone=settings.timezone,
            as_of=settings.as_of.isoformat(),
            account_homepage=settings.account_homepage or "",
        )

    @property
    def settings(self) -> PipelineSettings:
        return PipelineSettings(
            landing_dir=Path(self.landing_dir),
            warehouse=Path(self.warehouse),
            publish_dir=Path(self.publish_dir),
            timezone=self.timezone,
            as_of=date.fromisoformat(self.as_of) if self.as_of else date.today(),
            account_homepage=self.account_homepage or None,
        )


def warehouse_resource(settings: PipelineSettings) -> DuckDBResource:
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    return DuckDBResource(database=str(settings.warehouse))
