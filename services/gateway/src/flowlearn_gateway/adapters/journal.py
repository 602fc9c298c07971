"""The journal service, as the gateway sees it."""

from __future__ import annotations

from flowlearn_shared.contracts.journal import (
    CreateEntryRequest,
    DeleteEntryRequest,
    EntryCreate,
    EntryPage,
    EntryPublic,
    EntryQuery,
    EntryRef,
    EntryUpdate,
    JournalStats,
    ListEntriesRequest,
    PromptList,
    StatsRequest,
    UpdateEntryRequest,
)
from flowlearn_shared.rpc import Actor
from flowlearn_shared.subjects import RpcSubject

from flowlearn_gateway.adapters.rpc import RpcClient


class JournalClient:
    def __init__(self, rpc: RpcClient) -> None:
        self.rpc = rpc

    async def create(
        self, actor: Actor, entry: EntryCreate, idempotency_key: str | None = None
    ) -> EntryPublic:
        request = CreateEntryRequest(actor=actor, entry=entry, idempotency_key=idempotency_key)
        return await self.rpc.request(RpcSubject.JOURNAL_CREATE_ENTRY, request, EntryPublic)

    async def get(self, actor: Actor, entry_id: str) -> EntryPublic:
        request = EntryRef(actor=actor, entry_id=entry_id)
        return await self.rpc.request(RpcSubject.JOURNAL_GET_ENTRY, request, EntryPublic)

    async def list(self, actor: Actor, query: EntryQuery) -> EntryPage:
        request = ListEntriesRequest(actor=actor, query=query)
        return await self.rpc.request(RpcSubject.JOURNAL_LIST_ENTRIES, request, EntryPage)

    async def update(
        self, actor: Actor, entry_id: str, changes: EntryUpdate, if_match_version: int | None
    ) -> EntryPublic:
        request = UpdateEntryRequest(
            actor=actor, entry_id=entry_id, changes=changes, if_match_version=if_match_version
        )
        payload = request.model_dump(mode="json")
        # Only the fields the client named: absent means "keep", null means "clear".
        payload["changes"] = changes.model_dump(mode="json", exclude_unset=True)
        return await self.rpc.request(RpcSubject.JOURNAL_UPDATE_ENTRY, payload, EntryPublic)

    async def delete(self, actor: Actor, entry_id: str, if_match_version: int | None) -> None:
        request = DeleteEntryRequest(
            actor=actor, entry_id=entry_id, if_match_version=if_match_version
        )
        await self.rpc.command(RpcSubject.JOURNAL_DELETE_ENTRY, request)

    async def stats(self, actor: Actor, timezone: str | None = None) -> JournalStats:
        request = StatsRequest(actor=actor, timezone=timezone)
        return await self.rpc.request(RpcSubject.JOURNAL_STATS, request, JournalStats)

    async def prompts(self, actor: Actor) -> PromptList:
        return await self.rpc.request(
            RpcSubject.JOURNAL_PROMPTS, {"actor": actor.model_dump(mode="json")}, PromptList
        )
