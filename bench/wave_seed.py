"""People and scheduled nudges for the scheduler wave benchmark, in the nudges service's own
document format (its ``to_document`` and people schedule format), written in bulk.

The service's clock is real, so the run cannot wait for 09:00 somewhere: every person's
working day is placed around the run instead. People live in the IANA zones whose local
time allows a working window that lasts past the run (not close to local midnight);
each gets working hours from an hour before their local "now" for up to eight hours,
their local weekday among the working days, and quiet hours 22:00-06:00 where these do not
overlap the working window. The wave's people therefore span many zones and offsets, as
those whose 09:00 falls in one minute would be across one offset's many zones; what the
scheduler sees is the same: 20,000 nudges due at one instant, each checked against its
person's hours, quiet hours and daily cap.

Each person has one nudge (a campaign's, as a team-wide 09:00 message would be): the
wave's fall due at one instant, the "normal hour" ones spread over a stretch of time, the
rest later in the day, so the due index holds a realistic backlog that is not due yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from flowlearn_nudges.adapters.nudge_repository import NEVER, NudgeRepository, to_document
from flowlearn_nudges.adapters.people_repository import PeopleRepository, _schedule_doc
from flowlearn_nudges.adapters.sealed import SecretBox, decode_key
from flowlearn_nudges.domain.catalogue import Origin, Timing
from flowlearn_nudges.domain.nudge import Nudge
from flowlearn_nudges.domain.schedule import PersonSchedule
from flowlearn_nudges.settings import DEV_DESTINATIONS_KEY
from flowlearn_shared.contracts.nudges import NudgeStatus, NudgeType
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]
AREAS = ("Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe")
AREAS += ("Indian", "Pacific")
CHUNK = 5_000  # documents per insert_many
MESSAGE = "Two minutes before stand-up: this week's team lesson is in your learning hub."
WAVE, NORMAL, LATER = "wave-", "norm-", "later-"


def person_id(i: int) -> str:
    return f"p{i:06d}"


def zones(now: datetime) -> list[str]:
    """Zones whose local time is at least an hour before local midnight (the run must not
    cross it) and at least an hour after it (room for a window starting an hour earlier)."""
    fit = []
    for name in sorted(available_timezones()):
        if name.split("/", 1)[0] not in AREAS:
            continue
        local = now.astimezone(ZoneInfo(name))
        if time(1, 0) <= local.time() < time(23, 0):
            fit.append(name)
    return fit


def schedule_for(zone: str, now: datetime) -> PersonSchedule:
    local = now.astimezone(ZoneInfo(zone))
    start = time(local.hour - 1, 0)
    end = time(min(local.hour + 7, 23), 59 if local.hour + 7 >= 23 else 0)
    quiet = ("22:00", "06:00") if start >= time(6) and end <= time(22) else None
    days = {1, 2, 3, 4, 5, local.isoweekday()}
    return PersonSchedule.from_profile(
        zone, days, start.strftime("%H:%M"), end.strftime("%H:%M"), quiet
    )


def person_doc(i: int, schedule: PersonSchedule, now: datetime) -> Document:
    """As ``PeopleRepository.apply_profile`` stores a person (default preferences)."""
    return {
        "_id": person_id(i),
        "schedule": _schedule_doc(schedule),
        "profile_at": now,
        "created_at": now,
    }


def nudge_doc(nudge_id: str, user_id: str, due: datetime, now: datetime) -> Document:
    """As the planner stores a scheduled nudge (``NudgeRepository.add``)."""
    nudge = Nudge(
        id=nudge_id,
        user_id=user_id,
        type=NudgeType.CUSTOM,
        message=MESSAGE,
        status=NudgeStatus.SCHEDULED,
        origin=Origin.CAMPAIGN,
        timing=Timing.WORKING,
        wanted_at=due,
        due_at=due,
        expires_at=due + timedelta(days=7),
        created_at=now,
        context={"campaign_id": "bench-0900"},
    )
    return to_document(nudge) | {"lease_until": NEVER, "lease_owner": None, "listed_at": None}


@dataclass
class Population:
    people: int
    wave: int
    normal: int
    zones: list[str]
    schedules: dict[str, PersonSchedule]

    @property
    def later(self) -> int:
        return self.people - self.wave - self.normal

    def zone_of(self, i: int) -> str:
        return self.zones[i % len(self.zones)]

    def offsets(self, members: range, at: datetime) -> int:
        """Distinct UTC offsets among ``members`` at ``at``."""
        seen = {self.zone_of(i) for i in members[: len(self.zones)]}
        return len({at.astimezone(ZoneInfo(z)).utcoffset() for z in seen})

    def wave_members(self) -> range:
        return range(self.wave)

    def normal_members(self) -> range:
        return range(self.wave, self.wave + self.normal)


def population(people: int, wave: int, normal: int, now: datetime) -> Population:
    if wave + normal > people:
        raise ValueError("the wave and the normal hour need more people than there are")
    fit = zones(now)
    return Population(people, wave, normal, fit, {z: schedule_for(z, now) for z in fit})


Tick = Callable[[int], None]


async def insert(
    db: AsyncDatabase[Document], name: str, docs: Iterable[Document], tick: Tick
) -> None:
    chunk: list[Document] = []
    for doc in docs:
        chunk.append(doc)
        if len(chunk) == CHUNK:
            await db[name].insert_many(chunk, ordered=False)
            tick(len(chunk))
            chunk = []
    if chunk:
        await db[name].insert_many(chunk, ordered=False)
        tick(len(chunk))


async def seed_backlog(
    uri: str, database: str, pop: Population, now: datetime, with_people: bool, tick: Tick
) -> None:
    """Indexes as the service makes them, everyone's profile (``with_people``), and the
    nudges due later."""
    client: AsyncMongoClient[Document] = AsyncMongoClient(uri, tz_aware=True)
    try:
        db = client[database]
        await NudgeRepository(db).ensure_indexes()
        # Only its indexes: the people seeded here have default preferences, nothing sealed.
        unused = SecretBox(decode_key(DEV_DESTINATIONS_KEY))
        await PeopleRepository(db, unused).ensure_indexes()
        if with_people:
            people = (person_doc(i, pop.schedules[pop.zone_of(i)], now) for i in range(pop.people))
            await insert(db, "people", people, tick)
        first = pop.wave + pop.normal
        # Later in the day: spread over the next 2 to 12 hours, never due during the run.
        step = timedelta(hours=10) / max(pop.later, 1)
        later = (
            nudge_doc(f"{LATER}{i:06d}", person_id(i), now + timedelta(hours=2) + step * k, now)
            for k, i in enumerate(range(first, pop.people))
        )
        await insert(db, "nudges", later, tick)
    finally:
        await client.close()


def due_times(
    pop: Population, start: datetime, normal_seconds: float, gap: float
) -> tuple[list[datetime], datetime]:
    """The normal hour's due moments from ``start`` on, evenly spread, and the wave's
    instant ``gap`` seconds after the last (on a whole second)."""
    step = normal_seconds / max(pop.normal, 1)
    normal = [start + timedelta(seconds=step * k) for k in range(pop.normal)]
    wave = start + timedelta(seconds=normal_seconds + gap)
    return [t.replace(microsecond=t.microsecond // 1000 * 1000) for t in normal], wave.replace(
        microsecond=0
    ) + timedelta(seconds=1)


async def seed_due(
    uri: str,
    database: str,
    pop: Population,
    normal_due: list[datetime],
    wave_at: datetime,
    now: datetime,
    tick: Tick,
) -> None:
    """The normal hour's and the wave's nudges, not due yet when written."""
    client: AsyncMongoClient[Document] = AsyncMongoClient(uri, tz_aware=True)
    try:
        db = client[database]
        normal = (
            nudge_doc(f"{NORMAL}{k:06d}", person_id(i), normal_due[k], now)
            for k, i in enumerate(pop.normal_members())
        )
        await insert(db, "nudges", normal, tick)
        wave = (nudge_doc(f"{WAVE}{i:06d}", person_id(i), wave_at, now) for i in pop.wave_members())
        await insert(db, "nudges", wave, tick)
    finally:
        await client.close()


def id_range(prefix: str) -> Document:
    """The ``_id`` range of one group (the ``_id`` index serves it)."""
    return {"_id": {"$gte": prefix, "$lt": prefix[:-1] + chr(ord(prefix[-1]) + 1)}}


def utc_ms(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(microsecond=at.microsecond // 1000 * 1000)
