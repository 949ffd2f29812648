"""`adapter` for sqlfluff's jinja templater, which lints the models without a warehouse: dbt's
adapter.dispatch() resolved to the DuckDB implementation (the default__ macros), so the SQL
sqlfluff checks is the SQL DuckDB runs."""

from jinja2 import pass_context


@pass_context
def dispatch(context, macro_name, macro_namespace=None):  # noqa: ARG001 (dbt's signature)
    return context.resolve(f"default__{macro_name}")
