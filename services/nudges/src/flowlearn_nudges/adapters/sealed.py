"""Channel credentials sealed at rest. A Slack or Teams incoming-webhook URL is itself a
credential (whoever holds it can post to the channel), and a webhook's signing secret lets
its holder forge our requests; a database dump or backup must give away neither.

Each value is sealed with AES-256-GCM under the service's destinations key and bound to its
person and field, so a sealed value copied to another person or field does not open. A
value stored before sealing existed opens as itself and is sealed on the person's next save.
Keys rotate: seal with the new key, keep the old ones for opening until every person has
saved again, or run ``flowlearn-nudges-reseal`` (``flowlearn_nudges.reseal``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger("flowlearn.nudges.sealed")

Document = dict[str, Any]
SEALED_PREFIX = "fl1:"
KEY_BYTES = 32
_KEY_ID_BYTES = 4
_NONCE_BYTES = 12
# (destination, field) of every credential kept in a person's preferences.
SEALED_FIELDS = (("slack", "webhook_url"), ("teams", "webhook_url"), ("webhook", "secret"))


class UnopenableValue(Exception):
    """A sealed value that no key of this service opens, or that was altered or moved."""


def decode_key(text: str) -> bytes:
    """A key as written in settings: 32 random bytes in (URL-safe) base64."""
    try:
        key = base64.urlsafe_b64decode(text.strip().replace("+", "-").replace("/", "_"))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a destinations key must be base64") from exc
    if len(key) != KEY_BYTES:
        raise ValueError(f"a destinations key must be {KEY_BYTES} bytes, base64-encoded")
    return key


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"flowlearn destinations key\x00" + key).digest()[:_KEY_ID_BYTES]


class SecretBox:
    def __init__(self, key: bytes, previous: Sequence[bytes] = ()) -> None:
        self._sealing_id = _key_id(key)
        self._sealing = AESGCM(key)
        self._opening = {_key_id(k): AESGCM(k) for k in (*previous, key)}

    def seal(self, value: str, context: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._sealing.encrypt(nonce, value.encode(), context.encode())
        token = base64.urlsafe_b64encode(self._sealing_id + nonce + sealed).decode()
        return SEALED_PREFIX + token

    def open(self, value: str, context: str) -> str:
        if not value.startswith(SEALED_PREFIX):
            return value  # stored before sealing; sealed again on the next save
        raw = _unpack(value)
        if raw is None:
            raise UnopenableValue("not a sealed value")
        key_id, nonce = raw[:_KEY_ID_BYTES], raw[_KEY_ID_BYTES : _KEY_ID_BYTES + _NONCE_BYTES]
        aead = self._opening.get(key_id)
        if aead is None:
            raise UnopenableValue("sealed with a key this service is not given")
        try:
            plain = aead.decrypt(nonce, raw[_KEY_ID_BYTES + _NONCE_BYTES :], context.encode())
        except InvalidTag as exc:
            raise UnopenableValue("altered, or moved from another person or field") from exc
        return plain.decode()

    def is_current(self, value: str) -> bool:
        """Sealed with the sealing key (so a reseal can leave it)."""
        raw = _unpack(value) if value.startswith(SEALED_PREFIX) else None
        return raw is not None and raw[:_KEY_ID_BYTES] == self._sealing_id


def _unpack(value: str) -> bytes | None:
    """Key id, nonce and ciphertext of a sealed value; None when it is not one."""
    try:
        return base64.urlsafe_b64decode(value[len(SEALED_PREFIX) :])
    except (binascii.Error, ValueError):
        return None


def _each_credential(
    user_id: str, preferences: Document, change: Callable[[str, str, str, str], str | None]
) -> Document:
    """A copy of stored ``preferences`` with each credential replaced by ``change``; a
    destination whose credential ``change`` gives None for is left out."""
    destinations = dict(preferences.get("destinations") or {})
    for channel, field in SEALED_FIELDS:
        destination = destinations.get(channel)
        if not destination or not destination.get(field):
            continue
        changed = change(destination[field], f"{user_id}\x1f{channel}.{field}", channel, field)
        destinations[channel] = None if changed is None else {**destination, field: changed}
    return {**preferences, "destinations": destinations}


def seal_preferences(box: SecretBox, user_id: str, preferences: Document) -> Document:
    """Preferences as stored: every credential sealed."""
    return _each_credential(user_id, preferences, lambda value, ctx, *_: box.seal(value, ctx))


def open_preferences(box: SecretBox, user_id: str, preferences: Document) -> Document:
    """Preferences as read: every credential opened. One that does not open (a key
    missing from settings, or an altered value) leaves its destination unset, so the rest
    of the person's nudges still go out; the log names the person and field, never a value."""

    def open_one(value: str, context: str, channel: str, field: str) -> str | None:
        try:
            return box.open(value, context)
        except UnopenableValue as exc:
            log.error(
                "a channel credential could not be opened; the destination is left unset",
                extra={"user_id": user_id, "field": f"{channel}.{field}", "reason": str(exc)},
            )
            return None

    return _each_credential(user_id, preferences, open_one)


def reseal_preferences(box: SecretBox, user_id: str, preferences: Document) -> Document | None:
    """Stored ``preferences`` with every credential sealed under the current key, or None
    when all already are. Raises UnopenableValue rather than dropping what it cannot open."""
    stale = False

    def reseal_one(value: str, context: str, *_: str) -> str:
        nonlocal stale
        if box.is_current(value):
            return value
        stale = True
        return box.seal(box.open(value, context), context)

    resealed = _each_credential(user_id, preferences, reseal_one)
    return resealed if stale else None
