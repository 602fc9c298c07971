"""Campaigns over the API (create, see the counts) and the loop that plans each campaign's
nudges. Planning runs apart from the request: an organisation-wide campaign can reach
thousands of people, so it goes in batches, each its own transaction, under a lease that
another replica takes over if this one dies (nudge ids are fixed, so nothing doubles)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol
from uuid import uuid4

from flowlearn_shared.background import BackgroundLoop
from flowlearn_shared.contracts.campaigns import (
    CampaignCreated,
    CampaignStats,
    CreateCampaignRequest,
    GetCampaignRequest,
)
from flowlearn_shared.events import CommunityMemberJoined, CommunityMemberLeft, Event
from flowlearn_shared.rpc import Forbidden, NotFound
from flowlearn_shared.unit_of_work import UnitOfWork
from pymongo.asynchronous.client_session import AsyncClientSession

from flowlearn_nudges.adapters.campaign_repository import Audiences, CampaignRepository
from flowlearn_nudges.domain.campaigns import (
    Audience,
    AudienceKind,
    Campaign,
    NotAllowed,
    check_may_send,
    recipients_of,
    tally,
)
from flowlearn_nudges.service_layer.planner import Planner

log = logging.getLogger("flowlearn.nudges.campaigns")

Clock = Callable[[], datetime]


class AudienceProgress(Protocol):
    """How far the events that tell who is in a team or community have been read."""

    async def position(self) -> int | None: ...  # the event log's end now

    async def read_through(self) -> int | None: ...  # every event up to here is applied


class CampaignService(BackgroundLoop):
    task_name = "campaign-scheduler"

    def __init__(
        self,
        campaigns: CampaignRepository,
        audiences: Audiences,
        planner: Planner,
        uow: UnitOfWork,
        clock: Clock,
        *,
        owner: str,
        lease: timedelta = timedelta(seconds=120),
        batch_size: int = 100,
        poll_seconds: float = 5.0,
        progress: AudienceProgress | None = None,
        audience_wait: timedelta = timedelta(seconds=30),
    ) -> None:
        self.campaigns = campaigns
        self.audiences = audiences
        self.planner = planner
        self.uow = uow
        self.clock = clock
        self.owner = owner
        self.lease = lease
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.progress = progress
        self.audience_wait = audience_wait
        self._wake = asyncio.Event()

    async def create(self, request: CreateCampaignRequest) -> CampaignCreated:
        actor, data = request.actor, request.campaign
        audience = Audience.parse(data.audience)
        led_teams = await self.audiences.led_teams(actor.user_id)
        led_people: set[str] = set()
        if audience.kind == AudienceKind.PEOPLE and led_teams:
            led_people = await self.audiences.team_members(led_teams)
        try:
            check_may_send(audience, actor.roles, led_teams, led_people)
        except NotAllowed as exc:
            raise Forbidden(str(exc)) from None
        now = self.clock()
        # A team, community or the organisation is known from events: planning waits until
        # those published before now are applied (a member added a moment ago included).
        as_of = None
        if audience.kind != AudienceKind.PEOPLE and self.progress is not None:
            as_of = await self.progress.position()
        campaign = Campaign(
            id=str(uuid4()),
            created_by=actor.user_id,
            type=data.type,
            message=data.message,
            audience=data.audience,
            send_at=data.send_at or now,
            created_at=now,
            audience_as_of=as_of,
        )

        async def work(session: AsyncClientSession) -> None:
            await self.campaigns.add(campaign, session)

        await self.uow.run(work)
        self._wake.set()
        return CampaignCreated(id=campaign.id)

    async def get(self, request: GetCampaignRequest) -> CampaignStats:
        campaign = await self.campaigns.get(request.campaign_id)
        actor = request.actor
        # Someone else's campaign does not exist for the caller.
        if campaign is None or not campaign.may_be_seen_by(actor.user_id, actor.roles):
            raise NotFound("no such campaign")
        counts = tally(await self.campaigns.responses(campaign.id))
        hidden = counts.suppressed

        def shown(value: int) -> int | None:
            return None if hidden else value

        return CampaignStats(
            id=campaign.id,
            type=campaign.type,
            audience=campaign.audience,
            message=campaign.message,
            status=campaign.status,
            send_at=campaign.send_at,
            created_at=campaign.created_at,
            recipients=campaign.recipients,
            suppressed=hidden,
            delivered=shown(counts.delivered),
            opened=shown(counts.opened),
            acted=shown(counts.acted),
            snoozed=shown(counts.snoozed),
            dismissed=shown(counts.dismissed),
        )

    async def recipients(self, campaign: Campaign) -> list[str]:
        audience = Audience.parse(campaign.audience)
        if audience.kind == AudienceKind.TEAM:
            found = await self.audiences.team_members([audience.single])
        elif audience.kind == AudienceKind.COMMUNITY:
            found = await self.audiences.community_members(audience.single)
        elif audience.kind == AudienceKind.ORG:
            found = await self.audiences.everyone()
        else:
            found = set(audience.ids)
        return recipients_of(found, campaign.created_by)

    async def schedule_next(self) -> bool:
        """Plan the nudges of one campaign waiting for it. False when none waits."""
        read_through = await self.progress.read_through() if self.progress else None
        campaign = await self.campaigns.claim_unscheduled(
            self.clock(),
            self.lease,
            self.owner,
            read_through=read_through,
            audience_wait=self.audience_wait,
        )
        if campaign is None:
            return False
        people = await self.recipients(campaign)
        for start in range(0, len(people), self.batch_size):
            batch = people[start : start + self.batch_size]

            async def work(session: AsyncClientSession, batch: list[str] = batch) -> None:
                for user_id in batch:
                    # None when the person turned the type off, or it was planned already.
                    await self.planner.schedule(campaign.nudge_for(user_id), session)

            await self.uow.run(work)
        if not await self.campaigns.mark_scheduled(campaign.id, self.owner):
            log.warning("campaign lease lost while scheduling", extra={"campaign_id": campaign.id})
        return True

    async def on_people(self, event: Event, session: AsyncClientSession) -> None:
        """Community memberships, so a campaign can reach a community."""
        if isinstance(event, CommunityMemberJoined | CommunityMemberLeft):
            await self.audiences.set_community_membership(
                event.data.community_id,
                event.data.user_id,
                isinstance(event, CommunityMemberJoined),
                event.time,
                session,
            )

    async def run(self) -> None:
        while True:
            try:
                while await self.schedule_next():
                    pass
            except Exception:
                log.exception("campaign scheduling failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            self._wake.clear()
