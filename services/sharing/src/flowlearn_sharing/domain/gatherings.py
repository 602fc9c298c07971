"""Gatherings (lunch & learns, book clubs): when they run, when RSVPs are open, and the
event sent once one has ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from flowlearn_shared.contracts.gatherings import GatheringCreate, GatheringKind
from flowlearn_shared.events import GatheringEnded, GatheringEndedData

from flowlearn_sharing.domain.audience import Audience
from flowlearn_sharing.domain.rules import InvalidValue, WrongState

SOURCE = "flowlearn/sharing"


@dataclass(frozen=True)
class Gathering:
    id: str
    kind: GatheringKind
    title: str
    description: str
    starts_at: datetime
    duration_minutes: int
    capacity: int
    location: str | None
    audience: Audience
    host_id: str
    going_count: int
    waitlist_count: int
    created_at: datetime

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    def status(self, now: datetime) -> Literal["upcoming", "ongoing", "ended"]:
        if now < self.starts_at:
            return "upcoming"
        return "ongoing" if now < self.ends_at else "ended"

    def check_rsvp_open(self, now: datetime) -> None:
        if now >= self.starts_at:
            raise WrongState("the gathering has started; RSVPs are closed")

    def check_cancel_open(self, now: datetime) -> None:
        if now >= self.ends_at:
            raise WrongState("the gathering has ended")


def _stored(moment: datetime) -> datetime:
    """In UTC to the millisecond, as MongoDB keeps it; the host's offset was only notation."""
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def new_gathering(
    gathering_id: str, host_id: str, data: GatheringCreate, now: datetime
) -> Gathering:
    if data.starts_at <= now:
        raise InvalidValue("starts_at", "a gathering must start in the future")
    return Gathering(
        id=gathering_id,
        kind=data.kind,
        title=data.title,
        description=data.description,
        starts_at=_stored(data.starts_at),
        duration_minutes=data.duration_minutes,
        capacity=data.capacity,
        location=data.location,
        audience=Audience.parse(data.audience),
        host_id=host_id,
        going_count=0,
        waitlist_count=0,
        created_at=now,
    )


def ended_event(gathering: Gathering, attendee_ids: list[str], now: datetime) -> GatheringEnded:
    return GatheringEnded(
        source=SOURCE,
        subject=gathering.id,
        time=now,
        data=GatheringEndedData(
            gathering_id=gathering.id,
            kind=gathering.kind.value,
            title=gathering.title,
            host_id=gathering.host_id,
            ended_at=gathering.ends_at,
            attendee_ids=sorted(attendee_ids),
        ),
    )
