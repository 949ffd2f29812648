"""Every setting of the pipeline, read once from PIPELINE_* environment variables.

`PipelineSettings.from_env()` is the only reader of the environment: assets, checks, sensors and
the CLI receive the resulting frozen object (the Dagster resource `pipeline`), and dbt receives
`dbt_env()`. A new setting is a field here, its line in `from_env`, and its row in the README's
configuration table (tests/test_settings.py checks the table against this module).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
# DuckDB's own default is 80% of RAM per process, and the pipeline process and the dbt
# subprocess each open the warehouse: a fixed cap keeps a 10M-statement build far below that.
DEFAULT_DUCKDB_MEMORY_LIMIT = "4GB"
_MEMORY = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.IGNORECASE)


class SettingsError(ValueError):
    """A PIPELINE_* variable holds a value the pipeline cannot use."""


@dataclass(frozen=True)
class LrsSettings:
    """Where to pull xAPI statements from (PIPELINE_LRS_*); None when PIPELINE_LRS_URL is unset."""

    url: str  # the LRS's xAPI endpoint, e.g. https://lrs.example.com/xAPI/
    user: str
    password: str = field(repr=False)
    limit: int = 500
    overlap_minutes: float = 5.0
    sweep_hours: float = 24.0  # a pull asks for every statement at least this often
    timeout_seconds: float = 30.0
    attempts: int = 4

    @classmethod
    def from_env(cls, env: dict[str, str]) -> LrsSettings | None:
        url = env.get("PIPELINE_LRS_URL") or ""
        if not url:
            return None
        parts = urlsplit(url)
        if "@" in parts.netloc:
            # Named without its value: the user:password part would otherwise reach a log.
            raise SettingsError(
                "PIPELINE_LRS_URL must not hold credentials (user:password@): "
                "set PIPELINE_LRS_USER and PIPELINE_LRS_PASSWORD instead"
            )
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SettingsError(
                f"PIPELINE_LRS_URL={url!r} is not an http(s) URL "
                "(expected the LRS's xAPI endpoint, e.g. https://lrs.example.com/xAPI/)"
            )
        return cls(
            url=url,
            user=env.get("PIPELINE_LRS_USER") or "",
            password=env.get("PIPELINE_LRS_PASSWORD") or "",
            limit=_number(env, "PIPELINE_LRS_LIMIT", 500, int, minimum=0),
            overlap_minutes=_number(env, "PIPELINE_LRS_OVERLAP_MINUTES", 5.0, float, minimum=0),
            sweep_hours=_number(env, "PIPELINE_LRS_SWEEP_HOURS", 24.0, float, minimum=0),
            timeout_seconds=_number(env, "PIPELINE_LRS_TIMEOUT_SECONDS", 30.0, float, minimum=1),
            attempts=_number(env, "PIPELINE_LRS_ATTEMPTS", 4, int, minimum=1),
        )


DEFAULT_QUALITY_BATCH_ROWS = 500_000
# DuckDB's share while a suite runs: its buffer pool would otherwise keep every column it read.
DEFAULT_QUALITY_MEMORY_LIMIT = "1GB"


@dataclass(frozen=True)
class QualitySettings:
    """How the expectation suites run (PIPELINE_QUALITY_*, PIPELINE_FULL_VALIDATION_DAYS)."""

    # Suites over the statement tables validate the rows a run wrote, and the whole table at
    # least this often (0: every run).
    full_validation_days: int = 7
    batch_rows: int = DEFAULT_QUALITY_BATCH_ROWS  # rows read into pandas and validated at a time
    memory_limit: str = DEFAULT_QUALITY_MEMORY_LIMIT  # DuckDB's limit while it feeds GX batches
    data_docs_dir: Path | None = None  # None: data_docs/ beside the warehouse

    @classmethod
    def from_env(cls, env: dict[str, str]) -> QualitySettings:
        docs = env.get("PIPELINE_DATA_DOCS_DIR") or ""
        return cls(
            full_validation_days=_number(env, "PIPELINE_FULL_VALIDATION_DAYS", 7, int, minimum=0),
            batch_rows=_number(
                env, "PIPELINE_QUALITY_BATCH_ROWS", DEFAULT_QUALITY_BATCH_ROWS, int, minimum=1
            ),
            memory_limit=_memory(
                env, "PIPELINE_QUALITY_MEMORY_LIMIT", DEFAULT_QUALITY_MEMORY_LIMIT
            ),
            data_docs_dir=Path(docs).expanduser().resolve() if docs else None,
        )


DEFAULT_DAGSTER_URL = "http://127.0.0.1:3000"


@dataclass(frozen=True)
class AlertSettings:
    """Where failed checks and runs are announced (PIPELINE_ALERT_*); none set: no alerts."""

    # Secrets are excluded from repr, so logging the settings never prints them.
    webhook_url: str | None = field(default=None, repr=False)
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_from: str = "retention-pipeline@localhost"
    smtp_to: tuple[str, ...] = ()
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    dagster_url: str = DEFAULT_DAGSTER_URL
    on_warn: bool = False
    timeout_seconds: float = 10.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> AlertSettings:
        env = dict(os.environ if env is None else env)
        port_text = env.get("PIPELINE_ALERT_SMTP_PORT") or ""
        ssl = _flag(env.get("PIPELINE_ALERT_SMTP_SSL"), default=port_text == "465")
        return cls(
            webhook_url=env.get("PIPELINE_ALERT_WEBHOOK_URL") or None,
            smtp_host=env.get("PIPELINE_ALERT_SMTP_HOST") or None,
            smtp_port=(
                _number(env, "PIPELINE_ALERT_SMTP_PORT", 0, int, minimum=1)
                if port_text
                else (465 if ssl else 587)
            ),
            smtp_user=env.get("PIPELINE_ALERT_SMTP_USER") or None,
            smtp_password=env.get("PIPELINE_ALERT_SMTP_PASSWORD") or None,
            smtp_from=env.get("PIPELINE_ALERT_SMTP_FROM") or "retention-pipeline@localhost",
            smtp_to=tuple(
                a.strip() for a in (env.get("PIPELINE_ALERT_SMTP_TO") or "").split(",") if a.strip()
            ),
            smtp_starttls=_flag(env.get("PIPELINE_ALERT_SMTP_STARTTLS"), default=not ssl),
            smtp_ssl=ssl,
            dagster_url=(env.get("PIPELINE_DAGSTER_URL") or DEFAULT_DAGSTER_URL).rstrip("/"),
            on_warn=_flag(env.get("PIPELINE_ALERT_ON_WARN"), default=False),
        )

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host and self.smtp_to)

    @property
    def enabled(self) -> bool:
        return bool(self.webhook_url) or self.email_enabled

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in a log line or in metadata."""
        return tuple(s for s in (self.webhook_url, self.smtp_password) if s)

    def run_url(self, run_id: str) -> str:
        return f"{self.dagster_url}/runs/{run_id}"


