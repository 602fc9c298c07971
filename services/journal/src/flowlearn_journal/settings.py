from __future__ import annotations

from flowlearn_shared.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class JournalSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FLOWLEARN_JOURNAL_", extra="ignore")

    database: str = "flowlearn_journal"
    profiles_consumer: str = "journal-profiles"
    # Durable names of the portfolio's consumers: ``<name>-kudos``, ``-answers``, ``-experiments``.
    portfolio_consumer: str = "journal-portfolio"
    # Durable consumer of erasure requests (personal data).
    erasure_consumer: str = "journal-erasure"
    # The xAPI actor's ``account.homePage``: the address of this Flowlearn installation.
    xapi_home_page: str = "http://127.0.0.1:8000"
    # A portfolio reply must fit in one NATS message (1 MB by default); the oldest items
    # are left out beyond this.
    portfolio_max_bytes: int = Field(default=900_000, ge=10_000)
