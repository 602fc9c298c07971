"""The nudges service's subscriptions."""

from __future__ import annotations

from faststream.nats import NatsBroker
from flowlearn_shared.consumer import EventHandler, subscribe_events

from flowlearn_nudges.settings import NudgesSettings

JOURNAL_ENTRY_EVENTS = "flow.journal.entry.*.v1"


def register(broker: NatsBroker, settings: NudgesSettings, on_journal_event: EventHandler) -> None:
    subscribe_events(
        broker,
        subject=JOURNAL_ENTRY_EVENTS,
        durable=settings.journal_consumer,
        handler=on_journal_event,
        settings=settings,
        title="nudges:journal-activity",
    )
