"""Two processes of each consumer service share the work and do nothing twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from fault_support import assert_kept

from reliability.scenarios import SCENARIOS, Size

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]


async def test_two_replicas_share_the_work(size: Size, tmp_path: Path) -> None:
    outcome = await SCENARIOS["replicas"](tmp_path, size)
    assert_kept(outcome)
