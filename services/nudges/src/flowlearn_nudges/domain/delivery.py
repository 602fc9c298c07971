"""Delivery to outside channels (Slack, Teams, a webhook, e-mail): what goes out, how a
channel delivery moves from pending to delivered or failed, retry timing, and the circuit
breaker that stops calling an endpoint that keeps failing.

A channel delivery is stored on its nudge as ``deliveries[<channel>]``:

    pending --sent--> delivered
    pending --transient failure--> pending (next_attempt_at after a backoff) ... --> failed
    pending --permanent failure (4xx, refused address, no destination)--> failed
    pending --deferred (quiet hours, circuit open, endpoint busy)--> pending, no attempt used

Deferrals use no attempt, but a delivery still pending ``give_up_after`` past its nudge's
delivery is failed, so every delivery ends.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flowlearn_shared.contracts.nudges import Channel, NudgeType

EXTERNAL = (Channel.SLACK, Channel.TEAMS, Channel.WEBHOOK, Channel.EMAIL)
PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
ERROR_MAX_CHARS = 300

TITLES: dict[NudgeType, str] = {
    NudgeType.LEARNING_HABIT: "Your learning slot",
    NudgeType.REFLECT: "Time to reflect",
    NudgeType.MISTAKE_MOMENT: "A mistake moment",
    NudgeType.SPOT_STRENGTH: "Spot a strength",
    NudgeType.THREE_PS: "Three Ps check-in",
    NudgeType.MICRO_LEARNING: "Your next learning item",
    NudgeType.EVENT_FOLLOWUP: "After the session",
    NudgeType.HELP_REQUEST: "Can you help?",
    NudgeType.CUSTOM: "A message from your team",
}
DIGEST_TITLE = "Your Flowlearn digest"


@dataclass(frozen=True)
class OutgoingItem:
    nudge_id: str
    type: NudgeType
    message: str
    link: str
    delivered_at: datetime
    context: Mapping[str, str] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return TITLES.get(self.type, "Flowlearn")


@dataclass(frozen=True)
class Outgoing:
    """One message to one channel: a single nudge, or several as a digest."""

    delivery_id: str  # the same on every retry, so a receiver can drop repeats
    user_id: str
    channel: Channel
    items: tuple[OutgoingItem, ...]
    hub_link: str
    attempt: int = 1

    @property
    def digest(self) -> bool:
        return len(self.items) > 1

    @property
    def title(self) -> str:
        return DIGEST_TITLE if self.digest else self.items[0].title

    @property
    def summary(self) -> str:
        if not self.digest:
            return self.items[0].message
        return f"{len(self.items)} nudges for you today"

    @property
    def delivered_at(self) -> datetime:
        return max(item.delivered_at for item in self.items)


def hub_link(template: str, nudge_id: str) -> str:
    return template.replace("{id}", nudge_id)


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Seconds to wait after the ``attempt``-th failure: exponential, capped, with jitter
    ("equal jitter": half fixed, half random) so retries from many replicas spread out."""
    delay = min(cap, base * 2.0 ** max(0, attempt - 1))
    return delay / 2 + rng.random() * delay / 2


def attempts_of(state: Mapping[str, Any]) -> int:
    return int(state.get("attempts") or 0)


def due_of(state: Mapping[str, Any], delivered_at: datetime | None) -> datetime | None:
    """When a pending outside delivery is next tried: at delivery, or after its backoff."""
    due: datetime | None = state.get("next_attempt_at") or delivered_at
    return due


def channels_due_at(
    deliveries: Mapping[str, Mapping[str, Any]], delivered_at: datetime | None
) -> datetime | None:
    """When the nudge's earliest pending outside delivery is due; None when none is."""
    due: list[datetime] = []
    for channel, state in deliveries.items():
        if channel in EXTERNAL and state.get("status") == PENDING:
            at = due_of(state, delivered_at)
            if at is not None:
                due.append(at)
    return min(due) if due else None


def _short(error: str) -> str:
    return error if len(error) <= ERROR_MAX_CHARS else error[: ERROR_MAX_CHARS - 1] + "…"


