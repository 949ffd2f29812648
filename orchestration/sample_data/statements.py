"""Renders one day of xAPI statements, planted dirt included, as a pure function of (seed, day)."""

from __future__ import annotations

from datetime import date

import numpy as np

from orchestration.sample_data import catalog as cat
from orchestration.sample_data import xapi
from orchestration.sample_data.activity import ActivityPlan

DAY_MS = 86_400_000
EPOCH = date(1970, 1, 1).toordinal()
# A statement event on day d lands in a file at most this many days later (late arrival,
# voiding, re-emission), so a worker that starts at day D replays this many days before D.
SPILL_DAYS = 11

DOW_WEIGHT = np.array([1.1, 1.15, 1.1, 1.0, 0.85, 0.1, 0.07])
DOW_WEIGHT = DOW_WEIGHT / DOW_WEIGHT.sum()
HOLIDAYS = {(1, 1), (5, 1), (12, 24), (12, 25), (12, 26), (12, 31)}
REGULAR_VERB_P = np.array([0.12, 0.40, 0.17, 0.06, 0.13, 0.07, 0.05])  # xapi.VERBS[:7]
SCRIPTED_VERB_P = np.array([0.2, 0.55, 0.25])  # launched, experienced, progressed: no scores
MEDIAN_SECONDS = np.array([0, 420, 900, 600, 45, 600, 120, 1200, 600, 600])
SCORE_MAX = np.array([100, 20, 10])
ACTOR_MODE_P = np.array([0.62, 0.20, 0.06, 0.12])

UNKNOWN_SHARE = 0.003
DUPLICATE_SHARE = 0.003
VOID_SHARE = 0.002
MALFORMED_SHARE = 0.0012
LATE_SHARE = 0.01

VALID, UNKNOWN, VOIDING, DUPLICATE, MALFORMED = "v", "u", "x", "d", "m"

_OBJECTS, _COURSE_OFFSET, _NON_COURSE_OFFSET = xapi.object_fragments()
_COURSE_OFFSET_ARRAY = np.array(_COURSE_OFFSET)
_MODULES = np.array([course.modules for course in cat.COURSES])
_COMPLIANCE = np.array([i for i, course in enumerate(cat.COURSES) if course.is_compliance])


def _bundle_table() -> tuple[np.ndarray, np.ndarray]:
    """Course indexes of each job's bundle (row per JOBS entry, zero-padded) and their counts."""
    index = {course.course_id: i for i, course in enumerate(cat.COURSES)}
    width = max(len(items) for items in cat.BUNDLES.values())
    table = np.zeros((len(cat.JOBS), width), dtype=np.int64)
    lengths = np.zeros(len(cat.JOBS), dtype=np.int64)
    for row, job in enumerate(cat.JOBS):
        items = cat.BUNDLES[job.job_code]
        lengths[row] = len(items)
        table[row, : len(items)] = [index[course_id] for course_id, _, _ in items]
    return table, lengths


_BUNDLE_TABLE, _BUNDLE_LEN = _bundle_table()


def day_factor(day: int) -> float:
    d = date.fromordinal(day)
    holiday = 0.15 if (d.month, d.day) in HOLIDAYS else 1.0
    return float(DOW_WEIGHT[d.weekday()]) * holiday


