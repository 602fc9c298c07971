"""Entity tags are the entry's version: ``ETag: "7"``; ``If-Match`` guards writes."""

from __future__ import annotations

import re

from flowlearn_shared.rpc import PreconditionFailed

from flowlearn_gateway.domain.errors import ServiceProblem

_STRONG_TAG = re.compile(r'"(\d{1,18})"')
_WEAK_TAG = re.compile(r'W/"[^"]*"')


def format_etag(version: int) -> str:
    return f'"{version}"'


def precondition_failed(detail: str) -> ServiceProblem:
    return ServiceProblem(PreconditionFailed(detail).to_problem())


def parse_if_match(header: str | None) -> frozenset[int] | None:
    """The versions the client accepts, or ``None`` when any version will do.

    If-Match compares strongly, so weak tags never match; a header we cannot read
    fails the precondition rather than being ignored.
    """
    if header is None:
        return None
    header = header.strip()
    if header == "*":
        return None
    versions: set[int] = set()
    for part in (p.strip() for p in header.split(",")):
        if match := _STRONG_TAG.fullmatch(part):
            versions.add(int(match.group(1)))
        elif not _WEAK_TAG.fullmatch(part):
            raise precondition_failed("The If-Match header is malformed.")
    if not versions:
        raise precondition_failed("The entry does not match the If-Match header.")
    return frozenset(versions)
