"""What settling a due nudge writes: its state after the decision, and the event of its
delivery."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from flowlearn_shared.contracts.nudges import NudgeStatus
from flowlearn_shared.events import NudgeDelivered, NudgeDeliveredData
from flowlearn_shared.observability.tracing import new_trace

from flowlearn_nudges.domain.model import Person
from flowlearn_nudges.domain.nudge import Decision, Defer, Drop, Nudge, deliver, end
from flowlearn_nudges.domain.schedule import PersonSchedule

SOURCE = "flowlearn/nudges"


def apply_decision(
    nudge: Nudge, decision: Decision, now: datetime, schedule: PersonSchedule, person: Person
) -> tuple[Nudge, str]:
    """The nudge after ``decision``, and the outcome's name."""
    if isinstance(decision, Defer):
        return replace(nudge, due_at=decision.due_at), "deferred"
    if isinstance(decision, Drop):
        return end(nudge, NudgeStatus.EXPIRED, decision.reason), "dropped"
    day = schedule.local_date(now).isoformat()
    return deliver(nudge, now, person.preferences.channels, day), "delivered"


def delivery_trace(nudge: Nudge) -> dict[str, str]:
    """A trace of its own for each delivery: it starts here, not in a request, and its id
    follows the event to the channels and to the person's open streams."""
    return new_trace("nudge delivered", {"nudge.id": nudge.id, "nudge.type": str(nudge.type)})


def delivered_event(nudge: Nudge, before: Nudge) -> NudgeDelivered:
    assert nudge.delivered_at is not None
    return NudgeDelivered(
        source=SOURCE,
        subject=nudge.user_id,
        time=nudge.delivered_at,
        data=NudgeDeliveredData(
            nudge_id=nudge.id,
            user_id=nudge.user_id,
            nudge_type=str(nudge.type),
            message=nudge.message,
            channels=[str(c) for c in nudge.channels],
            delivered_at=nudge.delivered_at,
            redelivery=before.status == NudgeStatus.SNOOZED,
            context=nudge.context,
        ),
    )
