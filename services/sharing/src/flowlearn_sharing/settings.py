from __future__ import annotations

from flowlearn_shared.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class SharingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FLOWLEARN_SHARING_", extra="ignore")

    database: str = "flowlearn_sharing"
    journal_shares_consumer: str = "sharing-journal-shares"
