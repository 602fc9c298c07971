"""Rules of outside-channel delivery, without servers: backoff, retry bookkeeping, the
circuit breaker, and which addresses a user-given URL may reach."""

from __future__ import annotations

import ipaddress
import random
from datetime import UTC, datetime, timedelta

import pytest
from flowlearn_nudges.adapters.channels.url_guard import RefusedUrl, UrlGuard, refusal
from flowlearn_nudges.domain import delivery as rules
from flowlearn_nudges.domain.delivery import CircuitBreaker, RetryPolicy

pytestmark = pytest.mark.unit

NOW = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)


def test_backoff_doubles_is_capped_and_jittered_within_half() -> None:
    rng = random.Random(7)
    for attempt, full in [(1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0), (10, 60.0)]:
        delays = [rules.backoff_delay(attempt, 2.0, 60.0, rng) for _ in range(200)]
        assert all(full / 2 <= d <= full for d in delays)
        assert max(delays) - min(delays) > full / 4  # really spread out


def test_a_transient_failure_schedules_a_retry_until_the_last_attempt() -> None:
    policy = RetryPolicy(max_attempts=3, backoff_base=2.0, backoff_max=300.0)
    rng = random.Random(1)
    give_up = NOW + timedelta(days=1)
    state: dict[str, object] = {"status": "pending", "at": None, "attempts": 0}
    state = rules.after_failure(state, NOW, "HTTP 503", policy, give_up, rng)
    assert (state["status"], state["attempts"], state["error"]) == ("pending", 1, "HTTP 503")
    assert NOW + timedelta(seconds=1) <= state["next_attempt_at"] <= NOW + timedelta(seconds=2)
    state = rules.after_failure(state, NOW, "HTTP 503", policy, give_up, rng)
    assert state["attempts"] == 2
    state = rules.after_failure(state, NOW, "HTTP 503", policy, give_up, rng)
    assert state["status"] == "failed"
    assert state["attempts"] == 3
    assert state["error"] == "HTTP 503 (gave up after 3 attempts)"
    assert state["next_attempt_at"] is None


def test_retry_after_from_the_endpoint_is_honoured_within_the_cap() -> None:
    policy = RetryPolicy(max_attempts=5, backoff_base=1.0, backoff_max=120.0)
    rng = random.Random(1)
    state = rules.after_failure(
        {"attempts": 0}, NOW, "HTTP 429", policy, NOW + timedelta(days=1), rng, retry_after=90
    )
    assert state["next_attempt_at"] == NOW + timedelta(seconds=90)
    state = rules.after_failure(
        {"attempts": 0}, NOW, "HTTP 429", policy, NOW + timedelta(days=1), rng, retry_after=9999
    )
    assert state["next_attempt_at"] == NOW + timedelta(seconds=120)


def test_a_deferral_uses_no_attempt_but_still_ends() -> None:
    state = {"status": "pending", "attempts": 2, "error": "HTTP 500"}
    later = rules.deferred(state, NOW, NOW + timedelta(minutes=5), "quiet", NOW + timedelta(days=1))
    assert (later["status"], later["attempts"]) == ("pending", 2)
    assert later["next_attempt_at"] == NOW + timedelta(minutes=5)
    too_late = rules.deferred(state, NOW, NOW + timedelta(days=2), "quiet", NOW + timedelta(days=1))
    assert too_late["status"] == "failed"
    assert too_late["attempts"] == 2
    assert too_late["error"] == "quiet; gave up waiting"


def test_channels_due_at_is_the_earliest_pending_outside_delivery() -> None:
    soon = NOW + timedelta(seconds=30)
    deliveries = {
        "in_app": {"status": "delivered", "at": NOW},
        "slack": {"status": "pending", "next_attempt_at": soon + timedelta(minutes=1)},
        "email": {"status": "pending", "next_attempt_at": soon},
        "teams": {"status": "failed", "next_attempt_at": None},
    }
    assert rules.channels_due_at(deliveries, NOW) == soon
    assert rules.channels_due_at({"webhook": {"status": "pending"}}, NOW) == NOW
    assert rules.channels_due_at({"in_app": {"status": "delivered"}}, NOW) is None
    assert rules.channels_due_at({"slack": {"status": "delivered"}}, NOW) is None


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def test_the_circuit_opens_after_consecutive_failures_and_probes_once() -> None:
    clock = Clock()
    breaker = CircuitBreaker(3, timedelta(seconds=60), clock)
    key = "https://hooks.example.com/a"
    for _ in range(2):
        assert breaker.admit(key) is None
        breaker.failed(key)
    assert breaker.state(key) == "closed"
    breaker.failed(key)
    assert breaker.state(key) == "open"
    assert breaker.admit(key) == NOW + timedelta(seconds=60)
    assert breaker.admit("https://other.example.com/") is None  # per endpoint
    clock.now += timedelta(seconds=60)
    assert breaker.state(key) == "half_open"
    assert breaker.admit(key) is None  # the probe
    assert breaker.admit(key) is not None  # only one at a time
    breaker.failed(key)  # the probe failed: open again
    assert breaker.admit(key) == clock.now + timedelta(seconds=60)
    clock.now += timedelta(seconds=61)
    assert breaker.admit(key) is None
    breaker.succeeded(key)
    assert breaker.state(key) == "closed"
    breaker.failed(key)
    assert breaker.state(key) == "closed"  # the count started over


def test_a_success_resets_the_count_of_failures() -> None:
    breaker = CircuitBreaker(2, timedelta(seconds=60), Clock())
    breaker.failed("k")
    breaker.succeeded("k")
    breaker.failed("k")
    assert breaker.state("k") == "closed"


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.0.10", "private"),
        ("fd12:3456::1", "private"),
        ("100.64.0.1", "non-public"),  # shared address space (CGNAT)
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
        ("2002:a00:1::", "private"),  # 6to4 around 10.0.0.1
    ],
)
def test_internal_addresses_are_refused(address: str, why: str) -> None:
    assert refusal(ipaddress.ip_address(address)) == why


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


def resolver(answers: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> list[str]:
        if host not in answers:
            raise OSError("no such host")
        return answers[host]

    return resolve


async def test_the_guard_checks_every_record_and_the_literal_forms() -> None:
    guard = UrlGuard(
        allow_private=False,
        resolver=resolver(
            {"mixed.example": ["93.184.216.34", "127.0.0.1"], "ok.example": ["93.184.216.34"]}
        ),
    )
    with pytest.raises(RefusedUrl, match=r"mixed\.example resolves to 127\.0\.0\.1"):
        await guard.check("https://mixed.example/hook")
    target = await guard.check("https://ok.example:8443/hook")
    assert (target.host, target.port, target.addresses) == ("ok.example", 8443, ("93.184.216.34",))
    with pytest.raises(RefusedUrl, match="cannot be resolved"):
        await guard.check("https://unknown.example/")
    for url in ("http://[::1]:8080/", "http://2130706433/", "http://0x7f.1/"):
        with pytest.raises(RefusedUrl):
            await UrlGuard(allow_private=False).check(url)
    with pytest.raises(RefusedUrl, match="only http and https"):
        await guard.check("ftp://ok.example/")
    with pytest.raises(RefusedUrl, match="user name or password"):
        await guard.check("https://me:pw@ok.example/")


async def test_dev_and_test_allow_private_addresses_without_a_lookup() -> None:
    guard = UrlGuard(allow_private=True, resolver=resolver({}))
    assert (await guard.check("http://10.0.0.1/")).addresses == ("10.0.0.1",)
    assert (await guard.check("http://internal.example/", resolve=False)).addresses == ()
