"""Request/reply for curated collections, and the enrollment events (for AsyncAPI)."""

from __future__ import annotations

from faststream.nats import NatsBroker
from flowlearn_shared.contracts import curation as c
from flowlearn_shared.events import CollectionEnrolled, CollectionUnenrolled
from flowlearn_shared.rpc_server import serve
from flowlearn_shared.subjects import EventSubject, RpcSubject
from pydantic import BaseModel

from flowlearn_sharing.entrypoints.messaging import QUEUE, UseCase
from flowlearn_sharing.service_layer.curation import CollectionService


def register(broker: NatsBroker, collections: CollectionService) -> None:
    s = collections
    routes: list[tuple[RpcSubject, type[BaseModel], UseCase]] = [
        (RpcSubject.SHARING_CREATE_COLLECTION, c.CreateCollectionRequest, s.create),
        (RpcSubject.SHARING_GET_COLLECTION, c.CollectionRef, s.get),
        (RpcSubject.SHARING_LIST_COLLECTIONS, c.ListCollectionsRequest, s.browse),
        (RpcSubject.SHARING_UPDATE_COLLECTION, c.UpdateCollectionRequest, s.update),
        (RpcSubject.SHARING_ADD_COLLECTION_ITEM, c.AddItemRequest, s.add_item),
        (RpcSubject.SHARING_REORDER_COLLECTION_ITEMS, c.ReorderItemsRequest, s.reorder),
        (RpcSubject.SHARING_REMOVE_COLLECTION_ITEM, c.RemoveItemRequest, s.remove_item),
        (RpcSubject.SHARING_ENROLL, c.EnrollRequest, s.enroll),
        (RpcSubject.SHARING_UNENROLL, c.CollectionRef, s.unenroll),
    ]
    for subject, model, use_case in routes:
        serve(broker, subject, model, use_case, queue=QUEUE)
    for event_subject, event in (
        (EventSubject.COLLECTION_ENROLLED, CollectionEnrolled),
        (EventSubject.COLLECTION_UNENROLLED, CollectionUnenrolled),
    ):
        broker.publisher(
            event_subject,
            schema=event,
            title=f"sharing:{event_subject}",
            description="Published through the sharing service's outbox on FLOW_EVENTS.",
        )
