"""The content of an alert: which run, asset and expectations failed, with sample rows and links."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

MAX_SAMPLE_ROWS = 5


@dataclass(frozen=True)
class Alert:
    title: str
    run_id: str
    run_url: str
    asset: str | None = None
    check: str | None = None
    severity: str = "error"
    failures: list[dict[str, Any]] = field(default_factory=list)  # Outcome.as_dict() items
    data_docs_url: str | None = None
    details: list[str] = field(default_factory=list)

    def text(self) -> str:
        lines = [self.title, "", f"Run: {self.run_id}", f"Open the run: {self.run_url}"]
        if self.asset:
            lines.append(f"Asset: {self.asset}")
        if self.check:
            lines.append(f"Check: {self.check} (severity {self.severity.upper()})")
        for failure in self.failures:
            lines += ["", f"Failed expectation: {failure['expectation']}"]
            lines.append(f"  severity: {failure['severity']}")
            lines.append(f"  observed: {failure.get('observed')}")
            if failure.get("unexpected_count") is not None:
                lines.append(f"  unexpected rows: {failure['unexpected_count']:,}")
            if failure.get("exception"):
                lines.append(f"  error: {failure['exception']}")
            if failure.get("notes"):
                lines.append(f"  why it matters: {failure['notes']}")
            samples = failure.get("sample_rows") or []
            if samples:
                lines.append("  sample failing rows:")
                lines += [
                    "    " + json.dumps(row, default=str) for row in samples[:MAX_SAMPLE_ROWS]
                ]
        lines += ["", *self.details] if self.details else []
        if self.data_docs_url:
            lines += ["", f"Data Docs: {self.data_docs_url}"]
        return "\n".join(lines)

    def webhook_payload(self) -> dict[str, Any]:
        """Slack incoming-webhook format (also accepted by Mattermost, Rocket.Chat, Teams
        workflows): `text` carries everything, `blocks` lays it out."""
        text = self.text()
        return {
            "text": text,
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": self.title[:150]}},
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": "```" + text[:2900] + "```"},
                },
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": "Open the run"},
                            "url": self.run_url,
                        }
                    ],
                },
            ],
        }
