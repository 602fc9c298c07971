"""The journal's personal-data entrypoints: its part of an export (request/reply) and the
erasure consumer, which confirms with ``flow.journal.person.erased.v1``."""

from __future__ import annotations

from faststream.nats import NatsBroker
from flowlearn_shared.consumer import EventHandler, subscribe_events
from flowlearn_shared.contracts.personal_data import ExportPartRequest
from flowlearn_shared.events import PersonErased
from flowlearn_shared.rpc_server import serve
from flowlearn_shared.subjects import EventSubject, RpcSubject

from flowlearn_journal.service_layer.personal_data import JournalPersonalDataService
from flowlearn_journal.settings import JournalSettings

QUEUE = "journal"


def register(
    broker: NatsBroker,
    settings: JournalSettings,
    service: JournalPersonalDataService,
    on_erasure: EventHandler,
) -> None:
    serve(
        broker,
        RpcSubject.JOURNAL_EXPORT_PERSONAL_DATA,
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
        title="journal:erasure",
    )
    broker.publisher(
        EventSubject.JOURNAL_PERSON_ERASED,
        schema=PersonErased,
        title=f"journal:{EventSubject.JOURNAL_PERSON_ERASED}",
        description="The journal erased a person; via the outbox, on FLOW_EVENTS.",
    )
