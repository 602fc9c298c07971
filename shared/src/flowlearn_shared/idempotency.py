"""Idempotency keys on creating requests: a client that retries a create after a lost
reply sends the same ``Idempotency-Key`` and gets what its first attempt stored."""

from __future__ import annotations

from uuid import UUID, uuid5

from flowlearn_shared.rpc import Conflict, InvalidInput

# What the header may hold: visible ASCII, as HTTP header values allow.
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_DESCRIPTION = (
    "Send the same key when retrying a create whose reply was lost: what the first attempt "
    "stored comes back instead of a second one. The same key with a different request is "
    "refused (422)."
)


def derived_id(kind: UUID, owner_id: str, key: str) -> str:
    """The id of what ``owner_id`` creates with ``key``: the same person and key, the same
    id, so the store's unique id turns a repeated create into a no-op. Keys of different
    people never meet."""
    return str(uuid5(kind, f"{owner_id}\n{key}"))


def key_reused(what: str) -> InvalidInput:
    """The key came back with a different request: a client bug that must not pass
    silently as a replay of the first one."""
    return InvalidInput(
        f"this {IDEMPOTENCY_HEADER} was used for a different {what}",
        [{"loc": ["header", IDEMPOTENCY_HEADER], "msg": "reused", "type": "value_error"}],
    )


def key_target_gone(what: str) -> Conflict:
    """A retry whose first attempt's result was deleted in between."""
    return Conflict(f"the {what} for this {IDEMPOTENCY_HEADER} was deleted")
