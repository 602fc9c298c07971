"""Reactions to journal events. Each is applied once per event, whatever the redeliveries."""

from __future__ import annotations

from flowlearn_shared.consumer import ProcessedEvents
from flowlearn_shared.events import Event, JournalEntryCreated
from pymongo.asynchronous.client_session import AsyncClientSession

from flowlearn_nudges.adapters.repository import ActivityRepository


class JournalActivityHandler:
    def __init__(self, repository: ActivityRepository, processed: ProcessedEvents) -> None:
        self.repository = repository
        self.processed = processed

    async def __call__(self, event: Event) -> None:
        if not isinstance(event, JournalEntryCreated):
            return  # updates and deletions change nothing the nudges need yet
        facts = event.data

        async def effect(session: AsyncClientSession) -> None:
            await self.repository.record_entry(facts.owner_id, facts.occurred_on, session)
            if facts.nudge_id:
                await self.repository.record_acted(
                    facts.owner_id, facts.nudge_id, facts.entry_id, session
                )

        await self.processed.apply_once(str(event.id), effect)
