"""kill -9 of each service in the middle of a stream of writes, then a restart."""

from __future__ import annotations

from pathlib import Path

import pytest
from fault_support import assert_kept

from reliability.scenarios import SCENARIOS, Size

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]


@pytest.mark.parametrize("service", ["journal", "nudges", "sharing", "gateway"])
async def test_kill_service_during_writes(service: str, size: Size, tmp_path: Path) -> None:
    """Every accepted write is stored once; every event it raised has its effect once."""
    outcome = await SCENARIOS[f"kill-{service}"](tmp_path, size)
    assert outcome.accepted > 0
    assert outcome.stored == outcome.accepted
    assert_kept(outcome)


async def test_kill_one_of_two_schedulers(size: Size, tmp_path: Path) -> None:
    """Due nudges are delivered once each though a replica dies holding leases."""
    outcome = await SCENARIOS["kill-scheduler"](tmp_path, size)
    assert outcome.stored == size.nudges
    assert_kept(outcome)
