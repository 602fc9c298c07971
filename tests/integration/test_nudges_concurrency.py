"""Two transactions planning for one person at the same time: a rule firing for someone the
nudges service does not know yet, and that person's first profile arriving meanwhile. The
later one must see the earlier one's write, whatever the order of commits; otherwise the
rule's nudge stays timed to the default office hours the person does not have."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from flowlearn_nudges.bootstrap import Nudges, bootstrap
from flowlearn_nudges.domain.catalogue import Origin
from flowlearn_nudges.domain.nudge import NudgeSpec
from flowlearn_shared.contracts.nudges import NudgeType
from flowlearn_shared.events import ProfileUpdated
from flowlearn_shared.events.payloads import ProfileFacts, WorkingHoursData
from nudges_support import nudges_settings
from pymongo.asynchronous.client_session import AsyncClientSession

pytestmark = pytest.mark.integration

# A Sunday night: outside the default Monday-to-Friday office hours.
NOW = datetime(2026, 6, 14, 3, 0, tzinfo=UTC)


@pytest.fixture
async def service(nats_url: str, mongodb_uri: str, unique: str) -> AsyncIterator[Nudges]:
    settings = nudges_settings(
        nats_url,
        mongodb_uri,
        unique,
        channels_enabled=False,
        campaigns_enabled=False,
    )
    nudges = bootstrap(settings, clock=lambda: NOW)
    await nudges.start()
    yield nudges
    await nudges.stop()


def works_all_week(user: str) -> ProfileUpdated:
    return ProfileUpdated(
        source="tests",
        subject=user,
        time=NOW,
        data=ProfileFacts(
            user_id=user,
            display_name=user,
            timezone="UTC",
            working_hours=WorkingHoursData(days=[1, 2, 3, 4, 5, 6, 7], start="00:00", end="23:59"),
        ),
    )


async def test_a_profile_arriving_while_a_rule_plans_for_the_person_is_not_missed(
    service: Nudges, unique: str
) -> None:
    user = f"responder-{unique}"
    spec = NudgeSpec(
        id=f"rule-{unique}",
        user_id=user,
        type=NudgeType.REFLECT,
        wanted_at=NOW,
        origin=Origin.RULE,
        message="The incident you worked on is closed. What did you learn?",
    )
    planned = asyncio.Event()
    release = asyncio.Event()
    profile_attempts = 0

    async def rule_fires(session: AsyncClientSession) -> None:
        # Planned on what is known now (nobody: default hours), committed only later.
        await service.planner.schedule(spec, session)
        planned.set()
        await release.wait()

    async def profile_arrives(session: AsyncClientSession) -> None:
        nonlocal profile_attempts
        profile_attempts += 1
        await service.reactions.on_people(works_all_week(user), session)

    async def run(work: object) -> None:
        async with service.mongo.start_session() as session:
            await session.with_transaction(work)  # type: ignore[arg-type]

    rule = asyncio.create_task(run(rule_fires))
    await asyncio.wait_for(planned.wait(), 10)
    profile = asyncio.create_task(run(profile_arrives))
    await asyncio.sleep(0.5)  # the profile's transaction meets the open one
    release.set()
    await asyncio.wait_for(asyncio.gather(rule, profile), 30)

    nudge = next(n for n in await service.nudges.pending_of(user) if n.id == spec.id)
    # Works all week, so the nudge is due right away, not at Monday 09:00.
    assert nudge.due_at == NOW, f"due {nudge.due_at} after {profile_attempts} profile attempts"
