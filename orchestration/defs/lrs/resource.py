"""The Dagster resource that says which LRS to pull from, and with which credentials."""

import os
from collections.abc import Callable

import dagster as dg

from orchestration.defs.lrs.client import LrsClient
from orchestration.settings import LrsSettings

PASSWORD_VAR = "PIPELINE_LRS_PASSWORD"


class LrsResource(dg.ConfigurableResource):
    """An xAPI 1.0.3 Learning Record Store (PIPELINE_LRS_*). An empty `url` means none is
    configured, and the pull is skipped."""

    url: str = ""  # the xAPI endpoint; statements are read from <url>/statements
    user: str = ""
    password: str = ""
    limit: int = 500  # statements asked for per page (0: the server's maximum)
    overlap_minutes: float = 5.0  # how far before the cursor each pull starts again
    sweep_hours: float = 24.0  # every statement is asked for again at least this often
    timeout_seconds: float = 30.0
    attempts: int = 4  # per request, on 5xx, 429, timeouts and refused connections
    backoff_seconds: float = 1.0  # doubled after every failed attempt

    @classmethod
    def from_settings(cls, lrs: LrsSettings | None) -> "LrsResource":
        if lrs is None:
            return cls()
        # Taken from the environment, the password shows in the Dagster UI by its variable's
        # name only; a value given some other way (a test's settings) is passed as it is.
        password = (
            dg.EnvVar(PASSWORD_VAR)
            if lrs.password and os.environ.get(PASSWORD_VAR) == lrs.password
            else lrs.password
        )
        return cls(
            url=lrs.url,
            user=lrs.user,
            password=password,
            limit=lrs.limit,
            overlap_minutes=lrs.overlap_minutes,
            sweep_hours=lrs.sweep_hours,
            timeout_seconds=lrs.timeout_seconds,
            attempts=lrs.attempts,
        )

    @property
    def configured(self) -> bool:
        return bool(self.url)

    def client(self, log: Callable[[str], None] = lambda _msg: None) -> LrsClient:
        return LrsClient(
            self.url,
            self.user,
            self.password,
            timeout_seconds=self.timeout_seconds,
            attempts=self.attempts,
            backoff_seconds=self.backoff_seconds,
            log=log,
        )