def sent(state: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "status": DELIVERED,
        "at": now,
        "attempts": attempts_of(state) + 1,
        "error": None,
        "next_attempt_at": None,
    }


def failed(
    state: Mapping[str, Any], now: datetime, error: str, *, attempted: bool
) -> dict[str, Any]:
    attempts = attempts_of(state) + (1 if attempted else 0)
    return {
        "status": FAILED,
        "at": now,
        "attempts": attempts,
        "error": _short(error),
        "next_attempt_at": None,
    }


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    backoff_base: float = 2.0
    backoff_max: float = 300.0
    give_up_after: timedelta = timedelta(days=1)


def after_failure(
    state: Mapping[str, Any],
    now: datetime,
    error: str,
    policy: RetryPolicy,
    give_up_at: datetime,
    rng: random.Random,
    retry_after: float | None = None,
) -> dict[str, Any]:
    """A transient failure: try again after a backoff, or fail after the last attempt."""
    attempts = attempts_of(state) + 1
    if attempts >= policy.max_attempts:
        return failed(state, now, f"{error} (gave up after {attempts} attempts)", attempted=True)
    delay = backoff_delay(attempts, policy.backoff_base, policy.backoff_max, rng)
    if retry_after is not None:  # the endpoint asked for a pause (429 Retry-After)
        delay = max(delay, min(retry_after, policy.backoff_max))
    next_at = now + timedelta(seconds=delay)
    if next_at > give_up_at:
        return failed(state, now, f"{error} (gave up after {attempts} attempts)", attempted=True)
    return {
        "status": PENDING,
        "at": None,
        "attempts": attempts,
        "error": _short(error),
        "next_attempt_at": next_at,
    }


def deferred(
    state: Mapping[str, Any], now: datetime, until: datetime, reason: str, give_up_at: datetime
) -> dict[str, Any]:
    """Not tried now (quiet hours, open circuit, busy endpoint); no attempt is used."""
    if until > give_up_at:
        return failed(state, now, f"{reason}; gave up waiting", attempted=False)
    return {**state, "status": PENDING, "next_attempt_at": until}


@dataclass
class _Circuit:
    failures: int = 0
    open_until: datetime | None = None
    probing: bool = False


class CircuitBreaker:
    """Per endpoint: after ``threshold`` consecutive failures the circuit opens and nothing
    is sent there for ``open_for``; then one probe goes out (half-open). Its success closes
    the circuit, its failure opens it again.

    State lives in memory, per replica: each replica learns an endpoint's health on its
    own, so with N replicas an endpoint sees at most N probes per window.
    """

    def __init__(self, threshold: int, open_for: timedelta, clock: Callable[[], datetime]) -> None:
        self.threshold = threshold
        self.open_for = open_for
        self.clock = clock
        self._circuits: dict[str, _Circuit] = {}

    def state(self, key: str) -> str:
        circuit = self._circuits.get(key)
        if circuit is None or circuit.open_until is None:
            return "closed"
        if circuit.probing or self.clock() >= circuit.open_until:
            return "half_open"
        return "open"

    def admit(self, key: str) -> datetime | None:
        """None: go ahead (and, when half-open, this call is the probe). Otherwise the
        moment to ask again."""
        circuit = self._circuits.get(key)
        if circuit is None or circuit.open_until is None:
            return None
        now = self.clock()
        if now < circuit.open_until:
            return circuit.open_until
        if circuit.probing:  # one probe at a time
            return now + min(self.open_for, timedelta(seconds=5))
        circuit.probing = True
        return None

    def succeeded(self, key: str) -> None:
        self._circuits.pop(key, None)  # closed circuits need no memory

    def failed(self, key: str) -> None:
        circuit = self._circuits.setdefault(key, _Circuit())
        circuit.failures += 1
        if circuit.probing or circuit.failures >= self.threshold:
            circuit.open_until = self.clock() + self.open_for
            circuit.probing = False

    def abandoned(self, key: str) -> None:
        """Admitted but nothing was sent (e.g. the address was refused): no verdict."""
        circuit = self._circuits.get(key)
        if circuit is not None:
            circuit.probing = False
