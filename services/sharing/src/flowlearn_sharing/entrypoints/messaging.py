"""The sharing service's NATS entrypoints: request/reply for the gateway and the events it
consumes. One queue group and one durable consumer, shared by every replica."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from faststream.nats import NatsBroker
from flowlearn_shared.consumer import EventHandler, subscribe_events
from flowlearn_shared.contracts import people as p
from flowlearn_shared.contracts import posts as s
from flowlearn_shared.events import PostCreated, PostDeleted, ProfileUpdated, TeamMemberAdded
from flowlearn_shared.rpc_server import serve
from flowlearn_shared.subjects import EventSubject, RpcSubject
from pydantic import BaseModel

from flowlearn_sharing.service_layer.people import PeopleService
from flowlearn_sharing.service_layer.posts import PostService
from flowlearn_sharing.settings import SharingSettings

QUEUE = "sharing"
UseCase = Callable[[Any], Awaitable[Any]]


PUBLISHED_EVENTS: dict[EventSubject, type[BaseModel]] = {
    EventSubject.PROFILE_UPDATED: ProfileUpdated,
    EventSubject.TEAM_MEMBER_ADDED: TeamMemberAdded,
    EventSubject.POST_CREATED: PostCreated,
    EventSubject.POST_DELETED: PostDeleted,
}


def register(
    broker: NatsBroker,
    settings: SharingSettings,
    people: PeopleService,
    posts: PostService,
    on_journal_event: EventHandler,
) -> None:
    async def check_audience(request: s.CheckAudienceRequest) -> s.AudienceCheck:
        await posts.check_audience(request.actor, request.audience)
        return s.AudienceCheck(allowed=True)

    routes: list[tuple[RpcSubject, type[BaseModel], UseCase]] = [
        (RpcSubject.SHARING_ME, p.ActorRequest, people.me),
        (RpcSubject.SHARING_UPDATE_ME, p.UpdateProfileRequest, people.update_me),
        (RpcSubject.SHARING_CREATE_TEAM, p.CreateTeamRequest, people.create_team),
        (RpcSubject.SHARING_GET_TEAM, p.TeamRef, people.get_team),
        (RpcSubject.SHARING_ADD_TEAM_MEMBER, p.AddTeamMemberRequest, people.add_member),
        (RpcSubject.SHARING_REMOVE_TEAM_MEMBER, p.RemoveTeamMemberRequest, people.remove_member),
        (RpcSubject.SHARING_MY_TEAMS, p.ActorRequest, people.my_teams),
        (RpcSubject.SHARING_CREATE_COMMUNITY, p.CreateCommunityRequest, people.create_community),
        (RpcSubject.SHARING_LIST_COMMUNITIES, p.ActorRequest, people.list_communities),
        (RpcSubject.SHARING_JOIN_COMMUNITY, p.CommunityRef, people.join_community),
        (RpcSubject.SHARING_LEAVE_COMMUNITY, p.CommunityRef, people.leave_community),
        (RpcSubject.SHARING_CHECK_AUDIENCE, s.CheckAudienceRequest, check_audience),
        (RpcSubject.SHARING_CREATE_POST, s.CreatePostRequest, posts.create),
        (RpcSubject.SHARING_GET_POST, s.PostRef, posts.get),
        (RpcSubject.SHARING_UPDATE_POST, s.UpdatePostRequest, posts.update),
        (RpcSubject.SHARING_DELETE_POST, s.PostRef, posts.delete),
        (RpcSubject.SHARING_REACT, s.ReactRequest, posts.react),
        (RpcSubject.SHARING_COMMENT, s.CommentRequest, posts.comment),
        (RpcSubject.SHARING_LIST_COMMENTS, s.PostRef, posts.comments),
        (RpcSubject.SHARING_FEED, s.FeedRequest, posts.feed),
    ]
    for subject, model, use_case in routes:
        serve(broker, subject, model, use_case, queue=QUEUE)

    subscribe_events(
        broker,
        subject=EventSubject.JOURNAL_ENTRY_SHARED,
        durable=settings.journal_shares_consumer,
        handler=on_journal_event,
        settings=settings,
        title="sharing:journal-shares",
    )
    for event_subject, event in PUBLISHED_EVENTS.items():
        broker.publisher(
            event_subject,
            schema=event,
            title=f"sharing:{event_subject}",
            description="Published through the sharing service's outbox on FLOW_EVENTS.",
        )