def _uuids(raw: bytes, count: int) -> list[str]:
    data = np.frombuffer(raw, dtype=np.uint8).reshape(count, 16).copy()
    data[:, 6] = (data[:, 6] & 0x0F) | 0x40  # version 4
    data[:, 8] = (data[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    text = data.tobytes().hex()
    return [
        f"{text[i : i + 8]}-{text[i + 8 : i + 12]}-{text[i + 12 : i + 16]}-"
        f"{text[i + 16 : i + 20]}-{text[i + 20 : i + 32]}"
        for i in range(0, 32 * count, 32)
    ]


def _iso(ms: np.ndarray) -> list[str]:
    return np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms").tolist()


def generate_day(
    plan: ActivityPlan, day: int, render_from: int
) -> dict[int, list[tuple[int, str, str]]]:
    """Statements whose event time falls on `day`, grouped by the day they are stored.

    Returns {file_day: [(sort_key_ms, line, tag)]} for file days in [render_from, plan.end].
    Every random draw happens whatever render_from is, so any worker replaying a day
    renders exactly the same lines.
    """
    rng = np.random.default_rng([plan.seed, 0x5747, day])
    week = (day - plan.week0) // 7
    active = (plan.hire <= day) & (day < plan.term)
    rate = np.where(active, plan.weekly_rate[:, week] * day_factor(day), 0.0)
    counts = rng.poisson(rate)
    people = plan.people
    regular = np.repeat(np.arange(people), counts)
    unknown = people + rng.integers(
        0, len(plan.actors) - people, size=rng.poisson(UNKNOWN_SHARE * rate.sum())
    )
    lo, hi = np.searchsorted(plan.script_day, [day, day + 1])
    scripted = np.repeat(plan.script_emp[lo:hi], plan.script_count[lo:hi])
    slo, shi = np.searchsorted(plan.sched_day, [day, day + 1])

    free_emp = np.concatenate([regular, unknown, scripted])
    free_kind = np.repeat([0, 1, 2], [len(regular), len(unknown), len(scripted)])
    n_free = len(free_emp)
    verb = rng.choice(7, size=n_free, p=REGULAR_VERB_P)
    verb[free_kind == 2] = rng.choice(3, size=len(scripted), p=SCRIPTED_VERB_P)

    # What the statement is about: the role's bundle, compliance, any course, or the wiki.
    known = np.minimum(free_emp, people - 1)
    role = (plan.role_start[known] <= day).sum(axis=1) - 1
    job = plan.role_job[known, np.maximum(role, 0)].astype(np.int64)
    job[free_kind == 1] = rng.integers(0, len(cat.JOBS), size=len(unknown))
    pick, slot = rng.random(n_free), rng.random(n_free)
    course = np.where(
        pick < 0.55,
        _BUNDLE_TABLE[job, (slot * _BUNDLE_LEN[job]).astype(np.int64)],
        np.where(
            pick < 0.72,
            _COMPLIANCE[(slot * len(_COMPLIANCE)).astype(np.int64)],
            (slot * len(cat.COURSES)).astype(np.int64),
        ),
    )
    module = (rng.random(n_free) * (_MODULES[course] + 1)).astype(np.int64)
    non_course = _NON_COURSE_OFFSET + (slot * len(cat.NON_COURSE_ACTIVITIES)).astype(np.int64)
    obj = np.where(pick >= 0.92, non_course, _COURSE_OFFSET_ARRAY[course] + module)

    n_sched = int(shi - slo)
    emp = np.concatenate([free_emp, plan.sched_emp[slo:shi]])
    kind = np.concatenate([free_kind, np.full(n_sched, 3)])
    verb = np.concatenate([verb, plan.sched_verb[slo:shi]])
    obj = np.concatenate([obj, _COURSE_OFFSET_ARRAY[plan.sched_course[slo:shi]]])
    total = len(emp)
    known = np.minimum(emp, people - 1)
    is_known = emp < people
    clean = is_known & plan.scripted[known]

    seconds = rng.lognormal(np.log(np.maximum(MEDIAN_SECONDS[verb], 1)), 0.8)
    long = rng.random(total) < 0.0015  # a tab left open for hours
    seconds = np.where(long, rng.uniform(14_500, xapi.MAX_DURATION_SECONDS, total), seconds)
    seconds = np.minimum(seconds, xapi.MAX_DURATION_SECONDS).astype(np.int64)

    skill = np.where(is_known, plan.skill[known] + plan.score_shift[known, week], 0.72)
    scaled = np.clip(skill + rng.normal(0.0, 0.08, total), 0.0, 1.0)
    sched_score = plan.sched_score[slo:shi]
    scaled[n_free:] = np.where(sched_score >= 0, sched_score, scaled[n_free:])
    score_max = SCORE_MAX[rng.choice(3, size=total, p=[0.6, 0.25, 0.15])]
    score_max[n_free:] = 100
    raw = np.rint(scaled * score_max).astype(np.int64)
    with_scaled = rng.random(total) < 0.75
    success = rng.random(total) < skill

    mix = rng.random(total)
    tod = np.where(
        mix < 0.45,
        rng.normal(10.5 * 3600, 1.5 * 3600, total),
        np.where(
            mix < 0.9, rng.normal(14.5 * 3600, 1.8 * 3600, total), rng.uniform(0, 86_400, total)
        ),
    )
    tod = np.where(clean, rng.uniform(9 * 3600, 17 * 3600, total), tod)
    tod_ms = (np.clip(tod, 0, 86_399.999) * 1000).astype(np.int64)
    # A pass is recorded a minute after the completion it follows.
    follows = np.flatnonzero(verb[1:] == xapi.VERB["passed"]) + 1
    tod_ms[follows] = np.minimum(tod_ms[follows - 1] + 60_000, DAY_MS - 1)
    ts = (day - EPOCH) * DAY_MS + tod_ms

    lag_kind = rng.random(total)
    lag = np.where(
        lag_kind < 1 - LATE_SHARE - 0.13,
        200 + rng.exponential(25_000, total),
        np.where(
            lag_kind < 1 - LATE_SHARE,
            rng.uniform(60_000, 6 * 3600_000, total),
            rng.uniform(DAY_MS, 5 * DAY_MS, total),
        ),
    )
    lag = np.where(clean, np.minimum(200 + rng.exponential(5_000, total), 60_000), lag)
    stored = ts + lag.astype(np.int64)
    stored_day = stored // DAY_MS + EPOCH
    offset_format = rng.random(total) < 0.1
    actor_mode = rng.choice(4, size=total, p=ACTOR_MODE_P)

    # Planted dirt, only on ordinary statements of known, unscripted people.
    dirt = rng.random(total)
    eligible = (kind == 0) & ~clean
    duplicate = eligible & (dirt < DUPLICATE_SHARE)
    voided = eligible & (dirt >= DUPLICATE_SHARE) & (dirt < DUPLICATE_SHARE + VOID_SHARE)
    malformed = (
        eligible
        & (dirt >= DUPLICATE_SHARE + VOID_SHARE)
        & (dirt < DUPLICATE_SHARE + VOID_SHARE + MALFORMED_SHARE)
    )
    malformed_kind = rng.integers(0, 4, total)
    cut = rng.uniform(0.2, 0.9, total)
    duplicate_later = rng.random(total) < 0.4
    duplicate_days = rng.integers(1, 4, total)
    duplicate_pos = rng.random(total)
    void_ts = stored + rng.integers(600_000, 3 * DAY_MS, total)
    void_stored = void_ts + rng.integers(500, 30_000, total)
    ids = _uuids(rng.bytes(16 * total), total)
    void_idx = np.flatnonzero(voided)
    void_ids = _uuids(rng.bytes(16 * len(void_idx)), len(void_idx))

    duplicate_day = np.where(duplicate_later, stored_day + duplicate_days, stored_day)
    day_end = (stored_day + 1 - EPOCH) * DAY_MS
    duplicate_key = np.where(
        duplicate_later,
        (duplicate_day - EPOCH) * DAY_MS + (duplicate_pos * DAY_MS).astype(np.int64),
        stored + (duplicate_pos * (day_end - stored)).astype(np.int64),
    )
    void_day = void_stored // DAY_MS + EPOCH
    lo_day, hi_day = render_from, plan.end
    own = (stored_day >= lo_day) & (stored_day <= hi_day)
    dup_needed = duplicate & (duplicate_day >= lo_day) & (duplicate_day <= hi_day)
    render = np.flatnonzero(own | dup_needed)

    out: dict[int, list[tuple[int, str, str]]] = {}
    if len(render):
        columns = {
            "emp": emp,
            "verb": verb,
            "obj": obj,
            "seconds": seconds,
            "raw": raw,
            "score_max": score_max,
            "with_scaled": with_scaled,
            "success": success,
            "actor_mode": actor_mode,
            "offset_format": offset_format,
            "ts": ts,
            "stored": stored,
            "stored_day": stored_day,
            "own": own,
            "duplicate": dup_needed,
            "duplicate_day": duplicate_day,
            "duplicate_key": duplicate_key,
            "malformed": malformed,
            "malformed_kind": malformed_kind,
            "cut": cut,
        }
        _render(plan, out, render, ids, columns)
    for position, i in enumerate(void_idx.tolist()):
        if lo_day <= void_day[i] <= hi_day:
            actor = plan.actors[emp[i]][actor_mode[i]]
            line = xapi.VOIDING_STATEMENT % (
                void_ids[position],
                actor,
                ids[i],
                _iso(void_ts[i : i + 1])[0] + "Z",
                _iso(void_stored[i : i + 1])[0] + "Z",
            )
            out.setdefault(int(void_day[i]), []).append((int(void_stored[i]), line, VOIDING))
    return out


def _result(verb: int, duration: str, score: str, success: bool) -> str:
    if verb == 0:
        return ""
    if verb in (1, 3, 6):
        return f',"result":{{"duration":"{duration}"}}'
    if verb == 2:
        return f',"result":{{"completion":false,"duration":"{duration}"}}'
    if verb == 4:
        outcome = "true" if success else "false"
        return f',"result":{{"success":{outcome},"duration":"{duration}"}}'
    if verb == 5:
        return f',"result":{{"score":{score},"duration":"{duration}"}}'
    if verb == 7:
        return f',"result":{{"completion":true,"duration":"{duration}"}}'
    outcome = "true" if verb == 8 else "false"
    return (
        f',"result":{{"score":{score},"success":{outcome},'
        f'"completion":{outcome},"duration":"{duration}"}}'
    )


def _render(
    plan: ActivityPlan, out: dict, render: np.ndarray, ids: list[str], v: dict[str, np.ndarray]
) -> None:
    """Serialise the statements at positions `render` of generate_day's columns `v`."""
    emp = v["emp"][render].tolist()
    verb = v["verb"][render].tolist()
    obj = v["obj"][render].tolist()
    seconds = v["seconds"][render].tolist()
    raw = v["raw"][render].tolist()
    score_max = v["score_max"][render].tolist()
    with_scaled = v["with_scaled"][render].tolist()
    success = v["success"][render].tolist()
    mode = v["actor_mode"][render].tolist()
    offset_format = v["offset_format"][render].tolist()
    stored = v["stored"][render].tolist()
    stored_day = v["stored_day"][render].tolist()
    own = v["own"][render].tolist()
    duplicate = v["duplicate"][render].tolist()
    duplicate_day = v["duplicate_day"][render].tolist()
    duplicate_key = v["duplicate_key"][render].tolist()
    malformed = v["malformed"][render].tolist()
    malformed_kind = v["malformed_kind"][render].tolist()
    cut = v["cut"][render].tolist()
    ts_text = _iso(v["ts"][render])
    stored_text = _iso(v["stored"][render])
    actors, objects, verbs, durations = plan.actors, _OBJECTS, xapi.VERB_JSON, xapi.DURATIONS
    people = plan.people
    template = xapi.STATEMENT
    for n, i in enumerate(render.tolist()):
        verb_n = verb[n]
        score = ""
        if verb_n in (5, 8, 9):
            top = score_max[n]
            if with_scaled[n]:
                score = f'{{"scaled":{raw[n] / top:.2f},"raw":{raw[n]},"min":0,"max":{top}}}'
            else:
                score = f'{{"raw":{raw[n]},"min":0,"max":{top}}}'
        result = _result(verb_n, durations[seconds[n]], score, success[n])
        actor = actors[emp[n]][mode[n]]
        timestamp = ts_text[n] + ("+00:00" if offset_format[n] else "Z")
        stored_at = stored_text[n] + "Z"
        line = template % (
            ids[i],
            actor,
            verbs[verb_n],
            objects[obj[n]],
            result,
            timestamp,
            stored_at,
        )
        if malformed[n]:
            bad = malformed_kind[n]
            if bad == 0:
                line = line[: int(len(line) * cut[n])]
            elif bad == 1:
                line = xapi.GARBAGE_LINES[i % len(xapi.GARBAGE_LINES)]
            elif bad == 2:
                line = xapi.STATEMENT_WITHOUT_VERB % (
                    ids[i],
                    actor,
                    objects[obj[n]],
                    result,
                    timestamp,
                    stored_at,
                )
            else:
                line = xapi.STATEMENT_WITHOUT_ACTOR % (
                    ids[i],
                    verbs[verb_n],
                    objects[obj[n]],
                    result,
                    timestamp,
                    stored_at,
                )
            if own[n]:
                out.setdefault(stored_day[n], []).append((stored[n], line, MALFORMED))
            continue
        if own[n]:
            tag = UNKNOWN if emp[n] >= people else VALID
            out.setdefault(stored_day[n], []).append((stored[n], line, tag))
        if duplicate[n]:
            out.setdefault(duplicate_day[n], []).append((duplicate_key[n], line, DUPLICATE))
