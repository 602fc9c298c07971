"""How far one of the service's durable consumers has read the events stream, in stream
sequence numbers: what a campaign waits on so that a team member added just before it was
sent is among its recipients."""

from __future__ import annotations

import asyncio
import logging

from faststream.nats import NatsBroker
from flowlearn_shared.subjects import EVENTS_STREAM

log = logging.getLogger("flowlearn.nudges.event_progress")

_TIMEOUT = 2.0


class ConsumerProgress:
    def __init__(self, broker: NatsBroker, durable: str, stream: str = EVENTS_STREAM) -> None:
        self.broker = broker
        self.durable = durable
        self.stream = stream

    async def position(self) -> int | None:
        """The stream's last sequence now; None when it cannot be asked (not connected)."""
        js = self.broker.config.connection_state.stream
        if js is None:
            return None
        try:
            info = await asyncio.wait_for(js.stream_info(self.stream), _TIMEOUT)
        except Exception as exc:
            log.warning("events stream position unknown: %r", exc)
            return None
        return int(info.state.last_seq)

    async def read_through(self) -> int | None:
        """A sequence up to which the consumer has handled every event it takes; None when
        it cannot be asked."""
        # The stream first: if the consumer then has nothing pending or unacknowledged, it
        # has handled everything up to this sequence.
        last = await self.position()
        js = self.broker.config.connection_state.stream
        if last is None or js is None:
            return None
        try:
            consumer = await js.consumer_info(self.stream, self.durable, timeout=_TIMEOUT)
        except Exception as exc:
            log.warning("consumer progress unknown: %r", exc, extra={"consumer": self.durable})
            return None
        if not consumer.num_pending and not consumer.num_ack_pending:
            return last
        # Every event up to the ack floor is acknowledged (the consumer filters by subject,
        # so the floor stays put past events it does not take).
        floor = consumer.ack_floor.stream_seq if consumer.ack_floor else 0
        return int(floor or 0)
