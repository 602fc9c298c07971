"""Campaigns: who may send one to which audience, the nudge each recipient gets, and the
aggregate counts its sender sees (none below the minimum group size)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from flowlearn_shared.contracts.campaigns import MIN_GROUP_SIZE, CampaignStatus
from flowlearn_shared.contracts.nudges import NudgeStatus, NudgeType

from flowlearn_nudges.domain.catalogue import Origin
from flowlearn_nudges.domain.nudge import NudgeSpec, nudge_id

# May send to any team, community, the whole organisation or a list of people.
BROADCAST_ROLES = frozenset({"curator", "admin"})
MANAGER_ROLE = "manager"
VIEWER_ROLES = frozenset({"admin"})  # besides the campaign's creator


class NotAllowed(Exception):
    pass


class AudienceKind(StrEnum):
    TEAM = "team"
    COMMUNITY = "community"
    ORG = "org"
    PEOPLE = "people"


@dataclass(frozen=True)
class Audience:
    kind: AudienceKind
    ids: tuple[str, ...] = ()

    @classmethod
    def parse(cls, value: str) -> Audience:
        """From the contract's already validated form: ``team:<id>``, ``community:<id>``,
        ``org`` or ``people:<id>,<id>``."""
        if value == "org":
            return cls(AudienceKind.ORG)
        kind, _, rest = value.partition(":")
        ids = tuple(dict.fromkeys(part for part in rest.split(",") if part))
        return cls(AudienceKind(kind), ids)

    @property
    def single(self) -> str:
        return self.ids[0]


def check_may_send(
    audience: Audience, roles: Iterable[str], led_teams: set[str], led_people: set[str]
) -> None:
    """Curators and admins send to anyone; managers to the teams they lead (or people in
    them); nobody else sends campaigns."""
    held = set(roles)
    if held & BROADCAST_ROLES:
        return
    if MANAGER_ROLE not in held:
        raise NotAllowed("only managers, curators and admins send campaigns")
    if audience.kind == AudienceKind.TEAM:
        if audience.single not in led_teams:
            raise NotAllowed("managers send campaigns only to the teams they lead")
        return
    if audience.kind == AudienceKind.PEOPLE:
        if not set(audience.ids) <= led_people:
            raise NotAllowed("managers send campaigns only to people in the teams they lead")
        return
    raise NotAllowed("only curators and admins send campaigns to a community or everyone")


@dataclass(frozen=True)
class Campaign:
    id: str
    created_by: str
    type: NudgeType
    message: str
    audience: str
    send_at: datetime
    created_at: datetime
    status: CampaignStatus = CampaignStatus.SCHEDULING
    recipients: int | None = None
    # The audience is known from events (team and community memberships, people met):
    # the position in the event log its planning must have read through. None: no wait.
    audience_as_of: int | None = None

    def may_be_seen_by(self, user_id: str, roles: Iterable[str]) -> bool:
        return user_id == self.created_by or bool(VIEWER_ROLES & set(roles))

    def nudge_for(self, user_id: str) -> NudgeSpec:
        """The recipient's nudge; its id is fixed by campaign and person, so planning it
        again (after a crash) makes no second one."""
        return NudgeSpec(
            id=nudge_id("campaign", self.id, user_id),
            user_id=user_id,
            type=self.type,
            wanted_at=self.send_at,
            origin=Origin.CAMPAIGN,
            message=self.message,
            context={"campaign_id": self.id},
        )


def recipients_of(found: Iterable[str], sender: str) -> list[str]:
    """Unique, in a stable order, without the sender: they wrote the message."""
    return sorted(set(found) - {sender})


@dataclass(frozen=True)
class Counts:
    recipients: int
    delivered: int = 0
    opened: int = 0
    acted: int = 0
    snoozed: int = 0
    dismissed: int = 0

    @property
    def suppressed(self) -> bool:
        return self.recipients < MIN_GROUP_SIZE


def tally(nudges: Iterable[Mapping[str, Any]]) -> Counts:
    """Counts over the campaign's nudges (stored documents): how many reached, were
    opened, acted on or dismissed at some point, and how many are snoozed now."""
    total = delivered = opened = acted = snoozed = dismissed = 0
    for doc in nudges:
        total += 1
        delivered += doc.get("delivered_at") is not None
        opened += doc.get("opened_at") is not None
        acted += doc.get("acted_at") is not None
        dismissed += doc.get("dismissed_at") is not None
        snoozed += doc.get("status") == NudgeStatus.SNOOZED
    return Counts(total, delivered, opened, acted, snoozed, dismissed)
