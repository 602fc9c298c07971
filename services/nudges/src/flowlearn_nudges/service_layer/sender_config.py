"""How the channel sender runs: its batches, concurrency, timeouts and retries, from the
service's settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flowlearn_nudges.domain.delivery import RetryPolicy
from flowlearn_nudges.settings import NudgesSettings


@dataclass(frozen=True)
class SenderConfig:
    lease: timedelta = timedelta(seconds=60)
    batch_size: int = 50
    concurrency: int = 8
    endpoint_concurrency: int = 2
    send_timeout: float = 10.0
    poll_seconds: float = 1.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    digest_gather: timedelta = timedelta(seconds=30)
    hub_url: str = "http://127.0.0.1:8000/hub/today"
    hub_nudge_url: str = "http://127.0.0.1:8000/hub/today#nudge-{id}"
    stop_grace: float = 5.0  # for sends in flight on stop; the rest are released

    @classmethod
    def from_settings(cls, settings: NudgesSettings) -> SenderConfig:
        return cls(
            lease=timedelta(seconds=settings.channel_lease_seconds),
            batch_size=settings.channel_batch_size,
            concurrency=settings.channel_concurrency,
            endpoint_concurrency=settings.channel_endpoint_concurrency,
            send_timeout=settings.channel_send_timeout_seconds,
            poll_seconds=settings.channel_poll_seconds,
            retry=RetryPolicy(
                max_attempts=settings.channel_max_attempts,
                backoff_base=settings.channel_backoff_base_seconds,
                backoff_max=settings.channel_backoff_max_seconds,
                give_up_after=timedelta(seconds=settings.channel_give_up_after_seconds),
            ),
            digest_gather=timedelta(seconds=settings.channel_digest_gather_seconds),
            hub_url=settings.hub_url,
            hub_nudge_url=settings.hub_nudge_url,
            stop_grace=settings.channel_stop_grace_seconds,
        )
