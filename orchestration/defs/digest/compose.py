"""One manager's weekly digest as an RFC 5322 email
(docs/manager-digest.md#what-a-manager-receives).

What it holds is what `mart_manager_alerts` holds for that manager's direct reports: employee
ids (the extract has no names), the tier, banded signals, the action, the conversation script and
the follow-up date. Never raw statements, timestamps, devices or free text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from email.utils import formatdate, make_msgid


@dataclass(frozen=True)
class Report:
    """One direct report's row of mart_manager_alerts."""

    employee_id: str
    tier: int
    tier_label: str
    recommended_action: str
    follow_up_due: date | None
    escalate_to_hr: bool
    signals: tuple[str, ...]
    script: str | None


ACTIONS = {
    "nudge": "a short nudge",
    "manager_check_in": "a check-in conversation",
    "support_plan_escalate": "a support plan, with HR informed",
}


def digest_email(
    manager_id: str,
    address: str,
    week_start: date,
    reports: list[Report],
    *,
    sender: str,
    bi_url: str | None,
) -> EmailMessage:
    message = EmailMessage()
    people = "person" if len(reports) == 1 else "people"
    message["Subject"] = (
        f"Your team, week of {week_start:%d %b %Y}: {len(reports)} {people} to follow up"
    )
    message["From"] = sender
    message["To"] = address
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain="retention-pipeline.local")
    message["X-Retention-Manager"] = manager_id
    message["X-Retention-Week"] = week_start.isoformat()
    lines = [
        "Hello,",
        "",
        f"In the week of {week_start:%d %B %Y}, the learning activity of these direct reports "
        "of yours crossed the intervention rule. Each comes with a suggested action, a short "
        "script for the conversation and a date to follow up by. People appear by employee id.",
        "",
    ]
    for report in sorted(reports, key=lambda r: (-r.tier, r.employee_id)):
        action = ACTIONS.get(report.recommended_action, report.recommended_action)
        follow_up = (
            f", follow up by {report.follow_up_due:%a %d %b}" if report.follow_up_due else ""
        )
        lines.append(
            f"* {report.employee_id}: tier {report.tier} ({report.tier_label}), {action}{follow_up}"
        )
        for signal in report.signals:
            lines.append(f"    - {signal}")
        if report.script:
            lines.append(f"    Script: {report.script}")
        lines.append("")
    if bi_url:
        lines += [f"Your dashboard: {bi_url}", ""]
    lines += [
        "You receive this because you manage these people in the HR system. It is sent once a "
        "week, after the learning data is refreshed.",
    ]
    message.set_content("\n".join(lines) + "\n")
    return message
