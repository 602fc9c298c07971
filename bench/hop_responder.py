"""The second process of the journal write benchmark's "bare hop" baseline: raw nats-py (no
FastStream) answering ``bench.hop.entries.create`` in a queue group. Each request carries an
entry document as BSON (what ``bench.bare_app`` built); the responder does one
``insert_one`` of it into the same ``entries`` collection and replies with a small ack. No
outbox, no transaction, no validation: the floor of a NATS hop to a service that writes.

Run as ``python -m bench.hop_responder``; configured by ``BENCH_HOP_*`` environment
variables. It listens on ``BENCH_HOP_PORT`` (TCP, nothing served) once it is subscribed, so
``ManagedProcess`` sees it ready; SIGTERM drains the subscription and stops it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from typing import Any

import bson
from bson.codec_options import CodecOptions
from nats.aio.client import Client
from nats.aio.msg import Msg
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

Document = dict[str, Any]

SUBJECT = "bench.hop.entries.create"
QUEUE = "bench-hop"
CONCURRENCY = 16  # requests handled at once, as the journal's RPC subscribers do
NATS_URL = os.environ.get("BENCH_HOP_NATS_URL", "nats://127.0.0.1:4222")
MONGODB_URI = os.environ.get("BENCH_HOP_MONGODB_URI", "mongodb://127.0.0.1:27017/")
DATABASE = os.environ.get("BENCH_HOP_DATABASE", "bench_bare")
# tz_aware: the datetimes come back as the aware UTC values the app built, so the stored
# document is the same as the bare route's.
CODEC: CodecOptions[Document] = CodecOptions(tz_aware=True)
OK = json.dumps({"ok": True}).encode()


class Responder:
    def __init__(self, entries: AsyncCollection[Document]) -> None:
        self.entries = entries
        self.slots = asyncio.Semaphore(CONCURRENCY)
        self.tasks: set[asyncio.Task[None]] = set()

    async def receive(self, msg: Msg) -> None:
        """nats-py awaits a subscription's callback before the next message, so the work
        goes to a task of its own; the semaphore bounds how many run."""
        await self.slots.acquire()
        task = asyncio.create_task(self.handle(msg))
        self.tasks.add(task)
        task.add_done_callback(self.done)

    def done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        self.slots.release()

    async def handle(self, msg: Msg) -> None:
        try:
            await self.entries.insert_one(bson.decode(msg.data, CODEC))
            answer = OK
        except Exception as exc:  # the caller turns a failed ack into an error reply
            answer = json.dumps({"ok": False, "error": repr(exc)}).encode()
        await msg.respond(answer)

    async def finish(self) -> None:
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)


async def ready_port(port: int) -> asyncio.Server:
    """A TCP port that accepts and closes connections: the readiness signal."""

    async def close(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    return await asyncio.start_server(close, "127.0.0.1", port)


async def serve() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    mongo: AsyncMongoClient[Document] = AsyncMongoClient(MONGODB_URI, tz_aware=True)
    responder = Responder(mongo[DATABASE]["entries"])
    nc = Client()
    await nc.connect(NATS_URL, name="bench-hop")
    sub = await nc.subscribe(SUBJECT, queue=QUEUE, cb=responder.receive)
    await nc.flush()  # the server has the subscription before we say we are ready
    server = await ready_port(int(os.environ["BENCH_HOP_PORT"]))
    try:
        await stop.wait()
    finally:
        # No new requests; answer those taken, then close.
        server.close()
        await sub.drain()  # type: ignore[no-untyped-call]
        await responder.finish()
        await nc.close()
        await mongo.close()


def main() -> None:
    asyncio.run(serve())


if __name__ == "__main__":
    main()
