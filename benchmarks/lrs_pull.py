"""What pulling from an LRS costs the pipeline: a first pull, an incremental pull and a sweep of an
LRS holding N statements (`make bench-lrs`, default 1M).

The LRS here is a minimal xAPI statements endpoint in this process's own thread, serving
pre-rendered pages from memory, so the numbers are the pipeline's side of a pull: HTTP, JSON,
the dedup of served ids and the load into DuckDB. A real LRS adds its own time per page (Ralph's
file-system backend reads its whole store file for every page: use it for tests, not for 1M).
The pull code is the one `raw/lms_statements_lrs` runs; tests/test_lrs_ralph.py runs it against
a real Ralph.
"""

from __future__ import annotations

import argparse
import bisect
import json
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import duckdb

from orchestration.defs.lrs.client import LrsClient
from orchestration.defs.lrs.pull import pull_statements

LIMIT = 500


def statements(count: int, *, stored_from: datetime) -> list[bytes]:
    """`count` statements rendered once, oldest `stored` first."""
    rendered = []
    for n in range(count):
        stored = stored_from + timedelta(seconds=n)
        rendered.append(
            json.dumps(
                {
                    "id": str(uuid.UUID(int=n + 1, version=4)),
                    "actor": {
                        "account": {"homePage": "https://lms.example.com", "name": f"E{n % 2000}"}
                    },
                    "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                    "object": {"id": f"https://lms.example.com/courses/C{n % 40}"},
                    "timestamp": stored.isoformat().replace("+00:00", "Z"),
                    "stored": stored.isoformat().replace("+00:00", "Z"),
                    "result": {"duration": "PT5M"},
                }
            ).encode()
        )
    return rendered


def serve(store: list[bytes]) -> tuple[ThreadingHTTPServer, str]:
    stored = [json.loads(line)["stored"][:19] for line in store]  # sorted, as the store is

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            query = parse_qs(urlsplit(self.path).query)
            start = int(query.get("offset", ["0"])[0])
            limit = int(query.get("limit", [str(LIMIT)])[0]) or LIMIT
            if "since" in query and start == 0:
                start = bisect.bisect_right(stored, query["since"][0][:19])
            page = store[start : start + limit]
            more = f"/xAPI/statements?offset={start + limit}&limit={limit}" if page else ""
            body = b'{"statements":[' + b",".join(page) + b'],"more":"' + more.encode() + b'"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Experience-API-Version", "1.0.3")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/xAPI/"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=1_000_000)
    args = parser.parse_args()
    store = statements(args.statements, stored_from=datetime(2024, 1, 1, tzinfo=UTC))
    server, url = serve(store)
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        conn = duckdb.connect(str(Path(workdir) / "warehouse.duckdb"))
        client = LrsClient(url, "user", "password")
        # A first pull, an incremental one with nothing new, a sweep (everything served again).
        for label, sweep_every in (
            ("first pull", timedelta(hours=24)),
            ("incremental pull, nothing new (the overlap re-served)", timedelta(hours=24)),
            ("sweep", timedelta(0)),
        ):
            started = time.monotonic()
            result = pull_statements(conn, client, limit=LIMIT, sweep_every=sweep_every)
            seconds = time.monotonic() - started
            rows.append((label, result.statements_received, result.rows_loaded, seconds))
        client.close()
        conn.close()
    server.shutdown()
    print(f"\nPulling from an LRS holding {args.statements:,} statements ({LIMIT} per page)\n")
    print("| pull | statements received | loaded | seconds | received / s |")
    print("|---|---:|---:|---:|---:|")
    for label, received, loaded, seconds in rows:
        rate = f"{received / seconds:,.0f}" if received else "-"
        print(f"| {label} | {received:,} | {loaded:,} | {seconds:,.1f} | {rate} |")


if __name__ == "__main__":
    main()
