"""The nudges service's personal-data entrypoints: its part of an export (request/reply)
and the erasure consumer, which confirms with ``flow.nudges.person.erased.v1``."""

from __future__ import annotations

from faststream.nats import NatsBroker
from flowlearn_shared.consumer import EventHandler, subscribe_events
from flowlearn_shared.contracts.personal_data import ExportPartRequest
from flowlearn_shared.events import PersonErased
from flowlearn_shared.rpc_server import serve
from flowlearn_shared.subjects import EventSubject, RpcSubject

from flowlearn_nudges.service_layer.personal_data import NudgesPersonalDataService
from flowlearn_nudges.settings import NudgesSettings

QUEUE = "nudges"


def register(
    broker: NatsBroker,
    settings: NudgesSettings,
    service: NudgesPersonalDataService,
    on_erasure: EventHandler,
) -> None:
    serve(
        broker,
        RpcSubject.NUDGES_EXPORT_PERSONAL_DATA,
        ExportPartRequest,
        service.export,
        queue=QUEUE,
    )
    subscribe_events(
        broker,
        subject=EventSubject.PERSON_ERASURE_REQUESTED,
        durable=settings.erasure_consumer,
        handler=on_erasure,
        settings=settings,
        title="nudges:erasure",
    )
    broker.publisher(
        EventSubject.NUDGES_PERSON_ERASED,
        schema=PersonErased,
        title=f"nudges:{EventSubject.NUDGES_PERSON_ERASED}",
        description="The nudges service erased a person; via the outbox, on FLOW_EVENTS.",
    )
