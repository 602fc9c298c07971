"""What every channel sender shares: failures told apart as worth retrying or not, and
one guarded HTTP POST (checked addresses, pinned connection, no redirects)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

import httpx
from flowlearn_shared.contracts.nudges import Channel, NudgePreferences

from flowlearn_nudges.adapters.channels.url_guard import Target, UrlGuard
from flowlearn_nudges.domain.delivery import Outgoing

USER_AGENT = "Flowlearn-Nudges/1.0"
_MAX_ADDRESSES_TRIED = 3


class DeliveryError(Exception):
    """A send that did not succeed. ``transient`` ones are retried with backoff and count
    against the endpoint's circuit; the others fail the delivery at once."""

    def __init__(self, reason: str, *, transient: bool, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.retry_after = retry_after


class NotConfigured(Exception):
    """The person has no destination for this channel (or the server none for e-mail)."""


class ChannelSender(Protocol):
    channel: Channel

    def endpoint(self, preferences: NudgePreferences) -> str:
        """The circuit breaker's key for this person's destination. Raises NotConfigured."""
        ...

    async def send(self, outgoing: Outgoing, preferences: NudgePreferences) -> None:
        """Deliver, or raise DeliveryError / RefusedUrl / NotConfigured."""
        ...


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def check_status(response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    if status in (408, 425, 429) or status >= 500:
        raise DeliveryError(
            f"the endpoint answered HTTP {status}",
            transient=True,
            retry_after=retry_after_seconds(response.headers.get("retry-after")),
        )
    if 300 <= status < 400:
        raise DeliveryError(
            f"the endpoint answered HTTP {status}; redirects are not followed", transient=False
        )
    raise DeliveryError(f"the endpoint refused the message: HTTP {status}", transient=False)


def _host_header(target: Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


class HttpPoster:
    """POSTs JSON to user-given URLs, only to addresses the guard allowed at send time."""

    def __init__(self, client: httpx.AsyncClient, guard: UrlGuard) -> None:
        self.client = client
        self.guard = guard

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> None:
        target = await self.guard.check(url)  # again at send time: DNS may have changed
        last_error: Exception | None = None
        for address in target.addresses[:_MAX_ADDRESSES_TRIED]:
            pinned = httpx.URL(url).copy_with(host=address)
            extensions = {} if target.is_literal else {"sni_hostname": target.host}
            request = self.client.build_request(
                "POST",
                pinned,
                content=body,
                headers={
                    **headers,
                    "Host": _host_header(target),
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                },
                extensions=extensions,
            )
            try:
                response = await self.client.send(request, stream=True, follow_redirects=False)
            except httpx.ConnectError as exc:
                last_error = exc  # try the host's next address
                continue
            except httpx.TimeoutException:
                raise DeliveryError("the endpoint did not answer in time", transient=True) from None
            except httpx.HTTPError as exc:
                raise DeliveryError(
                    f"could not reach the endpoint: {exc}", transient=True
                ) from None
            await response.aclose()  # the status is all we need; do not read a large body
            check_status(response)
            return
        raise DeliveryError(f"could not connect to the endpoint: {last_error}", transient=True)


def make_http_client(timeout: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        follow_redirects=False,
        trust_env=False,  # never route user URLs through an environment proxy
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )
