"""Journal use cases. Each takes a verified actor and only ever touches that actor's entries:
an entry of someone else is reported as not found, never as forbidden."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flowlearn_shared.contracts.journal import (
    CreateEntryRequest,
    DeleteEntryRequest,
    EntryPage,
    EntryPublic,
    EntryRef,
    JournalStats,
    ListEntriesRequest,
    PromptList,
    ShareAccepted,
    ShareEntryRequest,
    StatsRequest,
    UpdateEntryRequest,
)
from flowlearn_shared.idempotency import key_reused, key_target_gone
from flowlearn_shared.outbox import Outbox
from flowlearn_shared.rpc import (
    Actor,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    ServiceError,
)
from flowlearn_shared.unit_of_work import UnitOfWork
from pymongo.asynchronous.client_session import AsyncClientSession

from flowlearn_journal.adapters.repository import AlreadyStored, BadCursor, EntryRepository
from flowlearn_journal.adapters.zones import ZoneBook
from flowlearn_journal.domain import model
from flowlearn_journal.domain.prompts import PROMPTS

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    # MongoDB keeps milliseconds; trimming here keeps ETags and cursors exact after a read.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class JournalService:
    def __init__(
        self,
        repository: EntryRepository,
        outbox: Outbox,
        uow: UnitOfWork,
        zones: ZoneBook,
        clock: Clock = utc_now,
    ) -> None:
        self.repository = repository
        self.outbox = outbox
        self.uow = uow
        self.zones = zones
        self.clock = clock

    async def zone_for(self, actor: Actor, explicit: str | None = None) -> str:
        """An explicit zone wins, then the person's profile, then the token's claim."""
        return explicit or await self.zones.zone_of(actor.user_id) or actor.timezone

    async def create_entry(self, request: CreateEntryRequest) -> EntryPublic:
        actor = request.actor
        key = request.idempotency_key
        entry_id = model.entry_id_for_key(actor.user_id, key) if key else None
        if entry_id and (stored := await self.repository.get(actor.user_id, entry_id)):
            return self.replayed(stored, request)
        # The zone only decides the default day; skip the lookup when the day is given.
        zone = actor.timezone if request.entry.occurred_on else await self.zone_for(actor)
        entry = model.new_entry(actor.user_id, request.entry, zone, self.clock(), entry_id)

        try:
            await self.repository.add(entry)
        except AlreadyStored:  # the same key sent twice at once: the other attempt won
            stored = await self.repository.get(actor.user_id, entry.id)
            if stored is None:  # deleted in between; the retry has nothing to return
                raise key_target_gone("entry") from None
            return self.replayed(stored, request)
        return entry.to_public()

    @staticmethod
    def replayed(stored: model.Entry, request: CreateEntryRequest) -> EntryPublic:
        """A retried create: the entry the first attempt stored, unless the key now comes
        with a different entry (a client bug that must not pass silently)."""
        if not model.same_request(stored, request.entry):
            raise key_reused("entry")
        return stored.to_public()

    async def get_entry(self, request: EntryRef) -> EntryPublic:
        entry = await self.repository.get(request.actor.user_id, request.entry_id)
        if entry is None:
            raise NotFound("no such journal entry")
        return entry.to_public()

    async def list_entries(self, request: ListEntriesRequest) -> EntryPage:
        try:
            entries, next_cursor = await self.repository.list(request.actor.user_id, request.query)
        except BadCursor as exc:
            raise ServiceError(str(exc)) from exc
        return EntryPage(items=[e.to_public() for e in entries], next_cursor=next_cursor)

    async def update_entry(self, request: UpdateEntryRequest) -> EntryPublic:
        owner = request.actor.user_id

        async def work(session: AsyncClientSession) -> model.Entry:
            current = await self.repository.get(owner, request.entry_id, session)
            if current is None:
                raise NotFound("no such journal entry")
            try:
                model.check_version(current, request.if_match_version)
            except model.StaleVersion as exc:
                raise PreconditionFailed(str(exc)) from exc
            updated = model.apply_update(current, request.changes, self.clock())
            await self.repository.take_events(current.id, session)
            if not await self.repository.replace_if_version(updated, current.version, session):
                raise PreconditionFailed("the entry changed while it was being updated")
            for event in updated.events:
                await self.outbox.add(event, session)
            return updated

        return (await self.uow.run(work)).to_public()

    async def delete_entry(self, request: DeleteEntryRequest) -> None:
        owner = request.actor.user_id

        async def work(session: AsyncClientSession) -> None:
            current = await self.repository.get(owner, request.entry_id, session)
            if current is None:
                raise NotFound("no such journal entry")
            try:
                model.check_version(current, request.if_match_version)
            except model.StaleVersion as exc:
                raise PreconditionFailed(str(exc)) from exc
            await self.repository.take_events(current.id, session)
            if not await self.repository.delete_if_version(current, current.version, session):
                raise PreconditionFailed("the entry changed while it was being deleted")
            await self.outbox.add(model.deletion_event(current, self.clock()), session)

        await self.uow.run(work)

    async def share_entry(self, request: ShareEntryRequest) -> ShareAccepted:
        """Only the author shares, and only the excerpt they chose leaves the journal."""
        entry = await self.repository.get(request.actor.user_id, request.entry_id)
        if entry is None:
            raise NotFound("no such journal entry")
        try:
            event = model.share_event(entry, request.share, self.clock())
        except model.NotShareable as exc:
            raise InvalidInput(str(exc)) from exc

        async def work(session: AsyncClientSession) -> None:
            await self.repository.take_events(entry.id, session)
            await self.outbox.add(event, session)

        await self.uow.run(work)
        return ShareAccepted(share_id=event.data.share_id)

    async def stats(self, request: StatsRequest) -> JournalStats:
        owner = request.actor.user_id
        zone = await self.zone_for(request.actor, request.timezone)
        today = model.today_in(zone, self.clock())
        current, longest = model.streaks(await self.repository.days_with_entries(owner), today)
        by_kind = await self.repository.count_by_kind(owner)
        return JournalStats(
            current_streak_days=current,
            longest_streak_days=longest,
            minutes_this_week=await self.repository.minutes_since(owner, model.week_start(today)),
            entries_by_kind=by_kind,
            total_entries=sum(by_kind.values()),
            timezone=zone,
        )

    async def prompts(self) -> PromptList:
        return PromptList(items=PROMPTS)
