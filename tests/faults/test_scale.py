"""Two processes of every service, two gateways: the load is spread over every replica and
nothing is stored or applied twice, or lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from fault_support import assert_kept

from reliability.scale import REQUIRED
from reliability.scenarios import SCENARIOS, Size

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]


async def test_scale_out_spreads_the_work(size: Size, tmp_path: Path) -> None:
    outcome = await SCENARIOS["scale"](tmp_path, size)
    assert outcome.accepted > 0
    assert outcome.stored == outcome.accepted
    assert set(REQUIRED) <= set(outcome.work), outcome.work
    assert_kept(outcome)
