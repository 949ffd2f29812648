"""Turns the simulated company into the arrays statement generation reads day by day."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np

from orchestration.sample_data import catalog as cat
from orchestration.sample_data import xapi
from orchestration.sample_data.company import NEVER, Company, family_of

# Mean statements per week for a typical member of each family.
FAMILY_WEEKLY = {
    "engineering": 9.0,
    "support": 7.0,
    "sales": 6.0,
    "back_office": 4.0,
    "leadership": 6.0,
}
UNKNOWN_PEOPLE = 25
JOB_INDEX = {job.job_code: index for index, job in enumerate(cat.JOBS)}
COURSE_INDEX = {course.course_id: index for index, course in enumerate(cat.COURSES)}


@dataclass
class ActivityPlan:
    """Everything a worker process needs to render any day's statements on its own."""

    seed: int
    window_start: int
    end: int
    week0: int  # Monday of the window's first week
    hire: np.ndarray
    term: np.ndarray
    scripted: np.ndarray
    weekly_rate: np.ndarray  # [person, week] expected statements
    score_shift: np.ndarray  # [person, week] added to the person's skill
    skill: np.ndarray
    role_start: np.ndarray  # [person, role] first day of each role, NEVER-padded
    role_job: np.ndarray  # [person, role] JOB_INDEX of each role
    sched_day: np.ndarray  # course events (launch, fail, completion, pass) sorted by day
    sched_emp: np.ndarray
    sched_verb: np.ndarray
    sched_course: np.ndarray
    sched_score: np.ndarray
    script_day: np.ndarray  # scripted habit: statements per person-day, sorted by day
    script_emp: np.ndarray
    script_count: np.ndarray
    actors: list[tuple[str, str, str, str]]  # known people first, then unknown actors

    @property
    def people(self) -> int:
        return len(self.hire)


def _season(week0: int, weeks: int) -> np.ndarray:
    factors = np.ones(weeks)
    for week in range(weeks):
        days = [date.fromordinal(week0 + 7 * week + offset) for offset in range(7)]
        if any((d.month == 12 and d.day >= 24) or (d.month == 1 and d.day == 1) for d in days):
            factors[week] = 0.35
        elif days[3].month in (7, 8):
            factors[week] = 0.85
        elif (days[3].month, days[3].day) >= (3, 1) and (days[3].month, days[3].day) <= (4, 15):
            factors[week] = 1.1  # compliance campaign season
        elif (days[3].month, days[3].day) >= (9, 1) and (days[3].month, days[3].day) <= (10, 15):
            factors[week] = 1.1
    return factors


