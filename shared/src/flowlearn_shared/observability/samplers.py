"""Gauges read from the servers when /metrics is scraped: consumer lag and outbox backlog."""

from __future__ import annotations

from faststream.nats import NatsBroker

from flowlearn_shared.observability.metrics import (
    CONSUMER_ACK_PENDING,
    CONSUMER_PENDING,
    OUTBOX_PENDING,
)
from flowlearn_shared.outbox import Outbox
from flowlearn_shared.subjects import EVENTS_STREAM


def durable_consumers(broker: NatsBroker, stream: str = EVENTS_STREAM) -> list[str]:
    """The durable pull consumers this broker has on ``stream``."""
    names = []
    for subscriber in broker.subscribers:
        js_stream = getattr(subscriber, "stream", None)
        durable = getattr(getattr(subscriber, "config", None), "durable_name", None)
        if js_stream is not None and js_stream.name == stream and durable:
            names.append(str(durable))
    return sorted(set(names))


class ConsumerLag:
    """``num_pending`` and ``num_ack_pending`` of each of the service's durable consumers."""

    def __init__(self, broker: NatsBroker, stream: str = EVENTS_STREAM) -> None:
        self.broker = broker
        self.stream = stream

    async def __call__(self) -> None:
        js = self.broker.config.connection_state.stream
        if js is None:
            return
        for durable in durable_consumers(self.broker, self.stream):
            info = await js.consumer_info(self.stream, durable, timeout=1.0)
            CONSUMER_PENDING.labels(consumer=durable).set(info.num_pending or 0)
            CONSUMER_ACK_PENDING.labels(consumer=durable).set(info.num_ack_pending or 0)


class OutboxBacklog:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    async def __call__(self) -> None:
        pending = await self.outbox.count_pending()
        OUTBOX_PENDING.labels(database=self.outbox.collection.database.name).set(pending)
