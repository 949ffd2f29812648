"""Simulates the fictional company: org chart, hires, moves, exits and learning assignments."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from orchestration.sample_data import catalog as cat

NEVER = 10**7  # an ordinal beyond any real date: "not terminated", "no cut-off"

FIRST_NAMES = (
    "Aisha", "Alex", "Amara", "Ana", "Ben", "Carla", "Chen", "Daniel", "Diego", "Elena", "Emma",
    "Farah", "Felix", "Grace", "Hannah", "Hiro", "Ines", "Isaac", "Jamal", "Jana", "Jonas", "Julia",
    "Kai", "Karim", "Laura", "Leo", "Lina", "Lucas", "Maya", "Mei", "Mia", "Nadia", "Nina", "Noah",
    "Olivia", "Omar", "Paula", "Priya", "Rafael", "Rosa", "Ryan", "Sara", "Sofia", "Tariq", "Theo",
    "Tom", "Uma", "Victor", "Wei", "Yara", "Yusuf", "Zoe", "Marta", "Niamh", "Oskar", "Pedro",
    "Ravi", "Selin", "Tomasz", "Ines",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Ahmed", "Alvarez", "Becker", "Bianchi", "Brown", "Chen", "Costa", "Dubois", "Evans",
    "Fischer", "Garcia", "Gupta", "Hansen", "Hoffmann", "Ito", "Jensen", "Johnson", "Kaur", "Khan",
    "Kim", "Kowalski", "Larsen", "Lee", "Lopez", "Martin", "Meyer", "Moreau", "Murphy", "Nguyen",
    "Novak", "O'Brien", "Okafor", "Park", "Patel", "Petrov", "Rossi", "Santos", "Schmidt", "Silva",
    "Singh", "Smith", "Suzuki", "Taylor", "Tanaka", "Walker", "Wang", "Weber", "Williams", "Wilson",
    "Yilmaz", "Zhang", "Ali", "Berg", "Campbell", "Diaz", "Eriksson", "Fernandes", "Horvat",
    "Ivanova",
)  # fmt: skip

# Annual exit and move probabilities; the multipliers below carry the signal the pipeline measures.
VOLUNTARY_ANNUAL = {
    "sales": 0.20,
    "support": 0.22,
    "engineering": 0.13,
    "back_office": 0.10,
    "leadership": 0.08,
}
INVOLUNTARY_ANNUAL = 0.035
OTHER_EXIT_ANNUAL = 0.008
MOVE_ANNUAL = 0.10
MANAGER_CHANGE_ANNUAL = 0.03
COMPLETER_EXIT_FACTOR = 0.6
COMPLETER_MOVE_FACTOR = 2.2
# How readily each family finishes its role bundle.
LEARNING_FACTOR = {
    "sales": 0.95,
    "support": 1.0,
    "engineering": 1.15,
    "back_office": 0.85,
    "leadership": 1.1,
}
VOLUNTARY_REASONS = (
    "better opportunity", "compensation", "career change", "relocation", "work-life balance",
    "relationship with manager", "return to study",
)  # fmt: skip
INVOLUNTARY_REASONS = ("performance", "restructuring", "policy violation")
OTHER_REASONS = ("retirement", "end of fixed-term contract", "long-term illness")
ROLE_CHANGES = ("hire", "promotion", "transfer", "lateral", "demotion")


def _daily_rate(annual: float) -> float:
    return -math.log(1.0 - min(annual, 0.95)) / 365.25


def family_of(job_code: str) -> str:
    return cat.JOBS_BY_CODE[job_code].job_family


@dataclass
class Enrollment:
    emp: int
    course_id: str
    assigned: int
    due: int
    completed: int | None = None
    fails: list[int] = field(default_factory=list)
    launched: int | None = None
    cutoff: int = NEVER  # withdrawn from this day on (role change or exit)
    status: str = ""
    enrollment_id: str = ""
    bad_date_field: str = ""  # planted unparsable date in this column


@dataclass
class HistoryRow:
    day: int
    change_type: str
    job_code: str
    department: str
    manager: int  # person index, -1 for none


@dataclass
class Person:
    idx: int
    first_name: str
    last_name: str
    email: str
    hire: int
    location: str
    fte: str
    hipo: bool
    activity: float  # personal multiplier on the family's weekly learning habit
    p_learn: float  # propensity to finish assigned courses
    skill: float  # typical scaled assessment score
    history: list[HistoryRow] = field(default_factory=list)
    term: int = NEVER
    term_type: str = ""
    term_reason: str = ""
    intent_start: int | None = None  # disengagement that precedes a voluntary exit
    scripted_until: int | None = None
    manager_since: int = NEVER
    employee_id: str = ""
    enrollments: list[Enrollment] = field(default_factory=list)

    @property
    def current(self) -> HistoryRow:
        return self.history[-1]

    def row_at(self, day: int) -> HistoryRow:
        """The history row in force on day (the first row if day precedes the hire)."""
        found = self.history[0]
        for row in self.history:
            if row.day <= day and row.change_type != "termination":
                found = row
        return found

    def role_starts(self) -> list[HistoryRow]:
        return [row for row in self.history if row.change_type in ROLE_CHANGES]


@dataclass
class Company:
    people: list[Person]
    window_start: int
    end: int
    heads: dict[str, int]


def week_of(day: int) -> int:
    """ISO week number counted from 0001-01-01, which was a Monday."""
    return (day - 1) // 7


def weekday_on_or_after(day: int) -> int:
    weekday = date.fromordinal(day).weekday()
    return day + (7 - weekday if weekday >= 5 else 0)


def add_months(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


class CompanyBuilder:
    """Builds one company deterministically from a seed; call build() once."""

    def __init__(
        self,
        employees: int,
        months: int,
        seed: int,
        end_date: date,
        dropouts: Mapping[str, date],
    ) -> None:
        self.target = employees
        self.months = months
        self.rnd = random.Random(seed)
        self.end = end_date.toordinal()
        self.window_start = (add_months(end_date, -months)).toordinal() + 1
        self.dropouts = dict(sorted(dropouts.items()))
        self.people: list[Person] = []
        self.heads: dict[str, int] = {}
        self.managers: dict[str, list[int]] = {dept: [] for dept in cat.DEPARTMENTS}
        self._email_counts: dict[str, int] = {}

    # -- people -------------------------------------------------------------------------------

    def _new_person(self, hire: int, leader: bool) -> Person:
        rnd = self.rnd
        first = rnd.choice(FIRST_NAMES)
        last = rnd.choice(LAST_NAMES)
        local = f"{first}.{last}".lower().replace("'", "")
        seen = self._email_counts.get(local, 0) + 1
        self._email_counts[local] = seen
        if seen > 1:
            local = f"{local}{seen}"
        p_learn = rnd.betavariate(1.4, 1.8)
        person = Person(
            idx=len(self.people),
            first_name=first,
            last_name=last,
            email=f"{local}@{cat.COMPANY_EMAIL_DOMAIN}",
            hire=hire,
            location=self._weighted(cat.LOCATIONS),
            fte=self._weighted((("1.0", 0.92), ("0.8", 0.06), ("0.6", 0.02))),
            hipo=rnd.random() < (0.25 if leader else 0.10),
            activity=math.exp(rnd.gauss(0.0, 0.45)) * (0.6 + 0.8 * p_learn),
            p_learn=p_learn,
            skill=min(0.95, max(0.5, rnd.gauss(0.76, 0.07))),
        )
        self.people.append(person)
        return person

    def _weighted(self, options):
        values = [value for value, _ in options]
        weights = [weight for _, weight in options]
        return self.rnd.choices(values, weights=weights)[0]

    def _tenure_days(self, mean_years: float, max_years: float) -> int:
        while True:
            years = self.rnd.expovariate(1.0 / mean_years)
            if years <= max_years:
                return max(7, round(years * 365.25))

    def _active_managers(self, dept: str, day: int, exclude: int = -1) -> list[int]:
        people = self.people
        return [
            idx
            for idx in self.managers[dept]
            if idx != exclude and people[idx].manager_since <= day < people[idx].term
        ]

    def _pick_manager(self, dept: str, day: int, exclude: int = -1) -> int:
        candidates = self._active_managers(dept, day, exclude)
        if not candidates:
            return self.heads[dept]
        return self.rnd.choice(candidates)

    def _set_pre_window_history(self, person: Person, rows: list[tuple[int, str, str]], mgr: int):
        """Fill manager ids of rows (day, change_type, job_code), using the department head
        before the current manager took the team over."""
        dept = cat.JOB_DEPARTMENT[rows[-1][2]]
        head = self.heads[dept]
        since = self.people[mgr].manager_since
        history = [
            HistoryRow(day, change, job, cat.JOB_DEPARTMENT[job], mgr if day >= since else head)
            for day, change, job in rows
        ]
        if person.hire < since < self.window_start:
            job_then = [job for day, _, job in rows if day <= since][-1]
            history.append(
                HistoryRow(since, "manager_change", job_then, cat.JOB_DEPARTMENT[job_then], mgr)
            )
            history.sort(key=lambda row: row.day)
        person.history = history

    def _initial_population(self) -> None:
        rnd, ws = self.rnd, self.window_start
        ceo = self._new_person(ws - 3000, leader=True)
        ceo.history = [HistoryRow(ceo.hire, "hire", "LDR-3", cat.EXECUTIVE, -1)]
        ceo.manager_since = ceo.hire
        for dept in cat.DEPARTMENTS:
            head = self._new_person(weekday_on_or_after(ws - rnd.randint(2600, 2950)), True)
            head.history = [HistoryRow(head.hire, "hire", "LDR-2", dept, ceo.idx)]
            head.manager_since = head.hire
            self.heads[dept] = head.idx

        initial = round(self.target / (1 + 0.21 * self.months / 12))
        contributors = round((initial - 1 - len(cat.DEPARTMENTS)) * 7 / 8)
        for dept in cat.DEPARTMENTS:
            head = self.heads[dept]
            dept_ics = max(1, round(contributors * cat.DEPARTMENT_SHARES[dept]))
            senior_job = cat.DEPARTMENT_JOBS[dept][-1][0]
            for _ in range(max(1, round(dept_ics / 7))):
                tenure = round(rnd.uniform(1.0, 7.0) * 365.25)
                manager = self._new_person(weekday_on_or_after(ws - tenure), leader=True)
                if tenure > 900 and rnd.random() < 0.5:
                    promoted = weekday_on_or_after(manager.hire + rnd.randint(365, tenure - 60))
                    manager.history = [
                        HistoryRow(manager.hire, "hire", senior_job, dept, head),
                        HistoryRow(promoted, "promotion", "LDR-1", dept, head),
                    ]
                    manager.manager_since = promoted
                else:
                    manager.history = [HistoryRow(manager.hire, "hire", "LDR-1", dept, head)]
                    manager.manager_since = manager.hire
                self.managers[dept].append(manager.idx)
            jobs = [(code, share) for code, share, _ in cat.DEPARTMENT_JOBS[dept]]
            for _ in range(dept_ics):
                job = self._weighted(jobs)
                tenure = self._tenure_days(2.8, 7.0)
                person = self._new_person(weekday_on_or_after(ws - tenure), leader=False)
                rows = [(person.hire, "hire", job)]
                if job in cat.DEMOTIONS and tenure > 540 and rnd.random() < 0.6:
                    promoted = weekday_on_or_after(person.hire + rnd.randint(365, tenure - 30))
                    rows = [(person.hire, "hire", cat.DEMOTIONS[job]), (promoted, "promotion", job)]
                self._set_pre_window_history(person, rows, rnd.choice(self.managers[dept]))

    # -- timelines ----------------------------------------------------------------------------

    def _terminate(self, person: Person, day: int, kind: str) -> None:
        reasons = {
            "voluntary": VOLUNTARY_REASONS,
            "involuntary": INVOLUNTARY_REASONS,
            "other": OTHER_REASONS,
        }[kind]
        current = person.current
        person.term = day
        person.term_type = kind
        person.term_reason = self.rnd.choice(reasons)
        person.history.append(
            HistoryRow(day, "termination", current.job_code, current.department, current.manager)
        )

    def _voluntary_exit_day(self, person: Person, decided: float) -> int:
        """Most leavers disengage for weeks before they go; some leave without warning."""
        start = int(decided) + 1
        if self.rnd.random() < 0.8:
            person.intent_start = start
            return weekday_on_or_after(start + self.rnd.randint(25, 75))
        return weekday_on_or_after(start)

    def _draw_bundle(self, person: Person, start: int, job: str) -> bool:
        """Assign the role's capability bundle; return whether the person becomes a completer."""
        rnd = self.rnd
        items = cat.BUNDLES[job]
        chance = min(0.95, person.p_learn * LEARNING_FACTOR[family_of(job)])
        early = 0
        for course_id, offset, _milestone in items:
            enrollment = Enrollment(person.idx, course_id, start, start + offset)
            assessed = cat.COURSES_BY_ID[course_id].is_assessed
            if person.scripted_until is None:
                if rnd.random() < chance:
                    if rnd.random() < 0.35 + 0.45 * person.p_learn:
                        done = start + max(2, round(offset * rnd.uniform(0.15, 1.0)))
                    else:
                        done = start + offset + 1 + round(offset * rnd.uniform(0.0, 1.5))
                    enrollment.completed = done
                    if assessed and rnd.random() < 0.15:
                        enrollment.fails = [max(start + 1, done - rnd.randint(5, 20))]
                elif assessed and rnd.random() < 0.2:
                    enrollment.fails = [start + rnd.randint(5, offset)]
                self._draw_launch(enrollment)
            if enrollment.completed is not None and enrollment.completed <= start + 90:
                early += 1
            person.enrollments.append(enrollment)
        if person.scripted_until is not None:
            return True
        return early / len(items) >= 0.25

    def _draw_launch(self, enrollment: Enrollment) -> None:
        events = list(enrollment.fails)
        if enrollment.completed is not None:
            events.append(enrollment.completed)
        if events or self.rnd.random() < 0.5:
            latest = min(events) - enrollment.assigned if events else 10
            enrollment.launched = enrollment.assigned + self.rnd.randint(0, max(0, min(5, latest)))

    def _close_bundle(self, person: Person, day: int) -> None:
        for enrollment in person.enrollments:
            if enrollment.cutoff == NEVER:
                enrollment.cutoff = day

    def _simulate_manager(self, person: Person) -> None:
        rnd = self.rnd
        start = max(person.manager_since, self.window_start, person.hire)
        role_start = person.current.day
        completer = (
            self._draw_bundle(person, role_start, "LDR-1")
            if role_start >= self.window_start
            else False
        )
        hv = _daily_rate(
            VOLUNTARY_ANNUAL["leadership"]
            * (COMPLETER_EXIT_FACTOR if completer else 1.0)
            * (0.7 if person.hipo else 1.0)
        )
        voluntary = start + rnd.expovariate(hv)
        involuntary = start + rnd.expovariate(_daily_rate(0.02))
        if min(voluntary, involuntary) > self.end:
            return
        if voluntary < involuntary:
            exit_day, kind = self._voluntary_exit_day(person, voluntary), "voluntary"
        else:
            exit_day, kind = weekday_on_or_after(int(involuntary) + 1), "involuntary"
        if exit_day > self.end:
            return
        self._terminate(person, exit_day, kind)
        self._close_bundle(person, exit_day)
        # Teams are not left without a manager for long: a replacement is hired.
        backfill_day = weekday_on_or_after(exit_day + rnd.randint(14, 60))
        if backfill_day <= self.end - 7:
            dept = person.current.department
            backfill = self._new_person(backfill_day, leader=True)
            backfill.history = [HistoryRow(backfill_day, "hire", "LDR-1", dept, self.heads[dept])]
            backfill.manager_since = backfill_day
            self.managers[dept].append(backfill.idx)
            self._simulate_manager(backfill)

    def _plan_hires(self) -> None:
        rnd = self.rnd
        hires = max(0, self.target - len(self.people))
        depts = list(cat.DEPARTMENT_SHARES.items())
        last = self.end - 7
        for _ in range(hires):
            day = rnd.randint(self.window_start, last)
            if rnd.random() < 0.6:  # most people start on a Monday
                day -= date.fromordinal(day).weekday()
                if day < self.window_start:
                    day += 7
            day = weekday_on_or_after(day)
            dept = self._weighted(depts)
            job = self._weighted([(code, share) for code, _, share in cat.DEPARTMENT_JOBS[dept]])
            person = self._new_person(day, leader=False)
            person.history = [HistoryRow(day, "hire", job, dept, self._pick_manager(dept, day))]

    def _choose_move(self, job: str, dept: str, manager: int, day: int):
        """Pick (change_type, job, department, manager) for an internal move, or None."""
        options = []
        if job in cat.PROMOTIONS:
            options.append(("promotion", cat.PROMOTIONS[job], 0.55))
        if self._active_managers(dept, day, exclude=manager):
            options.append(("lateral", job, 0.20))
        if cat.TRANSFERS.get(job):
            options.append(("transfer", self.rnd.choice(cat.TRANSFERS[job]), 0.22))
        if job in cat.DEMOTIONS:
            options.append(("demotion", cat.DEMOTIONS[job], 0.03))
        if not options:
            return None
        change, new_job, _ = self.rnd.choices(options, weights=[w for *_, w in options])[0]
        new_dept = cat.JOB_DEPARTMENT[new_job]
        if new_dept == dept and change != "lateral":
            return change, new_job, dept, manager
        return change, new_job, new_dept, self._pick_manager(new_dept, day, exclude=manager)

    def _simulate_contributor(self, person: Person) -> None:
        rnd, people = self.rnd, self.people
        t = max(person.hire, self.window_start)
        row = person.row_at(t)
        job, dept, manager = row.job_code, row.department, row.manager
        role_start = [r.day for r in person.role_starts() if r.day <= t][-1]
        completer = (
            self._draw_bundle(person, role_start, job) if role_start >= self.window_start else False
        )
        if person.scripted_until is not None:
            return
        while True:
            family = family_of(job)
            first_year = (t - person.hire) < 365
            hv = (
                VOLUNTARY_ANNUAL[family]
                * (COMPLETER_EXIT_FACTOR if completer else 1.0)
                * (0.7 if person.hipo else 1.0)
                * (1.3 if first_year else 1.0)
            )
            hm = MOVE_ANNUAL * (COMPLETER_MOVE_FACTOR if completer else 1.0)
            hm *= 1.6 if person.hipo else 1.0
            draws = {
                "voluntary": t + rnd.expovariate(_daily_rate(hv)),
                "involuntary": t
                + rnd.expovariate(_daily_rate(INVOLUNTARY_ANNUAL * (1.5 if first_year else 1.0))),
                "other": t + rnd.expovariate(_daily_rate(OTHER_EXIT_ANNUAL)),
                "move": max(t, role_start + 180) + rnd.expovariate(_daily_rate(hm)),
                "manager_change": t + rnd.expovariate(_daily_rate(MANAGER_CHANGE_ANNUAL)),
            }
            if manager >= 0 and people[manager].term < NEVER:
                draws["manager_left"] = people[manager].term - 0.5
            event = min(draws, key=lambda name: draws[name])
            day = int(draws[event]) + 1
            if day > self.end:
                return
            if event == "voluntary":
                exit_day = self._voluntary_exit_day(person, draws[event])
                if people[manager].term <= min(exit_day, self.end):
                    left = people[manager].term
                    manager = self._pick_manager(dept, left, exclude=manager)
                    person.history.append(HistoryRow(left, "manager_change", job, dept, manager))
                if exit_day <= self.end:
                    self._terminate(person, exit_day, "voluntary")
                    self._close_bundle(person, exit_day)
                return
            if event in ("involuntary", "other"):
                exit_day = weekday_on_or_after(day)
                if exit_day <= self.end:
                    self._terminate(person, exit_day, event)
                    self._close_bundle(person, exit_day)
                return
            t = day
            if event in ("manager_left", "manager_change"):
                new_manager = self._pick_manager(dept, day, exclude=manager)
                if new_manager != manager:
                    manager = new_manager
                    person.history.append(HistoryRow(day, "manager_change", job, dept, manager))
                continue
            move = self._choose_move(job, dept, manager, day)
            if move is None:
                continue
            change, new_job, dept, manager = move
            person.history.append(HistoryRow(day, change, new_job, dept, manager))
            if new_job != job:
                self._close_bundle(person, day)
                role_start = day
                completer = self._draw_bundle(person, day, new_job)
            job = new_job

    # -- identities and scripted employees ----------------------------------------------------

    def _assign_ids(self) -> None:
        for number, person in enumerate(sorted(self.people, key=lambda p: (p.hire, p.idx)), 1):
            person.employee_id = f"E{number:06d}"

    def _script_dropouts(self) -> None:
        """Give each requested employee id the steady, clean profile the dropout test relies on."""
        by_id = {person.employee_id: person for person in self.people}
        requested = list(self.dropouts)
        latest_hire = self.end - 274
        for employee_id in requested:
            if employee_id not in by_id:
                raise ValueError(
                    f"dropouts: employee id {employee_id!r} is not generated "
                    f"(ids run from E000001 to E{len(self.people):06d})"
                )
            if self.dropouts[employee_id].toordinal() <= self.window_start + 28:
                raise ValueError(
                    f"dropouts: date {self.dropouts[employee_id]} for {employee_id} must be at "
                    f"least 4 weeks after the window start {date.fromordinal(self.window_start)}"
                )

        team_sizes: dict[int, int] = {}
        for other in self.people:
            team_sizes[other.current.manager] = team_sizes.get(other.current.manager, 0) + 1

        def stable_manager(person: Person) -> int | None:
            if family_of(person.current.job_code) == "leadership" or person.term < NEVER:
                return None
            dept = person.current.department
            starts = max(person.hire, self.window_start)
            stable = [
                idx
                for idx in self.managers[dept]
                if self.people[idx].term == NEVER and self.people[idx].manager_since <= starts
            ]
            if not stable:
                return None
            # The biggest stable team, so the manager certainly manages other people too.
            return max(stable, key=lambda idx: (team_sizes.get(idx, 0), -idx))

        taken: set[int] = set()
        for employee_id in requested:
            dropout = self.dropouts[employee_id].toordinal()
            limit = min(latest_hire, dropout - 182)

            def suitable(person: Person, limit: int = limit) -> bool:
                return (
                    person.idx not in taken
                    and person.hire <= limit
                    and stable_manager(person) is not None
                )

            person = by_id[employee_id]
            if not suitable(person):
                swap = next(
                    (
                        p
                        for p in sorted(self.people, key=lambda p: p.employee_id)
                        if p.employee_id not in self.dropouts and suitable(p)
                    ),
                    None,
                )
                if swap is None:
                    raise ValueError(
                        f"dropouts: no employee can play {employee_id} (hired before "
                        f"{date.fromordinal(limit)}); generate more employees or months"
                    )
                swap.employee_id, person.employee_id = person.employee_id, swap.employee_id
                person = swap
            taken.add(person.idx)
            person.scripted_until = dropout
            manager = stable_manager(person)
            assert manager is not None
            if person.hire < self.window_start:
                rows = [(r.day, r.change_type, r.job_code) for r in person.role_starts()]
                self._set_pre_window_history(person, rows, manager)
            else:
                person.history[0].manager = manager

    # -- compliance and enrollment outcomes ---------------------------------------------------

    def _campaign_days(self) -> list[tuple[int, tuple[str, ...]]]:
        days = []
        first_year = date.fromordinal(self.window_start).year
        for year in range(first_year, date.fromordinal(self.end).year + 1):
            for (month, dom), courses in cat.ANNUAL_CAMPAIGNS.items():
                day = date(year, month, dom).toordinal()
                if self.window_start <= day <= self.end:
                    days.append((day, courses))
        return sorted(days)

    def _assign_compliance(self, person: Person, campaigns) -> None:
        rnd = self.rnd
        if person.hire >= self.window_start:
            for course_id in cat.compliance_courses_for(person.history[0].job_code):
                due = person.hire + cat.NEW_HIRE_COMPLIANCE_DUE_DAYS
                person.enrollments.append(Enrollment(person.idx, course_id, person.hire, due))
        for day, courses in campaigns:
            if not person.hire + 14 <= day < person.term:
                continue
            required = cat.compliance_courses_for(person.row_at(day).job_code)
            for course_id in required:
                if course_id in courses:
                    due = day + cat.CAMPAIGN_DUE_DAYS
                    person.enrollments.append(Enrollment(person.idx, course_id, day, due))
        if person.scripted_until is not None:
            return
        for enrollment in person.enrollments:
            if not cat.COURSES_BY_ID[enrollment.course_id].is_compliance:
                continue
            start, due = enrollment.assigned, enrollment.due
            window = due - start
            draw = rnd.random() - 0.08 * (person.p_learn - 0.45)
            if draw < 0.80:
                enrollment.completed = start + max(1, round(window * rnd.betavariate(2.0, 1.3)))
            elif draw < 0.88:
                enrollment.completed = due + rnd.randint(1, 40)
            elif draw < 0.92:
                pass
            elif draw < 0.97:
                failed = start + rnd.randint(1, max(1, window - 3))
                enrollment.fails = [failed]
                enrollment.completed = failed + rnd.randint(1, 14)
            else:
                enrollment.fails = [start + rnd.randint(1, window + 10)]
            self._draw_launch(enrollment)

    def _apply_disengagement(self, person: Person) -> None:
        """People on their way out let their learning slide."""
        if person.intent_start is None:
            return
        for enrollment in person.enrollments:
            done = enrollment.completed
            if done is not None and done > person.intent_start and self.rnd.random() < 0.6:
                enrollment.completed = None

    def _script_enrollments(self, person: Person) -> None:
        """Scripted people finish everything on time, at most one course per ISO week."""
        dropout = person.scripted_until
        assert dropout is not None
        used_weeks: set[int] = set()
        kept = []
        for enrollment in sorted(person.enrollments, key=lambda e: (e.due, e.course_id)):
            if enrollment.assigned >= dropout - 7:
                continue
            last = min(enrollment.due - 1, dropout - 8, self.end)
            candidates = [
                day
                for day in range(enrollment.assigned + 1, last + 1)
                if date.fromordinal(day).weekday() < 5 and week_of(day) not in used_weeks
            ]
            if candidates:
                day = candidates[self.rnd.randint(0, min(len(candidates), 10) - 1)]
                used_weeks.add(week_of(day))
                enrollment.completed = day
            elif enrollment.due <= self.end:
                continue
            kept.append(enrollment)
        person.enrollments = kept

    def _finalize_enrollments(self, person: Person) -> None:
        end = self.end
        for enrollment in person.enrollments:
            cutoff = min(enrollment.cutoff, person.term)
            enrollment.cutoff = cutoff
            if enrollment.completed is not None and enrollment.completed >= cutoff:
                enrollment.completed = None
            enrollment.fails = [day for day in enrollment.fails if day < cutoff]
            if enrollment.launched is not None and enrollment.launched >= cutoff:
                enrollment.launched = None
            if enrollment.completed is not None and enrollment.completed <= end:
                enrollment.status = "completed"
            elif cutoff <= end:
                enrollment.status = "withdrawn"
            elif any(day <= end for day in enrollment.fails):
                enrollment.status = "failed"
            elif enrollment.launched is not None and enrollment.launched <= end:
                enrollment.status = "in_progress"
            else:
                enrollment.status = "assigned"

    def _number_enrollments(self) -> None:
        everything = [e for person in self.people for e in person.enrollments]
        everything.sort(key=lambda e: (e.assigned, self.people[e.emp].employee_id, e.course_id))
        for number, enrollment in enumerate(everything, 1):
            enrollment.enrollment_id = f"ENR{number:08d}"
        # A few rows carry an impossible date, as real LMS exports occasionally do.
        candidates = [
            e for e in everything if self.people[e.emp].scripted_until is None and e.completed
        ]
        for enrollment in self.rnd.sample(candidates, min(len(candidates), self.rnd.randint(1, 3))):
            enrollment.bad_date_field = self.rnd.choice(
                ("assigned_date", "due_date", "completed_date")
            )

    def build(self) -> Company:
        self._initial_population()
        for dept in cat.DEPARTMENTS:
            for idx in list(self.managers[dept]):
                self._simulate_manager(self.people[idx])
        self._plan_hires()
        self._assign_ids()
        self._script_dropouts()
        for person in self.people:
            if person.manager_since == NEVER:
                self._simulate_contributor(person)
        for person in self.people:
            if person.current.job_code in ("LDR-2", "LDR-3"):
                role_start = person.current.day
                if role_start >= self.window_start:
                    self._draw_bundle(person, role_start, person.current.job_code)
        campaigns = self._campaign_days()
        for person in self.people:
            self._assign_compliance(person, campaigns)
            if person.scripted_until is not None:
                self._script_enrollments(person)
            else:
                self._apply_disengagement(person)
            self._finalize_enrollments(person)
        self._number_enrollments()
        return Company(self.people, self.window_start, self.end, dict(self.heads))
