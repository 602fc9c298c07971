"""Bearer tokens: HS256 with the secret, RS256/ES256 from a JWKS, and every way to fail."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flowlearn_shared.subjects import RpcSubject
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

if TYPE_CHECKING:  # test modules are not a package; only for annotations
    from conftest import FakeServices

pytestmark = pytest.mark.integration

Auth = Callable[..., dict[str, str]]
Token = Callable[..., str]
Entry = Callable[..., dict[str, Any]]
PROMPTS_URL = "/v1/journal/prompts"


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unsigned(payload: dict[str, Any]) -> str:
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}."


def assert_unauthorized(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    body: dict[str, Any] = response.json()
    assert body["status"] == 401
    return body


@pytest.fixture
async def prompts(services: FakeServices) -> FakeServices:
    await services.answer(RpcSubject.JOURNAL_PROMPTS, services.ok({"items": []}))
    return services


async def test_valid_token_passes(gateway: httpx.AsyncClient, prompts: Any, auth: Auth) -> None:
    response = await gateway.get(PROMPTS_URL, headers=auth())
    assert response.status_code == 200


async def test_missing_token(gateway: httpx.AsyncClient, prompts: FakeServices) -> None:
    response = await gateway.get(PROMPTS_URL)
    assert_unauthorized(response)
    assert response.headers["www-authenticate"] == "Bearer"
    response = await gateway.get(PROMPTS_URL, headers={"Authorization": "Basic dTpw"})
    assert_unauthorized(response)
    assert not prompts.requests


@pytest.mark.parametrize(
    ("make", "detail"),
    [
        (lambda t: t(key="another-secret-of-sufficient-length-000"), "invalid"),
        (lambda t: t(expires_in=-3600), "expired"),
        (lambda t: t(sub=None), "sub"),
        (lambda t: t(sub=""), "sub"),
        (lambda t: "not.a.jwt", "malformed"),
        (lambda t: unsigned({"sub": "mallory", "exp": int(time.time()) + 300}), "algorithm"),
    ],
    ids=["bad-signature", "expired", "no-sub", "empty-sub", "garbage", "alg-none"],
)
async def test_rejected_tokens(
    gateway: httpx.AsyncClient, prompts: FakeServices, token: Token, make: Any, detail: str
) -> None:
    response = await gateway.get(PROMPTS_URL, headers={"Authorization": f"Bearer {make(token)}"})
    body = assert_unauthorized(response)
    assert detail in body["detail"]
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert not prompts.requests


async def test_token_without_exp_is_refused(
    gateway: httpx.AsyncClient, prompts: FakeServices, auth: Auth
) -> None:
    response = await gateway.get(PROMPTS_URL, headers=auth(expires_in=None))
    assert "exp" in assert_unauthorized(response)["detail"]


async def test_issuer_and_audience_are_checked(
    make_gateway: Any, prompts: FakeServices, auth: Auth
) -> None:
    async with make_gateway(jwt_issuer="https://id.example", jwt_audience="flowlearn") as client:
        good = auth(iss="https://id.example", aud="flowlearn")
        assert (await client.get(PROMPTS_URL, headers=good)).status_code == 200
        wrong_aud = auth(iss="https://id.example", aud="other")
        assert_unauthorized(await client.get(PROMPTS_URL, headers=wrong_aud))
        wrong_iss = auth(iss="https://evil.example", aud="flowlearn")
        assert_unauthorized(await client.get(PROMPTS_URL, headers=wrong_iss))


# --- RS256 / ES256 from a JWKS -------------------------------------------------------------


class Keys:
    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        rsa_jwk = json.loads(RSAAlgorithm.to_jwk(self.rsa.public_key()))
        ec_jwk = json.loads(ECAlgorithm.to_jwk(self.ec.public_key()))
        self.jwks = {
            "keys": [
                {**rsa_jwk, "kid": "rsa-1", "use": "sig", "alg": "RS256"},
                {**ec_jwk, "kid": "ec-1", "use": "sig", "alg": "ES256"},
            ]
        }
        self.hits = 0


@pytest.fixture(scope="module")
def jwks() -> Iterator[tuple[str, Keys]]:
    keys = Keys()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            keys.hits += 1
            body = json.dumps(keys.jwks).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/jwks.json", keys
    server.shutdown()
    server.server_close()


async def test_rs256_and_es256_from_jwks(
    make_gateway: Any, prompts: FakeServices, token: Token, jwks: tuple[str, Keys]
) -> None:
    url, keys = jwks
    rs = token("oidc-user", key=keys.rsa, algorithm="RS256", headers={"kid": "rsa-1"})
    es = token("oidc-user", key=keys.ec, algorithm="ES256", headers={"kid": "ec-1"})
    unknown_kid = token("x", key=keys.rsa, algorithm="RS256", headers={"kid": "rotated-away"})
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = token("x", key=other_key, algorithm="RS256", headers={"kid": "rsa-1"})

    async with make_gateway(oidc_jwks_url=url) as client:
        for good in (rs, es, rs):
            response = await client.get(PROMPTS_URL, headers={"Authorization": f"Bearer {good}"})
            assert response.status_code == 200, response.text
        assert prompts.last(RpcSubject.JOURNAL_PROMPTS)["actor"]["user_id"] == "oidc-user"
        for bad in (unknown_kid, forged):
            response = await client.get(PROMPTS_URL, headers={"Authorization": f"Bearer {bad}"})
            assert_unauthorized(response)
        # HS256 with the shared secret still works next to the JWKS.
        hs = token("local")
        assert (
            await client.get(PROMPTS_URL, headers={"Authorization": f"Bearer {hs}"})
        ).status_code == 200
    assert keys.hits <= 3  # the key set is cached, not fetched per request


async def test_rs256_is_refused_without_jwks(
    gateway: httpx.AsyncClient, prompts: FakeServices, token: Token, jwks: tuple[str, Keys]
) -> None:
    _, keys = jwks
    rs = token("u", key=keys.rsa, algorithm="RS256", headers={"kid": "rsa-1"})
    assert_unauthorized(await gateway.get(PROMPTS_URL, headers={"Authorization": f"Bearer {rs}"}))


async def test_public_key_used_as_hmac_secret_is_refused(
    make_gateway: Any, prompts: FakeServices, jwks: tuple[str, Keys]
) -> None:
    url, keys = jwks
    # The classic key-confusion attack: HS256 signed with the (public) RSA key as secret.
    pem = keys.rsa.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = (
        f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': 'rsa-1'})}."
        f"{b64({'sub': 'mallory', 'exp': int(time.time()) + 300})}"
    )
    signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    async with make_gateway(oidc_jwks_url=url) as client:
        response = await client.get(PROMPTS_URL, headers={"Authorization": f"Bearer {forged}"})
        assert_unauthorized(response)


async def test_unreachable_jwks_is_503(
    make_gateway: Any, prompts: FakeServices, token: Token, jwks: tuple[str, Keys]
) -> None:
    _, keys = jwks
    rs = token("u", key=keys.rsa, algorithm="RS256", headers={"kid": "rsa-1"})
    async with make_gateway(oidc_jwks_url="http://127.0.0.1:9/jwks.json") as client:
        response = await client.get(PROMPTS_URL, headers={"Authorization": f"Bearer {rs}"})
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "retry-after" in response.headers


async def test_a_remembered_token_still_expires(
    make_gateway: Any, prompts: FakeServices, token: Token
) -> None:
    """Verified tokens are remembered between requests, but not past their expiry."""
    bearer = {"Authorization": f"Bearer {token(expires_in=2)}"}
    async with make_gateway(jwt_leeway_seconds=0) as gateway:
        assert (await gateway.get(PROMPTS_URL, headers=bearer)).status_code == 200
        assert (await gateway.get(PROMPTS_URL, headers=bearer)).status_code == 200
        await asyncio.sleep(3.1)
        body = assert_unauthorized(await gateway.get(PROMPTS_URL, headers=bearer))
        assert "expired" in body["detail"]
