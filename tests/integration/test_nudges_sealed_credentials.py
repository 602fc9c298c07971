"""Channel credentials (Slack and Teams webhook URLs, a webhook's signing secret) are stored
sealed, over real NATS and SecantusDB: the database holds none of them in the clear, the
channels still get them, a sealed value does not open for another person, and keys rotate
with ``flowlearn-nudges-reseal``."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from flowlearn_nudges.adapters.channels.webhook import verify_signature
from flowlearn_nudges.adapters.people_repository import PeopleRepository
from flowlearn_nudges.adapters.sealed import SEALED_PREFIX, SecretBox, decode_key
from flowlearn_nudges.reseal import reseal
from flowlearn_nudges.settings import DEV_DESTINATIONS_KEY
from flowlearn_shared.contracts.nudges import Channel
from flowlearn_shared.subjects import RpcSubject
from nats.aio.client import Client
from nudges_channel_support import FakeClock, Receiver, ask, delivered_now, put_preferences
from nudges_support import MakeNudges, nudges_settings
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

pytestmark = pytest.mark.integration

SECRET = "s3cret-signing-key-0123456789"
Document = dict[str, Any]


@pytest.fixture
async def db(mongodb_uri: str, unique: str) -> AsyncIterator[AsyncDatabase[Document]]:
    """The test's nudges database, read and written as an operator (or a leaked dump) would."""
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    yield client[f"nudges_{unique}"]
    await client.close()


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def people_with(key: str, db: AsyncDatabase[Document], *previous: str) -> PeopleRepository:
    """What a nudges service given these destinations keys reads."""
    return PeopleRepository(db, SecretBox(decode_key(key), [decode_key(k) for k in previous]))


async def stored(db: AsyncDatabase[Document], user: str) -> Document:
    doc = await db["people"].find_one({"_id": user})
    assert doc is not None
    destinations: Document = doc["preferences"]["destinations"]
    return destinations


async def test_credentials_are_stored_sealed_and_the_channels_still_get_them(
    make_nudges: MakeNudges,
    nc: Client,
    receiver: Receiver,
    db: AsyncDatabase[Document],
    unique: str,
) -> None:
    clock = FakeClock()
    service = make_nudges(clock)
    await service.start()
    ana = f"ana-{unique}"
    slack_url = receiver.url(f"/slack/T0/B0/{unique}")
    hook = {"url": receiver.url("/hook"), "secret": SECRET}
    reply = await put_preferences(
        nc,
        ana,
        channels=["slack", "webhook"],
        destinations={"slack": {"webhook_url": slack_url}, "webhook": hook},
    )
    assert reply.get("problem") is None, reply

    # The database holds neither credential in the clear.
    raw = await db["people"].find_one({"_id": ana})
    dump = json.dumps(raw, default=str)
    assert slack_url not in dump
    assert unique not in dump.replace(ana, "")
    assert SECRET not in dump
    destinations = await stored(db, ana)
    assert destinations["slack"]["webhook_url"].startswith(SEALED_PREFIX)
    assert destinations["webhook"]["secret"].startswith(SEALED_PREFIX)
    assert destinations["webhook"]["url"] == hook["url"]  # only credentials are sealed

    # Their owner sees the URL; the secret stays write-only.
    shown = (await ask(nc, RpcSubject.NUDGES_GET_PREFERENCES, ana))["result"]["destinations"]
    assert shown["slack"] == {"webhook_url": slack_url}
    assert shown["webhook"] == {"url": hook["url"], "has_secret": True}

    # Sending opens them: Slack is posted to, the webhook signed with the secret.
    nudge = await delivered_now(service, ana, [Channel.SLACK, Channel.WEBHOOK], clock.now)
    report = await service.channels.dispatcher.tick()
    assert sorted(report.sent) == [(nudge.id, "slack"), (nudge.id, "webhook")]
    [posted] = receiver.at(f"/slack/T0/B0/{unique}")
    assert posted.json()["text"] == nudge.message
    [signed] = receiver.at("/hook")
    timestamp = signed.headers["X-Flowlearn-Timestamp"]
    assert verify_signature(SECRET, timestamp, signed.body, signed.headers["X-Flowlearn-Signature"])


