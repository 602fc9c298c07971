"""Bearer token verification: HS256 with the shared secret, RS256/ES256 from an OIDC JWKS."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import jwt
from flowlearn_shared.rpc import Actor
from jwt import PyJWK, PyJWKClient

from flowlearn_gateway.domain.errors import AuthenticationFailed, ServiceUnavailable
from flowlearn_gateway.domain.identity import actor_from_claims
from flowlearn_gateway.settings import GatewaySettings

log = logging.getLogger("flowlearn.gateway.auth")

SECRET_ALGORITHMS = frozenset({"HS256"})
JWKS_ALGORITHMS = frozenset({"RS256", "ES256"})
# A client sends the same token with every request: once verified it is remembered until
# it expires, for at most a minute (so a signing key withdrawn from the JWKS stops being
# honoured soon), for a bounded number of tokens.
REMEMBER_SECONDS = 60.0
REMEMBER_TOKENS = 10_000


class TokenVerifier:
    def __init__(self, settings: GatewaySettings) -> None:
        self._secret = settings.jwt_secret.get_secret_value()
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._leeway = settings.jwt_leeway_seconds
        self._jwks: PyJWKClient | None = None
        if settings.oidc_jwks_url:
            self._jwks = PyJWKClient(
                settings.oidc_jwks_url,
                cache_keys=True,
                lifespan=settings.jwks_cache_seconds,
                timeout=5,
            )
        self._verified: dict[str, tuple[Actor, float]] = {}

    async def verify(self, token: str) -> Actor:
        remembered = self._verified.get(token)
        if remembered is not None:
            actor, until = remembered
            if time.time() < until:
                return actor
            del self._verified[token]
        actor, expires_at = await self._verify(token)
        if len(self._verified) >= REMEMBER_TOKENS:
            del self._verified[next(iter(self._verified))]  # the oldest
        self._verified[token] = (actor, min(expires_at, time.time() + REMEMBER_SECONDS))
        return actor

    async def _verify(self, token: str) -> tuple[Actor, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthenticationFailed("The bearer token is malformed") from None
        alg = header.get("alg")
        # The algorithm picks the key source, so an RS256 public key can never be
        # used as an HS256 secret; "none" and anything else are refused.
        key: str | PyJWK
        if alg in SECRET_ALGORITHMS:
            key = self._secret
        elif alg in JWKS_ALGORITHMS and self._jwks is not None:
            key = await self._jwks_key(self._jwks, token)
        else:
            raise AuthenticationFailed("The token's signing algorithm is not accepted")
        claims = self._decode(token, key, str(alg))
        return actor_from_claims(claims), float(claims["exp"]) + self._leeway

    async def _jwks_key(self, client: PyJWKClient, token: str) -> PyJWK:
        try:
            # PyJWKClient does blocking HTTP (cached); keep it off the event loop.
            return await asyncio.to_thread(client.get_signing_key_from_jwt, token)
        except jwt.PyJWKClientConnectionError:
            log.warning("JWKS endpoint unreachable")
            raise ServiceUnavailable("identity provider", "JWKS unreachable") from None
        except jwt.PyJWTError:
            raise AuthenticationFailed("The token's signing key is not known") from None

    def _decode(self, token: str, key: str | PyJWK, alg: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["sub", "exp"], "verify_aud": self._audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationFailed("The token has expired") from None
        except jwt.MissingRequiredClaimError as exc:
            raise AuthenticationFailed(f"The token lacks the '{exc.claim}' claim") from None
        except jwt.PyJWTError:
            raise AuthenticationFailed("The token is invalid") from None
