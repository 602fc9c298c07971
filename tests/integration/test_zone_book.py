from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flowlearn_journal.adapters.zones import ZoneBook
from pymongo import AsyncMongoClient

pytestmark = pytest.mark.integration


async def test_newest_profile_zone_wins(
    mongo_client: AsyncMongoClient[dict[str, Any]], unique: str
) -> None:
    zones = ZoneBook(mongo_client[f"zones_{unique}"])
    now = datetime.now(UTC)
    assert await zones.zone_of("ana") is None
    await zones.remember("ana", "Europe/Oslo", now)
    await zones.remember("ana", "Asia/Tokyo", now - timedelta(minutes=5))  # late, older event
    assert await zones.zone_of("ana") == "Europe/Oslo"
    await zones.remember("ana", "America/Denver", now + timedelta(minutes=5))
    assert await zones.zone_of("ana") == "America/Denver"
    await zones.remember("ana", "America/Denver", now + timedelta(minutes=5))  # redelivered
    assert await zones.zone_of("ana") == "America/Denver"
