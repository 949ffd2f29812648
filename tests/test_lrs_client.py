"""The LRS client and pull against a scripted xAPI endpoint: what a strict LRS does that Ralph
does not (newest first, Consistent-Through), and the failures a real LRS rarely shows on cue."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from orchestration.defs.lrs.client import (
    LrsAuthError,
    LrsClient,
    LrsError,
    LrsUnavailable,
    parse_stored,
)
from orchestration.defs.lrs.pull import pull_statements, read_cursor
from orchestration.settings import LrsSettings, SettingsError
from tests.landing import account, statement, statement_id


class ScriptedLrs:
    """Answers each GET with the next scripted (status, body, headers, delay) and records it."""

    def __init__(self) -> None:
        self.script: list[tuple[int, object, dict, float]] = []
        self.requests: list[dict] = []
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the http.server API)
                scripted.requests.append({"path": self.path, "headers": dict(self.headers)})
                status, body, headers, delay = scripted.script.pop(0)
                time.sleep(delay)
                payload = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    for name, value in ({"Content-Type": "application/json"} | headers).items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and left

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        self.endpoint = f"http://127.0.0.1:{self.server.server_port}/lrs/xAPI/"

    def answer(self, status: int = 200, body: object = None, headers=None, delay: float = 0.0):
        self.script.append((status, body, headers or {}, delay))
        return self

    def query(self, n: int) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.requests[n]["path"]).query)


@pytest.fixture
def lrs():
    scripted = ScriptedLrs()
    yield scripted
    scripted.server.shutdown()
    scripted.server.server_close()


def client(lrs: ScriptedLrs, sleeps: list[float] | None = None, **options) -> LrsClient:
    record = sleeps.append if sleeps is not None else lambda _s: None
    return LrsClient(lrs.endpoint, "reader", "pw", sleep=record, **options)


def result(statements: list[dict], more: str = "") -> dict:
    return {"statements": statements, "more": more}


def stored(n: int, at: str) -> dict:
    return statement(n, account("E1"), stored=at)


def test_requests_carry_the_version_header_and_basic_auth(lrs):
    lrs.answer(body=result([]))
    list(client(lrs).pages(since=datetime(2024, 6, 3, 10), limit=50))
    request = lrs.requests[0]
    assert request["path"].startswith("/lrs/xAPI/statements?")
    assert request["headers"]["X-Experience-API-Version"] == "1.0.3"
    assert request["headers"]["Authorization"] == "Basic cmVhZGVyOnB3"  # reader:pw
    assert lrs.query(0) == {"limit": ["50"], "since": ["2024-06-03T10:00:00.000000Z"]}


def test_more_links_join_the_server_host_and_are_followed_verbatim(lrs):
    lrs.answer(body=result([stored(1, "2024-06-03T10:00:00Z")], "/lrs/xAPI/statements?p=x%3D1"))
    lrs.answer(body=result([stored(2, "2024-06-03T10:00:01Z")]))
    pages = list(client(lrs).pages(since=None, limit=1))
    assert [len(page.statements) for page in pages] == [1, 1]
    assert lrs.requests[1]["path"] == "/lrs/xAPI/statements?p=x%3D1"


def test_a_more_link_to_another_origin_is_refused_and_gets_no_credentials(lrs):
    """Two local servers: the LRS's `more` points at the other one, which must see nothing."""
    other = ScriptedLrs()
    try:
        other.answer(body=result([]))
        elsewhere = f"http://127.0.0.1:{other.server.server_port}/steal"
        lrs.answer(body=result([stored(1, "2024-06-03T10:00:00Z")], elsewhere))
        with pytest.raises(LrsError) as error:
            list(client(lrs).pages(since=None, limit=1))
    finally:
        other.server.shutdown()
        other.server.server_close()
    assert other.requests == []
    message = str(error.value)
    assert "sent a `more` link to another origin" in message and "not followed" in message
    assert f"127.0.0.1:{other.server.server_port}" in message and "pw" not in message


def test_5xx_and_429_are_retried_with_doubling_backoff(lrs):
    lrs.answer(503, {}).answer(502, {}).answer(429, {}).answer(body=result([]))
    sleeps: list[float] = []
    pages = list(client(lrs, sleeps, attempts=4, backoff_seconds=0.5).pages(since=None, limit=5))
    assert len(pages) == 1 and len(lrs.requests) == 4
    assert sleeps == [0.5, 1.0, 2.0]


def test_a_timeout_is_retried(lrs):
    lrs.answer(body=result([]), delay=1.0).answer(body=result([]))
    sleeps: list[float] = []
    list(client(lrs, sleeps, timeout_seconds=0.2).pages(since=None, limit=5))
    assert sleeps == [1.0] and len(lrs.requests) == 2


