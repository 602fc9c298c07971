"""Outside channels over real NATS and SecantusDB, each against a receiver on 127.0.0.1
started by the test: Slack Block Kit, a Teams Adaptive Card, a signed webhook, e-mail over
SMTP, a digest as one message, and the channel settings people save (SSRF refusal in
production, the webhook secret never shown)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flowlearn_cli import servers
from flowlearn_nudges.adapters.channels.webhook import verify_signature
from flowlearn_nudges.bootstrap import Nudges
from flowlearn_nudges.domain.catalogue import Origin
from flowlearn_nudges.domain.nudge import NudgeSpec
from flowlearn_shared.contracts.nudges import Channel, NudgeStatus, NudgeType
from flowlearn_shared.subjects import RpcSubject
from nats.aio.client import Client
from nudges_channel_support import (
    FakeClock,
    Receiver,
    ask,
    delivered_now,
    inbox_item,
    put_preferences,
    smtp_server,
)
from nudges_support import MakeNudges

pytestmark = pytest.mark.integration

SECRET = "s3cret-signing-key-0123456789"


@pytest.fixture
def make_service(make_nudges: MakeNudges) -> MakeNudges:
    """Nudges replicas on one database; scheduler and channel sender are driven by hand."""

    def make(clock: FakeClock, **overrides: Any) -> Nudges:
        return make_nudges(
            clock, **{"hub_nudge_url": "https://hub.example/nudges/{id}", **overrides}
        )

    return make


async def test_slack_gets_block_kit_and_the_inbox_shows_it_sent(
    make_service: MakeNudges, nc: Client, receiver: Receiver, unique: str
) -> None:
    clock = FakeClock()
    service = make_service(clock)
    await service.start()
    ana = f"ana-{unique}"
    reply = await put_preferences(
        nc,
        ana,
        channels=["slack"],
        destinations={"slack": {"webhook_url": receiver.url("/slack")}},
    )
    assert reply.get("problem") is None, reply
    # The way a nudge really goes: the scheduler delivers in-app, the sender does the rest.
    nudge = await delivered_now(service, ana, [Channel.SLACK], clock.now)
    item = await inbox_item(nc, ana, nudge.id)
    assert item["deliveries"]["slack"]["status"] == "pending"

    report = await service.channels.dispatcher.tick()

    assert report.sent == [(nudge.id, "slack")]
    [request] = receiver.at("/slack")
    payload = request.json()
    assert payload["text"] == nudge.message
    header, section, actions = payload["blocks"]
    assert header == {"type": "header", "text": {"type": "plain_text", "text": "Time to reflect"}}
    assert section["type"] == "section"
    assert section["text"] == {"type": "mrkdwn", "text": nudge.message}
    assert actions["type"] == "actions"
    assert actions["elements"][0]["type"] == "button"
    assert actions["elements"][0]["url"] == f"https://hub.example/nudges/{nudge.id}"
    assert request.headers["Content-Type"] == "application/json"
    item = await inbox_item(nc, ana, nudge.id)
    assert item["deliveries"]["slack"]["status"] == "delivered"
    assert item["deliveries"]["slack"]["attempts"] == 1
    assert item["deliveries"]["in_app"]["status"] == "delivered"
    assert (await service.channels.dispatcher.tick()).claimed == 0  # nothing left to send


async def test_scheduler_delivery_reaches_teams_as_an_adaptive_card(
    make_service: MakeNudges, nc: Client, receiver: Receiver, unique: str
) -> None:
    clock = FakeClock()
    service = make_service(clock)
    await service.start()
    bo = f"bo-{unique}"
    await put_preferences(
        nc, bo, channels=["teams"], destinations={"teams": {"webhook_url": receiver.url("/t")}}
    )
    # A rule nudge due now, delivered by the scheduler with bo's channels.
    spec = NudgeSpec(
        id=f"n-{unique}",
        user_id=bo,
        type=NudgeType.EVENT_FOLLOWUP,
        wanted_at=clock.now,
        origin=Origin.RULE,
    )

    async def plan(session: Any) -> None:
        await service.planner.schedule(spec, session)

    await service.api.uow.run(plan)
    assert (await service.scheduler.tick()).delivered == [spec.id]

    await service.channels.dispatcher.tick()

    [request] = receiver.at("/t")
    payload = request.json()
    assert payload["type"] == "message"
    [attachment] = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert tuple(int(p) for p in card["version"].split(".")) >= (1, 4)
    assert [b["type"] for b in card["body"]] == ["TextBlock", "TextBlock"]
    assert card["body"][0]["text"] == "After the session"
    assert card["body"][1]["text"].startswith("How was the session?")
    assert card["actions"][0]["type"] == "Action.OpenUrl"
    assert card["actions"][0]["url"] == f"https://hub.example/nudges/{spec.id}"
    item = await inbox_item(nc, bo, spec.id)
    assert item["deliveries"]["teams"]["status"] == "delivered"


async def test_webhook_is_signed_and_its_secret_is_never_shown(
    make_service: MakeNudges, nc: Client, receiver: Receiver, unique: str
) -> None:
    clock = FakeClock()
    service = make_service(clock)
    await service.start()
    cy = f"cy-{unique}"
    hook = {"url": receiver.url("/hook"), "secret": SECRET}
    reply = await put_preferences(nc, cy, channels=["webhook"], destinations={"webhook": hook})
    shown = reply["result"]["destinations"]["webhook"]
    assert shown == {"url": receiver.url("/hook"), "has_secret": True}
    got = (await ask(nc, RpcSubject.NUDGES_GET_PREFERENCES, cy))["result"]
    assert got["destinations"]["webhook"] == shown
    # Saving what was shown (no secret) keeps the secret.
    again = await put_preferences(nc, cy, channels=["webhook"], destinations={"webhook": shown})
    assert again["result"]["destinations"]["webhook"]["has_secret"] is True

    nudge = await delivered_now(service, cy, [Channel.WEBHOOK], clock.now)
    await service.channels.dispatcher.tick()

    [request] = receiver.at("/hook")
    timestamp = request.headers["X-Flowlearn-Timestamp"]
    signature = request.headers["X-Flowlearn-Signature"]
    assert signature.startswith("sha256=")
    assert verify_signature(SECRET, timestamp, request.body, signature)
    assert not verify_signature("another-secret-0123456789", timestamp, request.body, signature)
    assert not verify_signature(SECRET, timestamp, request.body + b" ", signature)
    old = time.time() + 301  # the same request, replayed five minutes later
    assert not verify_signature(SECRET, timestamp, request.body, signature, 300, now=old)
    body = request.json()
    assert body["id"] == nudge.id
    assert body["type"] == "reflect"
    assert body["message"] == nudge.message
    assert body["user_id"] == cy
    assert body["delivered_at"].startswith("2026-06-10T10:00:00")
    assert body["link"] == f"https://hub.example/nudges/{nudge.id}"
    assert request.headers["X-Flowlearn-Delivery"] == body["delivery_id"]


async def test_a_webhook_needs_a_secret_and_a_listed_channel_its_destination(
    make_service: MakeNudges, nc: Client, receiver: Receiver, unique: str
) -> None:
    service = make_service(FakeClock())
    await service.start()
    dee = f"dee-{unique}"
    reply = await put_preferences(
        nc, dee, channels=["webhook"], destinations={"webhook": {"url": receiver.url("/h")}}
    )
    assert reply["problem"]["status"] == 422
    locs = [e["loc"] for e in reply["problem"]["errors"]]
    assert ["preferences", "destinations", "webhook", "secret"] in locs
    reply = await put_preferences(nc, dee, channels=["slack", "email"])
    locs = [e["loc"] for e in reply["problem"]["errors"]]
    assert ["preferences", "destinations", "slack"] in locs
    assert ["preferences", "destinations", "email"] in locs  # and no SMTP server is set up
    reply = await put_preferences(
        nc, dee, channels=["slack"], destinations={"slack": {"webhook_url": "ftp://x/y"}}
    )
    assert reply["problem"]["status"] == 422
    # Nothing was saved.
    got = (await ask(nc, RpcSubject.NUDGES_GET_PREFERENCES, dee))["result"]
    assert got["channels"] == ["in_app"]


async def test_email_arrives_over_smtp(make_service: MakeNudges, nc: Client, unique: str) -> None:
    port = servers.free_port()
    controller, mailbox = smtp_server(port)
    try:
        clock = FakeClock()
        service = make_service(
            clock,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_starttls=False,
            smtp_from="Flowlearn <nudges@flowlearn.test>",
        )
        await service.start()
        eve = f"eve-{unique}"
        reply = await put_preferences(
            nc, eve, channels=["email"], destinations={"email": {"address": "eve@example.com"}}
        )
        assert reply.get("problem") is None, reply
        nudge = await delivered_now(service, eve, [Channel.EMAIL], clock.now)

        report = await service.channels.dispatcher.tick()

        assert report.sent == [(nudge.id, "email")]
        [(recipients, message)] = mailbox.messages
        assert recipients == ["eve@example.com"]
        assert message["Subject"] == f"Time to reflect: {nudge.message}"
        assert message["From"] == "Flowlearn <nudges@flowlearn.test>"
        text = message.get_body(preferencelist=("plain",))
        assert text is not None
        assert nudge.message in text.get_content()
        assert f"https://hub.example/nudges/{nudge.id}" in text.get_content()
        assert message.get_body(preferencelist=("html",)) is not None
        assert (await inbox_item(nc, eve, nudge.id))["deliveries"]["email"]["status"] == (
            "delivered"
        )
    finally:
        controller.stop()


async def test_a_digest_goes_out_as_one_message_at_the_digest_time(
    make_service: MakeNudges, nc: Client, receiver: Receiver, unique: str
) -> None:
    clock = FakeClock()  # Wednesday 10:00 UTC
    service = make_service(clock, channel_digest_gather_seconds=30)
    await service.start()
    fay = f"fay-{unique}"
    await put_preferences(
        nc,
        fay,
        channels=["slack"],
        digest={"enabled": True, "at": "16:30"},
        # Only the three nudges below: no recurring ones in the way.
        types={"reflect": {"enabled": False}, "learning_habit": {"enabled": False}},
        destinations={"slack": {"webhook_url": receiver.url("/digest")}},
    )
    specs = [
        NudgeSpec(id=f"{unique}-{i}", user_id=fay, type=t, wanted_at=clock.now, origin=Origin.RULE)
        for i, t in enumerate(
            [NudgeType.EVENT_FOLLOWUP, NudgeType.HELP_REQUEST, NudgeType.MISTAKE_MOMENT]
        )
    ]

    async def plan(session: Any) -> None:
        for spec in specs:
            await service.planner.schedule(spec, session)

    await service.api.uow.run(plan)
    assert (await service.scheduler.tick()).delivered == []  # held for the digest
    clock.advance(hours=6, minutes=30)  # 16:30, the digest time
    assert sorted((await service.scheduler.tick()).delivered) == sorted(s.id for s in specs)
    await service.channels.dispatcher.tick()
    assert receiver.at("/digest") == []  # gathering what else arrives with it
    clock.advance(seconds=31)

    report = await service.channels.dispatcher.tick()

    assert report.messages == 1
    [request] = receiver.at("/digest")
    payload = request.json()
    assert payload["blocks"][0]["text"]["text"] == "Your Flowlearn digest"
    sections = [b for b in payload["blocks"] if b["type"] == "section"]
    assert len(sections) == 3
    assert {s["accessory"]["url"] for s in sections} == {
        f"https://hub.example/nudges/{s.id}" for s in specs
    }
    for spec in specs:
        item = await inbox_item(nc, fay, spec.id)
        assert item["status"] == NudgeStatus.DELIVERED
        assert item["deliveries"]["slack"]["status"] == "delivered"


async def test_a_channel_turned_off_before_sending_is_not_used(
    make_service: MakeNudges, nc: Client, receiver: Receiver, unique: str
) -> None:
    clock = FakeClock()
    service = make_service(clock)
    await service.start()
    hal = f"hal-{unique}"
    slack = {"slack": {"webhook_url": receiver.url("/off")}}
    await put_preferences(nc, hal, channels=["slack"], destinations=slack)
    nudge = await delivered_now(service, hal, [Channel.SLACK], clock.now)
    await put_preferences(nc, hal, channels=["in_app"], destinations=slack)

    assert (await service.channels.dispatcher.tick()).failed == 1

    assert receiver.at("/off") == []
    state = (await inbox_item(nc, hal, nudge.id))["deliveries"]["slack"]
    assert state["status"] == "failed"
    assert state["error"] == "slack was turned off before it was sent"
