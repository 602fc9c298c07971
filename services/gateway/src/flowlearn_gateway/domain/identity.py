"""Turning verified token claims into the ``Actor`` the services trust."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flowlearn_shared.contracts.personal_data import ERASED_PERSON
from flowlearn_shared.rpc import Actor

from flowlearn_gateway.domain.errors import AuthenticationFailed

ROLES = ("member", "manager", "curator", "admin")
DEFAULT_ROLE = "member"
MAX_USER_ID = 200


@lru_cache(maxsize=1024)
def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def is_valid_timezone(name: object) -> bool:
    """An IANA zone name this host knows (``Europe/Berlin``); anything else is refused."""
    return isinstance(name, str) and 0 < len(name) <= 64 and _known_zone(name)


def _roles(claims: Mapping[str, Any]) -> list[str]:
    raw = claims.get("roles", claims.get("role"))
    values = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    wanted = {v.strip().lower() for v in values if isinstance(v, str)}
    # Unknown roles are ignored rather than refused: identity providers add their own.
    roles = [role for role in ROLES if role in wanted]
    return roles or [DEFAULT_ROLE]


def actor_from_claims(claims: Mapping[str, Any]) -> Actor:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.strip() or len(sub) > MAX_USER_ID:
        raise AuthenticationFailed("The token's 'sub' claim is missing or invalid")
    if sub == ERASED_PERSON:
        # The stand-in for erased authors: whoever held it would own their kept work.
        raise AuthenticationFailed("The token's 'sub' claim is missing or invalid")
    zone = claims.get("zoneinfo")
    name = claims.get("name")
    return Actor(
        user_id=sub,
        roles=_roles(claims),
        name=name.strip()[:200] if isinstance(name, str) and name.strip() else None,
        # A zone we cannot use must not lock the user out; UTC is the documented default.
        timezone=zone if is_valid_timezone(zone) else "UTC",
    )
