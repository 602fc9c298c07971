"""Campaigns over real NATS and SecantusDB: who may send to which audience (team leads
learned from team events, community members from community events), each recipient's
nudge timed by their own hours, and counts that are aggregates only, hidden below five."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flowlearn_nudges.bootstrap import Nudges, bootstrap
from flowlearn_nudges.domain.nudge import Nudge
from flowlearn_shared.contracts.nudges import NudgeStatus
from flowlearn_shared.events import (
    CommunityMemberJoined,
    CommunityMembershipData,
    ProfileFacts,
    ProfileUpdated,
    TeamMemberAdded,
    TeamMembershipData,
    WorkingHoursData,
    serialize_event,
)
from flowlearn_shared.subjects import EVENTS_STREAM, RpcSubject
from nats.aio.client import Client
from nudges_support import nudges_settings

pytestmark = pytest.mark.integration

WEDNESDAY_10_UTC = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(WEDNESDAY_10_UTC)


@pytest.fixture
async def service(
    nats_url: str, mongodb_uri: str, unique: str, clock: FakeClock
) -> AsyncIterator[Nudges]:
    settings = nudges_settings(
        nats_url,
        mongodb_uri,
        unique,
        outbox_poll_seconds=0.2,
        channels_enabled=False,
        campaign_poll_seconds=0.2,
    )
    nudges = bootstrap(settings, clock=clock)
    await nudges.start()
    yield nudges
    await nudges.stop()


Ask = Callable[..., Any]


@pytest.fixture
def ask(nc: Client) -> Ask:
    async def request(
        subject: str, user: str, roles: list[str] | None = None, **body: Any
    ) -> dict[str, Any]:
        actor = {"user_id": user, "roles": roles or ["member"], "timezone": "UTC"}
        payload = json.dumps({"actor": actor, **body}, default=str).encode()
        msg = await nc.request(subject, payload, timeout=10)
        reply: dict[str, Any] = json.loads(msg.data)
        return reply

    return request


async def publish(nc: Client, event: Any) -> None:
    await nc.jetstream().publish(event.type, serialize_event(event), stream=EVENTS_STREAM)


async def eventually(check: Callable[[], Any], within: float = 20.0) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


async def team(
    service: Nudges, nc: Client, team_id: str, lead: str, members: list[str], at: datetime
) -> None:
    """The team as the sharing service announces it: its lead, then each member."""
    for user, role in [(lead, "lead"), *[(m, "member") for m in members]]:
        data = TeamMembershipData(
            team_id=team_id, team_name=team_id, user_id=user, role=role, changed_by=lead
        )
        await publish(nc, TeamMemberAdded(source="tests", subject=user, time=at, data=data))

    async def known() -> bool:
        return len(await service.campaigns.audiences.team_members([team_id])) == len(members) + 1

    await eventually(known)


def campaign(audience: str, message: str = "Share one thing you learned this sprint") -> Any:
    return {"type": "custom", "message": message, "audience": audience}


async def campaign_nudges(service: Nudges, campaign_id: str, count: int) -> list[Nudge]:
    async def planned() -> list[Nudge]:
        cursor = service.nudges.nudges.find({"context.campaign_id": campaign_id}, {"_id": 1})
        ids = [doc["_id"] async for doc in cursor]
        found = await service.nudges.get_many(ids)
        return found if len(found) >= count else []

    found: list[Nudge] = await eventually(planned)
    return sorted(found, key=lambda n: n.user_id)


async def test_a_manager_sends_to_the_team_they_lead_timed_by_each_members_hours(
    service: Nudges, nc: Client, ask: Ask, clock: FakeClock, unique: str
) -> None:
    mgr = f"mgr-{unique}"
    members = [f"m{i}-{unique}" for i in range(5)]
    await team(service, nc, f"t-{unique}", mgr, members, clock.now - timedelta(hours=1))
    # One member works in Tokyo: 10:00 UTC is 19:00 there, after their working day.
    tokyo = members[0]
    profile = ProfileUpdated(
        source="tests",
        subject=tokyo,
        time=clock.now - timedelta(minutes=5),
        data=ProfileFacts(
            user_id=tokyo,
            display_name="Tomo",
            timezone="Asia/Tokyo",
            working_hours=WorkingHoursData(days=[1, 2, 3, 4, 5], start="09:00", end="17:00"),
        ),
    )
    await publish(nc, profile)

    async def in_tokyo() -> bool:
        return (await service.people.get(tokyo)).schedule.timezone == "Asia/Tokyo"

    await eventually(in_tokyo)

    reply = await ask(
        RpcSubject.NUDGES_CREATE_CAMPAIGN, mgr, ["manager"], campaign=campaign(f"team:t-{unique}")
    )
    assert reply["problem"] is None, reply
    campaign_id = reply["result"]["id"]

    nudges = await campaign_nudges(service, campaign_id, len(members))
    assert [n.user_id for n in nudges] == sorted(members)  # not the manager who sent it
    assert {n.message for n in nudges} == {"Share one thing you learned this sprint"}
    assert {n.status for n in nudges} == {NudgeStatus.SCHEDULED}
    due = {n.user_id: n.due_at for n in nudges}
    assert due[tokyo] == datetime(2026, 6, 11, 0, 0, tzinfo=UTC)  # 09:00 Thursday in Tokyo
    assert all(due[m] == clock.now for m in members[1:])  # now: inside their hours

    stats = (await ask(RpcSubject.NUDGES_GET_CAMPAIGN, mgr, ["manager"], campaign_id=campaign_id))[
        "result"
    ]
    assert stats["status"] == "scheduled"
    assert stats["recipients"] == 5
    assert stats["suppressed"] is False
    assert stats["delivered"] == 0


async def test_only_leads_managers_curators_and_admins_may_send(
    service: Nudges, nc: Client, ask: Ask, clock: FakeClock, unique: str
) -> None:
    lead, other = f"lead-{unique}", f"other-{unique}"
    await team(service, nc, f"a-{unique}", lead, [f"a1-{unique}"], clock.now)
    await team(service, nc, f"b-{unique}", other, [f"b1-{unique}"], clock.now)

    async def status(user: str, roles: list[str], audience: str) -> int:
        reply = await ask(
            RpcSubject.NUDGES_CREATE_CAMPAIGN, user, roles, campaign=campaign(audience)
        )
        return 201 if reply["problem"] is None else int(reply["problem"]["status"])

    assert await status(other, ["manager"], f"team:a-{unique}") == 403  # not their team
    assert await status(lead, ["member"], f"team:a-{unique}") == 403  # leads, but no manager
    assert await status(lead, ["manager"], f"team:a-{unique}") == 201
    assert await status(lead, ["manager"], f"people:a1-{unique}") == 201  # in their team
    assert await status(lead, ["manager"], f"people:b1-{unique}") == 403
    assert await status(lead, ["manager"], "org") == 403
    assert await status(lead, ["manager"], f"community:c-{unique}") == 403
    assert await status(f"cur-{unique}", ["curator"], f"team:b-{unique}") == 201
    assert await status(f"cur-{unique}", ["curator"], "org") == 201
    assert await status(f"adm-{unique}", ["admin"], f"community:c-{unique}") == 201
    reply = await ask(
        RpcSubject.NUDGES_CREATE_CAMPAIGN, lead, ["manager"], campaign=campaign("everyone")
    )
    assert reply["problem"]["status"] == 422  # not an audience


async def test_counts_are_aggregates_for_the_creator_and_admins_only(
    service: Nudges, nc: Client, ask: Ask, clock: FakeClock, unique: str
) -> None:
    cur = f"cur-{unique}"
    members = [f"p{i}-{unique}" for i in range(6)]
    for user in members:
        data = CommunityMembershipData(
            community_id=f"c-{unique}", community_name="SRE", user_id=user
        )
        await publish(
            nc, CommunityMemberJoined(source="tests", subject=user, time=clock.now, data=data)
        )

    async def joined() -> bool:
        found = await service.campaigns.audiences.community_members(f"c-{unique}")
        return len(found) == len(members)

    await eventually(joined)
    reply = await ask(
        RpcSubject.NUDGES_CREATE_CAMPAIGN,
        cur,
        ["curator"],
        campaign=campaign(f"community:c-{unique}"),
    )
    campaign_id = reply["result"]["id"]
    await campaign_nudges(service, campaign_id, len(members))
    report = await service.scheduler.tick()
    assert len(report.delivered) >= len(members)

    async def respond(user: str, **ack: Any) -> None:
        nudge_id = next(
            n.id
            for n in await campaign_nudges(service, campaign_id, len(members))
            if n.user_id == user
        )
        reply = await ask(RpcSubject.NUDGES_ACK, user, nudge_id=nudge_id, ack=ack)
        assert reply["problem"] is None, reply

    await respond(members[0], action="opened")
    await respond(members[1], action="acted")
    await respond(members[2], action="dismissed")
    await respond(members[3], action="snoozed", minutes=30)

    async def stats(user: str, roles: list[str]) -> dict[str, Any]:
        reply = await ask(RpcSubject.NUDGES_GET_CAMPAIGN, user, roles, campaign_id=campaign_id)
        return reply

    seen = (await stats(cur, ["curator"]))["result"]
    assert seen["recipients"] == 6
    assert seen["suppressed"] is False
    counts = {k: seen[k] for k in ("delivered", "opened", "acted", "snoozed", "dismissed")}
    assert counts == {"delivered": 6, "opened": 2, "acted": 1, "snoozed": 1, "dismissed": 1}
    # Nothing in it says who did what.
    assert not any(member in json.dumps(seen) for member in members)
    assert (await stats(f"adm-{unique}", ["admin"]))["result"]["opened"] == 2
    assert (await stats(members[0], ["member"]))["problem"]["status"] == 404
    assert (await stats(f"cur2-{unique}", ["curator"]))["problem"]["status"] == 404


async def test_counts_are_suppressed_below_five_recipients(
    service: Nudges, nc: Client, ask: Ask, clock: FakeClock, unique: str
) -> None:
    mgr = f"mgr-{unique}"
    members = [f"s{i}-{unique}" for i in range(4)]
    await team(service, nc, f"t-{unique}", mgr, members, clock.now)
    reply = await ask(
        RpcSubject.NUDGES_CREATE_CAMPAIGN, mgr, ["manager"], campaign=campaign(f"team:t-{unique}")
    )
    campaign_id = reply["result"]["id"]
    await campaign_nudges(service, campaign_id, len(members))
    await service.scheduler.tick()

    async def scheduled() -> dict[str, Any]:
        reply = await ask(RpcSubject.NUDGES_GET_CAMPAIGN, mgr, ["manager"], campaign_id=campaign_id)
        result: dict[str, Any] = reply["result"]
        return result if result["status"] == "scheduled" else {}

    seen = await eventually(scheduled)
    assert seen["recipients"] == 4
    assert seen["suppressed"] is True
    assert [seen[k] for k in ("delivered", "opened", "acted", "snoozed", "dismissed")] == [None] * 5


async def test_send_at_in_the_future_is_the_earliest_moment(
    service: Nudges, nc: Client, ask: Ask, clock: FakeClock, unique: str
) -> None:
    cur = f"cur-{unique}"
    people = [f"f{i}-{unique}" for i in range(2)]
    send_at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    body = campaign(f"people:{','.join(people)}") | {"send_at": send_at.isoformat()}
    reply = await ask(RpcSubject.NUDGES_CREATE_CAMPAIGN, cur, ["curator"], campaign=body)
    nudges = await campaign_nudges(service, reply["result"]["id"], len(people))
    assert all(n.wanted_at == send_at for n in nudges)
    assert all(n.due_at is not None and n.due_at >= send_at for n in nudges)


async def member_being_added(
    service: Nudges, nc: Client, team_id: str, lead: str, user: str, at: datetime
) -> asyncio.Event:
    """Publish ``user`` joining the team and hold nudges in the middle of applying it
    until the returned event is set."""
    holding, release = asyncio.Event(), asyncio.Event()
    apply = service.people.set_membership

    async def slow(team: str, user_id: str, *args: Any) -> bool:
        if user_id == user:
            holding.set()
            await release.wait()
        return await apply(team, user_id, *args)

    service.people.set_membership = slow  # type: ignore[method-assign]
    data = TeamMembershipData(
        team_id=team_id, team_name=team_id, user_id=user, role="member", changed_by=lead
    )
    await publish(nc, TeamMemberAdded(source="tests", subject=user, time=at, data=data))
    await asyncio.wait_for(holding.wait(), 20)
    return release


@dataclass
class LateJoiner:
    members: list[str]  # known to nudges before the campaign
    joiner: str  # being added while the campaign is sent
    campaign_id: str
    release: asyncio.Event  # lets nudges finish applying the joiner's membership


async def campaign_while_someone_joins(
    service: Nudges, nc: Client, ask: Ask, clock: FakeClock, unique: str
) -> LateJoiner:
    mgr, joiner, team_id = f"mgr-{unique}", f"dana-{unique}", f"t-{unique}"
    members = [f"j{i}-{unique}" for i in range(5)]
    await team(service, nc, team_id, mgr, members, clock.now - timedelta(hours=1))
    release = await member_being_added(service, nc, team_id, mgr, joiner, clock.now)
    reply = await ask(
        RpcSubject.NUDGES_CREATE_CAMPAIGN, mgr, ["manager"], campaign=campaign(f"team:{team_id}")
    )
    return LateJoiner(members, joiner, reply["result"]["id"], release)


async def test_a_member_added_just_before_a_campaign_is_among_its_recipients(
    service: Nudges, nc: Client, ask: Ask, clock: FakeClock, unique: str
) -> None:
    late = await campaign_while_someone_joins(service, nc, ask, clock, unique)
    try:
        await asyncio.sleep(1.0)  # five planning rounds: none plans it without Dana
        planned = {"context.campaign_id": late.campaign_id}
        assert await service.nudges.nudges.count_documents(planned) == 0
        stats = await ask(
            RpcSubject.NUDGES_GET_CAMPAIGN,
            f"mgr-{unique}",
            ["manager"],
            campaign_id=late.campaign_id,
        )
        assert stats["result"]["status"] == "scheduling"
    finally:
        late.release.set()
    nudges = await campaign_nudges(service, late.campaign_id, len(late.members) + 1)
    assert sorted(n.user_id for n in nudges) == sorted([*late.members, late.joiner])


async def test_a_campaign_waits_for_membership_events_only_so_long(
    service: Nudges, nc: Client, ask: Ask, clock: FakeClock, unique: str
) -> None:
    late = await campaign_while_someone_joins(service, nc, ask, clock, unique)
    try:
        # Membership events stuck for longer than the wait (30 s): planned with whom it knows.
        clock.now += timedelta(seconds=31)
        nudges = await campaign_nudges(service, late.campaign_id, len(late.members))
        assert sorted(n.user_id for n in nudges) == sorted(late.members)
    finally:
        late.release.set()
