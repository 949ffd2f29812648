"""The chart model: `Chart`, its `NumberTable`s, and helpers shared by the chart functions.

Each chart is a `Chart`: a title, a one-sentence caption saying how to read it, a PNG (or, when
the data cannot carry a picture, a message saying why), and the numbers the reader may want to
quote, as a small table. The HTML report and the Dagster UI show the same objects.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from orchestration.defs import markdown as md


@dataclass(frozen=True)
class NumberTable:
    """Numbers printed beside a chart; `table_id` lets readers (and tests) find them."""

    table_id: str
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]

    def html(self) -> str:
        head = "".join(f"<th>{escape(h)}</th>" for h in self.headers)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>"
            for row in self.rows
        )
        return (
            f'<table id="{escape(self.table_id)}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>"
        )

    def markdown(self) -> str:
        lines = [
            "| " + " | ".join(md.text(h) for h in self.headers) + " |",
            "|" + "---|" * len(self.headers),
        ]
        lines += ["| " + " | ".join(md.text(cell) for cell in row) + " |" for row in self.rows]
        return "\n".join(lines)


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    caption: str  # one sentence: how to read the chart
    png: bytes | None = None
    message: str | None = None  # why there is no picture: not enough data, all suppressed
    tables: tuple[NumberTable, ...] = field(default_factory=tuple)
    source: str = ""  # the table drawn, and where it was read

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png or b"").decode("ascii")

    def markdown(self) -> str:
        """The chart as Markdown for asset metadata: the Dagster UI renders data-URI images."""
        parts = [f"**{self.title}**"]
        if self.png is not None:
            parts.append(f"![{self.title}]({self.data_uri})")
        else:
            parts.append(f"_{self.message}_")
        parts.append(self.caption + (f" Source: {self.source}." if self.source else ""))
        parts += [table.markdown() for table in self.tables]
        return "\n\n".join(parts)


def _missing(key: str, title: str, caption: str, table: str) -> Chart:
    return Chart(key, title, caption, message=f"No data: there is no table `{table}` yet.")


def percent(value: float | None, digits: int = 1) -> str:
    return "suppressed" if value is None else f"{value * 100:.{digits}f}%"


def points(value: float | None, digits: int = 1) -> str:
    """A difference of shares in percentage points, signed."""
    return "suppressed" if value is None else f"{value * 100:+.{digits}f} pp"


def count(value: int | None) -> str:
    return "suppressed" if value is None else f"{value:,}"


def _nan(value: float | None) -> float:
    return math.nan if value is None else value
