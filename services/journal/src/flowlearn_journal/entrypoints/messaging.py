"""The journal's NATS entrypoints: request/reply for the gateway, one queue group shared by
every replica. Requests are validated here so a bad one gets a 422 problem, not silence."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from faststream.nats import NatsBroker, NatsMessage
from flowlearn_shared.contracts.journal import (
    CreateEntryRequest,
    DeleteEntryRequest,
    EntryRef,
    ListEntriesRequest,
    StatsRequest,
    UpdateEntryRequest,
)
from flowlearn_shared.events import JournalEntryCreated, JournalEntryDeleted, JournalEntryUpdated
from flowlearn_shared.rpc import InvalidInput, Problem, Reply, ServiceError
from flowlearn_shared.subjects import EventSubject, RpcSubject
from pydantic import BaseModel, ValidationError

from flowlearn_journal.service_layer.handlers import JournalService

log = logging.getLogger("flowlearn.journal.rpc")

QUEUE = "journal"
# Published by the outbox relay, not by a handler; declared so the AsyncAPI document
# shows each event's payload.
PUBLISHED_EVENTS: dict[EventSubject, type[BaseModel]] = {
    EventSubject.JOURNAL_ENTRY_CREATED: JournalEntryCreated,
    EventSubject.JOURNAL_ENTRY_UPDATED: JournalEntryUpdated,
    EventSubject.JOURNAL_ENTRY_DELETED: JournalEntryDeleted,
}
Req = TypeVar("Req", bound=BaseModel)


async def answer(
    raw: bytes, model: type[Req], use_case: Callable[[Req], Awaitable[Any]]
) -> Reply[Any]:
    try:
        request = model.model_validate_json(raw)
    except ValidationError as exc:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return Reply(problem=InvalidInput("the request is not valid", errors).to_problem())
    try:
        return Reply(result=await use_case(request))
    except ServiceError as exc:
        return Reply(problem=exc.to_problem())
    except Exception:
        log.exception("request failed", extra={"request": model.__name__})
        return Reply(problem=Problem(title="Internal error", status=500))


def register(broker: NatsBroker, journal: JournalService) -> None:
    def serve(
        subject: RpcSubject, model: type[Req], use_case: Callable[[Req], Awaitable[Any]]
    ) -> None:
        async def handle(msg: NatsMessage) -> Reply[Any]:
            return await answer(msg.raw_message.data, model, use_case)

        broker.subscriber(subject, queue=QUEUE, title=f"journal:{subject}")(handle)

    serve(RpcSubject.JOURNAL_CREATE_ENTRY, CreateEntryRequest, journal.create_entry)
    serve(RpcSubject.JOURNAL_GET_ENTRY, EntryRef, journal.get_entry)
    serve(RpcSubject.JOURNAL_LIST_ENTRIES, ListEntriesRequest, journal.list_entries)
    serve(RpcSubject.JOURNAL_UPDATE_ENTRY, UpdateEntryRequest, journal.update_entry)
    serve(RpcSubject.JOURNAL_DELETE_ENTRY, DeleteEntryRequest, journal.delete_entry)
    serve(RpcSubject.JOURNAL_STATS, StatsRequest, journal.stats)

    for subject, event in PUBLISHED_EVENTS.items():
        broker.publisher(
            subject,
            schema=event,
            title=f"journal:{subject}",
            description="Journal entry metadata (never the text), via the outbox, on FLOW_EVENTS.",
        )

    @broker.subscriber(RpcSubject.JOURNAL_PROMPTS, queue=QUEUE, title="journal:prompts")
    async def prompts() -> Reply[Any]:
        return Reply(result=await journal.prompts())
