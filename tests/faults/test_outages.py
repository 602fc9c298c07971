"""NATS or the database stopped for 10 s during writes, then started again in place."""

from __future__ import annotations

from pathlib import Path

import pytest
from fault_support import assert_kept

from reliability.scenarios import SCENARIOS, Size

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]


async def test_nats_outage(size: Size, tmp_path: Path) -> None:
    """503 with Retry-After at once while NATS is away; nothing accepted is lost; the
    services reconnect and everything flows after the restart."""
    outcome = await SCENARIOS["nats-outage"](tmp_path, size)
    assert_kept(outcome)


async def test_database_outage(size: Size, tmp_path: Path) -> None:
    """Clean 5xx problems within the request timeout while the database is away; the same
    processes reconnect by themselves; writes succeed after the restart."""
    outcome = await SCENARIOS["database-outage"](tmp_path, size)
    assert_kept(outcome)
