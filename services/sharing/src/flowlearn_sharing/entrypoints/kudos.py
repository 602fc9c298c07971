"""Request/reply for kudos, and the event it publishes (documented for AsyncAPI)."""

from __future__ import annotations

from faststream.nats import NatsBroker
from flowlearn_shared.contracts import kudos as k
from flowlearn_shared.events import KudosGiven
from flowlearn_shared.rpc_server import serve
from flowlearn_shared.subjects import EventSubject, RpcSubject

from flowlearn_sharing.entrypoints.messaging import QUEUE
from flowlearn_sharing.service_layer.kudos import KudosService


def register(broker: NatsBroker, kudos: KudosService) -> None:
    serve(broker, RpcSubject.SHARING_GIVE_KUDOS, k.GiveKudosRequest, kudos.give, queue=QUEUE)
    serve(broker, RpcSubject.SHARING_GET_KUDOS, k.KudosRef, kudos.get, queue=QUEUE)
    serve(broker, RpcSubject.SHARING_LIST_KUDOS, k.ListKudosRequest, kudos.browse, queue=QUEUE)
    broker.publisher(
        EventSubject.KUDOS_GIVEN,
        schema=KudosGiven,
        title=f"sharing:{EventSubject.KUDOS_GIVEN}",
        description="Published through the sharing service's outbox on FLOW_EVENTS.",
    )
