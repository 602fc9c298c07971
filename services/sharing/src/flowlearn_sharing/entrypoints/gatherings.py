"""Request/reply for gatherings, and the event sent when one has ended (for AsyncAPI)."""

from __future__ import annotations

from faststream.nats import NatsBroker
from flowlearn_shared.contracts import gatherings as g
from flowlearn_shared.events import GatheringEnded
from flowlearn_shared.rpc_server import serve
from flowlearn_shared.subjects import EventSubject, RpcSubject
from pydantic import BaseModel

from flowlearn_sharing.entrypoints.messaging import QUEUE, UseCase
from flowlearn_sharing.service_layer.gatherings import GatheringService


def register(broker: NatsBroker, gatherings: GatheringService) -> None:
    s = gatherings
    routes: list[tuple[RpcSubject, type[BaseModel], UseCase]] = [
        (RpcSubject.SHARING_CREATE_GATHERING, g.CreateGatheringRequest, s.create),
        (RpcSubject.SHARING_GET_GATHERING, g.GatheringRef, s.get),
        (RpcSubject.SHARING_LIST_GATHERINGS, g.ListGatheringsRequest, s.browse),
        (RpcSubject.SHARING_RSVP, g.GatheringRef, s.rsvp),
        (RpcSubject.SHARING_CANCEL_RSVP, g.GatheringRef, s.cancel_rsvp),
        (RpcSubject.SHARING_GATHERING_ATTENDEES, g.GatheringRef, s.attendees),
    ]
    for subject, model, use_case in routes:
        serve(broker, subject, model, use_case, queue=QUEUE)
    broker.publisher(
        EventSubject.GATHERING_ENDED,
        schema=GatheringEnded,
        title=f"sharing:{EventSubject.GATHERING_ENDED}",
        description="Published once per gathering, after it ended, by the periodic sweep.",
    )
