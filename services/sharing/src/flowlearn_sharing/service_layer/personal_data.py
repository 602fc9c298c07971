"""Personal data in the sharing service: its part of a person's export, the request to
erase a person everywhere, that request's progress, and its own part of the erasure.

Erasure starts here because the people directory lives here: the request and its event
(``flow.people.person.erasure_requested.v1``) are written in one transaction through the
outbox, so the request is never recorded without its event being published, nor the other
way round. Every service (this one included) consumes the event, erases, and confirms with
``flow.<service>.person.erased.v1``; the confirmations complete the request here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import uuid4

from flowlearn_shared.contracts.personal_data import (
    ContentChoice,
    EraseRequest,
    ErasureAccepted,
    ErasureRef,
    ErasureStatus,
    ExportPart,
    ExportPartRequest,
    ServiceErasure,
    pack,
    sections_of,
    user_hash,
)
from flowlearn_shared.events import (
    ErasureRequestedData,
    Event,
    PersonErased,
    PersonErasureRequested,
)
from flowlearn_shared.outbox import Outbox
from flowlearn_shared.personal_data import ErasedPeople, ErasureScreen
from flowlearn_shared.rpc import NotFound
from flowlearn_shared.unit_of_work import UnitOfWork
from pymongo.asynchronous.client_session import AsyncClientSession

from flowlearn_sharing.adapters.personal_data.erase import SharingEraser
from flowlearn_sharing.adapters.personal_data.export import SharingExportReader
from flowlearn_sharing.adapters.personal_data.requests import ErasureRequests, new_request

log = logging.getLogger("flowlearn.sharing.personal_data")

SERVICE = "sharing"
SOURCE = "flowlearn/sharing"
Clock = Callable[[], datetime]


def status_of(doc: dict[str, Any]) -> ErasureStatus:
    services = {
        name: ServiceErasure(status=part["status"], erased_at=part.get("erased_at"))
        for name, part in doc["services"].items()
    }
    # Complete once completed_at is set, not when the last service's part reads erased:
    # the two are separate writes, and a reader between them must not see "erased" with
    # no completion time.
    complete = doc.get("completed_at") is not None
    return ErasureStatus(
        erasure_id=doc["_id"],
        status="erased" if complete else "pending",
        posts=ContentChoice(doc["posts"]),
        requested_at=doc["requested_at"],
        completed_at=doc.get("completed_at"),
        services=services,
    )


class SharingPersonalDataService:
    def __init__(
        self,
        reader: SharingExportReader,
        eraser: SharingEraser,
        requests: ErasureRequests,
        erased: ErasedPeople,
        outbox: Outbox,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self.reader = reader
        self.eraser = eraser
        self.requests = requests
        self.erased = erased
        self.outbox = outbox
        self.uow = uow
        self.clock = clock
        # A journal share written before its author's erasure is not published after it.
        self.screen = ErasureScreen(erased)

    async def ensure_indexes(self) -> None:
        await self.reader.ensure_indexes()
        await self.requests.ensure_indexes()
        await self.erased.ensure_indexes()

    async def export(self, request: ExportPartRequest) -> ExportPart:
        """The caller's own data; reading it creates nothing (not even a profile)."""
        export = await self.reader.export(request.actor.user_id)
        return pack(SERVICE, sections_of(export), request.cursor)

    async def request_erasure(self, request: EraseRequest) -> ErasureAccepted:
        """Asking again while an erasure is in progress returns that erasure."""
        user_id = request.actor.user_id
        if (open_request := await self.requests.open_for(user_id)) is not None:
            return ErasureAccepted(erasure_id=open_request["_id"])
        erasure_id, now = str(uuid4()), self.clock()
        event = PersonErasureRequested(
            source=SOURCE,
            subject=erasure_id,
            time=now,
            data=ErasureRequestedData(
                erasure_id=erasure_id, user_id=user_id, posts=request.posts.value
            ),
        )

        async def work(session: AsyncClientSession) -> None:
            await self.requests.add(new_request(erasure_id, user_id, request.posts, now), session)
            await self.outbox.add(event, session)

        await self.uow.run(work)
        log.info("erasure requested", extra={"erasure_id": erasure_id})
        return ErasureAccepted(erasure_id=erasure_id)

    async def erasure_status(self, request: ErasureRef) -> ErasureStatus:
        """Only the person who asked sees it: the request keeps a hash of their id. Anyone
        else, whatever their role, is told it does not exist."""
        doc = await self.requests.get(request.erasure_id)
        if doc is None or doc["user_hash"] != user_hash(request.actor.user_id):
            raise NotFound("no such erasure")
        return status_of(doc)

    async def erase(self, request: PersonErasureRequested) -> dict[str, int]:
        delete_authored = ContentChoice(request.data.posts) == ContentChoice.DELETE
        return await self.eraser.erase(request.data.user_id, delete_authored, self.clock())

    async def on_confirmation(self, event: Event) -> None:
        """A service erased the person; applying a confirmation twice changes nothing."""
        if not isinstance(event, PersonErased):
            return
        data = event.data
        if await self.requests.confirm(data.erasure_id, data.service, event.time):
            log.info("erasure complete", extra={"erasure_id": data.erasure_id})
