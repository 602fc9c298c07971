"""The journal's part of a person's export and of their erasure. A person's entries are
theirs alone: the export holds them in full, and erasure deletes them with the portfolio
and the profile copy. Other people's portfolios keep what the person gave or asked only
under the tombstone (or lose the kudos, when the person chose to delete what they wrote)."""

from __future__ import annotations

from flowlearn_shared.contracts.personal_data import (
    ContentChoice,
    ExportPart,
    ExportPartRequest,
    pack,
    sections_of,
)
from flowlearn_shared.events import PersonErasureRequested
from flowlearn_shared.personal_data import ErasedPeople, ErasureScreen

from flowlearn_journal.adapters.personal_data import JournalPersonalData

SERVICE = "journal"


class JournalPersonalDataService:
    def __init__(self, data: JournalPersonalData, erased: ErasedPeople) -> None:
        self.data = data
        self.erased = erased
        # Kudos and accepted answers of others may name the erased person: the asker is
        # replaced by the tombstone; the giver too, unless they chose to delete.
        self.screen = ErasureScreen(
            erased,
            tombstone_fields=frozenset({"asker_id"}),
            authored_fields=frozenset({"from_id"}),
        )

    async def ensure_indexes(self) -> None:
        await self.data.ensure_indexes()
        await self.erased.ensure_indexes()

    async def export(self, request: ExportPartRequest) -> ExportPart:
        """The caller's own data only; there is no way to name anyone else."""
        export = await self.data.export(request.actor.user_id)
        return pack(SERVICE, sections_of(export), request.cursor)

    async def erase(self, request: PersonErasureRequested) -> dict[str, int]:
        delete_authored = ContentChoice(request.data.posts) == ContentChoice.DELETE
        return await self.data.erase(request.data.user_id, delete_authored)
