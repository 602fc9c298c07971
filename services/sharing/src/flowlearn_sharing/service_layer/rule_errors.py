"""Domain refusals as the problems callers see."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flowlearn_shared.rpc import Conflict, Forbidden, InvalidInput, ServiceError

from flowlearn_sharing.adapters.post_repository import BadCursor
from flowlearn_sharing.domain.audience import AudienceNotAllowed
from flowlearn_sharing.domain.rules import InvalidValue, NotPermitted, RuleBroken, WrongState


def as_problem(exc: RuleBroken | AudienceNotAllowed | BadCursor) -> ServiceError:
    if isinstance(exc, NotPermitted | AudienceNotAllowed):
        return Forbidden(str(exc))
    if isinstance(exc, WrongState):
        return Conflict(str(exc))
    if isinstance(exc, InvalidValue):
        error = {"loc": [exc.field], "msg": str(exc), "type": "value_error"}
        return InvalidInput(str(exc), [error])
    return ServiceError(str(exc))


@contextmanager
def refusals() -> Iterator[None]:
    """Run domain rules; a refusal becomes a 403, 409, 422 or 400 problem."""
    try:
        yield
    except (RuleBroken, AudienceNotAllowed, BadCursor) as exc:
        raise as_problem(exc) from exc
