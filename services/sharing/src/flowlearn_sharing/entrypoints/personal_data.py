"""The sharing service's personal-data entrypoints: its part of an export, the erasure
request and its progress (request/reply), the erasure consumer, and the consumer of every
service's confirmation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from faststream.nats import NatsBroker
from flowlearn_shared.consumer import EventHandler, subscribe_events
from flowlearn_shared.contracts.personal_data import EraseRequest, ErasureRef, ExportPartRequest
from flowlearn_shared.events import PersonErased, PersonErasureRequested
from flowlearn_shared.rpc_server import serve
from flowlearn_shared.subjects import PERSON_ERASED_EVENTS, EventSubject, RpcSubject
from pydantic import BaseModel

from flowlearn_sharing.service_layer.personal_data import SharingPersonalDataService
from flowlearn_sharing.settings import SharingSettings

QUEUE = "sharing"
UseCase = Callable[[Any], Awaitable[Any]]


def register(
    broker: NatsBroker,
    settings: SharingSettings,
    service: SharingPersonalDataService,
    on_erasure: EventHandler,
) -> None:
    routes: list[tuple[RpcSubject, type[BaseModel], UseCase]] = [
        (RpcSubject.SHARING_EXPORT_PERSONAL_DATA, ExportPartRequest, service.export),
        (RpcSubject.SHARING_ERASE_PERSON, EraseRequest, service.request_erasure),
        (RpcSubject.SHARING_ERASURE_STATUS, ErasureRef, service.erasure_status),
    ]
    for subject, model, use_case in routes:
        serve(broker, subject, model, use_case, queue=QUEUE)

    subscribe_events(
        broker,
        subject=EventSubject.PERSON_ERASURE_REQUESTED,
        durable=settings.erasure_consumer,
        handler=on_erasure,
        settings=settings,
        title="sharing:erasure",
    )
    subscribe_events(
        broker,
        subject=PERSON_ERASED_EVENTS,
        durable=settings.erasure_status_consumer,
        handler=service.on_confirmation,
        settings=settings,
        title="sharing:erasure-confirmations",
    )
    published: list[tuple[EventSubject, type[BaseModel], str]] = [
        (
            EventSubject.PERSON_ERASURE_REQUESTED,
            PersonErasureRequested,
            "A person asked to be erased everywhere; via the outbox, on FLOW_EVENTS.",
        ),
        (
            EventSubject.SHARING_PERSON_ERASED,
            PersonErased,
            "The sharing service erased a person; via the outbox, on FLOW_EVENTS.",
        ),
    ]
    for event_subject, schema, description in published:
        broker.publisher(
            event_subject,
            schema=schema,
            title=f"sharing:{event_subject}",
            description=description,
        )
