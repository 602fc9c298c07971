"""Profile events from the people directory: remember each person's time zone and name."""

from __future__ import annotations

from flowlearn_shared.events import Event, ProfileUpdated

from flowlearn_journal.adapters.zones import ZoneBook


class ProfileHandler:
    def __init__(self, zones: ZoneBook) -> None:
        self.zones = zones

    async def __call__(self, event: Event) -> None:
        # Idempotent by nature: applying the same or an older profile changes nothing.
        if isinstance(event, ProfileUpdated):
            data = event.data
            await self.zones.remember(data.user_id, data.timezone, event.time, data.display_name)