def build_plan(company: Company, seed: int) -> ActivityPlan:
    people = company.people
    ws, end = company.window_start, company.end
    week0 = ws - date.fromordinal(ws).weekday()
    weeks = (end - week0) // 7 + 1
    count = len(people)
    rng = np.random.default_rng([seed, 11])
    season = _season(week0, weeks)
    weekly_rate = np.zeros((count, weeks), dtype=np.float32)
    score_shift = np.zeros((count, weeks), dtype=np.float32)
    max_roles = max(len(person.role_starts()) for person in people)
    role_start = np.full((count, max_roles), NEVER, dtype=np.int64)
    role_job = np.zeros((count, max_roles), dtype=np.int16)

    for person in people:
        roles = person.role_starts()
        for slot, row in enumerate(roles):
            role_start[person.idx, slot] = row.day
            role_job[person.idx, slot] = JOB_INDEX[row.job_code]
        first, last = max(person.hire, ws), min(person.term - 1, end)
        if last < first or person.scripted_until is not None:
            continue
        w0, w1 = (first - week0) // 7, (last - week0) // 7
        span = w1 - w0 + 1
        base = np.empty(span)
        for row in roles:
            start = max(0, (row.day - week0) // 7 - w0)
            if start < span:
                base[start:] = FAMILY_WEEKLY[family_of(row.job_code)]
        mult = rng.gamma(8.0, 1.0 / 8.0, size=span)
        shift = np.zeros(span)
        # Vacation weeks and busy spells: drops that do not end in an exit.
        mult[rng.integers(0, span, size=rng.poisson(3.0 * span / 52))] *= 0.1
        for _ in range(rng.poisson(0.12 * span / 52)):
            start, length = int(rng.integers(0, span)), int(rng.integers(2, 6))
            mult[start : start + length] *= 0.3
            shift[start : start + length] -= 0.04
        if person.intent_start is not None:
            start = (person.intent_start - week0) // 7 - w0
            if start < span:
                ramp = np.full(span - start, 0.12)
                ramp[:3] = (0.55, 0.3, 0.18)[: min(3, span - start)]
                mult[start:] *= ramp
                shift[start:] -= 0.12
        if person.hire >= ws:
            mult[:4] *= 1.4  # onboarding
        for enrollment in person.enrollments:
            done = enrollment.completed
            course = cat.COURSES_BY_ID[enrollment.course_id]
            if done is not None and not course.is_compliance and first <= done <= last:
                shift[(done - week0) // 7 - w0 :] += 0.02  # training pays off in later scores
        weekly_rate[person.idx, w0 : w1 + 1] = base * person.activity * season[w0 : w1 + 1] * mult
        score_shift[person.idx, w0 : w1 + 1] = shift

    sched = _course_events(company, rng)
    script = _scripted_habits(company, sched, np.random.default_rng([seed, 12]))
    actors = [
        xapi.actor_fragments(p.employee_id, f"{p.first_name} {p.last_name}", p.email)
        for p in people
    ]
    for number in range(UNKNOWN_PEOPLE):
        actors.append(
            xapi.unknown_actor_fragment(f"contractor{number + 1:02d}@partners.example.net")
        )
    return ActivityPlan(
        seed=seed,
        window_start=ws,
        end=end,
        week0=week0,
        hire=np.array([p.hire for p in people], dtype=np.int64),
        term=np.array([p.term for p in people], dtype=np.int64),
        scripted=np.array([p.scripted_until is not None for p in people], dtype=bool),
        weekly_rate=weekly_rate,
        score_shift=score_shift,
        skill=np.array([p.skill for p in people], dtype=np.float32),
        role_start=role_start,
        role_job=role_job,
        sched_day=sched[0],
        sched_emp=sched[1],
        sched_verb=sched[2],
        sched_course=sched[3],
        sched_score=sched[4],
        script_day=script[0],
        script_emp=script[1],
        script_count=script[2],
        actors=actors,
    )


def _course_events(company: Company, rng: np.random.Generator):
    """Statements that enrollments imply: launch, failed attempts, completion and pass."""
    ws, end = company.window_start, company.end
    rows: list[tuple[int, int, int, int, float]] = []
    for person in company.people:
        scripted = person.scripted_until is not None
        for enrollment in person.enrollments:
            course = COURSE_INDEX[enrollment.course_id]
            assessed = cat.COURSES[course].is_assessed
            if enrollment.launched is not None and ws <= enrollment.launched <= end:
                rows.append((enrollment.launched, person.idx, xapi.VERB["launched"], course, -1.0))
            for day in enrollment.fails:
                if ws <= day <= end:
                    score = float(rng.uniform(0.35, 0.69))
                    rows.append((day, person.idx, xapi.VERB["failed"], course, score))
            done = enrollment.completed
            if done is not None and ws <= done <= end:
                rows.append((done, person.idx, xapi.VERB["completed"], course, -1.0))
                if assessed:
                    if scripted:
                        score = 0.9  # constant, so scripted people never show a score drop
                    else:
                        score = min(1.0, max(0.8, person.skill + 0.08 + rng.normal(0, 0.06)))
                    rows.append((done, person.idx, xapi.VERB["passed"], course, float(score)))
    rows.sort(key=lambda row: row[0])  # stable: a pass stays right after its completion
    columns = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
    return (
        np.array(columns[0], dtype=np.int64),
        np.array(columns[1], dtype=np.int64),
        np.array(columns[2], dtype=np.int64),
        np.array(columns[3], dtype=np.int64),
        np.array(columns[4], dtype=np.float64),
    )


def _scripted_habits(company: Company, sched, rng: np.random.Generator):
    """5 to 8 statements every ISO week, on at least 3 weekdays, until the dropout date."""
    ws, end = company.window_start, company.end
    sched_day, sched_emp = sched[0], sched[1]
    rows: list[tuple[int, int, int]] = []
    for person in company.people:
        if person.scripted_until is None:
            continue
        first, stop = max(person.hire, ws), min(person.scripted_until, end + 1)
        mine = sched_day[sched_emp == person.idx]
        monday = first - date.fromordinal(first).weekday()
        while monday < stop:
            days = [day for day in range(monday, monday + 5) if first <= day < stop]
            if days:
                target = int(rng.integers(5, 9))
                planned = int(np.count_nonzero((mine >= monday) & (mine < monday + 7)))
                if len(days) < 5:
                    target = max(planned, math.ceil(target * len(days) / 5))
                extra = max(0, target - planned)
                chosen_days = min(len(days), int(rng.integers(3, 6)), extra)
                if chosen_days:
                    chosen = sorted(rng.choice(days, size=chosen_days, replace=False).tolist())
                    counts = [1] * chosen_days
                    for slot in rng.integers(0, chosen_days, size=extra - chosen_days):
                        counts[int(slot)] += 1
                    rows.extend((day, person.idx, n) for day, n in zip(chosen, counts, strict=True))
            monday += 7
    rows.sort(key=lambda row: (row[0], row[1]))
    columns = list(zip(*rows, strict=True)) if rows else [(), (), ()]
    return tuple(np.array(column, dtype=np.int64) for column in columns)
