"""JetStream streams, created at start-up when missing (and updated to the configured limits)."""

from __future__ import annotations

import logging

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from flowlearn_shared.settings import ServiceSettings
from flowlearn_shared.subjects import (
    DEAD_LETTER_STREAM,
    DEAD_LETTER_STREAM_SUBJECTS,
    EVENTS_STREAM,
    EVENTS_STREAM_SUBJECTS,
)

log = logging.getLogger("flowlearn.streams")

DAY = 24 * 3600
DUPLICATE_WINDOW_SECONDS = 120.0


def stream_configs(settings: ServiceSettings) -> list[StreamConfig]:
    storage = StorageType.FILE if settings.stream_storage == "file" else StorageType.MEMORY
    return [
        StreamConfig(
            name=EVENTS_STREAM,
            subjects=EVENTS_STREAM_SUBJECTS,
            retention=RetentionPolicy.LIMITS,
            storage=storage,
            max_age=settings.stream_max_age_days * DAY,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            discard=DiscardPolicy.OLD,
        ),
        StreamConfig(
            name=DEAD_LETTER_STREAM,
            subjects=DEAD_LETTER_STREAM_SUBJECTS,
            retention=RetentionPolicy.LIMITS,
            storage=storage,
            max_age=90 * DAY,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
        ),
    ]


async def ensure_streams(js: JetStreamContext, settings: ServiceSettings) -> None:
    for config in stream_configs(settings):
        try:
            await js.stream_info(str(config.name))
        except NotFoundError:
            await js.add_stream(config)
            log.info("created stream", extra={"stream": config.name})
