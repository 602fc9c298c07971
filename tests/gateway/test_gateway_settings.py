"""Settings from the environment, the production secret guard, and JSON-line logs."""

from __future__ import annotations

import json
import logging

import pytest
from flowlearn_gateway.settings import GatewaySettings
from flowlearn_shared.logs import JsonFormatter
from pydantic import ValidationError

pytestmark = pytest.mark.unit

STRONG = "k" * 40


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("FLOWLEARN_"):
            monkeypatch.delenv(name)


def test_defaults() -> None:
    settings = GatewaySettings()
    assert settings.http_host == "127.0.0.1"
    assert settings.http_port == 8000
    assert settings.request_timeout_seconds == 5.0
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.oidc_jwks_url is None


def test_port_from_common_or_gateway_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWLEARN_HTTP_PORT", "9001")
    assert GatewaySettings().http_port == 9001
    monkeypatch.setenv("FLOWLEARN_GATEWAY_HTTP_PORT", "9002")
    assert GatewaySettings().http_port == 9002


@pytest.mark.parametrize(
    "secret", [None, "flowlearn-development-secret-not-for-production", "short-but-not-default"]
)
def test_production_refuses_a_weak_secret(
    monkeypatch: pytest.MonkeyPatch, secret: str | None
) -> None:
    monkeypatch.setenv("FLOWLEARN_ENV", "production")
    if secret is not None:
        monkeypatch.setenv("FLOWLEARN_GATEWAY_JWT_SECRET", secret)
    with pytest.raises(ValidationError, match="jwt_secret") as caught:
        GatewaySettings()
    if secret:
        assert secret not in str(caught.value)


def test_production_accepts_a_strong_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWLEARN_ENV", "production")
    monkeypatch.setenv("FLOWLEARN_JWT_SECRET", STRONG)
    settings = GatewaySettings()
    assert settings.jwt_secret.get_secret_value() == STRONG
    assert STRONG not in repr(settings)


def test_dev_allows_the_default_secret() -> None:
    assert (
        GatewaySettings(env="dev").jwt_secret.get_secret_value()
        == "flowlearn-development-secret-not-for-production"
    )


def test_access_log_line_is_one_json_object(caplog: pytest.LogCaptureFixture) -> None:
    from flowlearn_gateway.entrypoints.http.middleware import access_log

    with caplog.at_level(logging.INFO, logger=access_log.name):
        access_log.info(
            "GET /v1/journal/entries 200",
            extra={
                "method": "GET",
                "path": "/v1/journal/entries",
                "status": 200,
                "duration_ms": 1.5,
            },
        )
    line = JsonFormatter("gateway").format(caplog.records[-1])
    assert "\n" not in line
    record = json.loads(line)
    assert record["level"] == "INFO"
    assert record["logger"] == "flowlearn.gateway.access"
    assert {"time", "message", "method", "path", "status", "duration_ms"} <= set(record)
