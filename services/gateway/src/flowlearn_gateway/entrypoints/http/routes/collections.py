"""``/v1/collections``: curated, ordered lists of links and posts. Curators build them;
anyone who may see one enrolls and gets an item every few days as a nudge."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Response
from flowlearn_shared.contracts.curation import (
    AddItemRequest,
    CollectionCreate,
    CollectionPage,
    CollectionPublic,
    CollectionQuery,
    CollectionRef,
    CollectionUpdate,
    CreateCollectionRequest,
    Enrollment,
    EnrollRequest,
    ItemAdded,
    ItemOrder,
    ItemPosition,
    ItemPublic,
    ListCollectionsRequest,
    RemoveItemRequest,
    ReorderItemsRequest,
    UpdateCollectionRequest,
)
from flowlearn_shared.contracts.people import ID_PATTERN
from flowlearn_shared.contracts.posts import PAGE_LIMIT_MAX
from flowlearn_shared.rpc import NotFound
from flowlearn_shared.subjects import RpcSubject

from flowlearn_gateway.domain.errors import ServiceProblem
from flowlearn_gateway.entrypoints.http.deps import CurrentUser, Rpc
from flowlearn_gateway.entrypoints.http.openapi import LOCATION_HEADER, PROBLEM_RESPONSES, problem

PREFIX = "/v1/collections"
router = APIRouter(prefix=PREFIX, tags=["collections"], responses=PROBLEM_RESPONSES)

CollectionId = Annotated[str, Path(pattern=ID_PATTERN, description="The collection's id")]
ItemId = Annotated[str, Path(pattern=ID_PATTERN, description="The item's id")]
NO_SUCH_COLLECTION = problem(404, "No such collection, or not one the caller may see")
ONLY_CURATOR = problem(403, "Only the collection's curator changes it")
STALE = problem(412, "The collection changed meanwhile; read it and retry")


def _location(collection_id: str) -> str:
    return f"{PREFIX}/{quote(collection_id, safe='')}"


@router.post(
    "",
    response_model=CollectionPublic,
    status_code=201,
    summary="Curate a collection (curators and admins)",
    responses={
        201: {"headers": {"Location": LOCATION_HEADER}},
        **problem(403, "Not a curator, or an audience the caller cannot address"),
    },
)
async def create_collection(
    collection: CollectionCreate, user: CurrentUser, rpc: Rpc, response: Response
) -> CollectionPublic:
    """Items are links (`{type: link, title, url, note?}`) or posts (`{type: post,
    post_id}`) the curator may see. `audience` works as for posts."""
    request = CreateCollectionRequest(actor=user, collection=collection)
    created = await rpc.request(RpcSubject.SHARING_CREATE_COLLECTION, request, CollectionPublic)
    response.headers["Location"] = _location(created.id)
    return created


@router.get("", response_model=CollectionPage, summary="Collections I may see, newest first")
async def list_collections(
    user: CurrentUser,
    rpc: Rpc,
    tag: Annotated[str | None, Query(min_length=1, max_length=50)] = None,
    enrolled: Annotated[bool, Query(description="Only those I am enrolled in")] = False,
    limit: Annotated[
        int,
        Query(ge=1, description=f"Page size; above {PAGE_LIMIT_MAX} is read as {PAGE_LIMIT_MAX}."),
    ] = 20,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
) -> CollectionPage:
    query = CollectionQuery(
        tag=tag, enrolled=enrolled, limit=min(limit, PAGE_LIMIT_MAX), cursor=cursor
    )
    request = ListCollectionsRequest(actor=user, query=query)
    return await rpc.request(RpcSubject.SHARING_LIST_COLLECTIONS, request, CollectionPage)


async def _get(rpc: Rpc, user: CurrentUser, collection_id: str) -> CollectionPublic:
    request = CollectionRef(actor=user, collection_id=collection_id)
    return await rpc.request(RpcSubject.SHARING_GET_COLLECTION, request, CollectionPublic)


@router.get(
    "/{collection_id}",
    response_model=CollectionPublic,
    summary="Read a collection",
    responses=NO_SUCH_COLLECTION,
)
async def get_collection(
    collection_id: CollectionId, user: CurrentUser, rpc: Rpc
) -> CollectionPublic:
    """A post item the caller may not see shows as `available: false`, without its title."""
    return await _get(rpc, user, collection_id)


@router.patch(
    "/{collection_id}",
    response_model=CollectionPublic,
    summary="Change a collection's title, description or tags (its curator)",
    responses={**NO_SUCH_COLLECTION, **ONLY_CURATOR, **STALE},
)
async def update_collection(
    collection_id: CollectionId, changes: CollectionUpdate, user: CurrentUser, rpc: Rpc
) -> CollectionPublic:
    request = UpdateCollectionRequest(actor=user, collection_id=collection_id, changes=changes)
    return await rpc.request(RpcSubject.SHARING_UPDATE_COLLECTION, request, CollectionPublic)


@router.post(
    "/{collection_id}/items",
    response_model=ItemAdded,
    status_code=201,
    summary="Add an item (its curator)",
    responses={
        201: {"headers": {"Location": LOCATION_HEADER}},
        **NO_SUCH_COLLECTION,
        **ONLY_CURATOR,
        **STALE,
    },
)
async def add_item(
    collection_id: CollectionId,
    add: ItemPosition,
    user: CurrentUser,
    rpc: Rpc,
    response: Response,
) -> ItemAdded:
    """At `position` (0 = first), or at the end. Answers the whole collection."""
    request = AddItemRequest(actor=user, collection_id=collection_id, add=add)
    added = await rpc.request(RpcSubject.SHARING_ADD_COLLECTION_ITEM, request, ItemAdded)
    item = quote(added.added_item_id, safe="")
    response.headers["Location"] = f"{_location(collection_id)}/items/{item}"
    return added


@router.get(
    "/{collection_id}/items/{item_id}",
    response_model=ItemPublic,
    summary="Read one item",
    responses=problem(404, "No such collection or item"),
)
async def get_item(
    collection_id: CollectionId, item_id: ItemId, user: CurrentUser, rpc: Rpc
) -> ItemPublic:
    collection = await _get(rpc, user, collection_id)
    for item in collection.items:
        if item.id == item_id:
            return item
    raise ServiceProblem(NotFound("no such item in this collection").to_problem())


@router.put(
    "/{collection_id}/items/order",
    response_model=CollectionPublic,
    summary="Reorder the items (its curator)",
    responses={**NO_SUCH_COLLECTION, **ONLY_CURATOR, **STALE},
)
async def reorder_items(
    collection_id: CollectionId, order: ItemOrder, user: CurrentUser, rpc: Rpc
) -> CollectionPublic:
    """Every item id of the collection, once, in the new order."""
    request = ReorderItemsRequest(actor=user, collection_id=collection_id, order=order)
    return await rpc.request(RpcSubject.SHARING_REORDER_COLLECTION_ITEMS, request, CollectionPublic)


@router.delete(
    "/{collection_id}/items/{item_id}",
    status_code=204,
    response_class=Response,
    summary="Remove an item (its curator)",
    responses={**problem(404, "No such collection or item"), **ONLY_CURATOR, **STALE},
)
async def remove_item(
    collection_id: CollectionId, item_id: ItemId, user: CurrentUser, rpc: Rpc
) -> Response:
    request = RemoveItemRequest(actor=user, collection_id=collection_id, item_id=item_id)
    await rpc.command(RpcSubject.SHARING_REMOVE_COLLECTION_ITEM, request)
    return Response(status_code=204)


@router.post(
    "/{collection_id}/enroll",
    response_model=CollectionPublic,
    summary="Enroll: one item every `interval_days` days",
    responses=NO_SUCH_COLLECTION,
)
async def enroll(
    collection_id: CollectionId, enrollment: Enrollment, user: CurrentUser, rpc: Rpc
) -> CollectionPublic:
    """Enrolling again changes the interval."""
    request = EnrollRequest(actor=user, collection_id=collection_id, enrollment=enrollment)
    return await rpc.request(RpcSubject.SHARING_ENROLL, request, CollectionPublic)


@router.delete(
    "/{collection_id}/enroll",
    status_code=204,
    response_class=Response,
    summary="Leave a collection",
    responses=NO_SUCH_COLLECTION,
)
async def unenroll(collection_id: CollectionId, user: CurrentUser, rpc: Rpc) -> Response:
    request = CollectionRef(actor=user, collection_id=collection_id)
    await rpc.command(RpcSubject.SHARING_UNENROLL, request)
    return Response(status_code=204)
