"""Events from outside tools (``flow.work.<source>.<type>.v1``, received by the gateway's
signed hook): only rules act on them, e.g. "an incident closed -> ``reflect`` to its
participants". Runs inside ``ProcessedEvents.apply_once`` like every reaction."""

from __future__ import annotations

import logging

from flowlearn_shared.events import Event, WorkEvent
from pymongo.asynchronous.client_session import AsyncClientSession

from flowlearn_nudges.service_layer.rule_engine import RuleEngine

log = logging.getLogger("flowlearn.nudges.work_events")


class WorkEvents:
    def __init__(self, rules: RuleEngine) -> None:
        self.rules = rules

    async def on_work(self, event: Event, session: AsyncClientSession) -> None:
        if not isinstance(event, WorkEvent):
            return  # only work events are published under flow.work
        scheduled = await self.rules.apply(event, session)
        if scheduled:
            log.info(
                "work event nudged people",
                extra={"event_type": event.type, "nudges": len(scheduled)},
            )
