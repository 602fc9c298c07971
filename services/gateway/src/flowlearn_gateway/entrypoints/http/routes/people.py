"""``/v1/me``, ``/v1/teams`` and ``/v1/communities``: the people directory, kept by the
sharing service. Profiles time nudges; teams say who manages whom; communities of practice
gather people around tags and have a feed of their own."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Response
from flowlearn_shared.contracts.people import (
    ID_PATTERN,
    ActorRequest,
    AddTeamMemberRequest,
    CommunityCreate,
    CommunityList,
    CommunityPublic,
    CommunityRef,
    CreateCommunityRequest,
    CreateTeamRequest,
    ProfilePublic,
    ProfileUpdate,
    RemoveTeamMemberRequest,
    TeamCreate,
    TeamList,
    TeamMemberAdd,
    TeamPublic,
    TeamRef,
    UpdateProfileRequest,
)
from flowlearn_shared.contracts.posts import PostKind, PostPage
from flowlearn_shared.subjects import RpcSubject

from flowlearn_gateway.entrypoints.http.deps import CurrentUser, Rpc
from flowlearn_gateway.entrypoints.http.openapi import PROBLEM_RESPONSES, problem
from flowlearn_gateway.entrypoints.http.routes.posts import (
    FEED_LIMIT_DEFAULT,
    CursorParam,
    LimitParam,
    TagParam,
    read_feed,
)

PREFIX = "/v1"
router = APIRouter(prefix=PREFIX, responses=PROBLEM_RESPONSES)

TeamId = Annotated[str, Path(pattern=ID_PATTERN, description="The team's id")]
UserId = Annotated[str, Path(pattern=ID_PATTERN, description="The member's user id")]
CommunityId = Annotated[str, Path(pattern=ID_PATTERN, description="The community's id")]

NO_SUCH_TEAM = problem(404, "No such team, or the caller is neither a member nor an admin")
NOT_A_LEAD = problem(403, "Only the team's leads and admins manage its members")
NO_SUCH_COMMUNITY = problem(404, "No such community")


# Profile
@router.get(
    "/me", response_model=ProfilePublic, status_code=200, summary="My profile", tags=["people"]
)
async def get_me(user: CurrentUser, rpc: Rpc) -> ProfilePublic:
    return await rpc.request(RpcSubject.SHARING_ME, ActorRequest(actor=user), ProfilePublic)


@router.patch(
    "/me",
    response_model=ProfilePublic,
    status_code=200,
    summary="Change my profile",
    tags=["people"],
)
async def update_me(changes: ProfileUpdate, user: CurrentUser, rpc: Rpc) -> ProfilePublic:
    """Fields left out stay as they are; `quiet_hours: null` clears the quiet hours. Nudges
    are timed by the time zone, working hours and quiet hours set here."""
    payload = UpdateProfileRequest(actor=user, changes=changes).model_dump(mode="json")
    # Only the fields the client named: absent means "keep", null means "clear".
    payload["changes"] = changes.model_dump(mode="json", exclude_unset=True)
    return await rpc.request(RpcSubject.SHARING_UPDATE_ME, payload, ProfilePublic)


# Teams
@router.post(
    "/teams",
    response_model=TeamPublic,
    status_code=201,
    summary="Create a team (managers and admins)",
    tags=["people"],
    responses={
        201: {
            "headers": {
                "Location": {"description": "Path of the new team", "schema": {"type": "string"}}
            }
        },
        **problem(403, "Only managers and admins create teams"),
    },
)
async def create_team(
    team: TeamCreate, user: CurrentUser, rpc: Rpc, response: Response
) -> TeamPublic:
    """The creator becomes the team's first lead."""
    request = CreateTeamRequest(actor=user, team=team)
    created = await rpc.request(RpcSubject.SHARING_CREATE_TEAM, request, TeamPublic)
    response.headers["Location"] = f"{PREFIX}/teams/{quote(created.id, safe='')}"
    return created


@router.get(
    "/teams/{team_id}",
    response_model=TeamPublic,
    status_code=200,
    summary="A team and its members",
    tags=["people"],
    responses=NO_SUCH_TEAM,
)
async def get_team(team_id: TeamId, user: CurrentUser, rpc: Rpc) -> TeamPublic:
    request = TeamRef(actor=user, team_id=team_id)
    return await rpc.request(RpcSubject.SHARING_GET_TEAM, request, TeamPublic)


