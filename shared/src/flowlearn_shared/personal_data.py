"""What every service needs to erase a person: a record that the person was erased (by a
hash of their id), a screen that keeps late or replayed events from bringing their data
back, and the confirmation event.

Events written before a person's erasure can still arrive after it: a consumer lagging
behind, a redelivery, or a new consumer replaying the stream's history (events stay in
FLOW_EVENTS until the stream's ``max_age``). ``ErasureScreen`` drops such an event, or
removes the erased person from it, before a handler sees it. Anything the person does
after the erasure (a later event) is theirs again and goes through.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from flowlearn_shared.consumer import EventHandler, ProcessedEvents
from flowlearn_shared.contracts.personal_data import ERASED_PERSON, ContentChoice, user_hash
from flowlearn_shared.events import (
    Event,
    PersonErased,
    PersonErasedData,
    PersonErasureRequested,
)
from flowlearn_shared.outbox import Outbox
from flowlearn_shared.outbox_relay import OutboxRelay
from flowlearn_shared.subjects import EventSubject

log = logging.getLogger("flowlearn.personal_data")

Document = dict[str, Any]
Session = AsyncClientSession | None
Reaction = Callable[[Event, AsyncClientSession], Awaitable[None]]

# Fields of event payloads that name one person, and lists of people.
PERSON_FIELDS = (
    "user_id",
    "owner_id",
    "author_id",
    "to_id",
    "from_id",
    "asker_id",
    "answerer_id",
    "host_id",
)
PEOPLE_LIST_FIELDS = ("attendee_ids", "suggested_experts", "participants")
CONFIRMATIONS = {
    "journal": EventSubject.JOURNAL_PERSON_ERASED,
    "sharing": EventSubject.SHARING_PERSON_ERASED,
    "nudges": EventSubject.NUDGES_PERSON_ERASED,
}


class ErasedPeople:
    """One record per erasure: its id, the hash of the person's id, when it was asked for
    and the person's choice for what they wrote. Nothing else about them."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db["erased_people"]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index(
            [("user_hash", ASCENDING), ("requested_at", ASCENDING)], name="person_time"
        )

    async def remember(self, request: PersonErasureRequested, session: Session = None) -> None:
        data = request.data
        await self.collection.update_one(
            {"_id": data.erasure_id},
            {
                "$setOnInsert": {
                    "user_hash": user_hash(data.user_id),
                    "requested_at": request.time,
                    "posts": data.posts,
                    "erased_at": None,
                }
            },
            upsert=True,
            session=session,
        )

    async def mark_erased(self, erasure_id: str, at: datetime, session: Session = None) -> None:
        await self.collection.update_one(
            {"_id": erasure_id}, {"$set": {"erased_at": at}}, session=session
        )

    async def erased_after(
        self, user_ids: Iterable[str], at: datetime, session: Session = None
    ) -> dict[str, ContentChoice]:
        """Those of ``user_ids`` whose erasure was asked for after ``at``, with their
        choice for what they wrote."""
        by_hash = {user_hash(u): u for u in set(user_ids) if u and u != ERASED_PERSON}
        if not by_hash:
            return {}
        cursor = self.collection.find(
            {"user_hash": {"$in": sorted(by_hash)}, "requested_at": {"$gt": at}},
            {"user_hash": 1, "posts": 1},
            session=session,
        )
        return {by_hash[doc["user_hash"]]: ContentChoice(doc["posts"]) async for doc in cursor}


