"""What the nudges service knows about a person's journalling, learned from events.

It never sees entry text: only that an entry was written, when, and for which nudge.
The inactivity rule ("no entry for N days -> one gentle reflect nudge") reads this.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

DEFAULT_INACTIVITY_DAYS = 3


@dataclass(frozen=True)
class JournalActivity:
    user_id: str
    entries_written: int
    last_entry_on: date | None

    def inactive_on(self, today: date, days: int = DEFAULT_INACTIVITY_DAYS) -> bool:
        if self.last_entry_on is None:
            return False  # someone who never journalled gets onboarding, not a reminder
        return today - self.last_entry_on >= timedelta(days=days)
