"""The baseline for the journal write benchmark: one FastAPI process that writes a journal
entry straight to MongoDB with PyMongo's async API. No NATS, no second service.

It does the same request work as the gateway (bearer token verified with PyJWT, body
validated with the same ``EntryCreate`` model, the same ``EntryPublic`` reply with
``Location`` and ``ETag``), and the same entry document under the same indexes. Two routes:

- ``POST /v1/journal/entries``: one ``insert_one`` (the plain baseline);
- ``POST /txn/v1/journal/entries``: the entry and an outbox record holding the serialized
  ``JournalEntryCreated`` event in one transaction, as the journal writes them, but with
  no hop and no relay;
- ``POST /hop/v1/journal/entries``: the entry document as BSON in a plain nats-py request
  to ``bench.hop_responder``, a second process that does the ``insert_one`` and acks
  (only when ``BENCH_BARE_NATS_URL`` is set).

Run as ``python -m bench.bare_app``; configured by ``BENCH_BARE_*`` environment variables.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import uuid4

import bson
import jwt
import uvicorn
from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from flowlearn_shared.contracts.journal import EntryCreate, EntryPublic
from flowlearn_shared.events import JournalEntryCreated, JournalEntryFacts, serialize_event
from nats.aio.client import Client
from nats.errors import TimeoutError as NatsTimeout
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession

from bench.hop_responder import SUBJECT as HOP_SUBJECT

Document = dict[str, Any]

MONGODB_URI = os.environ.get("BENCH_BARE_MONGODB_URI", "mongodb://127.0.0.1:27017/")
DATABASE = os.environ.get("BENCH_BARE_DATABASE", "bench_bare")
SECRET = os.environ.get("BENCH_BARE_JWT_SECRET", "")
NATS_URL = os.environ.get("BENCH_BARE_NATS_URL", "")
_bearer = HTTPBearer(auto_error=False)


def current_user(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    if credentials is None:
        raise HTTPException(401, "A bearer token is required")
    try:
        claims = jwt.decode(
            credentials.credentials, SECRET, algorithms=["HS256"], options={"require": ["sub"]}
        )
    except jwt.PyJWTError:
        raise HTTPException(401, "The token is invalid") from None
    return str(claims["sub"])


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(MONGODB_URI, tz_aware=True)
    app.state.client = client
    app.state.db = db = client[DATABASE]
    # The journal's indexes, so each insert maintains the same ones.
    newest = [("occurred_on", -1), ("created_at", -1), ("_id", -1)]
    await db["entries"].create_index([("owner_id", 1), *newest], name="owner_newest")
    await db["entries"].create_index([("owner_id", 1), ("kind", 1), *newest], name="owner_kind")
    await db["entries"].create_index([("owner_id", 1), ("tags", 1), *newest], name="owner_tags")
    await db["outbox"].create_index([("published_at", 1), ("created_at", 1)], name="pending")
    await db["outbox"].create_index(
        "published_at", name="published_ttl", expireAfterSeconds=7 * 24 * 3600
    )
    nc = Client()
    if NATS_URL:
        await nc.connect(NATS_URL, name="bench-bare")
    app.state.nats = nc
    yield
    if NATS_URL:
        await nc.drain()
    await client.close()


app = FastAPI(lifespan=lifespan)
User = Annotated[str, Depends(current_user)]


def now_ms() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def entry_document(owner: str, entry: EntryCreate) -> Document:
    now = now_ms()
    return {
        "_id": str(uuid4()),
        "owner_id": owner,
        "kind": entry.kind.value,
        "title": entry.title,
        "body": entry.body,
        "tags": entry.tags,
        "skills": entry.skills,
        "occurred_on": (entry.occurred_on or now.date()).isoformat(),
        "minutes": entry.minutes,
        "nudge_id": entry.nudge_id,
        "evidence": entry.evidence.model_dump() if entry.evidence else None,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }


def outbox_record(doc: Document) -> Document:
    event = JournalEntryCreated(
        source="bench/bare",
        subject=doc["owner_id"],
        time=doc["created_at"],
        data=JournalEntryFacts(
            entry_id=doc["_id"],
            owner_id=doc["owner_id"],
            kind=doc["kind"],
            tags=doc["tags"],
            skills=doc["skills"],
            nudge_id=doc["nudge_id"],
            occurred_on=doc["occurred_on"],
            minutes=doc["minutes"],
        ),
    )
    return {
        "_id": str(event.id),
        "subject": event.type.value,
        "payload": serialize_event(event).decode(),
        "created_at": datetime.now(UTC),
        "published_at": None,
        "attempts": 0,
    }


def reply(doc: Document, response: Response) -> EntryPublic:
    response.headers["Location"] = f"/v1/journal/entries/{doc['_id']}"
    response.headers["ETag"] = f'"{doc["version"]}"'
    return EntryPublic.model_validate({**doc, "id": doc["_id"]})


@app.post("/v1/journal/entries", response_model=EntryPublic, status_code=201)
async def create_entry(
    entry: EntryCreate, user: User, request: Request, response: Response
) -> EntryPublic:
    doc = entry_document(user, entry)
    await request.app.state.db["entries"].insert_one(doc)
    return reply(doc, response)


@app.post("/txn/v1/journal/entries", response_model=EntryPublic, status_code=201)
async def create_entry_with_outbox(
    entry: EntryCreate, user: User, request: Request, response: Response
) -> EntryPublic:
    doc = entry_document(user, entry)
    db = request.app.state.db

    async def work(session: AsyncClientSession) -> None:
        await db["entries"].insert_one(doc, session=session)
        await db["outbox"].insert_one(outbox_record(doc), session=session)

    async with request.app.state.client.start_session() as session:
        await session.with_transaction(work)
    return reply(doc, response)


@app.post("/hop/v1/journal/entries", response_model=EntryPublic, status_code=201)
async def create_entry_over_nats(
    entry: EntryCreate, user: User, request: Request, response: Response
) -> EntryPublic:
    doc = entry_document(user, entry)
    try:
        # BSON keeps the datetimes and is encoded in C: the cheapest body for this hop.
        answer = await request.app.state.nats.request(HOP_SUBJECT, bson.encode(doc), timeout=10)
    except NatsTimeout:
        raise HTTPException(504, "The hop responder did not answer") from None
    ack = json.loads(answer.data)
    if not ack.get("ok"):
        raise HTTPException(502, f"The hop responder failed: {ack.get('error')}")
    return reply(doc, response)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def main() -> None:
    # uvicorn's defaults (uvloop and httptools when installed, one access-log line per
    # request), as the gateway runs.
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["BENCH_BARE_PORT"]))


if __name__ == "__main__":
    main()
