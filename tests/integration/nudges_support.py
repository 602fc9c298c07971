"""A nudges service built in the test process: its own database and durable consumers per
test, so tests sharing one NATS server and one database never see each other's work."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flowlearn_nudges.bootstrap import Nudges
from flowlearn_nudges.settings import NudgesSettings

# The ``make_nudges`` fixture (conftest.py): settings overrides in, a service out.
MakeNudges = Callable[..., Nudges]


def nudges_settings(
    nats_url: str, mongodb_uri: str, unique: str, **overrides: Any
) -> NudgesSettings:
    """Settings for a test's nudges service. The scheduler is off unless a test turns it on
    (tests deliver due nudges themselves, with a clock they move)."""
    fields: dict[str, Any] = {
        "nats_url": nats_url,
        "mongodb_uri": mongodb_uri,
        "database": f"nudges_{unique}",
        "journal_consumer": f"nudges-journal-{unique}",
        "people_consumer": f"nudges-people-{unique}",
        "sharing_consumer": f"nudges-sharing-{unique}",
        "work_consumer": f"nudges-work-{unique}",
        "env": "test",
        "retry_backoff_seconds": [0.1],
        "scheduler_enabled": False,
    }
    return NudgesSettings(**(fields | overrides))
