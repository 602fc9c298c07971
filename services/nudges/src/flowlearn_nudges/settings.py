from __future__ import annotations

from flowlearn_shared.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class NudgesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FLOWLEARN_NUDGES_", extra="ignore")

    database: str = "flowlearn_nudges"
    # One durable consumer per purpose, shared by every replica of the service.
    journal_consumer: str = "nudges-journal-activity"
