"""Time spent in the engines (DuckDB loads, dbt, GX, the publication writer), recorded on every
step's output as `engine_seconds`: a run's wall time minus their sum is what orchestration
costs (`retention-pipeline run --timings`, `make bench`)."""

import time

ENGINE_SECONDS = "engine_seconds"


class Stopwatch:
    """Started when created; `metadata()` is the time since, under ENGINE_SECONDS."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def metadata(self) -> dict[str, float]:
        return {ENGINE_SECONDS: round(time.perf_counter() - self.started, 3)}