class ErasureScreen:
    """Keeps events written before a person's erasure from bringing their data back.

    An event naming an erased person (``PERSON_FIELDS``) is dropped, unless the field is
    one whose person may be replaced by the tombstone: ``tombstone_fields`` always, and
    ``authored_fields`` when the person chose to anonymise what they wrote. Erased people
    are removed from lists of people (attendees, suggested experts).
    """

    def __init__(
        self,
        erased: ErasedPeople,
        *,
        tombstone_fields: frozenset[str] = frozenset(),
        authored_fields: frozenset[str] = frozenset(),
    ) -> None:
        self.erased = erased
        self.tombstone_fields = tombstone_fields
        self.authored_fields = authored_fields

    async def screen(self, event: Event, session: Session = None) -> Event | None:
        if isinstance(event, PersonErasureRequested | PersonErased):
            return event
        data = event.data
        people = {f: v for f in PERSON_FIELDS if isinstance(v := getattr(data, f, None), str)}
        lists = {
            f: list(v) for f in PEOPLE_LIST_FIELDS if isinstance(v := getattr(data, f, None), list)
        }
        named = set(people.values()) | {p for values in lists.values() for p in values}
        erased = await self.erased.erased_after(named, event.time, session)
        if not erased:
            return event
        changes: dict[str, Any] = {}
        for field, person in people.items():
            if person not in erased:
                continue
            anonymised = erased[person] == ContentChoice.ANONYMISE
            if field in self.tombstone_fields or (anonymised and field in self.authored_fields):
                changes[field] = ERASED_PERSON
            else:
                return None
        for field, values in lists.items():
            changes[field] = [p for p in values if p not in erased]
        return event.model_copy(update={"data": data.model_copy(update=changes)})

    def handler(self, handle: EventHandler) -> EventHandler:
        """``handle`` for screened events only (for ``subscribe_events``)."""

        async def screened(event: Event) -> None:
            kept = await self.screen(event)
            if kept is not None:
                await handle(kept)

        return screened

    def reaction(self, react: Reaction) -> Reaction:
        """``react`` for screened events only, inside the consumer's transaction."""

        async def screened(event: Event, session: AsyncClientSession) -> None:
            kept = await self.screen(event, session)
            if kept is not None:
                await react(kept, session)

        return screened


def confirmation(service: str, request: PersonErasureRequested, now: datetime) -> PersonErased:
    data = request.data
    return PersonErased(
        type=CONFIRMATIONS[service],
        source=f"flowlearn/{service}",
        subject=data.erasure_id,
        time=now,
        data=PersonErasedData(erasure_id=data.erasure_id, user_id=data.user_id, service=service),
    )


async def forget_published(outbox: Outbox, user_id: str) -> int:
    """Delete published outbox records that name the person (kept a while for inspection,
    some with text: shared excerpts, kudos). Pending ones stay: other services still need
    them to finish their part, and their consumers screen them."""
    pattern = re.escape(json.dumps(user_id))
    result = await outbox.collection.delete_many(
        {"published_at": {"$type": "date"}, "payload": {"$regex": pattern}}
    )
    return result.deleted_count


Erase = Callable[[PersonErasureRequested], Awaitable[dict[str, int]]]


class ErasureConsumer:
    """Handles ``flow.people.person.erasure_requested.v1`` for one service: remembers the
    erasure (so the screen works from now on), erases with steps that can run again without
    effect, then confirms once: the confirmation event and the processed-event record are
    written in one transaction, so a redelivered request repeats the (empty) steps but not
    the confirmation."""

    def __init__(
        self,
        service: str,
        erase: Erase,
        *,
        erased: ErasedPeople,
        outbox: Outbox,
        processed: ProcessedEvents,
        relay: OutboxRelay | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.service = service
        self.erase = erase
        self.erased = erased
        self.outbox = outbox
        self.processed = processed
        self.relay = relay
        self.clock = clock or utc_now

    async def __call__(self, event: Event) -> None:
        if not isinstance(event, PersonErasureRequested):
            return
        await self.erased.remember(event)
        counts = await self.erase(event)
        await forget_published(self.outbox, event.data.user_id)

        async def confirm(session: AsyncClientSession) -> None:
            now = self.clock()
            await self.erased.mark_erased(event.data.erasure_id, now, session)
            await self.outbox.add(confirmation(self.service, event, now), session)

        if await self.processed.apply_once(str(event.id), confirm) and self.relay is not None:
            self.relay.notify()
        log.info("person erased", extra={"erasure_id": event.data.erasure_id, "counts": counts})


def utc_now() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
