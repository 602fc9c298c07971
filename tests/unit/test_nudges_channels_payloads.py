"""What each outside channel receives, and the channel settings a person saves, without
servers: Slack Block Kit, a Teams Adaptive Card, the signed webhook body, the e-mail, and
the write-only webhook secret."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from flowlearn_nudges.adapters.channels.email import email_message
from flowlearn_nudges.adapters.channels.slack import slack_payload
from flowlearn_nudges.adapters.channels.teams import teams_payload
from flowlearn_nudges.adapters.channels.webhook import sign, verify_signature, webhook_body
from flowlearn_nudges.domain.delivery import Outgoing, OutgoingItem
from flowlearn_nudges.service_layer.destinations import public_preferences
from flowlearn_shared.contracts.nudges import (
    Channel,
    NudgePreferences,
    NudgeType,
    WebhookDestination,
)
from pydantic import ValidationError

pytestmark = pytest.mark.unit

AT = datetime(2026, 6, 10, 14, 30, tzinfo=UTC)


def item(nudge_id: str = "n1", message: str = "What have you learned today?") -> OutgoingItem:
    return OutgoingItem(
        nudge_id=nudge_id,
        type=NudgeType.REFLECT,
        message=message,
        link=f"https://hub.example/nudges/{nudge_id}",
        delivered_at=AT,
    )


def outgoing(*items: OutgoingItem, channel: Channel = Channel.SLACK) -> Outgoing:
    return Outgoing(
        delivery_id="d1",
        user_id="ana",
        channel=channel,
        items=items or (item(),),
        hub_link="https://hub.example/nudges/",
    )


def test_slack_single_nudge_is_header_section_and_button() -> None:
    payload = slack_payload(outgoing(item(message="Fix <b> & ship > 1")))
    assert payload["text"] == "Fix <b> & ship > 1"
    header, section, actions = payload["blocks"]
    assert header["type"] == "header"
    assert header["text"] == {"type": "plain_text", "text": "Time to reflect"}
    assert section["text"] == {"type": "mrkdwn", "text": "Fix &lt;b&gt; &amp; ship &gt; 1"}
    [button] = actions["elements"]
    assert button["type"] == "button"
    assert button["url"] == "https://hub.example/nudges/n1"


def test_slack_digest_lists_each_nudge_with_its_link() -> None:
    payload = slack_payload(outgoing(item("a"), item("b"), item("c")))
    types = [b["type"] for b in payload["blocks"]]
    assert types == ["header", "section", "section", "section", "actions"]
    assert payload["blocks"][0]["text"]["text"] == "Your Flowlearn digest"
    assert payload["text"] == "3 nudges for you today"
    links = [b["accessory"]["url"] for b in payload["blocks"] if b["type"] == "section"]
    assert links == [f"https://hub.example/nudges/{x}" for x in "abc"]


def test_slack_respects_block_kit_limits() -> None:
    long = slack_payload(outgoing(item(message="x" * 5000)))
    assert len(long["blocks"][1]["text"]["text"]) == 3000
    many = slack_payload(outgoing(*(item(str(i)) for i in range(60))))
    assert len(many["blocks"]) <= 50
    assert many["blocks"][-2] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "and 40 more"}],
    }


def test_teams_gets_an_adaptive_card_attachment() -> None:
    payload = teams_payload(outgoing(channel=Channel.TEAMS))
    assert payload["type"] == "message"
    [attachment] = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.4"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert [(b["type"], b["text"]) for b in card["body"]] == [
        ("TextBlock", "Time to reflect"),
        ("TextBlock", "What have you learned today?"),
    ]
    assert all(b["wrap"] for b in card["body"])
    assert card["actions"] == [
        {
            "type": "Action.OpenUrl",
            "title": "Open in Flowlearn",
            "url": "https://hub.example/nudges/n1",
        }
    ]


def test_webhook_body_for_one_nudge_and_for_a_digest() -> None:
    body = webhook_body(outgoing(channel=Channel.WEBHOOK), sent_at=1_781_100_000)
    assert body == {
        "id": "n1",
        "type": "reflect",
        "message": "What have you learned today?",
        "link": "https://hub.example/nudges/n1",
        "delivered_at": "2026-06-10T14:30:00+00:00",
        "context": {},
        "user_id": "ana",
        "delivery_id": "d1",
        "attempt": 1,
        "sent_at": 1_781_100_000,
    }
    digest = webhook_body(outgoing(item("a"), item("b")), sent_at=1)
    assert (digest["id"], digest["type"]) == ("d1", "digest")
    assert [i["id"] for i in digest["items"]] == ["a", "b"]


def test_signature_verifies_only_with_the_secret_body_and_a_fresh_timestamp() -> None:
    secret, timestamp = "0123456789abcdef", "1781100000"
    body = json.dumps({"id": "n1"}).encode()
    signature = sign(secret, timestamp, body)
    assert signature.startswith("sha256=")
    assert len(signature) == len("sha256=") + 64
    now = 1_781_100_010.0
    assert verify_signature(secret, timestamp, body, signature, now=now)
    assert not verify_signature("fedcba9876543210", timestamp, body, signature, now=now)
    assert not verify_signature(secret, timestamp, body + b"x", signature, now=now)
    assert not verify_signature(secret, "1781100001", body, signature, now=now)
    assert not verify_signature(secret, timestamp, body, signature, tolerance=300, now=now + 400)
    assert not verify_signature(secret, "yesterday", body, signature, now=now)


def test_email_has_subject_text_and_html() -> None:
    message = email_message(outgoing(channel=Channel.EMAIL), "Flowlearn <n@x.test>", "a@x.test")
    assert message["Subject"] == "Time to reflect: What have you learned today?"
    assert (message["From"], message["To"]) == ("Flowlearn <n@x.test>", "a@x.test")
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert "https://hub.example/nudges/n1" in text.get_content()
    assert 'href="https://hub.example/nudges/n1"' in html.get_content()
    digest = email_message(outgoing(item("a"), item("b")), "n@x.test", "a@x.test")
    assert digest["Subject"] == "Your Flowlearn digest"


def test_the_webhook_secret_is_write_only() -> None:
    preferences = NudgePreferences.model_validate(
        {"destinations": {"webhook": {"url": "https://h.example/", "secret": "x" * 20}}}
    )
    assert "x" * 20 not in repr(preferences)
    shown = public_preferences(preferences).model_dump(mode="json")
    assert shown["destinations"]["webhook"] == {"url": "https://h.example/", "has_secret": True}
    stored = preferences.model_dump(mode="json")  # what the service keeps
    assert stored["destinations"]["webhook"]["secret"] == "x" * 20


@pytest.mark.parametrize(
    "destinations",
    [
        {"slack": {"webhook_url": "ftp://h.example/"}},
        {"slack": {"webhook_url": "https://u:p@h.example/"}},
        {"teams": {"webhook_url": "https://h.example:99999/"}},
        {"teams": {"webhook_url": "https://h .example/"}},
        {"webhook": {"url": "https://h.example/", "secret": "short"}},
        {"webhook": {"url": "javascript:alert(1)"}},
        {"email": {"address": "not-an-address"}},
        {"email": {"address": "a@b.example\r\nBcc: x@y.example"}},
        {"pager": {"number": "1"}},
    ],
)
def test_bad_destinations_are_refused_by_the_contract(destinations: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        NudgePreferences.model_validate({"destinations": destinations})


def test_webhook_destination_accepts_a_plain_url() -> None:
    hook = WebhookDestination(url="https://hooks.example.com/flowlearn?team=1")
    assert hook.secret is None
    assert hook.model_dump() == {
        "url": "https://hooks.example.com/flowlearn?team=1",
        "has_secret": False,
    }
