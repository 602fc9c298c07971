"""A process killed in the middle of a transaction leaves it open on the database server
until the server ends it (60 s on MongoDB). Whatever that transaction wrote stays locked
meanwhile; the scheduler of a surviving replica must deliver everything else."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flowlearn_nudges.adapters.nudge_repository import NudgeRepository
from pymongo import AsyncMongoClient

from reliability.replicas import due_nudge

pytestmark = pytest.mark.faults


async def test_a_claim_skips_a_nudge_held_by_an_open_transaction(
    mongo_client: AsyncMongoClient[dict[str, Any]], unique: str
) -> None:
    db = mongo_client[f"nudges_{unique}"]
    nudges = NudgeRepository(db)
    await nudges.ensure_indexes()
    now = datetime.now(UTC)
    await db["nudges"].insert_many([due_nudge(f"n{i}", f"p{i}-{unique}", now) for i in range(3)])
    lease = timedelta(seconds=60)

    async with mongo_client.start_session() as dead:
        # The delivery of a replica that died before committing it.
        await dead.start_transaction()
        await db["nudges"].update_one({"_id": "n0"}, {"$set": {"message": "x"}}, session=dead)

        _, claimed = await asyncio.wait_for(nudges.claim(now, lease, "survivor", 10), 10)
        assert sorted(n.id for n in claimed) == ["n1", "n2"]

        await dead.abort_transaction()  # what the server does when the lifetime ends

    _, claimed = await asyncio.wait_for(nudges.claim(now, lease, "survivor", 10), 10)
    assert [n.id for n in claimed] == ["n0"]
