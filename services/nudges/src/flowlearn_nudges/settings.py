from __future__ import annotations

from flowlearn_shared.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class NudgesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FLOWLEARN_NUDGES_", extra="ignore")

    database: str = "flowlearn_nudges"
    # One durable consumer per purpose, shared by every replica of the service.
    journal_consumer: str = "nudges-journal-activity"
    people_consumer: str = "nudges-people"
    sharing_consumer: str = "nudges-sharing"
    # The delivery loop runs in every replica; leases keep them from doubling up.
    scheduler_enabled: bool = True
    scheduler_poll_seconds: float = Field(default=1.0, gt=0)
    scheduler_lease_seconds: float = Field(default=60.0, ge=1)
    scheduler_batch_size: int = Field(default=50, ge=1, le=1000)
    scheduler_concurrency: int = Field(default=4, ge=1, le=64)
