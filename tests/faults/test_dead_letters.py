"""Poison events go to the dead-letter subject; the operator lists and replays them."""

from __future__ import annotations

from pathlib import Path

import pytest
from fault_support import assert_kept

from reliability.scenarios import SCENARIOS, Size

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]


async def test_poison_events_are_dead_lettered_and_replayed(size: Size, tmp_path: Path) -> None:
    outcome = await SCENARIOS["poison"](tmp_path, size)
    assert_kept(outcome)
