"""Runs a real Learning Record Store for tests: Ralph 5.1.0 with its file-system backend.

Ralph pins an older web stack than Dagster's, so it lives in its own virtual environment under
.cache/ralph-venv, created on first use and reused after. The server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import requests

from tests.conftest import free_port, stop_service

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RALPH_REQUIREMENTS = ["ralph-malph[cli,lrs]==5.1.0", "requests"]  # `ralph auth` needs requests
RALPH_VENV = PROJECT_ROOT / ".cache" / "ralph-venv"
USER, PASSWORD, AUTHORITY = "pipeline", "s3cret-pull", "mailto:pipeline@example.com"


def ralph_executable(venv: Path = RALPH_VENV) -> Path:
    """Ralph's console script, installing it into its own virtual environment the first time."""
    ralph = venv / "bin" / "ralph"
    marker = venv / ".installed"
    wanted = "\n".join(RALPH_REQUIREMENTS)
    if ralph.exists() and marker.exists() and marker.read_text() == wanted:
        return ralph
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *RALPH_REQUIREMENTS],
        check=True,
    )
    marker.write_text(wanted)
    return ralph


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


class RalphServer:
    """`ralph runserver -b fs` on a free loopback port, with one user allowed everything."""

    def __init__(self, root: Path, ralph: Path) -> None:
        self.root = root
        self.ralph = ralph
        self.app_dir = root / "app"
        self.store = root / "store"
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.app_dir.mkdir(parents=True, exist_ok=True)
        self.store.mkdir(parents=True, exist_ok=True)
        self.env = os.environ | {
            "RALPH_APP_DIR": str(self.app_dir),
            "RALPH_RUNSERVER_BACKEND": "fs",
        }
        subprocess.run(
            [str(ralph), "auth", "-u", USER, "-p", PASSWORD, "-s", "all", "-M", AUTHORITY, "-w"],
            env=self.env,
            check=True,
            capture_output=True,
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> str:
        return f"{self.base}/xAPI/"

    @property
    def store_file(self) -> Path:
        return self.store / "fs_lrs.jsonl"

    def start(self, timeout: float = 60.0) -> RalphServer:
        log = (self.root / "server.log").open("ab")
        # Its own session, so stopping it also stops the reloader's worker process.
        self.process = subprocess.Popen(
            [
                str(self.ralph),
                "runserver",
                "-b",
                "fs",
                "--fs-default-directory-path",
                str(self.store),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
            ],
            cwd=self.app_dir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"ralph exited early:\n{self.log_tail()}")
            try:
                if requests.get(f"{self.base}/__heartbeat__", timeout=1).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"ralph gave no heartbeat in {timeout} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None:
            return
        stop_service(self.process, timeout=10)
        self.process = None

    def log_tail(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def post(self, statements: list[dict]) -> list[str]:
        """The one POST the fs backend accepts (LRS-NOTES #7): Ralph stamps `stored`."""
        response = requests.post(
            self.endpoint + "statements",
            json=statements,
            auth=(USER, PASSWORD),
            headers={"X-Experience-API-Version": "1.0.3"},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def append(self, statements: list[dict], stored: str | None = None) -> None:
        """Statements arriving later: written to the store as Ralph itself would store them."""
        with self.store_file.open("a", encoding="utf-8") as handle:
            for body in statements:
                stamp = stored or now_iso()
                stamped = {"id": str(uuid.uuid4())} | body
                if stamped.get("timestamp") is None:
                    stamped["timestamp"] = stamp
                stamped["stored"] = stamp
                stamped["authority"] = {"objectType": "Agent", "mbox": AUTHORITY}
                handle.write(json.dumps(stamped) + "\n")
