"""An HTTP client for the statements resource of any xAPI 1.0.3 LRS: paging, retries, errors.

Only what every LRS must support is sent (`since`, `limit`), because some LRSs (Ralph) answer
400 to parameters they do not know, and `more` links are followed exactly as the server wrote
them: they are opaque, and some (Ralph's `pit_id=None`) only work verbatim.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import requests
from requests.auth import HTTPBasicAuth

from orchestration.settings import LrsSettings

XAPI_VERSION = "1.0.3"
# 429 is the LRS asking us to slow down; the 5xx are the LRS (or a proxy) failing for now.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class LrsError(RuntimeError):
    """The LRS could not be read; the message names the URL and what went wrong."""


class LrsAuthError(LrsError):
    """The LRS refused the credentials (401) or their scope (403). Retrying will not help."""


class LrsUnavailable(LrsError):
    """The LRS kept failing (5xx, timeouts, refused connections) through every attempt."""


@dataclass(frozen=True)
class Page:
    url: str
    statements: list[dict]
    more: str | None  # the next page's absolute URL, None at the end
    consistent_through: datetime | None  # naive UTC, when the LRS sends the header


class LrsClient:
    def __init__(
        self,
        endpoint: str,
        user: str,
        password: str,
        *,
        timeout_seconds: float = 30.0,
        attempts: int = 4,
        backoff_seconds: float = 1.0,
        log: Callable[[str], None] = lambda _msg: None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoint = endpoint if endpoint.endswith("/") else endpoint + "/"
        if self.endpoint.endswith("/statements/"):
            self.endpoint = self.endpoint.removesuffix("statements/")
        self.user = user
        self.timeout_seconds = timeout_seconds
        self.attempts = max(1, attempts)
        self.backoff_seconds = backoff_seconds
        self._log = log
        self._sleep = sleep
        self._session = requests.Session()
        self._session.auth = HTTPBasicAuth(user, password)
        self._session.headers.update(
            {"X-Experience-API-Version": XAPI_VERSION, "Accept": "application/json"}
        )

    @property
    def statements_url(self) -> str:
        return urljoin(self.endpoint, "statements")

    def pages(self, *, since: datetime | None, limit: int) -> Iterator[Page]:
        """Every page of statements stored after `since` (naive UTC), following `more`."""
        params: dict[str, str] = {"limit": str(limit)}
        if since is not None:
            params["since"] = since.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        page = self._page(self.statements_url, params)
        followed = {page.url}
        yield page
        while page.more:
            if page.more in followed:
                raise LrsError(
                    f"LRS at {self.statements_url} sent the `more` link {page.more} twice; "
                    "stopping rather than paging forever"
                )
            followed.add(page.more)
            page = self._page(page.more, None)
            yield page

    def close(self) -> None:
        self._session.close()

    def _page(self, url: str, params: dict[str, str] | None) -> Page:
        response = self._get(url, params)
        try:
            body = response.json()
        except ValueError as exc:
            raise LrsError(
                f"LRS at {response.url} answered HTTP {response.status_code} with a body that is "
                f"not JSON: {response.text[:200]!r}"
            ) from exc
        if not isinstance(body, dict) or not isinstance(body.get("statements"), list):
            raise LrsError(
                f"LRS at {response.url} answered without a `statements` list "
                f"(expected a StatementResult object, found {str(body)[:200]!r})"
            )
        more = body.get("more") or None
        # `more` is a relative IRL: it joins the server's scheme and host, not our endpoint path.
        more = urljoin(response.url, more) if more else None
        if more and _origin(more) != _origin(self.endpoint):
            # The session sends the credentials with every request: another origin never gets
            # one, whatever the LRS (or something between) says.
            raise LrsError(
                f"LRS at {self.statements_url} sent a `more` link to another origin "
                f"({_origin(more)}, not {_origin(self.endpoint)}); it was not followed, so the "
                "credentials were not sent there"
            )
        return Page(
            url=response.url,
            statements=body["statements"],
            more=more,
            consistent_through=_parse_header_time(
                response.headers.get("X-Experience-API-Consistent-Through")
            ),
        )

    def _get(self, url: str, params: dict[str, str] | None) -> requests.Response:
        for attempt in range(1, self.attempts + 1):
            try:
                response = self._session.get(url, params=params, timeout=self.timeout_seconds)
            except (requests.ConnectionError, requests.Timeout) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code in (401, 403):
                    raise LrsAuthError(
                        f"LRS at {response.url} refused user {self.user!r}: HTTP "
                        f"{response.status_code} {response.reason} (check PIPELINE_LRS_USER and "
                        "PIPELINE_LRS_PASSWORD, and that this user may read statements)"
                    )
                if response.status_code not in RETRY_STATUSES:
                    if response.status_code >= 400:
                        raise LrsError(
                            f"LRS at {response.url} answered HTTP {response.status_code} "
                            f"{response.reason}: {response.text[:300]}"
                        )
                    return response
                problem = f"HTTP {response.status_code} {response.reason}"
            if attempt == self.attempts:
                raise LrsUnavailable(
                    f"LRS at {url} failed {self.attempts} time(s), last with {problem}"
                )
            delay = self.backoff_seconds * 2 ** (attempt - 1)
            self._log(
                f"LRS at {url}: {problem}; attempt {attempt}/{self.attempts}, retrying in "
                f"{delay:g} s"
            )
            self._sleep(delay)
        raise AssertionError("unreachable")


def parse_stored(text: object) -> datetime | None:
    """An xAPI timestamp as naive UTC; None when it is not one (the loader quarantines those)."""
    if not isinstance(text, str):
        return None
    value = text.strip().replace("Z", "+00:00").replace("z", "+00:00")
    # xAPI allows more than the microseconds Python parses: keep six fractional digits.
    if "." in value:
        head, _, tail = value.partition(".")
        digits = len(tail) - len(tail.lstrip("0123456789"))
        value = f"{head}.{tail[:digits][:6].ljust(6, '0')}{tail[digits:]}"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _origin(url: str) -> str:
    """scheme://host:port, the port made explicit (RFC 6454)."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def _parse_header_time(text: str | None) -> datetime | None:
    return parse_stored(text) if text else None


def lrs_client(settings: LrsSettings, log: Callable[[str], None] = lambda _msg: None) -> LrsClient:
    """A client for the LRS of PIPELINE_LRS_*."""
    return LrsClient(
        settings.url,
        settings.user,
        settings.password,
        timeout_seconds=settings.timeout_seconds,
        attempts=settings.attempts,
        log=log,
    )
