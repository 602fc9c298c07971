"""Request counters in a NATS JetStream key-value bucket, shared by every gateway replica."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from nats.aio.client import Client
from nats.js.api import KeyValueConfig
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

log = logging.getLogger("flowlearn.gateway.rate_limit")

# Many replicas may bump one key at once; each conflict costs one more round trip.
MAX_ATTEMPTS = 20


class KvCounters:
    """``incr(key)`` adds one to a counter and returns the new count.

    Counters are atomic across replicas: a write names the revision it read (compare and
    set) and is retried when another replica got there first. Keys expire with the
    bucket's TTL, which is one window, so old windows clean themselves up.
    """

    def __init__(self, connection: Callable[[], Client], bucket: str, ttl_seconds: float) -> None:
        self._connection = connection
        self._bucket = bucket
        self._ttl = ttl_seconds
        self._kv: KeyValue | None = None
        self._lock = asyncio.Lock()

    async def prepare(self) -> KeyValue:
        """Open the bucket, creating it if it is missing."""
        nc = self._connection()  # raises before the broker has connected
        if not nc.is_connected:
            # Fail fast: waiting for a reconnect would hold every request up.
            raise ConnectionError("not connected to NATS")
        if self._kv is not None:
            return self._kv
        async with self._lock:
            if self._kv is None:
                js = nc.jetstream()
                try:
                    self._kv = await js.key_value(self._bucket)
                except BucketNotFoundError:
                    self._kv = await js.create_key_value(
                        KeyValueConfig(bucket=self._bucket, history=1, ttl=self._ttl)
                    )
                    log.info("created rate-limit bucket %s", self._bucket)
            return self._kv

    async def incr(self, key: str) -> int:
        kv = await self.prepare()
        for _ in range(MAX_ATTEMPTS):
            try:
                entry = await kv.get(key)
            except KeyNotFoundError:
                try:
                    await kv.create(key, b"1")
                    return 1
                except KeyWrongLastSequenceError:
                    continue  # another replica created it first
            count = int(entry.value or b"0") + 1
            try:
                await kv.update(key, str(count).encode(), last=entry.revision)
                return count
            except KeyWrongLastSequenceError:
                continue
        raise RuntimeError(f"rate-limit counter {key} kept changing under us")
