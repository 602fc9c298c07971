"""``/v1/posts`` and ``/v1/feed``: tips, lessons, gems, reflections and experiments shared
with a team, a community, the organisation or named people. The sharing service decides
who may see a post; a post the caller may not see is reported as not found."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Header, Path, Query, Response
from flowlearn_shared.contracts.people import ID_PATTERN
from flowlearn_shared.contracts.posts import (
    PAGE_LIMIT_MAX,
    CommentCreate,
    CommentList,
    CommentPublic,
    CommentRequest,
    CreatePostRequest,
    FeedQuery,
    FeedRequest,
    PostCreate,
    PostKind,
    PostPage,
    PostPublic,
    PostRef,
    PostUpdate,
    ReactionKind,
    ReactRequest,
    UpdatePostRequest,
)
from flowlearn_shared.rpc import Actor
from flowlearn_shared.subjects import RpcSubject

from flowlearn_gateway.adapters.rpc import RpcClient
from flowlearn_gateway.entrypoints.http.deps import CurrentUser, IdempotencyKey, Rpc
from flowlearn_gateway.entrypoints.http.etags import (
    format_etag,
    parse_if_match,
    precondition_failed,
)
from flowlearn_gateway.entrypoints.http.openapi import (
    PROBLEM_RESPONSES,
    problem,
    problems,
)

PREFIX = "/v1"
FEED_LIMIT_DEFAULT = 20
router = APIRouter(prefix=PREFIX, tags=["posts"], responses=PROBLEM_RESPONSES)

POST_ETAG = {"description": 'The post\'s version as an entity tag: `"<version>"`'}
POST_ETAG_HEADER = {**POST_ETAG, "schema": {"type": "string"}}
NO_SUCH_POST = problem(404, "No such post, or not one the caller may see")
ONLY_AUTHOR = problem(403, "Only the author can change or delete a post")

PostId = Annotated[str, Path(pattern=ID_PATTERN, description="The post's id")]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description='The post\'s ETag (`"<version>"`) as last read, or `*`.'),
]
TagParam = Annotated[str | None, Query(min_length=1, max_length=50, description="One tag")]
CursorParam = Annotated[str | None, Query(max_length=300)]
LimitParam = Annotated[
    int,
    Query(ge=1, description=f"Page size; above {PAGE_LIMIT_MAX} is read as {PAGE_LIMIT_MAX}."),
]


def post_location(post_id: str) -> str:
    return f"{PREFIX}/posts/{quote(post_id, safe='')}"


async def read_feed(
    rpc: RpcClient,
    user: Actor,
    *,
    tag: str | None,
    community: str | None,
    kind: PostKind | None,
    cursor: str | None,
    limit: int,
) -> PostPage:
    """One page of the posts the caller may see, newest first."""
    query = FeedQuery(
        tag=tag,
        community=community,
        kind=kind,
        cursor=cursor,
        # Asking for more than a page holds is not an error; the client gets a full page.
        limit=min(limit, PAGE_LIMIT_MAX),
    )
    return await rpc.request(
        RpcSubject.SHARING_FEED, FeedRequest(actor=user, query=query), PostPage
    )


async def _get_post(rpc: RpcClient, user: Actor, post_id: str) -> PostPublic:
    request = PostRef(actor=user, post_id=post_id)
    return await rpc.request(RpcSubject.SHARING_GET_POST, request, PostPublic)


async def _expected_version(
    rpc: RpcClient, user: Actor, post_id: str, if_match: str | None
) -> int | None:
    versions = parse_if_match(if_match)
    if versions is None or len(versions) == 1:
        return None if versions is None else next(iter(versions))
    # Several tags: pick the current one if listed; the service re-checks it atomically.
    current = (await _get_post(rpc, user, post_id)).version
    if current not in versions:
        raise precondition_failed("The post does not match the If-Match header.")
    return current


@router.post(
    "/posts",
    response_model=PostPublic,
    status_code=201,
    summary="Share a post",
    responses={
        201: {
            "headers": {
                "Location": {"description": "Path of the new post", "schema": {"type": "string"}},
                "ETag": POST_ETAG_HEADER,
            }
        },
        **problem(403, "The caller cannot share with that audience"),
        **problems(413),
    },
)
async def create_post(
    post: PostCreate,
    user: CurrentUser,
    rpc: Rpc,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> PostPublic:
    """`audience` is `org`, `team:<id>`, `community:<id>` or `people:<id>,<id>`. One shares
    with teams one belongs to and communities one has joined. Only lessons can be anonymous:
    readers then never learn who wrote them."""
    request = CreatePostRequest(actor=user, post=post, idempotency_key=idempotency_key)
    created = await rpc.request(RpcSubject.SHARING_CREATE_POST, request, PostPublic)
    response.headers["Location"] = post_location(created.id)
    response.headers["ETag"] = format_etag(created.version)
    return created


@router.get(
    "/posts/{post_id}",
    response_model=PostPublic,
    status_code=200,
    summary="Read a post",
    responses={200: {"headers": {"ETag": POST_ETAG_HEADER}}, **NO_SUCH_POST},
)
async def get_post(post_id: PostId, user: CurrentUser, rpc: Rpc, response: Response) -> PostPublic:
    post = await _get_post(rpc, user, post_id)
    response.headers["ETag"] = format_etag(post.version)
    return post


@router.patch(
    "/posts/{post_id}",
    response_model=PostPublic,
    status_code=200,
    summary="Change a post (its author only)",
    responses={
        200: {"headers": {"ETag": POST_ETAG_HEADER}},
        **ONLY_AUTHOR,
        **NO_SUCH_POST,
        **problem(412, "If-Match does not match the post's current version"),
        **problems(413),
    },
)
async def update_post(
    post_id: PostId,
    changes: PostUpdate,
    user: CurrentUser,
    rpc: Rpc,
    response: Response,
    if_match: IfMatch = None,
) -> PostPublic:
    """Fields left out stay as they are; `null` clears `title`, `url`, `review_by` or `tags`."""
    expected = await _expected_version(rpc, user, post_id, if_match)
    request = UpdatePostRequest(
        actor=user, post_id=post_id, changes=changes, if_match_version=expected
    )
    payload = request.model_dump(mode="json")
    # Only the fields the client named: absent means "keep", null means "clear".
    payload["changes"] = changes.model_dump(mode="json", exclude_unset=True)
    post = await rpc.request(RpcSubject.SHARING_UPDATE_POST, payload, PostPublic)
    response.headers["ETag"] = format_etag(post.version)
    return post


@router.delete(
    "/posts/{post_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a post (its author only)",
    responses={**ONLY_AUTHOR, **NO_SUCH_POST},
)
async def delete_post(post_id: PostId, user: CurrentUser, rpc: Rpc) -> Response:
    await rpc.command(RpcSubject.SHARING_DELETE_POST, PostRef(actor=user, post_id=post_id))
    return Response(status_code=204)


async def _react(
    rpc: RpcClient, user: Actor, post_id: str, kind: ReactionKind, on: bool
) -> PostPublic:
    request = ReactRequest(actor=user, post_id=post_id, reaction=kind, on=on)
    return await rpc.request(RpcSubject.SHARING_REACT, request, PostPublic)


@router.put(
    "/posts/{post_id}/reactions/{kind}",
    response_model=PostPublic,
    status_code=200,
    summary="React to a post",
    responses=NO_SUCH_POST,
)
async def add_reaction(
    post_id: PostId, kind: ReactionKind, user: CurrentUser, rpc: Rpc
) -> PostPublic:
    """Reacting twice with the same kind counts once."""
    return await _react(rpc, user, post_id, kind, True)


@router.delete(
    "/posts/{post_id}/reactions/{kind}",
    response_model=PostPublic,
    status_code=200,
    summary="Take back a reaction",
    responses=NO_SUCH_POST,
)
async def remove_reaction(
    post_id: PostId, kind: ReactionKind, user: CurrentUser, rpc: Rpc
) -> PostPublic:
    return await _react(rpc, user, post_id, kind, False)


@router.post(
    "/posts/{post_id}/comments",
    response_model=CommentPublic,
    status_code=201,
    summary="Comment on a post",
    responses={**NO_SUCH_POST, **problems(413)},
)
async def add_comment(
    post_id: PostId, comment: CommentCreate, user: CurrentUser, rpc: Rpc
) -> CommentPublic:
    request = CommentRequest(actor=user, post_id=post_id, comment=comment)
    return await rpc.request(RpcSubject.SHARING_COMMENT, request, CommentPublic)


@router.get(
    "/posts/{post_id}/comments",
    response_model=CommentList,
    status_code=200,
    summary="A post's comments, oldest first",
    responses=NO_SUCH_POST,
)
async def list_comments(post_id: PostId, user: CurrentUser, rpc: Rpc) -> CommentList:
    request = PostRef(actor=user, post_id=post_id)
    return await rpc.request(RpcSubject.SHARING_LIST_COMMENTS, request, CommentList)


@router.get("/feed", response_model=PostPage, status_code=200, summary="Posts I may see")
async def feed(
    user: CurrentUser,
    rpc: Rpc,
    tag: TagParam = None,
    community: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="Only this community's posts")
    ] = None,
    kind: PostKind | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = FEED_LIMIT_DEFAULT,
) -> PostPage:
    """Newest first; pass `next_cursor` back as `cursor` for the next page. Posts added
    meanwhile do not shift the pages already read."""
    return await read_feed(
        rpc, user, tag=tag, community=community, kind=kind, cursor=cursor, limit=limit
    )
