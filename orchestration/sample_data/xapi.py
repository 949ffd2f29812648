"""Pre-rendered xAPI 1.0.3 JSON fragments (verbs, actors, activities) for fast statement output."""

from __future__ import annotations

import hashlib

import orjson

from orchestration.sample_data import catalog as cat

VERBS = (
    "launched",
    "experienced",
    "progressed",
    "attempted",
    "answered",
    "scored",
    "interacted",
    "completed",
    "passed",
    "failed",
    "voided",
)
VERB = {name: index for index, name in enumerate(VERBS)}
VERB_JSON = tuple(
    orjson.dumps(
        {"id": f"http://adlnet.gov/expapi/verbs/{name}", "display": {"en-US": name}}
    ).decode()
    for name in VERBS
)
AUTHORITY_JSON = orjson.dumps(
    {
        "objectType": "Agent",
        "name": "Example LMS",
        "account": {"homePage": "https://lrs.example.com", "name": "lms-integration"},
    }
).decode()

# Actor identification styles, in the order actor_fragments returns them.
ACTOR_ACCOUNT, ACTOR_MBOX, ACTOR_MBOX_MIXED_CASE, ACTOR_SHA1 = range(4)


def _mixed_case(email: str) -> str:
    local, domain = email.split("@")
    return ".".join(part[:1].upper() + part[1:] for part in local.split(".")) + "@" + domain.upper()


def actor_fragments(employee_id: str, name: str, email: str) -> tuple[str, str, str, str]:
    """The same person as an LMS account, an mbox, an mbox in other letter case, and a hash."""
    mbox = f"mailto:{email}"
    return (
        orjson.dumps(
            {
                "objectType": "Agent",
                "name": name,
                "account": {"homePage": cat.LMS_HOME_PAGE, "name": employee_id},
            }
        ).decode(),
        orjson.dumps({"objectType": "Agent", "name": name, "mbox": mbox}).decode(),
        orjson.dumps({"objectType": "Agent", "mbox": f"mailto:{_mixed_case(email)}"}).decode(),
        orjson.dumps(
            {"objectType": "Agent", "mbox_sha1sum": hashlib.sha1(mbox.encode()).hexdigest()}
        ).decode(),
    )


def unknown_actor_fragment(email: str) -> tuple[str, str, str, str]:
    """People with LMS access who are not in the HR extract (contractors, partner staff)."""
    fragment = orjson.dumps({"objectType": "Agent", "mbox": f"mailto:{email}"}).decode()
    return (fragment, fragment, fragment, fragment)


def _activity(iri: str, name: str, activity_type: str) -> dict:
    return {
        "objectType": "Activity",
        "id": iri,
        "definition": {
            "name": {"en-US": name},
            "type": f"http://adlnet.gov/expapi/activities/{activity_type}",
        },
    }


def object_fragments() -> tuple[list[str], list[int], int]:
    """Rendered `object` (+ `context`) fragments.

    Returns (fragments, course_offset, non_course_offset): course i module m (0 = the course
    itself) is fragments[course_offset[i] + m]; non-course activities start at non_course_offset.
    """
    fragments: list[str] = []
    offsets: list[int] = []
    for number, course in enumerate(cat.COURSES):
        offsets.append(len(fragments))
        # Every other course belongs to a programme, which LMSs report as a grouping activity.
        grouping = [{"id": course.program_iri}] if number % 2 == 0 else []
        course_object = _activity(course.activity_iri, course.title, "course")
        context: dict = {"platform": "Example LMS", "language": "en-US"}
        if grouping:
            context["contextActivities"] = {"grouping": grouping}
        fragments.append(_render(course_object, context))
        for module in range(1, course.modules + 1):
            module_object = _activity(
                f"{course.activity_iri}/modules/{module}",
                f"{course.title} - Module {module}",
                "module",
            )
            activities: dict = {"parent": [{"id": course.activity_iri}]}
            if grouping:
                activities["grouping"] = grouping
            context = {
                "contextActivities": activities,
                "platform": "Example LMS",
                "language": "en-US",
            }
            fragments.append(_render(module_object, context))
    non_course_offset = len(fragments)
    for iri, name, kind in cat.NON_COURSE_ACTIVITIES:
        activity_type = "http://activitystrea.ms/schema/1.0/page" if kind == "page" else None
        activity = _activity(iri, name, "media")
        if activity_type:
            activity["definition"]["type"] = activity_type
        fragments.append(_render(activity, {"platform": "Company Wiki", "language": "en-US"}))
    return fragments, offsets, non_course_offset


def _render(activity: dict, context: dict) -> str:
    return orjson.dumps(activity).decode() + ',"context":' + orjson.dumps(context).decode()


def iso_duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = "PT"
    if hours:
        text += f"{hours}H"
    if minutes:
        text += f"{minutes}M"
    if secs or text == "PT":
        text += f"{secs}S"
    return text


MAX_DURATION_SECONDS = 36_000
DURATIONS = tuple(iso_duration(seconds) for seconds in range(MAX_DURATION_SECONDS + 1))

STATEMENT = (
    '{"id":"%s","actor":%s,"verb":%s,"object":%s%s,"timestamp":"%s","stored":"%s",'
    '"authority":' + AUTHORITY_JSON + ',"version":"1.0.3"}'
)
# A statement without an id is valid xAPI (the store assigns one), so the planted defect is a
# missing verb instead: that one no store may accept.
STATEMENT_WITHOUT_VERB = (
    '{"id":"%s","actor":%s,"object":%s%s,"timestamp":"%s","stored":"%s",'
    '"authority":' + AUTHORITY_JSON + ',"version":"1.0.3"}'
)
STATEMENT_WITHOUT_ACTOR = (
    '{"id":"%s","verb":%s,"object":%s%s,"timestamp":"%s","stored":"%s",'
    '"authority":' + AUTHORITY_JSON + ',"version":"1.0.3"}'
)
VOIDING_STATEMENT = (
    '{"id":"%s","actor":%s,"verb":' + VERB_JSON[VERB["voided"]] + ","
    '"object":{"objectType":"StatementRef","id":"%s"},"timestamp":"%s","stored":"%s",'
    '"authority":' + AUTHORITY_JSON + ',"version":"1.0.3"}'
)
GARBAGE_LINES = (
    "<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>",
    "ERROR 1205 (HY000): Lock wait timeout exceeded; try restarting transaction",
    "{{{ partial export: connection reset by peer",
    "statement_id,actor,verb,object",
)
