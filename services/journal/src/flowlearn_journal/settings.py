from __future__ import annotations

from flowlearn_shared.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class JournalSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FLOWLEARN_JOURNAL_", extra="ignore")

    database: str = "flowlearn_journal"
    profiles_consumer: str = "journal-profiles"
