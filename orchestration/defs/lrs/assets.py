"""The asset that pulls new statements from the configured LRS, before the statement files load.

It writes into raw.lms_statements, the table the file asset `raw/lms_statements` owns and dbt
reads, so downstream models cannot tell a statement's origin. It sits upstream of that asset:
every run pulls first, then loads files, then builds. Without an LRS it materializes with
`lrs: not configured` and no rows, because a step that yields nothing would skip everything
downstream of it in the same run.
"""

from datetime import timedelta

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.defs.ingest.contract import RAW_SCHEMA
from orchestration.defs.lrs.client import LrsError, lrs_client
from orchestration.defs.lrs.pull import CURSOR_TABLE, pull_statements
from orchestration.defs.resources import WAREHOUSE_POOL
from orchestration.defs.timing import Stopwatch
from orchestration.settings import PipelineSettings

LRS_ASSET_KEY = dg.AssetKey([RAW_SCHEMA, "lms_statements_lrs"])


@dg.asset(
    key=LRS_ASSET_KEY,
    group_name="raw_lms",
    kinds={"duckdb", "xapi"},
    pool=WAREHOUSE_POOL,
    description=(
        "xAPI statements pulled from the Learning Record Store at PIPELINE_LRS_URL "
        "(GET statements, `since` the last `stored` loaded, following `more`) into "
        f"raw.lms_statements, deduplicated by id with the statement files. The cursor is kept "
        f"in {CURSOR_TABLE}. Does nothing, successfully, when no LRS is configured."
    ),
)
def lms_statements_lrs(
    context: dg.AssetExecutionContext,
    pipeline: dg.ResourceParam[PipelineSettings],
    warehouse: DuckDBResource,
) -> dg.MaterializeResult:
    lrs = pipeline.lrs
    if lrs is None:
        context.log.info("PIPELINE_LRS_URL is not set: no LRS to pull statements from")
        return dg.MaterializeResult(metadata={"lrs": "not configured", "rows_loaded": 0})
    watch = Stopwatch()
    client = lrs_client(lrs, log=context.log.warning)
    try:
        with warehouse.get_connection() as conn:
            result = pull_statements(
                conn,
                client,
                limit=lrs.limit,
                overlap=timedelta(minutes=lrs.overlap_minutes),
                sweep_every=timedelta(hours=lrs.sweep_hours),
                log=context.log.info,
            )
    except LrsError as exc:
        raise dg.Failure(description=str(exc), metadata={"lrs_url": client.statements_url}) from exc
    finally:
        client.close()
    return dg.MaterializeResult(metadata={"lrs": "pulled", **result.metadata(), **watch.metadata()})


defs = dg.Definitions(assets=[lms_statements_lrs])
