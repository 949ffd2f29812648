"""The query a chart's saved `params` ask for, as Superset's chart-data API takes it.

Superset's web client builds a chart's query from its params in the browser; an imported chart
has none saved, so Superset's REST API (`/api/v1/chart/<id>/data/`), its reports and CSV
downloads could not run it. provision.py saves this beside each chart; the tests compare its
results with the same SQL run on analytics.duckdb. Covers the chart types of
bi/superset/assets/charts: tables (raw and aggregated), time-series lines and bars, big numbers.
Plain Python, importable from the Superset virtualenv and from the pipeline's.
"""

from __future__ import annotations

import json
from typing import Any


def _where(params: dict[str, Any]) -> str:
    return " AND ".join(
        f"({f['sqlExpression']})"
        for f in params.get("adhoc_filters", [])
        if f.get("expressionType") == "SQL" and f.get("clause") == "WHERE"
    )


def query_context(params: dict[str, Any], dataset_id: int) -> dict[str, Any]:
    viz = params["viz_type"]
    query: dict[str, Any] = {
        "filters": [],
        "extras": {"where": _where(params), "having": ""},
        "row_limit": params.get("row_limit", 10000),
        "annotation_layers": [],
        "applied_time_extras": {},
        "url_params": {},
        "custom_params": {},
        "custom_form_data": {},
    }
    if viz == "table" and params.get("query_mode") == "raw":
        query |= {
            "columns": list(params["all_columns"]),
            "metrics": [],
            "orderby": [json.loads(c) for c in params.get("order_by_cols", [])],
        }
    elif viz == "table":
        query |= {
            "columns": list(params["groupby"]),
            "metrics": list(params["metrics"]),
            "orderby": params.get("orderby", []),
        }
    elif viz.startswith("echarts_timeseries"):
        x = params["x_axis"]
        axis: dict[str, Any] = {
            "columnType": "BASE_AXIS",
            "sqlExpression": x,
            "label": x,
            "expressionType": "SQL",
        }
        if params.get("time_grain_sqla"):
            axis["timeGrain"] = params["time_grain_sqla"]
        groupby = list(params.get("groupby", []))
        query |= {
            "columns": [axis, *groupby],
            "series_columns": groupby,
            "metrics": list(params["metrics"]),
            "orderby": [[x, True], *[[g, True] for g in groupby]],
        }
    elif viz == "big_number_total":
        query |= {"columns": [], "metrics": [params["metric"]], "orderby": []}
    else:
        raise ValueError(f"no query for chart type {viz!r}: add it to {__name__}")
    return {
        "datasource": {"id": dataset_id, "type": "table"},
        "force": False,
        "queries": [query],
        "form_data": params,
        "result_format": "json",
        "result_type": "full",
    }
