"""Metrics of the delivery loop, kept out of the use cases: the scheduler is wrapped here,
and the due backlog is counted when /metrics is scraped."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flowlearn_shared.observability.metrics import (
    NUDGE_LATENESS,
    NUDGES_DUE,
    NUDGES_OVERDUE,
    NUDGES_SETTLED,
)
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from flowlearn_nudges.domain.nudge import Nudge
from flowlearn_nudges.service_layer.scheduler import Clock, Scheduler

_OUTCOMES = ("delivered", "deferred", "dropped", "lost", "failed")
_settled = {outcome: NUDGES_SETTLED.labels(outcome) for outcome in _OUTCOMES}


class MeasuredScheduler(Scheduler):
    """The scheduler, counting how each due nudge was settled and how late it went out."""

    def settled(self, nudge: Nudge, outcome: str) -> None:
        # Called once per claimed nudge, whether its batch was settled at once or one by one.
        (_settled.get(outcome) or NUDGES_SETTLED.labels(outcome)).inc()
        if outcome == "delivered" and nudge.due_at is not None:
            NUDGE_LATENESS.observe(max(0.0, (self.clock() - nudge.due_at).total_seconds()))


class DueBacklog:
    """How many nudges are due and not yet delivered, and how long the oldest has waited.
    Only pending nudges carry ``due_at``, so the scheduler's index answers both."""

    def __init__(self, nudges: AsyncCollection[dict[str, Any]], clock: Clock) -> None:
        self.nudges = nudges
        self.clock = clock

    async def __call__(self) -> None:
        now: datetime = self.clock()
        due = {"due_at": {"$lte": now}}
        NUDGES_DUE.set(await self.nudges.count_documents(due))
        oldest = await self.nudges.find_one(due, {"due_at": 1}, sort=[("due_at", ASCENDING)])
        waited = (now - oldest["due_at"]).total_seconds() if oldest else 0.0
        NUDGES_OVERDUE.set(max(0.0, waited))
