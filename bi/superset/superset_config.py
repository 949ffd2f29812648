"""Superset's configuration for the pipeline's BI layer (docs/bi-tools.md#superset).

Read by Superset through SUPERSET_CONFIG_PATH, which bi/superset/provision.py and `make bi` set.
State (the SQLite metadata database and the secret key) lives in SUPERSET_HOME, default
data/superset/, never in the repository.
"""

import os
import secrets
from pathlib import Path

_HOME = Path(os.environ.get("SUPERSET_HOME", "data/superset")).resolve()
_HOME.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """One random key per Superset home, kept beside its database (it encrypts saved secrets)."""
    path = _HOME / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = os.environ.get("SUPERSET_SECRET_KEY") or _secret_key()
SQLALCHEMY_DATABASE_URI = f"sqlite:///{_HOME / 'superset.db'}"

# Row-level security clauses use Jinja: `manager_id = '{{ current_username() }}'`.
FEATURE_FLAGS = {"ENABLE_TEMPLATE_PROCESSING": True}

# Nothing leaves the machine: no example data, no telemetry, no external fonts or maps.
SUPERSET_LOAD_EXAMPLES = False
SCARF_ANALYTICS = False
MAPBOX_API_KEY = ""

# Caches in this process's memory: one local server, no Redis to install.
_CACHE = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 300}
CACHE_CONFIG = _CACHE
DATA_CACHE_CONFIG = _CACHE
FILTER_STATE_CACHE_CONFIG = _CACHE
EXPLORE_FORM_DATA_CACHE_CONFIG = _CACHE

# The REST API for roles and users (used by provisioning and the tests).
FAB_ADD_SECURITY_API = True

# Warnings and errors only: Superset logs every request and migration at INFO.
LOG_LEVEL = "WARNING"

# Served on 127.0.0.1 only by `make bi`; put it behind your SSO proxy to share it (README).
WTF_CSRF_ENABLED = True
TALISMAN_ENABLED = False
