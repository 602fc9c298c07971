"""Live notifications for Server-Sent Events streams, fed through NATS.

Every gateway replica subscribes (core NATS, no queue group) to the nudges service's
``delivered`` events, so each replica sees every event and hands it to the streams its own
clients hold open. Nothing is stored: a client that was away catches up from its inbox
(``Last-Event-ID``). Streams are bounded per person and in total, and a client too slow to
read its queue loses its stream rather than the gateway's memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import jwt
from flowlearn_shared.contracts.notifications import NudgeNotification
from flowlearn_shared.events import NudgeDelivered, parse_event
from flowlearn_shared.observability.tracing import continue_trace
from flowlearn_shared.rpc import Actor
from flowlearn_shared.subjects import EventSubject
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from opentelemetry.trace import SpanKind
from pydantic import ValidationError

from flowlearn_gateway.domain.errors import AuthenticationFailed
from flowlearn_gateway.domain.identity import actor_from_claims

log = logging.getLogger("flowlearn.gateway.notifications")

TICKET_AUDIENCE = "flowlearn:notifications-stream"


class StreamLimitReached(Exception):
    def __init__(self, per_person: bool) -> None:
        super().__init__("too many open streams")
        self.per_person = per_person


@dataclass(eq=False)
class ClientStream:
    user_id: str
    # None ends the stream (overflow or shutdown).
    queue: asyncio.Queue[NudgeNotification | None] = field(repr=False)


def notification_of(event: NudgeDelivered) -> NudgeNotification:
    data = event.data
    return NudgeNotification.model_validate(
        {
            "id": data.nudge_id,
            "type": data.nudge_type,
            "message": data.message,
            "delivered_at": data.delivered_at,
            "channels": data.channels,
            "context": data.context,
            "redelivery": data.redelivery,
        }
    )


class NotificationHub:
    def __init__(self, max_per_user: int, max_streams: int, queue_size: int) -> None:
        self.max_per_user = max_per_user
        self.max_streams = max_streams
        self.queue_size = queue_size
        self._streams: dict[str, set[ClientStream]] = defaultdict(set)
        self._count = 0
        self._subscription: Subscription | None = None

    async def start(self, nc: Client) -> None:
        if self._subscription is None:
            self._subscription = await nc.subscribe(
                str(EventSubject.NUDGE_DELIVERED), cb=self._on_message
            )
            await nc.flush(timeout=5)

    async def stop(self) -> None:
        """Unsubscribe and end every open stream, so the server can shut down."""
        if self._subscription is not None:
            try:
                await self._subscription.unsubscribe()
            except Exception as exc:  # the connection may be gone already
                log.debug("unsubscribe failed: %r", exc)
            self._subscription = None
        for streams in list(self._streams.values()):
            for stream in list(streams):
                self._end(stream)

    @property
    def listening(self) -> bool:
        return self._subscription is not None

    def open_count(self, user_id: str | None = None) -> int:
        return self._count if user_id is None else len(self._streams.get(user_id, ()))

    def check_room(self, user_id: str) -> None:
        if len(self._streams.get(user_id, ())) >= self.max_per_user:
            raise StreamLimitReached(per_person=True)
        if self._count >= self.max_streams:
            raise StreamLimitReached(per_person=False)

    def open(self, user_id: str) -> ClientStream:
        self.check_room(user_id)
        stream = ClientStream(user_id, asyncio.Queue(maxsize=self.queue_size + 1))
        self._streams[user_id].add(stream)
        self._count += 1
        return stream

    def close(self, stream: ClientStream) -> None:
        streams = self._streams.get(stream.user_id)
        if streams is None or stream not in streams:
            return
        streams.discard(stream)
        self._count -= 1
        if not streams:
            del self._streams[stream.user_id]

    def deliver(self, user_id: str, notification: NudgeNotification) -> int:
        """Hand a notification to each of the person's streams here; returns how many."""
        streams = self._streams.get(user_id)
        if not streams:
            return 0
        for stream in list(streams):
            if stream.queue.qsize() >= self.queue_size:
                log.warning("stream too slow; ending it", extra={"open_streams": self._count})
                self._end(stream)
                continue
            stream.queue.put_nowait(notification)
        return len(streams)

    def _end(self, stream: ClientStream) -> None:
        # The queue has one slot spare for this, so ending never blocks.
        while stream.queue.qsize() >= self.queue_size + 1:
            stream.queue.get_nowait()
        stream.queue.put_nowait(None)
        self.close(stream)

    async def _on_message(self, msg: Msg) -> None:
        # The delivery's trace (started when the nudges service delivered it) continues
        # here, so the line below carries the trace id the nudges service logged.
        with continue_trace("push nudge", msg.headers, SpanKind.CONSUMER):
            try:
                event = parse_event(msg.data)
            except ValidationError:
                log.warning("unreadable nudge event ignored")
                return
            if isinstance(event, NudgeDelivered) and event.data.user_id in self._streams:
                pushed = self.deliver(event.data.user_id, notification_of(event))
                log.info(
                    "nudge pushed to open streams",
                    extra={"nudge_id": event.data.nudge_id, "streams": pushed},
                )


class StreamTickets:
    """Short-lived tickets that open a notification stream and nothing else.

    A browser's EventSource cannot send an Authorization header, and a bearer token in a
    URL ends up in browser history and proxy logs. A ticket is asked for with the bearer
    token, lives a minute, only opens streams, and is signed with a key derived from the
    gateway's secret, so it is never accepted as a bearer token (nor the other way round).
    """

    def __init__(self, secret: str, lifetime_seconds: int, leeway_seconds: float = 5.0) -> None:
        self._key = hmac.new(
            secret.encode(), b"flowlearn notifications stream ticket", hashlib.sha256
        ).hexdigest()
        self.lifetime_seconds = lifetime_seconds
        self.leeway_seconds = leeway_seconds

    def issue(self, actor: Actor) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": actor.user_id,
            "aud": TICKET_AUDIENCE,
            "iat": now,
            "exp": now + self.lifetime_seconds,
            "roles": actor.roles,
            "zoneinfo": actor.timezone,
        }
        return jwt.encode(claims, self._key, algorithm="HS256")

    def verify(self, ticket: str) -> Actor:
        try:
            claims = jwt.decode(
                ticket,
                self._key,
                algorithms=["HS256"],
                audience=TICKET_AUDIENCE,
                leeway=self.leeway_seconds,
                options={"require": ["sub", "exp", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationFailed("The stream ticket has expired") from None
        except jwt.PyJWTError:
            raise AuthenticationFailed("The stream ticket is invalid") from None
        return actor_from_claims(claims)