@dataclass(frozen=True)
class DigestSettings:
    """The weekly manager digest (PIPELINE_MANAGER_DIGEST, docs/manager-digest.md): off unless
    turned on. It sends over the SMTP settings of the alerts."""

    enabled: bool = False
    allowlist: tuple[str, ...] = ()  # manager employee ids; empty: every manager
    dry_run_dir: Path | None = None  # write <manager_id>.eml files here instead of sending
    bi_url: str | None = None  # a link to the BI dashboard in each email

    @classmethod
    def from_env(cls, env: dict[str, str]) -> DigestSettings:
        allowlist = env.get("PIPELINE_DIGEST_ALLOWLIST") or ""
        return cls(
            enabled=_flag(env.get("PIPELINE_MANAGER_DIGEST"), default=False),
            allowlist=tuple(a.strip() for a in allowlist.split(",") if a.strip()),
            dry_run_dir=(
                _path(env, "PIPELINE_DIGEST_DRY_RUN", "")
                if env.get("PIPELINE_DIGEST_DRY_RUN")
                else None
            ),
            bi_url=env.get("PIPELINE_BI_URL") or None,
        )


ENGINES = ("duckdb", "spark")
# How dbt reaches Spark: a SparkSession in its own process, or a Spark Thrift Server. Each is
# an output of dbt_project/profiles.yml, since their Spark settings are passed differently.
SPARK_METHODS = {"session": "spark", "thrift": "spark_thrift"}
# Where the expectation suites over Spark's tables run (docs/data-quality.md#on-spark).
SPARK_VALIDATIONS = ("spark", "duckdb")


