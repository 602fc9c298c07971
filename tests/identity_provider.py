"""A minimal OpenID Connect provider for tests, on 127.0.0.1: discovery, an authorization
endpoint that signs one fixed person in at once, a token endpoint that checks PKCE, and the
JWKS the gateway verifies the ID token with. Enough to drive the hub's real sign-in code."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

KEY_ID = "flowlearn-test-key"


@dataclass
class Person:
    user_id: str
    name: str


@dataclass
class IdentityProvider:
    client_id: str = "flowlearn-hub"
    person: Person = field(default_factory=lambda: Person("olivia", "Olivia Novak"))
    # What happened, for the test to check: token exchanges that passed, refusals.
    exchanges: list[dict[str, str]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._codes: dict[str, dict[str, str]] = {}
        self._server: ThreadingHTTPServer | None = None

    @property
    def issuer(self) -> str:
        assert self._server is not None, "start() the provider first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        provider = self

        class Handler(_Handler):
            owner = provider

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks.json",
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def jwks(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        return {"keys": [{**public, "kid": KEY_ID, "use": "sig", "alg": "RS256"}]}

    def authorize(self, params: dict[str, str]) -> str:
        """The redirect back to the client, with a code (or an error)."""
        wanted = {"response_type": "code", "client_id": self.client_id}
        for name, value in wanted.items():
            if params.get(name) != value:
                self.refusals.append(f"authorize: {name}={params.get(name)!r}")
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            self.refusals.append("authorize: no S256 code challenge")
        code = secrets.token_urlsafe(16)
        self._codes[code] = params
        query = {"code": code, "state": params.get("state", "")}
        return f"{params.get('redirect_uri', '')}?{urlencode(query)}"

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        request = self._codes.pop(form.get("code", ""), None)
        if request is None:
            self.refusals.append("token: unknown or reused code")
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier", "")
        digest = hashlib.sha256(verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        problems = [
            name
            for name, ok in (
                ("grant_type", form.get("grant_type") == "authorization_code"),
                ("client_id", form.get("client_id") == self.client_id),
                ("redirect_uri", form.get("redirect_uri") == request.get("redirect_uri")),
                ("code_verifier", challenge == request.get("code_challenge")),
            )
            if not ok
        ]
        if problems:
            self.refusals.append(f"token: wrong {', '.join(problems)}")
            return 400, {"error": "invalid_grant"}
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": self.person.user_id,
            "aud": self.client_id,
            "name": self.person.name,
            "nonce": request.get("nonce"),
            "iat": now,
            "exp": now + 600,
        }
        id_token = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": KEY_ID})
        self.exchanges.append(form)
        # An opaque access token, as many providers issue: the hub then sends the ID token.
        return 200, {
            "access_token": secrets.token_urlsafe(24),
            "token_type": "Bearer",
            "expires_in": 600,
            "id_token": id_token,
        }


class _Handler(BaseHTTPRequestHandler):
    owner: IdentityProvider

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet test output

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        # The hub calls discovery and the token endpoint from the browser, cross-origin.
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/.well-known/openid-configuration":
            self._json(200, self.owner.discovery())
        elif url.path == "/jwks.json":
            self._json(200, self.owner.jwks())
        elif url.path == "/authorize":
            params = {k: v[0] for k, v in parse_qs(url.query).items()}
            self.send_response(302)
            self.send_header("Location", self.owner.authorize(params))
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:
        if urlsplit(self.path).path != "/token":
            self._json(404, {"error": "not_found"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        self._json(*self.owner.token(form))