@router.post(
    "/teams/{team_id}/members",
    response_model=TeamPublic,
    status_code=200,
    summary="Add a member or change their role (leads and admins)",
    tags=["people"],
    responses={**NOT_A_LEAD, **NO_SUCH_TEAM},
)
async def add_team_member(
    team_id: TeamId, member: TeamMemberAdd, user: CurrentUser, rpc: Rpc
) -> TeamPublic:
    request = AddTeamMemberRequest(actor=user, team_id=team_id, member=member)
    return await rpc.request(RpcSubject.SHARING_ADD_TEAM_MEMBER, request, TeamPublic)


@router.delete(
    "/teams/{team_id}/members/{user_id}",
    response_model=TeamPublic,
    status_code=200,
    summary="Remove a member (leads and admins)",
    tags=["people"],
    responses={**NOT_A_LEAD, **problem(404, "No such team, or not a member of it")},
)
async def remove_team_member(
    team_id: TeamId, user_id: UserId, user: CurrentUser, rpc: Rpc
) -> TeamPublic:
    request = RemoveTeamMemberRequest(actor=user, team_id=team_id, user_id=user_id)
    return await rpc.request(RpcSubject.SHARING_REMOVE_TEAM_MEMBER, request, TeamPublic)


@router.get(
    "/me/teams", response_model=TeamList, status_code=200, summary="My teams", tags=["people"]
)
async def my_teams(user: CurrentUser, rpc: Rpc) -> TeamList:
    return await rpc.request(RpcSubject.SHARING_MY_TEAMS, ActorRequest(actor=user), TeamList)


# Communities of practice
@router.post(
    "/communities",
    response_model=CommunityPublic,
    status_code=201,
    summary="Start a community of practice",
    tags=["communities"],
)
async def create_community(
    community: CommunityCreate, user: CurrentUser, rpc: Rpc
) -> CommunityPublic:
    """Anyone may start one; its founder is its first member."""
    request = CreateCommunityRequest(actor=user, community=community)
    return await rpc.request(RpcSubject.SHARING_CREATE_COMMUNITY, request, CommunityPublic)


@router.get(
    "/communities",
    response_model=CommunityList,
    status_code=200,
    summary="Communities of practice",
    tags=["communities"],
)
async def list_communities(user: CurrentUser, rpc: Rpc) -> CommunityList:
    return await rpc.request(
        RpcSubject.SHARING_LIST_COMMUNITIES, ActorRequest(actor=user), CommunityList
    )


@router.post(
    "/communities/{community_id}/members",
    response_model=CommunityPublic,
    status_code=200,
    summary="Join a community",
    tags=["communities"],
    responses=NO_SUCH_COMMUNITY,
)
async def join_community(community_id: CommunityId, user: CurrentUser, rpc: Rpc) -> CommunityPublic:
    """The caller joins; joining twice is joining once."""
    request = CommunityRef(actor=user, community_id=community_id)
    return await rpc.request(RpcSubject.SHARING_JOIN_COMMUNITY, request, CommunityPublic)


@router.delete(
    "/communities/{community_id}/members/me",
    response_model=CommunityPublic,
    status_code=200,
    summary="Leave a community",
    tags=["communities"],
    responses=NO_SUCH_COMMUNITY,
)
async def leave_community(
    community_id: CommunityId, user: CurrentUser, rpc: Rpc
) -> CommunityPublic:
    request = CommunityRef(actor=user, community_id=community_id)
    return await rpc.request(RpcSubject.SHARING_LEAVE_COMMUNITY, request, CommunityPublic)


@router.get(
    "/communities/{community_id}/feed",
    response_model=PostPage,
    status_code=200,
    summary="A community's posts I may see",
    tags=["communities"],
)
async def community_feed(
    community_id: CommunityId,
    user: CurrentUser,
    rpc: Rpc,
    tag: TagParam = None,
    kind: PostKind | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = FEED_LIMIT_DEFAULT,
) -> PostPage:
    """Posts shared with the community, newest first; members see them, others get an
    empty page."""
    return await read_feed(
        rpc, user, tag=tag, community=community_id, kind=kind, cursor=cursor, limit=limit
    )