@dataclass(frozen=True)
class EngineSettings:
    """Where dbt builds the models (PIPELINE_ENGINE, docs/spark.md): DuckDB in the warehouse
    file, the default, or Apache Spark over the lake. Spark's own settings (master, memory,
    Thrift host) are read by dbt_project/profiles.yml."""

    name: str = "duckdb"
    lake_dir: Path | None = None  # None: lake/ beside the warehouse file
    # The dbt that has dbt-spark: `make spark` installs it in a virtualenv of its own.
    spark_dbt: Path = PROJECT_ROOT / ".cache" / "spark-venv" / "bin" / "dbt"
    spark_method: str = "session"
    # The Spark Thrift Server, with spark_method "thrift", and the user its sessions run as.
    spark_host: str = "localhost"
    spark_port: int = 10000
    spark_user: str = "retention_pipeline"
    # With spark_method "session": Spark's master URL and driver memory.
    spark_master: str = "local[2]"
    spark_driver_memory: str = "4g"
    # Partitions of Spark's shuffles (joins, group-bys), either method.
    spark_shuffle_partitions: int = 8
    # The suites over the tables Spark built run in Spark (GX's Spark datasource), or in DuckDB
    # over Spark's Parquet files.
    spark_validation: str = "spark"
    # How many times a failed dbt step on Spark runs again (a cluster's passing failures).
    spark_retries: int = 1

    @classmethod
    def from_env(cls, env: dict[str, str]) -> EngineSettings:
        name = _choice(env, "PIPELINE_ENGINE", "duckdb", ENGINES, "an engine")
        method = _choice(
            env, "PIPELINE_SPARK_METHOD", "session", SPARK_METHODS, "a way to reach Spark"
        )
        validation = _choice(
            env,
            "PIPELINE_SPARK_VALIDATION",
            cls.spark_validation,
            SPARK_VALIDATIONS,
            "where suites can run",
        )
        return cls(
            name=name,
            lake_dir=_path(env, "PIPELINE_LAKE_DIR", "") if env.get("PIPELINE_LAKE_DIR") else None,
            spark_dbt=_path(env, "PIPELINE_SPARK_DBT", str(cls.spark_dbt)),
            spark_method=method,
            spark_host=_text(env, "PIPELINE_SPARK_HOST", cls.spark_host),
            spark_port=_number(env, "PIPELINE_SPARK_PORT", cls.spark_port, int, minimum=1),
            spark_user=_text(env, "PIPELINE_SPARK_USER", cls.spark_user),
            spark_master=_text(env, "PIPELINE_SPARK_MASTER", cls.spark_master),
            spark_driver_memory=_text(env, "PIPELINE_SPARK_DRIVER_MEMORY", cls.spark_driver_memory),
            spark_shuffle_partitions=_number(
                env,
                "PIPELINE_SPARK_SHUFFLE_PARTITIONS",
                cls.spark_shuffle_partitions,
                int,
                minimum=1,
            ),
            spark_validation=validation,
            spark_retries=_number(env, "PIPELINE_SPARK_RETRIES", cls.spark_retries, int, minimum=0),
        )

    @property
    def is_spark(self) -> bool:
        return self.name == "spark"

    @property
    def validates_on_spark(self) -> bool:
        """The suites over the tables Spark built run in Spark."""
        return self.is_spark and self.spark_validation == "spark"

    @property
    def spark_python(self) -> Path:
        """The Python beside the dbt that has dbt-spark: it has pyspark and GX."""
        return self.spark_dbt.parent / "python"

    @property
    def spark_target(self) -> str:
        """The output of profiles.yml that reaches Spark by `spark_method`."""
        return SPARK_METHODS[self.spark_method]

    def spark_env(self) -> dict[str, str]:
        """How dbt reaches Spark, for profiles.yml: it changes no result (dbt/builds.py)."""
        return {
            "PIPELINE_SPARK_HOST": self.spark_host,
            "PIPELINE_SPARK_PORT": str(self.spark_port),
            "PIPELINE_SPARK_USER": self.spark_user,
            "PIPELINE_SPARK_MASTER": self.spark_master,
            "PIPELINE_SPARK_DRIVER_MEMORY": self.spark_driver_memory,
            "PIPELINE_SPARK_SHUFFLE_PARTITIONS": str(self.spark_shuffle_partitions),
        }


