"""FastAPI dependencies: the clients built at start-up and the verified caller."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from flowlearn_shared.idempotency import (
    IDEMPOTENCY_DESCRIPTION,
    IDEMPOTENCY_HEADER,
    IDEMPOTENCY_KEY_PATTERN,
)
from flowlearn_shared.rpc import Actor

from flowlearn_gateway.adapters.health import HealthClient
from flowlearn_gateway.adapters.journal import JournalClient
from flowlearn_gateway.adapters.rpc import RpcClient
from flowlearn_gateway.bootstrap import Container
from flowlearn_gateway.domain.errors import AuthenticationFailed

# auto_error=False: a missing token must become our 401 problem, not FastAPI's default.
_bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="A JWT signed with HS256 (local) or RS256/ES256 by the OIDC provider.",
)


# Every dependency is ``async def``: FastAPI runs a plain ``def`` one in a worker thread,
# a thread hand-off per dependency per request for what is only an attribute read.
async def container(request: Request) -> Container:
    return cast(Container, request.app.state.container)


AppContainer = Annotated[Container, Depends(container)]


async def current_actor(
    app: AppContainer,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None or not credentials.credentials:
        raise AuthenticationFailed("A bearer token is required", token_present=False)
    actor = await app.tokens.verify(credentials.credentials)
    # The first request of a new subject creates its profile from the token's claims.
    await app.profiles.ensure(actor)
    return actor


async def journal_client(app: AppContainer) -> JournalClient:
    return app.journal


async def rpc_client(app: AppContainer) -> RpcClient:
    return app.rpc


async def health_client(app: AppContainer) -> HealthClient:
    return app.health


CurrentUser = Annotated[Actor, Depends(current_actor)]
# The bearer credentials if any, for routes that also accept another proof (stream tickets).
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
Journal = Annotated[JournalClient, Depends(journal_client)]
Health = Annotated[HealthClient, Depends(health_client)]
# Request/reply to any service: ``await rpc.request(RpcSubject.X, Request(...), Result)``.
Rpc = Annotated[RpcClient, Depends(rpc_client)]
# On creating routes: a retried create returns what the first attempt stored.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=IDEMPOTENCY_HEADER,
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description=IDEMPOTENCY_DESCRIPTION,
    ),
]
