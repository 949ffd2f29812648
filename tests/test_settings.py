"""Settings: one reader of the environment (orchestration/settings.py), and the README's
configuration table lists exactly the variables it reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from orchestration.settings import PipelineSettings, SettingsError

ROOT = Path(__file__).resolve().parents[1]
VARIABLE = re.compile(r"PIPELINE_[A-Z0-9_]*[A-Z0-9]\b")


def _variables_read() -> set[str]:
    return set(VARIABLE.findall((ROOT / "orchestration" / "settings.py").read_text()))


def _configuration_table() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `PIPELINE_")]
    return {VARIABLE.search(row).group(0) for row in rows}


def test_the_readme_configuration_table_lists_every_variable_the_settings_read():
    read, documented = _variables_read(), _configuration_table()
    assert read - documented == set(), "read by settings.py, missing from the README table"
    assert documented - read == set(), "in the README table, never read"


def test_no_module_but_settings_reads_pipeline_variables():
    readers = []
    for path in (ROOT / "orchestration").rglob("*.py"):
        if path.name == "settings.py":
            continue
        for line in path.read_text().splitlines():
            if re.search(r"(environ|getenv)\b.*PIPELINE_", line):
                readers.append(f"{path.relative_to(ROOT)}: {line.strip()}")
    assert readers == []


def test_every_setting_is_in_one_frozen_object():
    settings = PipelineSettings.from_env(
        {
            "PIPELINE_QUALITY_BATCH_ROWS": "1000",
            "PIPELINE_QUALITY_MEMORY_LIMIT": "2GB",
            "PIPELINE_DATA_DOCS_DIR": "/tmp/docs",
            "PIPELINE_ALERT_WEBHOOK_URL": "http://127.0.0.1:9/hook",
            "PIPELINE_LRS_URL": "http://127.0.0.1:8100/xAPI/",
        }
    )
    assert settings.quality.batch_rows == 1000
    assert settings.quality.memory_limit == "2GB"
    assert settings.data_docs_dir == Path("/tmp/docs")
    assert settings.alerts.enabled and settings.lrs.url.endswith("/xAPI/")
    with pytest.raises(AttributeError):
        settings.timezone = "Europe/Paris"  # frozen


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PIPELINE_QUALITY_BATCH_ROWS": "lots"}, "PIPELINE_QUALITY_BATCH_ROWS='lots' is not"),
        ({"PIPELINE_QUALITY_MEMORY_LIMIT": "big"}, "PIPELINE_QUALITY_MEMORY_LIMIT='big' is not"),
        ({"PIPELINE_ALERT_SMTP_PORT": "smtp"}, "PIPELINE_ALERT_SMTP_PORT='smtp' is not"),
    ],
)
def test_unusable_values_are_refused_naming_the_variable(env, message):
    with pytest.raises(SettingsError, match=re.escape(message)):
        PipelineSettings.from_env(env)
