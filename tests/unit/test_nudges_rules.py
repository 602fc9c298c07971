from __future__ import annotations

from datetime import date

import pytest
from flowlearn_nudges.domain.model import JournalActivity

pytestmark = pytest.mark.unit


def test_inactivity_after_three_days_by_default() -> None:
    activity = JournalActivity("a", 4, date(2026, 11, 20))
    assert not activity.inactive_on(date(2026, 11, 22))
    assert activity.inactive_on(date(2026, 11, 23))
    assert not activity.inactive_on(date(2026, 11, 23), days=5)


def test_someone_who_never_wrote_is_not_inactive() -> None:
    assert not JournalActivity("a", 0, None).inactive_on(date(2026, 11, 23))
