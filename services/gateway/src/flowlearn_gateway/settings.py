"""Gateway settings: ``FLOWLEARN_GATEWAY_*``, falling back to ``FLOWLEARN_*``."""

from __future__ import annotations

from typing import Self

from flowlearn_shared.settings import ServiceSettings
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

DEFAULT_JWT_SECRET = "flowlearn-development-secret-not-for-production"
MIN_SECRET_LENGTH = 32


# The ignore is for type checkers that see flowlearn_shared as untyped (no py.typed marker).
class GatewaySettings(ServiceSettings):
    # Errors must not echo inputs: they include the JWT secret and URLs with credentials.
    model_config = SettingsConfigDict(
        env_prefix="FLOWLEARN_GATEWAY_", extra="ignore", hide_input_in_errors=True
    )

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)

    jwt_secret: SecretStr = SecretStr(DEFAULT_JWT_SECRET)
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    # Tolerated clock skew between the token issuer and this host.
    jwt_leeway_seconds: float = Field(default=30.0, ge=0)
    oidc_jwks_url: str | None = None
    jwks_cache_seconds: float = Field(default=300.0, gt=0)
    # The learning hub's sign-in: authorization code + PKCE with this issuer (a public client).
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_scopes: str = "openid profile email"

    request_timeout_seconds: float = Field(default=5.0, gt=0)
    readiness_timeout_seconds: float = Field(default=1.0, gt=0)
    # Seconds a client is told to wait (Retry-After) when a service does not answer.
    retry_after_seconds: int = Field(default=2, ge=0)
    max_body_bytes: int = Field(default=1024 * 1024, ge=0)
    graceful_shutdown_seconds: int = Field(default=10, ge=0)
    # How long start-up waits for NATS before serving anyway (readyz says 503 until it is up).
    nats_startup_wait_seconds: float = Field(default=5.0, ge=0)

    # Signed work-event hooks: one HMAC secret per source, as JSON {"<source>": "<secret>"}.
    hook_secrets: dict[str, SecretStr] = Field(default_factory=dict)
    hook_tolerance_seconds: int = Field(default=300, ge=1, le=3600)
    # Live notifications (Server-Sent Events).
    notifications_heartbeat_seconds: float = Field(default=15.0, gt=0)
    notifications_max_per_user: int = Field(default=5, ge=1, le=100)
    notifications_max_streams: int = Field(default=10_000, ge=1)
    # Notifications waiting for a slow client; past this its stream ends (it reconnects).
    notifications_queue_size: int = Field(default=100, ge=1)
    notifications_ticket_seconds: int = Field(default=60, ge=5, le=3600)
    # Nudges replayed from the inbox to a client reconnecting with Last-Event-ID.
    notifications_replay_limit: int = Field(default=50, ge=0, le=100)

    # Rate limits per user (token subject) and per client IP, in fixed windows counted in
    # a NATS key-value bucket shared by every replica. Unset = on, except in env "test".
    rate_limit_enabled: bool | None = None
    rate_limit_per_user: int = Field(default=600, ge=1)
    rate_limit_per_ip: int = Field(default=1200, ge=1)
    rate_limit_window_seconds: int = Field(default=60, ge=1, le=3600)
    rate_limit_bucket: str = Field(default="flowlearn_rate_limits", pattern=r"^[A-Za-z0-9_-]+$")

    @property
    def rate_limiting(self) -> bool:
        return self.env != "test" if self.rate_limit_enabled is None else self.rate_limit_enabled

    @model_validator(mode="after")
    def _secret_fit_for_env(self) -> Self:
        # A guessable HS256 secret would let anyone mint tokens for any user.
        if self.env not in ("dev", "test"):
            secret = self.jwt_secret.get_secret_value()
            if secret == DEFAULT_JWT_SECRET or len(secret) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"jwt_secret must be set to a random value of at least "
                    f"{MIN_SECRET_LENGTH} characters when env is {self.env!r}"
                )
        return self
