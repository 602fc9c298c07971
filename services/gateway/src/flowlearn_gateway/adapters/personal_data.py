"""A person's export, gathered from every service that holds personal data at once, each
in as many parts as its data needs (one NATS reply is limited in size). All or nothing: a
service that does not answer makes the whole export fail, because a partial export would
look complete."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flowlearn_shared.contracts.personal_data import (
    ExportPart,
    ExportPartRequest,
    JournalExport,
    NudgesExport,
    PersonalDataExport,
    ServiceAnswer,
    SharingExport,
    assemble,
)
from flowlearn_shared.rpc import Actor
from flowlearn_shared.subjects import RpcSubject
from pydantic import ValidationError

from flowlearn_gateway.adapters.rpc import RpcClient
from flowlearn_gateway.domain.errors import BadServiceReply, ServiceUnavailable

log = logging.getLogger("flowlearn.gateway.personal_data")

EXPORTERS = {
    "journal": RpcSubject.JOURNAL_EXPORT_PERSONAL_DATA,
    "sharing": RpcSubject.SHARING_EXPORT_PERSONAL_DATA,
    "nudges": RpcSubject.NUDGES_EXPORT_PERSONAL_DATA,
}
# A bound on the parts of one service's export (each up to ~600 kB), so a service that
# keeps handing out cursors cannot hold a request forever.
MAX_PARTS = 500
Sections = dict[str, list[dict[str, Any]]]


class ExportIncomplete(ServiceUnavailable):
    """Some services did not answer; no export is given."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(" and ".join(missing), "did not answer the export")
        self.missing = missing


class PersonalDataClient:
    def __init__(
        self, rpc: RpcClient, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.rpc = rpc
        self.clock = clock

    async def _collect(self, service: str, subject: str, actor: Actor) -> tuple[Sections, int]:
        sections: Sections = defaultdict(list)
        cursor: str | None = None
        for parts in range(1, MAX_PARTS + 1):
            request = ExportPartRequest(actor=actor, cursor=cursor)
            part = await self.rpc.request(subject, request, ExportPart)
            for name, items in part.sections.items():
                sections[name].extend(items)
            if part.next_cursor is None:
                return sections, parts
            if part.next_cursor == cursor:
                break  # the same cursor again would never end
            cursor = part.next_cursor
        log.error("export from %s did not end", service)
        raise BadServiceReply(service)

    async def export(self, actor: Actor) -> PersonalDataExport:
        names = list(EXPORTERS)
        results = await asyncio.gather(
            *(self._collect(name, EXPORTERS[name], actor) for name in names),
            return_exceptions=True,
        )
        missing = [
            n for n, r in zip(names, results, strict=True) if isinstance(r, ServiceUnavailable)
        ]
        if missing:
            raise ExportIncomplete(missing)
        collected: dict[str, tuple[Sections, int]] = {}
        for name, result in zip(names, results, strict=True):
            if isinstance(result, BaseException):
                raise result
            collected[name] = result
        try:
            journal = assemble(JournalExport, collected["journal"][0])
            sharing = assemble(SharingExport, collected["sharing"][0])
            nudges = assemble(NudgesExport, collected["nudges"][0])
        except ValidationError as exc:
            # Where it failed, never the values: they are personal data.
            where = [e["loc"] for e in exc.errors(include_input=False)[:3]]
            log.error("an export part is not what was expected: %s", where)
            raise BadServiceReply("personal data") from None
        return PersonalDataExport(
            user_id=actor.user_id,
            exported_at=self.clock(),
            services={name: ServiceAnswer(parts=parts) for name, (_, parts) in collected.items()},
            journal=journal,
            sharing=sharing,
            nudges=nudges,
        )
