"""The nudges service's request/reply over real NATS: preferences, inbox and responses,
each scoped to the caller."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from flowlearn_nudges.bootstrap import Nudges, bootstrap
from flowlearn_nudges.domain.catalogue import Origin
from flowlearn_nudges.domain.nudge import Nudge, NudgeSpec, deliver, new_nudge
from flowlearn_nudges.domain.schedule import PersonSchedule
from flowlearn_shared.contracts.nudges import Channel, NudgePreferences, NudgeStatus, NudgeType
from flowlearn_shared.subjects import EventSubject, RpcSubject
from nats.aio.client import Client
from nudges_support import nudges_settings

pytestmark = pytest.mark.integration

BERLIN = ZoneInfo("Europe/Berlin")


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 6, 10, 10, 0, tzinfo=UTC))  # a Wednesday


@pytest.fixture
async def service(
    nats_url: str, mongodb_uri: str, unique: str, clock: FakeClock
) -> AsyncIterator[Nudges]:
    settings = nudges_settings(
        nats_url,
        mongodb_uri,
        unique,
    )
    nudges = bootstrap(settings, clock=clock)
    await nudges.start()
    yield nudges
    await nudges.stop()


Ask = Callable[..., Any]


@pytest.fixture
def ask(nc: Client) -> Ask:
    async def request(subject: str, user: str, tz: str = "UTC", **body: Any) -> dict[str, Any]:
        actor = {"user_id": user, "roles": ["member"], "timezone": tz}
        msg = await nc.request(subject, json.dumps({"actor": actor, **body}).encode(), timeout=10)
        reply: dict[str, Any] = json.loads(msg.data)
        return reply

    return request


async def delivered(service: Nudges, user: str, at: datetime, **fields: Any) -> Nudge:
    spec = NudgeSpec(
        id=str(uuid4()),
        user_id=user,
        type=fields.get("type", NudgeType.REFLECT),
        wanted_at=at,
        origin=Origin.RULE,
    )
    nudge = new_nudge(spec, at, PersonSchedule(), NudgePreferences())
    assert nudge is not None
    await service.nudges.add(nudge)
    out = deliver(nudge, at, [Channel.IN_APP], at.date().isoformat())
    await service.nudges.save(out)
    return out


async def test_preferences_default_then_replace_and_reschedule(
    service: Nudges, ask: Ask, clock: FakeClock, unique: str
) -> None:
    ana = f"ana-{unique}"
    reply = await ask(RpcSubject.NUDGES_GET_PREFERENCES, ana, tz="Europe/Berlin")
    prefs = reply["result"]
    assert prefs["daily_cap"] == 3
    assert prefs["channels"] == ["in_app"]
    assert prefs["digest"] == {"enabled": False, "at": "16:30"}
    assert set(prefs["types"]) == {t.value for t in NudgeType}
    assert all(t == {"enabled": True, "rrule": None} for t in prefs["types"].values())
    # First met through the API: the token's zone until a profile arrives; habits start.
    assert (await service.people.get(ana)).schedule.timezone == "Europe/Berlin"
    habit = [n for n in await service.nudges.pending_of(ana) if n.type == "learning_habit"]
    assert [n.due_at for n in habit] == [datetime(2026, 6, 11, 10, 0, tzinfo=BERLIN)]  # 12:00 now

    changes = {
        "daily_cap": 2,
        "types": {
            "learning_habit": {"enabled": False},
            "spot_strength": {"rrule": "freq=weekly;byday=fr;byhour=15;byminute=0"},
        },
    }
    reply = await ask(RpcSubject.NUDGES_UPDATE_PREFERENCES, ana, preferences=changes)
    assert reply["problem"] is None, reply
    saved = reply["result"]
    assert saved["daily_cap"] == 2
    assert saved["types"]["learning_habit"]["enabled"] is False
    assert saved["types"]["spot_strength"]["rrule"] == "FREQ=WEEKLY;BYDAY=FR;BYHOUR=15;BYMINUTE=0"
    assert saved["types"]["reflect"] == {"enabled": True, "rrule": None}
    pending = {n.type: n for n in await service.nudges.pending_of(ana)}
    assert NudgeType.LEARNING_HABIT not in pending
    assert pending[NudgeType.SPOT_STRENGTH].due_at == datetime(2026, 6, 12, 15, 0, tzinfo=BERLIN)
    again = await ask(RpcSubject.NUDGES_GET_PREFERENCES, ana)
    assert again["result"] == saved


async def test_an_invalid_rrule_is_422_and_changes_nothing(
    service: Nudges, ask: Ask, unique: str
) -> None:
    ana = f"ana-{unique}"
    bad = {"types": {"reflect": {"rrule": "FREQ=SECONDLY"}}, "daily_cap": 9}
    reply = await ask(RpcSubject.NUDGES_UPDATE_PREFERENCES, ana, preferences=bad)
    assert reply["result"] is None
    assert reply["problem"]["status"] == 422
    assert reply["problem"]["errors"][0]["loc"] == ["preferences", "types", "reflect", "rrule"]
    reply = await ask(RpcSubject.NUDGES_UPDATE_PREFERENCES, ana, preferences={"daily_cap": 0})
    assert reply["problem"]["status"] == 422
    assert (await ask(RpcSubject.NUDGES_GET_PREFERENCES, ana))["result"]["daily_cap"] == 3


async def test_inbox_pages_newest_first_and_only_the_callers(
    service: Nudges, ask: Ask, clock: FakeClock, unique: str
) -> None:
    ana, bob = f"ana-{unique}", f"bob-{unique}"
    mine = [await delivered(service, ana, clock.now - timedelta(hours=h)) for h in (3, 2, 1)]
    await delivered(service, bob, clock.now)
    first = await ask(RpcSubject.NUDGES_INBOX, ana, query={"limit": 2})
    page = first["result"]
    assert [item["id"] for item in page["items"]] == [mine[2].id, mine[1].id]
    assert page["items"][0]["message"] == "What have you learned today?"
    assert page["items"][0]["status"] == "delivered"
    second = await ask(
        RpcSubject.NUDGES_INBOX, ana, query={"limit": 2, "cursor": page["next_cursor"]}
    )
    assert [item["id"] for item in second["result"]["items"]] == [mine[0].id]
    assert second["result"]["next_cursor"] is None
    await ask(RpcSubject.NUDGES_ACK, ana, nudge_id=mine[0].id, ack={"action": "opened"})
    opened = await ask(RpcSubject.NUDGES_INBOX, ana, query={"status": "opened"})
    assert [item["id"] for item in opened["result"]["items"]] == [mine[0].id]
    bad = await ask(RpcSubject.NUDGES_INBOX, ana, query={"cursor": "not-a-cursor"})
    assert bad["problem"]["status"] == 422


async def test_inbox_pages_through_nudges_delivered_in_the_same_millisecond(
    service: Nudges, ask: Ask, clock: FakeClock, unique: str
) -> None:
    ana = f"ana-{unique}"
    ids = {(await delivered(service, ana, clock.now)).id for _ in range(5)}
    seen: list[str] = []
    cursor = None
    for _ in range(6):
        query: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await ask(RpcSubject.NUDGES_INBOX, ana, query=query))["result"]
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids)
    assert seen == sorted(ids, reverse=True)  # ties in time are ordered by id


async def test_responses_and_snooze_bring_it_back(
    service: Nudges, ask: Ask, clock: FakeClock, unique: str
) -> None:
    ana, bob = f"ana-{unique}", f"bob-{unique}"
    nudge = await delivered(service, ana, clock.now)
    theirs = await delivered(service, bob, clock.now)

    async def ack(user: str, nudge_id: str, **body: Any) -> dict[str, Any]:
        reply: dict[str, Any] = await ask(RpcSubject.NUDGES_ACK, user, nudge_id=nudge_id, ack=body)
        return reply

    assert (await ack(ana, theirs.id, action="dismissed"))["problem"]["status"] == 404
    assert (await service.nudges.get(theirs.id)).status == NudgeStatus.DELIVERED  # type: ignore[union-attr]
    assert (await ack(ana, "no-such-nudge", action="opened"))["problem"]["status"] == 404
    assert (await ack(ana, nudge.id, action="snoozed"))["problem"]["status"] == 422

    snoozed = (await ack(ana, nudge.id, action="snoozed", minutes=30))["result"]
    assert snoozed["status"] == "snoozed"
    assert snoozed["snoozed_until"] == "2026-06-10T10:30:00Z"
    clock.now += timedelta(minutes=29)
    assert nudge.id not in (await service.scheduler.tick()).delivered
    clock.now += timedelta(minutes=1)
    assert nudge.id in (await service.scheduler.tick()).delivered
    back = await service.nudges.get(nudge.id)
    assert back is not None
    assert (back.status, back.delivered_at) == (NudgeStatus.DELIVERED, clock.now)
    redelivered = [
        json.loads(r["payload"])["data"]
        for r in await service.outbox.recorded(EventSubject.NUDGE_DELIVERED)
    ]
    assert [d["redelivery"] for d in redelivered if d["nudge_id"] == nudge.id] == [True]
    assert await service.nudges.delivered_on(ana, clock.now.date()) == 0  # not counted again

    acted = (await ack(ana, nudge.id, action="acted"))["result"]
    assert acted["status"] == "acted"
    assert acted["acted_at"] == "2026-06-10T10:30:00Z"
    assert (await ack(ana, nudge.id, action="acted"))["result"]["status"] == "acted"
    conflict = await ack(ana, nudge.id, action="snoozed", minutes=10)
    assert conflict["problem"]["status"] == 409
