"""The nudges service's part of a person's export and of their erasure. The export shows
preferences as their owner sees them: a webhook's signing secret never leaves the service
(``has_secret`` says whether one is set). Reading an export creates nothing: a person the
service does not know is exported as empty, not met for the first time."""

from __future__ import annotations

from flowlearn_shared.contracts.nudges import NudgePreferences
from flowlearn_shared.contracts.personal_data import (
    ExportPart,
    ExportPartRequest,
    NudgesExport,
    NudgesPersonExport,
    pack,
    sections_of,
)
from flowlearn_shared.events import PersonErasureRequested
from flowlearn_shared.personal_data import ErasedPeople, ErasureScreen

from flowlearn_nudges.adapters.personal_data import NudgesPersonalData
from flowlearn_nudges.service_layer.api import nudge_public
from flowlearn_nudges.service_layer.destinations import public_preferences

SERVICE = "nudges"


class NudgesPersonalDataService:
    def __init__(self, data: NudgesPersonalData, erased: ErasedPeople) -> None:
        self.data = data
        self.erased = erased
        # Nothing here is kept under a tombstone: an event naming an erased person (written
        # before the erasure) is dropped, and they are left out of lists of people.
        self.screen = ErasureScreen(erased)

    async def ensure_indexes(self) -> None:
        await self.data.ensure_indexes()
        await self.erased.ensure_indexes()

    async def export(self, request: ExportPartRequest) -> ExportPart:
        found = await self.data.read(request.actor.user_id)
        person = found.person
        raw_preferences = person.get("preferences") if person else None
        preferences = (
            public_preferences(NudgePreferences.model_validate(raw_preferences))
            if raw_preferences
            else None
        )
        export = NudgesExport(
            person=NudgesPersonExport(
                schedule=person.get("schedule"), created_at=person.get("created_at")
            )
            if person
            else None,
            preferences=preferences,
            nudges=[nudge_public(n) for n in found.nudges],
            activity=found.activity,
            memberships=found.memberships,
            campaigns=found.campaigns,
        )
        return pack(SERVICE, sections_of(export), request.cursor)

    async def erase(self, request: PersonErasureRequested) -> dict[str, int]:
        return await self.data.erase(request.data.user_id)
