"""Sets up a local Superset on the publication: its metadata database, the assets of
bi/superset/assets (database, datasets, charts, dashboards), and row-level security for
managers (docs/bi-tools.md#superset). Idempotent: run it again after editing the assets.

Run with the Python of Superset's own virtualenv (`make bi` does):

    .cache/superset-venv/bin/python bi/superset/provision.py --publish-dir data/published \
        --manager E00042

Superset reads `<publish dir>/analytics.duckdb` read-only, never the warehouse.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import sys
import warnings
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ASSETS = HERE / "assets"
os.environ.setdefault("SUPERSET_CONFIG_PATH", str(HERE / "superset_config.py"))
sys.path.insert(0, str(HERE))

from query_context import query_context  # noqa: E402

MANAGER_ROLE = "Manager"
RLS_NAME = "managers see their direct reports"
# A manager's Superset username is their HRIS employee_id (docs/bi-tools.md#managers-and-sso).
RLS_CLAUSE = "manager_id = '{{ current_username() }}'"
MANAGER_TABLE = "mart_manager_alerts"


def asset_bundle(database: Path) -> dict[str, str]:
    """The assets as Superset's import takes them, pointed at this publication's file."""
    contents = {}
    for path in sorted(ASSETS.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        if path.parent.name == "databases":
            document = yaml.safe_load(text)
            document["sqlalchemy_uri"] = f"duckdb:///{database}"
            text = yaml.safe_dump(document, sort_keys=False)
        contents[str(path.relative_to(ASSETS))] = text
    return contents


def _password(home: Path, name: str, given: str | None) -> str:
    """A given password, or one generated once and kept (mode 600) in the Superset home."""
    if given:
        return given
    path = home / f"{name}_password"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(12))
        path.chmod(0o600)
    return path.read_text().strip()


def provision(publish_dir: Path, home: Path, admin_password: str, managers: dict[str, str]) -> dict:
    database = (publish_dir / "analytics.duckdb").resolve()
    if not database.exists():
        raise SystemExit(
            f"{database} does not exist: run the pipeline first (`make demo`). Superset reads "
            "the publication, never the warehouse."
        )
    import superset
    from flask import g
    from flask_migrate import upgrade
    from superset.app import create_app

    app = create_app()
    # Superset and SQLAlchemy warn about their own internals on every import: keep errors only.
    warnings.filterwarnings("ignore")
    logging.getLogger().setLevel(logging.ERROR)
    with app.app_context():
        # Superset's models can be imported only once the app exists.
        from superset import db, security_manager
        from superset.commands.chart.importers.v1 import ImportChartsCommand
        from superset.commands.dashboard.importers.v1 import ImportDashboardsCommand
        from superset.commands.database.importers.v1 import ImportDatabasesCommand
        from superset.commands.dataset.importers.v1 import ImportDatasetsCommand
        from superset.connectors.sqla.models import RowLevelSecurityFilter, SqlaTable
        from superset.extensions import appbuilder
        from superset.models.slice import Slice

        upgrade(directory=str(Path(superset.__file__).parent / "migrations"))
        appbuilder.add_permissions(update_perms=True)
        security_manager.sync_role_definitions()

        admin = _user(security_manager, "admin", admin_password, ["Admin"])
        db.session.commit()
        g.user = admin
        # Each kind is imported on its own with overwrite: the dashboard importer alone would
        # leave an edited chart or dataset as it was first imported.
        bundle = asset_bundle(database)
        for command, kind in (
            (ImportDatabasesCommand, "Database"),
            (ImportDatasetsCommand, "SqlaTable"),
            (ImportChartsCommand, "Slice"),
            (ImportDashboardsCommand, "Dashboard"),
        ):
            metadata = yaml.safe_load(bundle["metadata.yaml"]) | {"type": kind}
            command(bundle | {"metadata.yaml": yaml.safe_dump(metadata)}, overwrite=True).run()

        datasets = {t.table_name: t for t in db.session.query(SqlaTable).all()}
        for dataset in datasets.values():
            dataset.fetch_metadata()  # physical columns, from the published file
        for chart in db.session.query(Slice).all():
            chart.query_context = json.dumps(query_context(chart.params_dict, chart.datasource_id))

        role = security_manager.find_role(MANAGER_ROLE) or security_manager.add_role(MANAGER_ROLE)
        alerts = datasets[MANAGER_TABLE]
        role.permissions = [
            security_manager.add_permission_view_menu("datasource_access", alerts.perm)
        ]
        rls = db.session.query(RowLevelSecurityFilter).filter_by(
            name=RLS_NAME
        ).one_or_none() or RowLevelSecurityFilter(name=RLS_NAME)
        rls.description = "A manager sees the rows of their own direct reports only."
        rls.filter_type = "Regular"
        rls.clause = RLS_CLAUSE
        rls.tables = [alerts]
        rls.roles = [role]
        db.session.add(rls)
        for employee_id, password in managers.items():
            _user(security_manager, employee_id, password, ["Gamma", MANAGER_ROLE])
        db.session.commit()
        return {
            "database": str(database),
            "datasets": sorted(datasets),
            "charts": {c.slice_name: c.id for c in db.session.query(Slice).all()},
            "managers": sorted(managers),
        }


def _user(security_manager, username: str, password: str, role_names: list[str]):
    roles = [security_manager.find_role(name) for name in role_names]
    user = security_manager.find_user(username=username)
    if user is None:
        user = security_manager.add_user(
            username, username, "(pipeline)", f"{username}@localhost", roles, password=password
        )
        if not user:
            raise SystemExit(f"Superset refused to create user {username}")
    else:
        user.roles = roles
        security_manager.reset_password(user.id, password)
    return user


def _busiest_manager(database: Path) -> str:
    import duckdb

    if not database.exists():
        raise SystemExit(f"{database} does not exist: run the pipeline first (`make demo`).")
    conn = duckdb.connect(str(database), read_only=True)
    try:
        row = conn.execute(
            f"select manager_id from {MANAGER_TABLE} group by all "
            "order by count(*) desc, manager_id limit 1"
        ).fetchone()
    finally:
        conn.close()
    if row is None:
        raise SystemExit(f"{MANAGER_TABLE} is empty: no manager has an alert to show.")
    return row[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--publish-dir", default=os.environ.get("PIPELINE_PUBLISH_DIR", "data/published")
    )
    parser.add_argument(
        "--manager",
        action="append",
        default=[],
        metavar="EMPLOYEE_ID[:PASSWORD]",
        help="a manager login to create (a demo or a pilot; with SSO, users come from it)",
    )
    parser.add_argument(
        "--demo-manager",
        action="store_true",
        help="also create a login for the manager with the most alerts in the publication",
    )
    args = parser.parse_args(argv)
    home = Path(os.environ.get("SUPERSET_HOME", "data/superset")).resolve()
    home.mkdir(parents=True, exist_ok=True)
    admin_password = _password(home, "admin", os.environ.get("SUPERSET_ADMIN_PASSWORD"))
    managers = {}
    entries = list(args.manager)
    if args.demo_manager:
        entries.append(_busiest_manager(Path(args.publish_dir) / "analytics.duckdb"))
    for entry in entries:
        employee_id, _, password = entry.partition(":")
        managers[employee_id] = _password(home, f"manager_{employee_id}", password or None)
    done = provision(Path(args.publish_dir), home, admin_password, managers)
    print(f"Superset reads {done['database']} (read-only): {len(done['charts'])} charts.")
    where = (
        "SUPERSET_ADMIN_PASSWORD"
        if os.environ.get("SUPERSET_ADMIN_PASSWORD")
        else home / "admin_password"
    )
    print(f"  admin: password in {where}")
    for employee_id in done["managers"]:
        print(f"  manager {employee_id}: password in {home / f'manager_{employee_id}_password'}")


if __name__ == "__main__":
    main()