def test_retries_are_bounded_and_the_error_names_the_url(lrs):
    for _ in range(3):
        lrs.answer(500, {})
    with pytest.raises(LrsUnavailable, match=r"/lrs/xAPI/statements failed 3 time\(s\).*HTTP 500"):
        list(client(lrs, [], attempts=3).pages(since=None, limit=5))


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_fail_at_once(lrs, status):
    lrs.answer(status, {"detail": "no"})
    with pytest.raises(LrsAuthError, match=f"refused user 'reader': HTTP {status}"):
        list(client(lrs, []).pages(since=None, limit=5))
    assert len(lrs.requests) == 1


def test_a_rejected_request_is_not_retried_and_shows_the_answer(lrs):
    lrs.answer(400, {"detail": "The following parameter is not allowed: `foo`"})
    with pytest.raises(LrsError, match="HTTP 400 .*parameter is not allowed"):
        list(client(lrs, []).pages(since=None, limit=5))
    assert len(lrs.requests) == 1


def test_an_answer_without_statements_is_an_error(lrs):
    lrs.answer(body={"hello": "world"})
    with pytest.raises(LrsError, match="without a `statements` list"):
        list(client(lrs).pages(since=None, limit=5))


def test_newest_first_pages_and_consistent_through_set_the_cursor(lrs, warehouse):
    # A strict LRS: newest first, and a high-water mark below the newest statement it served.
    lrs.answer(
        body=result(
            [stored(3, "2024-06-05T10:00:00Z"), stored(2, "2024-06-04T10:00:00Z")],
            "/lrs/xAPI/statements?page=2",
        ),
        headers={"X-Experience-API-Consistent-Through": "2024-06-04T12:00:00Z"},
    )
    lrs.answer(body=result([stored(1, "2024-06-03T10:00:00Z")]))
    conn = warehouse()

    first = pull_statements(conn, client(lrs), limit=2, overlap=timedelta(minutes=5))

    assert (first.pages, first.rows_loaded) == (2, 3)
    assert read_cursor(conn, lrs.endpoint + "statements") == datetime(2024, 6, 4, 12)

    lrs.answer(body=result([stored(3, "2024-06-05T10:00:00Z"), stored(4, "2024-06-06T10:00:00Z")]))
    second = pull_statements(conn, client(lrs), limit=2, overlap=timedelta(minutes=5))

    assert lrs.query(2)["since"] == ["2024-06-04T11:55:00.000000Z"]
    assert (second.rows_loaded, second.already_loaded) == (1, 1)
    assert conn.execute("select count(*) from raw.lms_statements").fetchone() == (4,)
    assert conn.execute("select count(*) from raw.lms_statement_duplicates").fetchone() == (0,)


def test_an_unusable_statement_is_quarantined_with_its_lrs_page(lrs, warehouse):
    broken = {"id": statement_id(9), "verb": {"id": "x"}, "stored": "2024-06-03T10:00:00Z"}
    lrs.answer(body=result([stored(1, "2024-06-03T10:00:00Z"), broken]))
    conn = warehouse()

    pulled = pull_statements(conn, client(lrs), limit=5)

    assert (pulled.rows_loaded, pulled.rows_quarantined) == (1, 1)
    [(source, line, reason)] = conn.execute(
        "select source_file, line_number, reason from raw.ingest_quarantine"
    ).fetchall()
    assert source.startswith(f"lrs:{lrs.endpoint}statements#pull=")
    assert (line, reason) == (2, "missing required field: actor")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-06-03T10:00:00Z", datetime(2024, 6, 3, 10)),
        ("2024-06-03T12:00:00.1234567+02:00", datetime(2024, 6, 3, 10, 0, 0, 123456)),
        ("2026-11-23T13:43:59.116155+00:00", datetime(2026, 11, 23, 13, 43, 59, 116155)),
        ("yesterday", None),
        (None, None),
    ],
)
def test_stored_times_parse_to_naive_utc(text, expected):
    assert parse_stored(text) == expected


def test_lrs_settings_come_from_the_environment():
    assert LrsSettings.from_env({}) is None
    lrs = LrsSettings.from_env(
        {"PIPELINE_LRS_URL": "https://lrs.example.com/xAPI/", "PIPELINE_LRS_PASSWORD": "pw"}
    )
    assert (lrs.limit, lrs.overlap_minutes, lrs.attempts) == (500, 5.0, 4)
    assert "pw" not in repr(lrs)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PIPELINE_LRS_URL": "lrs.example.com"}, "is not an http"),
        ({"PIPELINE_LRS_URL": "https://u:p@lrs.example.com/xAPI/"}, "must not hold credentials"),
        ({"PIPELINE_LRS_URL": "ftp://u:s3cret-XYZ@127.0.0.1/xAPI/"}, "must not hold credentials"),
        ({"PIPELINE_LRS_URL": "https://x/xAPI/", "PIPELINE_LRS_LIMIT": "-1"}, "LIMIT='-1'"),
    ],
)
def test_unusable_lrs_settings_are_refused(env, message):
    with pytest.raises(SettingsError, match=message) as error:
        LrsSettings.from_env(env)
    assert "s3cret" not in str(error.value) and "u:p@" not in str(error.value)
