"""Kudos: who may see one, and the event that carries it to the recipient's portfolio."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flowlearn_shared.contracts.kudos import KudosCreate, KudosVisibility
from flowlearn_shared.events import KudosGiven, KudosGivenData

from flowlearn_sharing.domain.audience import Viewer
from flowlearn_sharing.domain.rules import InvalidValue

SOURCE = "flowlearn/sharing"


@dataclass(frozen=True)
class Kudos:
    id: str
    from_id: str
    to_id: str
    message: str
    strengths: list[str]
    visibility: KudosVisibility
    # The recipient's teams when the kudos was given: a team kudos is a note to those teams,
    # so someone joining one of them later sees it, and someone who left no longer does.
    team_ids: tuple[str, ...]
    created_at: datetime
    events: list[Any] = field(default_factory=list, compare=False, repr=False)

    def can_see(self, viewer: Viewer) -> bool:
        """Roles grant nothing: an admin sees a private kudos only if it is theirs."""
        if viewer.user_id in (self.from_id, self.to_id):
            return True
        return self.visibility == KudosVisibility.TEAM and bool(
            viewer.team_ids.intersection(self.team_ids)
        )


def give_kudos(
    kudos_id: str, sender: str, data: KudosCreate, recipient_team_ids: set[str], now: datetime
) -> Kudos:
    if data.to == sender:
        raise InvalidValue("to", "kudos are for someone else; you cannot send them to yourself")
    team = data.visibility == KudosVisibility.TEAM
    kudos = Kudos(
        id=kudos_id,
        from_id=sender,
        to_id=data.to,
        message=data.message,
        strengths=data.strengths,
        visibility=data.visibility,
        team_ids=tuple(sorted(recipient_team_ids)) if team else (),
        created_at=now,
    )
    kudos.events.append(
        KudosGiven(
            source=SOURCE,
            subject=kudos.to_id,
            time=now,
            data=KudosGivenData(
                kudos_id=kudos.id,
                from_id=sender,
                to_id=kudos.to_id,
                strengths=kudos.strengths,
                visibility=kudos.visibility.value,
                message=kudos.message,
            ),
        )
    )
    return kudos
