"""Development tokens (HS256), signed with the same secret the gateway checks."""

from __future__ import annotations

import os
import time
from typing import Any

import jwt

DEV_SECRET = "flowlearn-development-secret-not-for-production"  # the gateway's development default
ROLES = ("member", "manager", "curator", "admin")


def jwt_secret() -> str:
    return (
        os.environ.get("FLOWLEARN_GATEWAY_JWT_SECRET")
        or os.environ.get("FLOWLEARN_JWT_SECRET")
        or DEV_SECRET
    )


def make_token(
    user: str,
    role: str = "member",
    ttl_seconds: int = 8 * 3600,
    timezone: str | None = None,
    name: str | None = None,
    secret: str | None = None,
) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    now = int(time.time())
    claims: dict[str, Any] = {"sub": user, "roles": [role], "iat": now, "exp": now + ttl_seconds}
    if name:
        claims["name"] = name
    if timezone:
        claims["zoneinfo"] = timezone
    if issuer := os.environ.get("FLOWLEARN_JWT_ISSUER"):
        claims["iss"] = issuer
    if audience := os.environ.get("FLOWLEARN_JWT_AUDIENCE"):
        claims["aud"] = audience
    return jwt.encode(claims, secret or jwt_secret(), algorithm="HS256")
