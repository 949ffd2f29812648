"""The closing summary of a run: rows per table and what was quarantined."""

from __future__ import annotations

import duckdb

from orchestration.defs.ingest.contract import QUARANTINE_TABLE, STATEMENT_DUPLICATES_TABLE
from orchestration.settings import PipelineSettings

_SCHEMAS = ("raw", "marts")


def table_counts(conn: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int]]:
    """(schema, table, rows) for every table in the raw and marts schemas, and every view in
    marts (the published facts and the trend mart are views over intermediate tables)."""
    rows = conn.execute(
        """
        select schema_name, table_name
        from duckdb_tables() where schema_name in ('raw', 'marts') and not temporary
        union all
        select schema_name, view_name
        from duckdb_views() where schema_name = 'marts' and not temporary and not internal
        order by all"""
    ).fetchall()
    return [
        (schema, table, conn.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0])
        for schema, table in rows
    ]


def run_summary(settings: PipelineSettings) -> str:
    if not settings.warehouse.exists():
        return "No warehouse was written."
    conn = duckdb.connect(str(settings.warehouse), config={"custom_user_agent": "dagster"})
    try:
        lines = ["", f"{'table':<42} {'rows':>12}", "-" * 55]
        lines += [
            f"{schema + '.' + table:<42} {rows:>12,}" for schema, table, rows in table_counts(conn)
        ]
        quarantined = conn.execute(
            f"select source_table, count(*) from {QUARANTINE_TABLE} group by 1 order by 1"
        ).fetchall()
        duplicates = conn.execute(f"select count(*) from {STATEMENT_DUPLICATES_TABLE}").fetchone()
        lines.append("")
        if quarantined:
            lines.append(
                "Quarantined (see raw.ingest_quarantine for file, line and reason): "
                + ", ".join(f"{table} {count:,}" for table, count in quarantined)
            )
        else:
            lines.append("Quarantined: nothing")
        lines.append(f"Duplicate statements set aside: {duplicates[0]:,}")
        lines.append(f"Warehouse: {settings.warehouse}")
        return "\n".join(lines)
    except duckdb.CatalogException as exc:
        return f"Warehouse incomplete: {exc}"
    finally:
        conn.close()
