"""The journal's NATS entrypoints: request/reply for the gateway, one queue group shared by
every replica. Requests are validated here so a bad one gets a 422 problem, not silence."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from faststream.nats import NatsBroker
from flowlearn_shared.contracts.journal import (
    CreateEntryRequest,
    DeleteEntryRequest,
    EntryRef,
    ListEntriesRequest,
    ShareEntryRequest,
    StatsRequest,
    UpdateEntryRequest,
)
from flowlearn_shared.contracts.portfolio import PortfolioRequest
from flowlearn_shared.events import (
    JournalEntryCreated,
    JournalEntryDeleted,
    JournalEntryShared,
    JournalEntryUpdated,
)
from flowlearn_shared.rpc import Reply
from flowlearn_shared.rpc_server import raw_body, serve
from flowlearn_shared.subjects import EventSubject, RpcSubject
from pydantic import BaseModel

from flowlearn_journal.service_layer.handlers import JournalService
from flowlearn_journal.service_layer.portfolio import PortfolioService

QUEUE = "journal"
# Published by the outbox relay, not by a handler; declared so the AsyncAPI document
# shows each event's payload.
PUBLISHED_EVENTS: dict[EventSubject, type[BaseModel]] = {
    EventSubject.JOURNAL_ENTRY_CREATED: JournalEntryCreated,
    EventSubject.JOURNAL_ENTRY_UPDATED: JournalEntryUpdated,
    EventSubject.JOURNAL_ENTRY_DELETED: JournalEntryDeleted,
    EventSubject.JOURNAL_ENTRY_SHARED: JournalEntryShared,
}


def register(broker: NatsBroker, journal: JournalService, portfolio: PortfolioService) -> None:
    routes: list[tuple[RpcSubject, type[BaseModel], Callable[[Any], Awaitable[Any]]]] = [
        (RpcSubject.JOURNAL_CREATE_ENTRY, CreateEntryRequest, journal.create_entry),
        (RpcSubject.JOURNAL_GET_ENTRY, EntryRef, journal.get_entry),
        (RpcSubject.JOURNAL_LIST_ENTRIES, ListEntriesRequest, journal.list_entries),
        (RpcSubject.JOURNAL_UPDATE_ENTRY, UpdateEntryRequest, journal.update_entry),
        (RpcSubject.JOURNAL_DELETE_ENTRY, DeleteEntryRequest, journal.delete_entry),
        (RpcSubject.JOURNAL_STATS, StatsRequest, journal.stats),
        (RpcSubject.JOURNAL_SHARE_ENTRY, ShareEntryRequest, journal.share_entry),
        (RpcSubject.JOURNAL_PORTFOLIO, PortfolioRequest, portfolio.export),
    ]
    for subject, model, use_case in routes:
        serve(broker, subject, model, use_case, queue=QUEUE)

    for event_subject, event in PUBLISHED_EVENTS.items():
        broker.publisher(
            event_subject,
            schema=event,
            title=f"journal:{event_subject}",
            description="Journal entry metadata (never the text), via the outbox, on FLOW_EVENTS.",
        )

    # The body is not read, so it is not decoded either (hostile JSON would sink the reply).
    @broker.subscriber(
        RpcSubject.JOURNAL_PROMPTS, queue=QUEUE, title="journal:prompts", decoder=raw_body
    )
    async def prompts() -> Reply[Any]:
        return Reply(result=await journal.prompts())
