from __future__ import annotations

from typing import Self

from flowlearn_shared.settings import ServiceSettings
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from flowlearn_nudges.adapters.sealed import decode_key

# Seals channel credentials in dev and test only; any other env refuses it.
DEV_DESTINATIONS_KEY = "Zmxvd2xlYXJuLWRldi1rZXktbm90LWZvci1wcm9kISE="


class NudgesSettings(ServiceSettings):
    # Errors must not echo inputs: they include keys and URLs with credentials.
    model_config = SettingsConfigDict(
        env_prefix="FLOWLEARN_NUDGES_", extra="ignore", hide_input_in_errors=True
    )

    database: str = "flowlearn_nudges"
    # One durable consumer per purpose, shared by every replica of the service.
    journal_consumer: str = "nudges-journal-activity"
    people_consumer: str = "nudges-people"
    sharing_consumer: str = "nudges-sharing"
    work_consumer: str = "nudges-work-events"
    erasure_consumer: str = "nudges-erasure"
    # The delivery loop runs in every replica; leases keep them from doubling up.
    scheduler_enabled: bool = True
    # While nothing is due: how soon a nudge falling due is seen (about half of it late).
    scheduler_poll_seconds: float = Field(default=0.5, gt=0)
    scheduler_lease_seconds: float = Field(default=60.0, ge=1)
    # Due nudges settled per transaction; one batch at a time per replica.
    scheduler_batch_size: int = Field(default=100, ge=1, le=1000)
    # Nudges settled at once when a batch falls back to one transaction per nudge.
    scheduler_concurrency: int = Field(default=4, ge=1, le=64)
    # On stop, the batch in hand may finish this long; then its leases are released.
    # With the channel sender's, well within the shutdown timeout (they stop together).
    scheduler_stop_grace_seconds: float = Field(default=5.0, ge=0)
    # Campaigns are planned in the background, in batches, under a lease (every replica).
    campaigns_enabled: bool = True
    campaign_poll_seconds: float = Field(default=5.0, gt=0)
    campaign_lease_seconds: float = Field(default=120.0, ge=1)
    campaign_batch_size: int = Field(default=100, ge=1, le=1000)
    # A campaign to a team, community or everyone waits for the membership events published
    # before it to be applied, but never longer than this.
    campaign_audience_wait_seconds: float = Field(default=30.0, ge=0)

    # Outside channels (Slack, Teams, webhook, e-mail): a sender loop in every replica,
    # leasing pending channel deliveries as the scheduler leases due nudges.
    channels_enabled: bool = True
    channel_poll_seconds: float = Field(default=1.0, gt=0)
    channel_lease_seconds: float = Field(default=60.0, ge=1)
    channel_batch_size: int = Field(default=50, ge=1, le=1000)
    channel_concurrency: int = Field(default=8, ge=1, le=128)
    channel_stop_grace_seconds: float = Field(default=5.0, ge=0)
    # Sends in flight to one endpoint: a slow endpoint holds at most this many slots.
    channel_endpoint_concurrency: int = Field(default=2, ge=1, le=32)
    channel_send_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    channel_max_attempts: int = Field(default=5, ge=1, le=20)
    channel_backoff_base_seconds: float = Field(default=2.0, ge=0)
    channel_backoff_max_seconds: float = Field(default=300.0, ge=0)
    # Deferred deliveries (open circuit, quiet hours) are given up after this long.
    channel_give_up_after_seconds: float = Field(default=86400.0, gt=0)
    channel_breaker_failures: int = Field(default=5, ge=1)
    channel_breaker_open_seconds: float = Field(default=60.0, gt=0)
    # With a digest, deliveries of one person made within this window go out as one message.
    channel_digest_gather_seconds: float = Field(default=30.0, ge=0)
    # The learning hub as people reach it, for links in messages; ``{id}`` is the nudge's id.
    hub_url: str = "http://127.0.0.1:8000/hub/today"
    hub_nudge_url: str = "http://127.0.0.1:8000/hub/today#nudge-{id}"
    smtp_host: str | None = None  # e-mail is off until set
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_from: str = "Flowlearn <nudges@flowlearn.local>"
    smtp_starttls: bool = True
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    # Seals Slack/Teams webhook URLs and webhook secrets at rest (adapters/sealed.py): 32
    # random bytes, base64 (`openssl rand -base64 32`). On rotation the old key moves to
    # ``destinations_previous_keys`` (a JSON list) until ``flowlearn-nudges-reseal`` has run.
    destinations_key: SecretStr = SecretStr(DEV_DESTINATIONS_KEY)
    destinations_previous_keys: list[SecretStr] = Field(default_factory=list)

    @model_validator(mode="after")
    def _keys_fit_for_env(self) -> Self:
        for key in (self.destinations_key, *self.destinations_previous_keys):
            decode_key(key.get_secret_value())
        # The development key is public: outside dev and test it would seal nothing.
        if self.env not in ("dev", "test") and (
            self.destinations_key.get_secret_value() == DEV_DESTINATIONS_KEY
        ):
            raise ValueError(
                f"destinations_key must be set to 32 random bytes in base64 when env is "
                f"{self.env!r} (openssl rand -base64 32)"
            )
        return self
