"""The nudges service's NATS entrypoints: request/reply for the gateway, the events it
consumes (one durable consumer per family, shared by every replica) and the one it
publishes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from faststream.nats import NatsBroker
from flowlearn_shared.consumer import EventHandler, subscribe_events
from flowlearn_shared.contracts import campaigns as c
from flowlearn_shared.contracts import nudges as n
from flowlearn_shared.events import NudgeDelivered
from flowlearn_shared.rpc_server import serve
from flowlearn_shared.subjects import (
    JOURNAL_ENTRY_EVENTS,
    PEOPLE_EVENTS,
    SHARING_EVENTS,
    WORK_EVENTS,
    EventSubject,
    RpcSubject,
)
from pydantic import BaseModel

from flowlearn_nudges.service_layer.api import NudgesApi
from flowlearn_nudges.service_layer.campaigns import CampaignService
from flowlearn_nudges.settings import NudgesSettings

QUEUE = "nudges"
UseCase = Callable[[Any], Awaitable[Any]]


def register(
    broker: NatsBroker,
    settings: NudgesSettings,
    api: NudgesApi,
    *,
    on_journal_event: EventHandler,
    on_people_event: EventHandler,
    on_sharing_event: EventHandler,
    on_work_event: EventHandler,
    campaigns: CampaignService,
) -> None:
    routes: list[tuple[RpcSubject, type[BaseModel], UseCase]] = [
        (RpcSubject.NUDGES_GET_PREFERENCES, n.PreferencesRequest, api.get_preferences),
        (RpcSubject.NUDGES_UPDATE_PREFERENCES, n.UpdatePreferencesRequest, api.update_preferences),
        (RpcSubject.NUDGES_INBOX, n.InboxRequest, api.inbox),
        (RpcSubject.NUDGES_ACK, n.AckRequest, api.ack),
        (RpcSubject.NUDGES_CREATE_CAMPAIGN, c.CreateCampaignRequest, campaigns.create),
        (RpcSubject.NUDGES_GET_CAMPAIGN, c.GetCampaignRequest, campaigns.get),
    ]
    for subject, model, use_case in routes:
        serve(broker, subject, model, use_case, queue=QUEUE)

    consumers = [
        (JOURNAL_ENTRY_EVENTS, settings.journal_consumer, on_journal_event, "journal-activity"),
        (PEOPLE_EVENTS, settings.people_consumer, on_people_event, "people"),
        (SHARING_EVENTS, settings.sharing_consumer, on_sharing_event, "sharing"),
        (WORK_EVENTS, settings.work_consumer, on_work_event, "work-events"),
    ]
    for events, durable, handler, purpose in consumers:
        subscribe_events(
            broker,
            subject=events,
            durable=durable,
            handler=handler,
            settings=settings,
            title=f"nudges:{purpose}",
        )
    broker.publisher(
        EventSubject.NUDGE_DELIVERED,
        schema=NudgeDelivered,
        title=f"nudges:{EventSubject.NUDGE_DELIVERED}",
        description="Published through the nudges service's outbox on FLOW_EVENTS.",
    )
