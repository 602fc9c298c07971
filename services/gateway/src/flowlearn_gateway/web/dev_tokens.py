"""``POST /v1/dev/token``: the learning hub's development sign-in.

In ``dev`` and ``test`` the hub lists the demo people and the gateway signs a token for the
one picked, with the same HS256 secret it verifies. Anywhere else the route answers 404, as
if it did not exist: production sign-in goes through the OIDC provider.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt
from fastapi import APIRouter, HTTPException
from flowlearn_shared.contracts.hub import DevToken, DevTokenCreate, Role

from flowlearn_gateway.entrypoints.http.deps import AppContainer
from flowlearn_gateway.entrypoints.http.openapi import problem, problems
from flowlearn_gateway.settings import GatewaySettings

DEV_ENVIRONMENTS = ("dev", "test")
TOKEN_SECONDS = 8 * 3600


@dataclass(frozen=True)
class DemoPerson:
    user_id: str
    role: Role
    name: str
    timezone: str


# The people ``flowlearn dev`` seeds (flowlearn_cli.seed.DEMO_PEOPLE; a test keeps them equal).
DEMO_PEOPLE = (
    DemoPerson("alice", "member", "Alice Moreau", "Europe/Paris"),
    DemoPerson("bob", "member", "Bob Okafor", "Europe/London"),
    DemoPerson("maya", "manager", "Maya Lindqvist", "Europe/Stockholm"),
    DemoPerson("carl", "curator", "Carl Mendes", "America/New_York"),
    DemoPerson("ada", "admin", "Ada Park", "UTC"),
)
_BY_ID = {person.user_id: person for person in DEMO_PEOPLE}

router = APIRouter(prefix="/v1/dev", tags=["dev"])


def dev_sign_in_enabled(settings: GatewaySettings) -> bool:
    return settings.env in DEV_ENVIRONMENTS


def sign_dev_token(settings: GatewaySettings, wanted: DevTokenCreate) -> DevToken:
    person = _BY_ID.get(wanted.user)
    role: Role = wanted.role or (person.role if person else "member")
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": wanted.user,
        "roles": [role],
        "iat": now,
        "exp": now + TOKEN_SECONDS,
    }
    if person is not None:
        claims["name"] = person.name
        claims["zoneinfo"] = person.timezone
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    token = jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")
    return DevToken(
        access_token=token,
        expires_in=TOKEN_SECONDS,
        user_id=wanted.user,
        role=role,
        name=person.name if person else None,
    )


@router.post(
    "/token",
    response_model=DevToken,
    status_code=201,
    summary="Sign in as anyone (dev and test only)",
    responses={**problem(404, "Not in dev or test"), **problems(422)},
)
async def dev_token(wanted: DevTokenCreate, app: AppContainer) -> DevToken:
    """A token for the named user, signed with the development secret. Demo people get
    their role, name and time zone. Exists only when `FLOWLEARN_ENV` is `dev` or `test`;
    elsewhere it answers 404."""
    if not dev_sign_in_enabled(app.settings):
        raise HTTPException(404)
    return sign_dev_token(app.settings, wanted)