@dataclass(frozen=True)
class PipelineSettings:
    landing_dir: Path
    warehouse: Path
    publish_dir: Path
    timezone: str
    as_of: date
    account_homepage: str | None
    schedule_cron: str = "0 6 * * *"
    schedule_timezone: str = "UTC"
    # A day's run also rebuilds this many days before it, for statements that arrive late.
    lookback_days: int = 3
    lrs: LrsSettings | None = None
    quality: QualitySettings = field(default_factory=QualitySettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    digest: DigestSettings = field(default_factory=DigestSettings)
    # PIPELINE_AS_OF was given (a reproducible run), rather than today's date.
    as_of_fixed: bool = False
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT  # every DuckDB connection, dbt's too
    duckdb_threads: int | None = None  # None: DuckDB's default, one per core
    engine: EngineSettings = field(default_factory=EngineSettings)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> PipelineSettings:
        env = dict(os.environ if env is None else env)
        timezone = _timezone(env, "PIPELINE_TIMEZONE", "UTC")
        schedule_timezone = _timezone(env, "PIPELINE_SCHEDULE_TIMEZONE", timezone)
        schedule_cron = env.get("PIPELINE_SCHEDULE_CRON") or "0 6 * * *"
        if not _is_cron(schedule_cron):
            raise SettingsError(
                f"PIPELINE_SCHEDULE_CRON={schedule_cron!r} is not a cron schedule "
                "(five fields, e.g. '0 6 * * *' for 06:00 every day)"
            )
        as_of = _date(env, "PIPELINE_AS_OF", None)
        if as_of is not None and as_of > today(timezone):
            raise SettingsError(
                f"PIPELINE_AS_OF={as_of.isoformat()} is after today ({today(timezone)} in "
                f"{timezone}): weeks after today have no data yet. Set a past date, or unset it "
                "for today"
            )
        return cls(
            landing_dir=_path(env, "PIPELINE_LANDING_DIR", "data/landing"),
            warehouse=_path(env, "PIPELINE_WAREHOUSE", "data/warehouse.duckdb"),
            publish_dir=_path(env, "PIPELINE_PUBLISH_DIR", "data/published"),
            timezone=timezone,
            as_of=as_of or today(timezone),
            account_homepage=env.get("PIPELINE_ACCOUNT_HOMEPAGE") or None,
            schedule_cron=schedule_cron,
            schedule_timezone=schedule_timezone,
            lookback_days=_number(env, "PIPELINE_LOOKBACK_DAYS", 3, int, minimum=0),
            as_of_fixed=as_of is not None,
            lrs=LrsSettings.from_env(env),
            quality=QualitySettings.from_env(env),
            alerts=AlertSettings.from_env(env),
            digest=DigestSettings.from_env(env),
            duckdb_memory_limit=_memory(
                env, "PIPELINE_DUCKDB_MEMORY_LIMIT", DEFAULT_DUCKDB_MEMORY_LIMIT
            ),
            duckdb_threads=_number(env, "PIPELINE_DUCKDB_THREADS", None, int, minimum=1),
            engine=EngineSettings.from_env(env),
        )

    def for_run(self) -> PipelineSettings:
        """The settings a run works with: without PIPELINE_AS_OF, the as-of date is today
        when the run starts, for every step of it, however long a code server has been up."""
        return self if self.as_of_fixed else replace(self, as_of=today(self.timezone))

    @property
    def data_docs_dir(self) -> Path:
        """PIPELINE_DATA_DOCS_DIR, else data_docs/ beside the warehouse file."""
        return self.quality.data_docs_dir or self.warehouse.parent / "data_docs"

    def dbt_env(self) -> dict[str, str]:
        """Environment for dbt: absolute paths, because dbt runs inside dbt_project/."""
        return {
            "PIPELINE_WAREHOUSE": str(self.warehouse),
            "PIPELINE_TIMEZONE": self.timezone,
            "PIPELINE_AS_OF": self.as_of.isoformat(),
            "PIPELINE_ACCOUNT_HOMEPAGE": self.account_homepage or "",
            "PIPELINE_LOOKBACK_DAYS": str(self.lookback_days),
            # profiles.yml cannot leave a setting out, so "DuckDB's default" is spelled out.
            "PIPELINE_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
            "PIPELINE_DUCKDB_THREADS": str(self.duckdb_threads or default_duckdb_threads()),
            "PIPELINE_ENGINE": self.engine.name,
            "PIPELINE_LAKE_DIR": str(self.lake_dir),
            **self.engine.spark_env(),
        }

    @property
    def lake_dir(self) -> Path:
        """PIPELINE_LAKE_DIR, else lake/ beside the warehouse file."""
        return self.engine.lake_dir or self.warehouse.parent / "lake"


def today(timezone: str) -> date:
    """Today's date in the company time zone: the as-of date when PIPELINE_AS_OF is unset."""
    return datetime.now(ZoneInfo(timezone)).date()


def default_duckdb_threads() -> int:
    """DuckDB's own default: one thread per core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _timezone(env: dict[str, str], name: str, default: str) -> str:
    timezone = env.get(name) or default
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingsError(
            f"{name}={timezone!r} is not an IANA time zone (e.g. Europe/Paris)"
        ) from exc
    return timezone


def _is_cron(text: str) -> bool:
    # Dagster's own test of the schedules it accepts (imported here, not with the module, which
    # loads without Dagster).
    from dagster._utils.schedules import is_valid_cron_string

    return is_valid_cron_string(text)


def _text(env: dict[str, str], name: str, default: str) -> str:
    return (env.get(name) or default).strip()


def _choice(env: dict[str, str], name: str, default: str, choices, what: str) -> str:
    """One of `choices`, lower-cased; a SettingsError that names them otherwise."""
    value = _text(env, name, default).lower()
    if value not in choices:
        raise SettingsError(f"{name}={value!r} is not {what}: choose one of {', '.join(choices)}")
    return value


def _path(env: dict[str, str], name: str, default: str) -> Path:
    # Relative paths are relative to where the user runs the command, as for any CLI.
    return Path(env.get(name) or default).expanduser().resolve()


def _date(env: dict[str, str], name: str, default: date | None) -> date | None:
    text = env.get(name) or ""
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise SettingsError(f"{name}={text!r} is not an ISO date (YYYY-MM-DD)") from exc


def _number(env: dict[str, str], name: str, default, kind, *, minimum):
    text = env.get(name) or ""
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or value < minimum:
        noun = "a whole number" if kind is int else "a number"
        raise SettingsError(f"{name}={text!r} is not {noun} >= {minimum}")
    return value


def _memory(env: dict[str, str], name: str, default: str) -> str:
    text = env.get(name) or default
    if not _MEMORY.match(text):
        raise SettingsError(f"{name}={text!r} is not an amount of memory (e.g. 4GB, 512MB or 6GiB)")
    return text.strip()


def _flag(value: str | None, *, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")
