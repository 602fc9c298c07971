"""Sealing channel credentials: the box's rules, and the settings that give it its keys."""

from __future__ import annotations

import base64
import os

import pytest
from flowlearn_nudges.adapters.sealed import (
    SEALED_PREFIX,
    SecretBox,
    UnopenableValue,
    decode_key,
    open_preferences,
    reseal_preferences,
    seal_preferences,
)
from flowlearn_nudges.settings import DEV_DESTINATIONS_KEY, NudgesSettings
from pydantic import ValidationError

URL = "https://hooks.slack.com/services/T0/B0/abc"


def key() -> bytes:
    return os.urandom(32)


def test_a_value_opens_only_with_its_key_and_context() -> None:
    k = key()
    box = SecretBox(k)
    sealed = box.seal(URL, "ana\x1fslack.webhook_url")
    assert sealed.startswith(SEALED_PREFIX)
    assert URL not in sealed
    assert box.seal(URL, "ana\x1fslack.webhook_url") != sealed  # a fresh nonce each time
    assert box.open(sealed, "ana\x1fslack.webhook_url") == URL
    with pytest.raises(UnopenableValue, match="moved"):
        box.open(sealed, "bob\x1fslack.webhook_url")
    with pytest.raises(UnopenableValue, match="not given"):
        SecretBox(key()).open(sealed, "ana\x1fslack.webhook_url")
    tampered = sealed[:-4] + ("AAAA" if sealed[-4:] != "AAAA" else "BBBB")
    with pytest.raises(UnopenableValue):
        box.open(tampered, "ana\x1fslack.webhook_url")
    # Stored before sealing: opens as itself.
    assert box.open(URL, "ana\x1fslack.webhook_url") == URL


def test_a_previous_key_opens_but_never_seals() -> None:
    old, new = key(), key()
    sealed_before = SecretBox(old).seal(URL, "ctx")
    rotated = SecretBox(new, [old])
    assert rotated.open(sealed_before, "ctx") == URL
    assert not rotated.is_current(sealed_before)
    assert SecretBox(new).open(rotated.seal(URL, "ctx"), "ctx") == URL


def test_preferences_seal_only_credentials_and_reseal_moves_them_to_the_new_key() -> None:
    old, new = key(), key()
    stored = {
        "daily_cap": 3,
        "destinations": {
            "slack": {"webhook_url": URL},
            "teams": None,
            "webhook": {"url": "https://example.com/hook", "secret": "x" * 24, "has_secret": True},
        },
    }
    sealed = seal_preferences(SecretBox(old), "ana", stored)
    assert sealed["daily_cap"] == 3
    assert sealed["destinations"]["webhook"]["url"] == "https://example.com/hook"
    assert sealed["destinations"]["slack"]["webhook_url"].startswith(SEALED_PREFIX)
    assert sealed["destinations"]["webhook"]["secret"].startswith(SEALED_PREFIX)
    assert stored["destinations"]["slack"] == {"webhook_url": URL}  # the input is not changed

    rotated = SecretBox(new, [old])
    resealed = reseal_preferences(rotated, "ana", sealed)
    assert resealed is not None
    assert reseal_preferences(rotated, "ana", resealed) is None  # nothing left to do
    assert open_preferences(SecretBox(new), "ana", resealed) == stored
    with pytest.raises(UnopenableValue):
        reseal_preferences(SecretBox(new), "ana", sealed)  # never dropped for want of a key
    # Read without the key: the destination is left unset, the rest kept.
    opened = open_preferences(SecretBox(new), "ana", sealed)
    assert opened["destinations"]["slack"] is None
    assert opened["destinations"]["webhook"] is None
    assert opened["daily_cap"] == 3


@pytest.mark.parametrize("text", ["not base64!", base64.b64encode(b"short").decode()])
def test_a_key_must_be_32_bytes_of_base64(text: str) -> None:
    with pytest.raises(ValueError, match="destinations key"):
        decode_key(text)
    with pytest.raises(ValidationError, match="destinations key") as caught:
        NudgesSettings(destinations_key=text)
    assert text not in str(caught.value)  # errors never echo a key


def test_production_refuses_the_development_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWLEARN_ENV", "production")
    with pytest.raises(ValidationError, match="destinations_key must be set"):
        NudgesSettings()
    with pytest.raises(ValidationError, match="destinations_key must be set"):
        NudgesSettings(destinations_key=DEV_DESTINATIONS_KEY)
    chosen = base64.b64encode(key()).decode()
    monkeypatch.setenv("FLOWLEARN_NUDGES_DESTINATIONS_KEY", chosen)
    monkeypatch.setenv("FLOWLEARN_NUDGES_DESTINATIONS_PREVIOUS_KEYS", f'["{DEV_DESTINATIONS_KEY}"]')
    settings = NudgesSettings()
    assert settings.destinations_key.get_secret_value() == chosen
    assert [k.get_secret_value() for k in settings.destinations_previous_keys] == [
        DEV_DESTINATIONS_KEY
    ]
