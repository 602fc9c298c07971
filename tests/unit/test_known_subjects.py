"""The gateway's memory of subjects whose profile exists: bounded, and forgetting in time."""

from __future__ import annotations

import pytest
from flowlearn_gateway.adapters.profiles import KnownSubjects

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_least_recently_used_subject_goes_first() -> None:
    known = KnownSubjects(max_size=2, clock=Clock())
    known.add("a")
    known.add("b")
    assert "a" in known  # a is now the most recently used
    known.add("c")
    assert len(known) == 2
    assert "b" not in known
    assert "a" in known
    assert "c" in known


def test_subjects_are_forgotten_after_the_ttl() -> None:
    clock = Clock()
    known = KnownSubjects(ttl_seconds=60, clock=clock)
    known.add("a")
    clock.now = 59
    assert "a" in known
    clock.now = 61
    assert "a" not in known
    assert len(known) == 0