async def test_a_sealed_value_does_not_open_for_another_person(
    make_nudges: MakeNudges, nc: Client, db: AsyncDatabase[Document], unique: str
) -> None:
    service = make_nudges()
    await service.start()
    ana, bob = f"ana-{unique}", f"bob-{unique}"
    for user in (ana, bob):
        url = f"https://hooks.slack.com/services/T0/B0/{user}"
        reply = await put_preferences(
            nc, user, channels=["slack"], destinations={"slack": {"webhook_url": url}}
        )
        assert reply.get("problem") is None, reply
    # Someone with write access to the database copies Ana's sealed URL onto Bob.
    anas = (await stored(db, ana))["slack"]["webhook_url"]
    await db["people"].update_one(
        {"_id": bob}, {"$set": {"preferences.destinations.slack.webhook_url": anas}}
    )

    bobs = (await ask(nc, RpcSubject.NUDGES_GET_PREFERENCES, bob))["result"]
    assert bobs["destinations"]["slack"] is None  # left unset, never Ana's URL
    anas_shown = (await ask(nc, RpcSubject.NUDGES_GET_PREFERENCES, ana))["result"]
    assert anas_shown["destinations"]["slack"] == {
        "webhook_url": f"https://hooks.slack.com/services/T0/B0/{ana}"
    }


async def test_keys_rotate_and_reseal_retires_the_old_key(
    make_nudges: MakeNudges,
    nc: Client,
    db: AsyncDatabase[Document],
    nats_url: str,
    mongodb_uri: str,
    unique: str,
) -> None:
    service = make_nudges()  # seals with the development key
    await service.start()
    ana, cy = f"ana-{unique}", f"cy-{unique}"
    ana_url = f"https://hooks.slack.com/services/T0/B0/{ana}"
    reply = await put_preferences(
        nc, ana, channels=["slack"], destinations={"slack": {"webhook_url": ana_url}}
    )
    assert reply.get("problem") is None, reply
    # Cy's preferences were stored before sealing existed: in the clear.
    cy_url = f"https://hooks.slack.com/services/T0/B0/{cy}"
    await db["people"].insert_one(
        {
            "_id": cy,
            "preferences": {
                "channels": ["in_app", "slack"],
                "destinations": {"slack": {"webhook_url": cy_url}},
            },
        }
    )
    assert (await people_with(DEV_DESTINATIONS_KEY, db).get(cy)).preferences.destinations.slack

    rotated = new_key()
    # A new key alone cannot open what the old one sealed; reseal without it changes nothing.
    alone = nudges_settings(nats_url, mongodb_uri, unique, destinations_key=rotated)
    before = await stored(db, ana)
    assert await reseal(alone) == 1
    assert await stored(db, ana) == before
    assert (await people_with(rotated, db).get(ana)).preferences.destinations.slack is None

    # With the old key kept as a previous key, reseal seals everything under the new one.
    both = nudges_settings(
        nats_url,
        mongodb_uri,
        unique,
        destinations_key=rotated,
        destinations_previous_keys=[DEV_DESTINATIONS_KEY],
    )
    assert await reseal(both) == 0
    cys = (await stored(db, cy))["slack"]["webhook_url"]
    assert cys.startswith(SEALED_PREFIX)
    assert cy not in cys
    # Now the new key alone opens both, and the old key opens neither.
    for user, url in ((ana, ana_url), (cy, cy_url)):
        slack = (await people_with(rotated, db).get(user)).preferences.destinations.slack
        assert slack is not None
        assert slack.webhook_url == url
        assert (
            await people_with(DEV_DESTINATIONS_KEY, db).get(user)
        ).preferences.destinations.slack is None
    # Running it again finds nothing to do.
    after = {user: await stored(db, user) for user in (ana, cy)}
    assert await reseal(both) == 0
    assert {user: await stored(db, user) for user in (ana, cy)} == after
