"""Events in, nudges out, over real NATS and SecantusDB: rules from sharing and journal
events, managers learned from team events, profiles re-timing nudges, `acted` from
entries and posts, and the inactivity reminder."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from flowlearn_nudges.bootstrap import Nudges, bootstrap
from flowlearn_nudges.domain.catalogue import Origin
from flowlearn_nudges.domain.nudge import Nudge, NudgeSpec, deliver, new_nudge
from flowlearn_nudges.domain.rules import Rule, Target
from flowlearn_nudges.domain.schedule import PersonSchedule
from flowlearn_shared.contracts.nudges import Channel, NudgePreferences, NudgeStatus, NudgeType
from flowlearn_shared.events import (
    AnswerAccepted,
    AnswerAcceptedData,
    ExperimentStageChanged,
    ExperimentStageChangedData,
    GatheringEnded,
    GatheringEndedData,
    JournalEntryCreated,
    JournalEntryFacts,
    PostCreated,
    PostFacts,
    ProfileFacts,
    ProfileUpdated,
    QuestionAsked,
    QuestionAskedData,
    TeamMemberAdded,
    TeamMembershipData,
    WorkingHoursData,
    serialize_event,
)
from flowlearn_shared.subjects import EVENTS_STREAM, EventSubject
from nats.aio.client import Client
from nudges_support import nudges_settings

pytestmark = pytest.mark.integration

WEDNESDAY_6_UTC = datetime(2026, 6, 10, 6, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(WEDNESDAY_6_UTC)


@pytest.fixture
async def service(
    nats_url: str, mongodb_uri: str, unique: str, clock: FakeClock
) -> AsyncIterator[Nudges]:
    settings = nudges_settings(
        nats_url,
        mongodb_uri,
        unique,
        outbox_poll_seconds=0.2,
    )
    nudges = bootstrap(settings, clock=clock)
    await nudges.start()
    yield nudges
    await nudges.stop()


Publish = Callable[[Any], Any]


@pytest.fixture
def publish(nc: Client) -> Publish:
    async def send(event: Any) -> None:
        await nc.jetstream().publish(event.type, serialize_event(event), stream=EVENTS_STREAM)

    return send


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


def profile(user: str, timezone: str, at: datetime, **hours: Any) -> ProfileUpdated:
    return ProfileUpdated(
        source="tests",
        subject=user,
        time=at,
        data=ProfileFacts(
            user_id=user,
            display_name=user,
            timezone=timezone,
            working_hours=WorkingHoursData(
                days=hours.get("days", [1, 2, 3, 4, 5]),
                start=hours.get("start", "09:00"),
                end=hours.get("end", "17:00"),
            ),
        ),
    )


def entry(user: str, at: datetime, kind: str = "learned", nudge_id: str | None = None) -> Any:
    return JournalEntryCreated(
        source="tests",
        subject=user,
        time=at,
        data=JournalEntryFacts(
            entry_id=str(uuid4()),
            owner_id=user,
            kind=kind,
            occurred_on=at.date(),
            nudge_id=nudge_id,
        ),
    )


async def pending(service: Nudges, user: str, nudge_type: NudgeType) -> list[Nudge]:
    return [n for n in await service.nudges.pending_of(user) if n.type == nudge_type]


async def test_profile_change_re_times_scheduled_nudges(
    service: Nudges, publish: Publish, clock: FakeClock, unique: str
) -> None:
    ana, bob = f"ana-{unique}", f"bob-{unique}"
    await publish(profile(ana, "Europe/Berlin", clock.now - timedelta(hours=1)))

    async def in_berlin() -> bool:
        return (await service.people.get(ana)).schedule.timezone == "Europe/Berlin"

    await eventually(in_berlin)
    ended = GatheringEnded(
        source="tests",
        subject=f"g-{unique}",
        time=clock.now,  # 08:00 in Berlin
        data=GatheringEndedData(
            gathering_id=f"g-{unique}",
            kind="lunch_and_learn",
            title="Canary deploys",
            host_id=f"hal-{unique}",
            ended_at=clock.now,
            attendee_ids=[ana, bob],
        ),
    )
    await publish(ended)
    followup = (await eventually(lambda: pending(service, ana, NudgeType.EVENT_FOLLOWUP)))[0]
    assert followup.due_at == datetime(2026, 6, 10, 7, 0, tzinfo=UTC)  # 09:00 in Berlin
    assert followup.context == {"gathering_id": f"g-{unique}"}
    # Bob has no profile yet: UTC and office hours.
    bobs = await eventually(lambda: pending(service, bob, NudgeType.EVENT_FOLLOWUP))
    assert bobs[0].due_at == datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
    habit = await pending(service, ana, NudgeType.LEARNING_HABIT)
    assert [n.due_at for n in habit] == [datetime(2026, 6, 10, 8, 0, tzinfo=UTC)]

    await publish(profile(ana, "America/New_York", clock.now))

    async def moved() -> bool:
        nudge = await service.nudges.get(followup.id)
        return nudge is not None and nudge.due_at == datetime(2026, 6, 10, 13, 0, tzinfo=UTC)

    await eventually(moved)  # 09:00 in New York
    habit = await pending(service, ana, NudgeType.LEARNING_HABIT)
    assert [n.due_at for n in habit] == [datetime(2026, 6, 10, 14, 0, tzinfo=UTC)]  # 10:00 NY
    # An older profile replayed late changes nothing.
    await publish(profile(ana, "Asia/Tokyo", clock.now - timedelta(minutes=30)))
    await publish(profile(f"x-{unique}", "UTC", clock.now))  # a marker: all before it is done
    await eventually(lambda: service.people.known(f"x-{unique}"))
    assert (await service.people.get(ana)).schedule.timezone == "America/New_York"


async def test_sharing_events_nudge_experts_and_the_asker(
    service: Nudges, publish: Publish, clock: FakeClock, unique: str
) -> None:
    asker = f"dee-{unique}"
    experts = [f"ana-{unique}", asker, f"bo-{unique}"]
    await publish(
        QuestionAsked(
            source="tests",
            subject=f"q-{unique}",
            time=clock.now,
            data=QuestionAskedData(
                question_id=f"q-{unique}",
                asker_id=asker,
                tags=["ops"],
                audience="org",
                suggested_experts=experts,
            ),
        )
    )
    for expert in (f"ana-{unique}", f"bo-{unique}"):
        asked = await eventually(lambda e=expert: pending(service, e, NudgeType.HELP_REQUEST))
        assert asked[0].due_at == datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
        assert asked[0].context == {"question_id": f"q-{unique}"}
    assert await pending(service, asker, NudgeType.HELP_REQUEST) == []  # not their own

    accepted_at = datetime(2026, 6, 10, 13, 0, tzinfo=UTC)
    await publish(
        AnswerAccepted(
            source="tests",
            subject=f"q-{unique}",
            time=accepted_at,
            data=AnswerAcceptedData(
                question_id=f"q-{unique}",
                answer_id=f"a-{unique}",
                asker_id=asker,
                answerer_id=f"ana-{unique}",
            ),
        )
    )

    async def reflect_for_asker() -> list[Nudge]:
        return [n for n in await pending(service, asker, NudgeType.REFLECT) if n.origin == "rule"]

    reflect = (await eventually(reflect_for_asker))[0]
    assert reflect.due_at == accepted_at + timedelta(hours=2)
    assert reflect.message.startswith("Your question got an answer")
    assert reflect.context == {"question_id": f"q-{unique}", "answer_id": f"a-{unique}"}


async def test_manager_is_learned_from_team_events(
    service: Nudges, publish: Publish, clock: FakeClock, unique: str
) -> None:
    await service.rules.save(
        Rule(
            id=f"test:{unique}",
            on=EventSubject.EXPERIMENT_STAGE_CHANGED,
            nudge=NudgeType.SPOT_STRENGTH,
            to=Target.MANAGER,
            where={"to_stage": "pilot"},
        )
    )
    ana, lee, tim = f"ana-{unique}", f"lee-{unique}", f"tim-{unique}"
    for user, role in ((lee, "lead"), (ana, "member"), (tim, "member")):
        await publish(
            TeamMemberAdded(
                source="tests",
                subject=user,
                time=clock.now - timedelta(days=1),
                data=TeamMembershipData(
                    team_id=f"t-{unique}", team_name="Ops", user_id=user, role=role, changed_by=lee
                ),
            )
        )
    await eventually(lambda: service.people.colleagues(tim, leads_only=True))
    for stage in ("prototype", "pilot"):
        await publish(
            ExperimentStageChanged(
                source="tests",
                subject=f"x-{unique}",
                time=clock.now,
                data=ExperimentStageChangedData(
                    experiment_id=f"x-{stage}-{unique}",
                    owner_id=ana,
                    team_id=f"t-{unique}",
                    title="Canary deploys",
                    from_stage=None,
                    to_stage=stage,
                ),
            )
        )
    # Both stage changes are through once both check-ins for the owner exist.
    checks = await eventually(lambda: at_least(pending(service, ana, NudgeType.THREE_PS), 2))
    assert {n.due_at for n in checks} == {datetime(2026, 6, 17, 9, 0, tzinfo=UTC)}
    strengths = await pending(service, lee, NudgeType.SPOT_STRENGTH)
    assert [n.context["experiment_id"] for n in strengths] == [f"x-pilot-{unique}"]
    assert await pending(service, tim, NudgeType.SPOT_STRENGTH) == []
    assert await pending(service, ana, NudgeType.SPOT_STRENGTH) == []


async def at_least(found: Any, count: int) -> Any:
    items = await found
    return items if len(items) >= count else None


async def delivered_nudge(service: Nudges, user: str, clock: FakeClock) -> Nudge:
    spec = NudgeSpec(
        id=str(uuid4()),
        user_id=user,
        type=NudgeType.MISTAKE_MOMENT,
        wanted_at=clock.now,
        origin=Origin.RULE,
    )
    nudge = new_nudge(spec, clock.now, PersonSchedule(), NudgePreferences())
    assert nudge is not None
    await service.nudges.add(nudge)
    out = deliver(nudge, clock.now, [Channel.IN_APP], clock.now.date().isoformat())
    await service.nudges.save(out)
    return out


async def test_acted_from_a_journal_entry_or_a_post_with_the_nudge_id(
    service: Nudges, publish: Publish, clock: FakeClock, unique: str
) -> None:
    clock.now = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)
    ana, bob = f"ana-{unique}", f"bob-{unique}"
    by_entry = await delivered_nudge(service, ana, clock)
    by_post = await delivered_nudge(service, ana, clock)
    bobs = await delivered_nudge(service, bob, clock)
    await publish(entry(ana, clock.now, nudge_id=by_entry.id))

    def post(author: str, nudge_id: str) -> PostCreated:
        return PostCreated(
            source="tests",
            subject=author,
            time=clock.now,
            data=PostFacts(
                post_id=str(uuid4()),
                kind="lesson",
                author_id=author,
                anonymous=False,
                audience="org",
                nudge_id=nudge_id,
            ),
        )

    await publish(post(ana, bobs.id))  # someone else's nudge: no effect
    await publish(post(ana, by_post.id))

    async def acted(nudge_id: str) -> bool:
        nudge = await service.nudges.get(nudge_id)
        return nudge is not None and nudge.status == NudgeStatus.ACTED

    await eventually(lambda: acted(by_entry.id))
    await eventually(lambda: acted(by_post.id))
    assert (await service.nudges.get(bobs.id)).status == NudgeStatus.DELIVERED  # type: ignore[union-attr]


async def test_inactivity_reminder_once_until_a_new_entry(
    service: Nudges, publish: Publish, clock: FakeClock, unique: str
) -> None:
    ana = f"ana-{unique}"
    monday = datetime(2026, 6, 8, 15, 0, tzinfo=UTC)
    clock.now = monday
    await publish(entry(ana, monday))

    async def reminders() -> list[Nudge]:
        return [n for n in await service.nudges.pending_of(ana) if n.origin == "inactivity"]

    first = (await eventually(reminders))[0]
    assert first.due_at == datetime(2026, 6, 11, 16, 30, tzinfo=UTC)  # Thursday, end of day
    assert first.message.startswith("It has been a few days")

    clock.now = first.due_at  # type: ignore[assignment]
    while (await service.scheduler.tick()).claimed:
        pass
    assert (await service.nudges.get(first.id)).status == NudgeStatus.DELIVERED  # type: ignore[union-attr]
    assert await reminders() == []  # not repeated while nothing new is written

    clock.now = datetime(2026, 6, 12, 9, 0, tzinfo=UTC)
    await publish(entry(ana, clock.now, kind="mistake"))
    second = (await eventually(reminders))[0]
    assert second.id != first.id
    assert second.due_at == datetime(2026, 6, 15, 16, 30, tzinfo=UTC)  # Monday
    mistake = await eventually(lambda: pending(service, ana, NudgeType.MISTAKE_MOMENT))
    assert mistake[0].due_at == datetime(2026, 6, 15, 9, 0, tzinfo=UTC)  # a day later: Saturday
    assert date(2026, 6, 12) == (await service.activity.get(ana)).last_entry_on  # type: ignore[union-attr]
