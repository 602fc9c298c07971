"""Webhook URLs are user input. In production the nudges service refuses those that lead
into its own network, when they are saved and again when a message is sent (a DNS answer
may change in between); in dev and test they are allowed. Real NATS and SecantusDB."""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest
from flowlearn_nudges.bootstrap import Nudges
from flowlearn_shared.contracts.nudges import Channel
from nats.aio.client import Client
from nudges_channel_support import (
    FakeClock,
    Receiver,
    delivered_now,
    inbox_item,
    put_preferences,
)
from nudges_support import MakeNudges

pytestmark = pytest.mark.integration

SECRET = "s3cret-signing-key-0123456789"
INTERNAL = [
    "http://127.0.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "http://192.168.1.20:8080/hook",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://0.0.0.0/",
    "http://localhost:8080/",  # a name that resolves to loopback
]


class FakeDns:
    """Answers the test chooses, per host name."""

    def __init__(self) -> None:
        self.answers: dict[str, list[str]] = {}

    async def __call__(self, host: str, port: int) -> list[str]:
        if host not in self.answers:
            raise OSError(f"no such host {host}")
        return self.answers[host]


@pytest.fixture
def make_service(make_nudges: MakeNudges) -> MakeNudges:
    def make(env: str, **overrides: Any) -> Nudges:
        # Production refuses the public development key.
        return make_nudges(
            env=env, destinations_key=base64.b64encode(os.urandom(32)).decode(), **overrides
        )

    return make


def destinations(url: str) -> dict[str, Any]:
    return {
        "slack": {"webhook_url": url},
        "teams": {"webhook_url": url},
        "webhook": {"url": url, "secret": SECRET},
    }


async def test_production_refuses_internal_addresses_when_saved(
    make_service: MakeNudges, nc: Client, unique: str
) -> None:
    await make_service("production").start()
    ana = f"ana-{unique}"
    for url in INTERNAL:
        reply = await put_preferences(
            nc, ana, channels=["slack", "teams", "webhook"], destinations=destinations(url)
        )
        problem = reply.get("problem")
        assert problem is not None, url
        assert problem["status"] == 422, url
        errors = {tuple(e["loc"][2:]): e["msg"] for e in problem["errors"]}
        assert set(errors) == {
            ("slack", "webhook_url"),
            ("teams", "webhook_url"),
            ("webhook", "url"),
        }
        assert all("only public addresses are allowed" in msg for msg in errors.values()), errors
    reply = await put_preferences(
        nc,
        ana,
        channels=["slack"],
        destinations={"slack": {"webhook_url": "http://169.254.169.254/"}},
    )
    [error] = reply["problem"]["errors"]
    assert error["msg"] == (
        "169.254.169.254 is a link-local address; only public addresses are allowed"
    )


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "gopher://example.com/", "https://user:pw@example.com/hook"]
)
async def test_only_plain_http_urls_are_accepted(
    make_service: MakeNudges, nc: Client, unique: str, url: str
) -> None:
    await make_service("production").start()
    reply = await put_preferences(
        nc, f"bo-{unique}", channels=["slack"], destinations={"slack": {"webhook_url": url}}
    )
    assert reply["problem"]["status"] == 422


async def test_every_address_of_a_name_is_checked(
    make_service: MakeNudges, nc: Client, unique: str
) -> None:
    service = make_service("production")
    dns = FakeDns()
    service.channels.guard.resolver = dns
    await service.start()
    dns.answers["hooks.example.com"] = ["93.184.216.34", "10.1.2.3"]
    dns.answers["fine.example.com"] = ["93.184.216.34", "2606:2800:220:1::1"]
    cy = f"cy-{unique}"
    reply = await put_preferences(
        nc,
        cy,
        channels=["slack"],
        destinations={"slack": {"webhook_url": "https://hooks.example.com/x"}},
    )
    [error] = reply["problem"]["errors"]
    assert "hooks.example.com resolves to 10.1.2.3" in error["msg"]
    reply = await put_preferences(
        nc,
        cy,
        channels=["slack"],
        destinations={"slack": {"webhook_url": "https://fine.example.com/x"}},
    )
    assert reply.get("problem") is None, reply
    reply = await put_preferences(
        nc,
        cy,
        channels=["slack"],
        destinations={"slack": {"webhook_url": "https://nowhere.example.com/x"}},
    )
    assert "cannot be resolved" in reply["problem"]["errors"][0]["msg"]


async def test_the_address_is_checked_again_when_sending(
    make_service: MakeNudges, nc: Client, receiver: Receiver, unique: str
) -> None:
    """DNS rebinding: public when saved, loopback by the time the message goes out."""
    clock = FakeClock()
    service = make_service("production")
    service.channels.dispatcher.clock = clock
    dns = FakeDns()
    service.channels.guard.resolver = dns
    await service.start()
    dee = f"dee-{unique}"
    url = f"http://hooks.example.com:{receiver.port}/rebound"
    dns.answers["hooks.example.com"] = ["93.184.216.34"]
    hook = {"url": url, "secret": SECRET}
    reply = await put_preferences(nc, dee, channels=["webhook"], destinations={"webhook": hook})
    assert reply.get("problem") is None, reply
    dns.answers["hooks.example.com"] = ["127.0.0.1"]  # now it points at us
    nudge = await delivered_now(service, dee, [Channel.WEBHOOK], clock.now)

    report = await service.channels.dispatcher.tick()

    assert report.failed == 1
    assert receiver.requests == []
    webhook = (await inbox_item(nc, dee, nudge.id))["deliveries"]["webhook"]
    assert webhook["status"] == "failed"
    assert webhook["attempts"] == 0
    assert "resolves to 127.0.0.1, which is a loopback address" in webhook["error"]


async def test_dev_and_test_allow_local_addresses(
    make_service: MakeNudges, nc: Client, receiver: Receiver, unique: str
) -> None:
    clock = FakeClock()
    service = make_service("test")
    service.channels.dispatcher.clock = clock
    await service.start()
    eve = f"eve-{unique}"
    for url in INTERNAL:
        reply = await put_preferences(
            nc, eve, channels=["slack", "teams", "webhook"], destinations=destinations(url)
        )
        assert reply.get("problem") is None, (url, reply)
    await put_preferences(
        nc, eve, channels=["slack"], destinations={"slack": {"webhook_url": receiver.url("/ok")}}
    )
    await delivered_now(service, eve, [Channel.SLACK], clock.now)
    assert len((await service.channels.dispatcher.tick()).sent) == 1
    assert len(receiver.at("/ok")) == 1
