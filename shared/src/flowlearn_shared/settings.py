"""Settings common to every service, read from the environment.

Each service subclasses ``ServiceSettings`` with its own prefix (``FLOWLEARN_JOURNAL_``...).
Anything not set under the service's prefix falls back to the plain ``FLOWLEARN_`` name, so
one ``FLOWLEARN_NATS_URL`` serves a whole local stack and one service can still differ.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

Environment = Literal["dev", "test", "production"]


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLOWLEARN_", extra="ignore")

    env: Environment = "dev"
    nats_url: str = "nats://127.0.0.1:4222"
    mongodb_uri: str = "mongodb://127.0.0.1:27017/?directConnection=true"
    log_level: str = "INFO"
    # Bounded redelivery of events whose handler failed, then the dead-letter subject.
    max_deliver: int = Field(default=5, ge=1)
    retry_backoff_seconds: list[float] = Field(default_factory=lambda: [1.0, 5.0, 15.0, 60.0])
    stream_max_age_days: float = 30.0
    stream_storage: Literal["file", "memory"] = "file"
    # Messages fetched per pull; larger batches amortise round trips, smaller ones spread
    # work more evenly across replicas.
    consumer_batch_size: int = Field(default=50, ge=1, le=1000)
    # Where a consumer that does not exist yet starts: "all" replays the stream's history
    # (a service deployed later still learns what happened before it); "new" skips it.
    new_consumers_start_at: Literal["all", "new"] = "all"
    outbox_poll_seconds: float = Field(default=1.0, gt=0)
    # Prometheus text at http://<metrics_host>:<metrics_port>/metrics. 0 = no listener, so
    # replicas on one host never collide by default; give each its own port to scrape it.
    # (The gateway serves /metrics on its HTTP port instead.)
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=0, ge=0, le=65535)
    # On SIGTERM: stop taking work, let handlers in flight finish, publish what they wrote
    # and drain the NATS connection, within this bound; past it the process exits with 1.
    shutdown_timeout_seconds: float = Field(default=25.0, gt=0)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        common = EnvSettingsSource(settings_cls, env_prefix="FLOWLEARN_")
        return (init_settings, env_settings, common, dotenv_settings, file_secret_settings)
