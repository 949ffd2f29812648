"""Runs a real Spark Thrift Server for tests: deploy/spark/thrift-server, the launcher users run,
over a test's lake, listening on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from orchestration.settings import PROJECT_ROOT
from tests.conftest import free_port, stop_service

LAUNCHER = PROJECT_ROOT / "deploy" / "spark" / "thrift-server"


@contextlib.contextmanager
def thrift_server(lake_dir: Path, timeout: float = 180.0) -> Iterator[int]:
    """Serves `lake_dir` until the block ends; yields the port it listens on."""
    port = free_port()
    log_path = lake_dir / "logs" / "thrift-server.out"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = os.environ | {
        "PIPELINE_LAKE_DIR": str(lake_dir),
        "PIPELINE_SPARK_HOST": "127.0.0.1",
        "PIPELINE_SPARK_PORT": str(port),
        "PIPELINE_SPARK_DRIVER_MEMORY": "2g",
    }
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [str(LAUNCHER)], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + timeout
        while not _listening(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"the Spark Thrift Server did not listen on {port}:\n"
                    + _tail(log_path)
                    + _tail(lake_dir / "logs" / "spark.log")
                )
            time.sleep(0.5)
        yield port
    finally:
        stop_service(process)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return ""
    return f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
