from __future__ import annotations

from flowlearn_shared.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class SharingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FLOWLEARN_SHARING_", extra="ignore")

    database: str = "flowlearn_sharing"
    journal_shares_consumer: str = "sharing-journal-shares"
    # Durable consumers of erasure requests and of every service's confirmation.
    erasure_consumer: str = "sharing-erasure"
    erasure_status_consumer: str = "sharing-erasure-confirmations"
    # How often ended gatherings and due post reviews are looked for.
    sweep_interval_seconds: float = Field(default=30.0, gt=0)
