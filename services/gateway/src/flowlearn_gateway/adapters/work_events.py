"""Publishing inbound work events on JetStream, de-duplicated by the tool's own event id."""

from __future__ import annotations

import nats.errors
from faststream.exceptions import IncorrectState
from faststream.nats import NatsBroker
from flowlearn_shared.events import WorkEvent, serialize_event
from flowlearn_shared.observability.tracing import trace_headers
from flowlearn_shared.subjects import EVENTS_STREAM, MSG_ID_HEADER

from flowlearn_gateway.domain.errors import ServiceUnavailable


class WorkEventPublisher:
    def __init__(self, broker: NatsBroker, timeout: float) -> None:
        self.broker = broker
        self.timeout = timeout

    async def publish(self, event: WorkEvent, dedup_key: str) -> bool:
        """Publish and wait for the stream's acknowledgement. True when the stream had it
        already (same key within its duplicate window)."""
        try:
            ack = await self.broker.publish(
                serialize_event(event),
                subject=event.nats_subject(),
                headers={
                    **trace_headers(),
                    MSG_ID_HEADER: dedup_key,
                    "content-type": "application/cloudevents+json",
                },
                stream=EVENTS_STREAM,
                timeout=self.timeout,
            )
        except TimeoutError:
            raise ServiceUnavailable("event stream", "timed out") from None
        except (nats.errors.Error, IncorrectState) as exc:
            raise ServiceUnavailable("event stream", type(exc).__name__) from None
        return bool(ack is not None and ack.duplicate)
