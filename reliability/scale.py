"""Scale-out: two processes of every service (two gateways, each on its own port) against
one NATS and one database. A mixed load goes through both gateways; afterwards every
accepted write is stored once, every event was consumed and had its effect once, and each
replica of each service did a real share of the work, as counted by NATS itself."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import nats
from flowlearn_shared.subjects import EVENTS_STREAM, RpcSubject
from nats.aio.msg import Msg
from pymongo import AsyncMongoClient

from reliability import checks
from reliability.checks import Outcome
from reliability.kills import new_run, one_entry_each, settle_timeout
from reliability.load import Attempt, Request, WriteStream, statuses
from reliability.stack import FaultStack, fault_stack

REPLICAS = {"gateway": 2, "journal": 2, "nudges": 2, "sharing": 2}
# Each replica must have done at least this part of its service's work of each kind.
SHARE_OF_WORK = 0.25
RPC_SUBJECTS = {str(subject) for subject in RpcSubject}
# The kinds of work each replica must share; others (journal's few profile events) are
# reported only.
REQUIRED = (
    "gateway: HTTP requests",
    "journal: requests",
    "sharing: requests",
    "nudges: events",
    "sharing: events",
)
# One cycle of the load: 3 journal entries, a post, a share (an event to sharing), and
# reads of journal entries and of the feed (requests to journal and sharing).
CYCLE = ("entry", "post", "share", "entries", "entry", "feed", "entry", "entries")
WRITES = {"entry", "post", "share"}


class DeliveryTap:
    """Counts what JetStream hands to each process's pull subscriptions. A pull consumer's
    events arrive on its subscriber's own inbox with an ack subject as reply (the status
    replies that end a fetch carry none). NATS gives a copy of each message to every
    subscription on that inbox, so one more subscription per inbox sees them all."""

    def __init__(self) -> None:
        self.first: Counter[tuple[int, str]] = Counter()  # (connection id, durable) -> n
        self.again: Counter[tuple[int, str]] = Counter()  # redeliveries
        self._nc: Any = None

    async def start(self, stack: FaultStack) -> None:
        """Listen on the inboxes of every journal, nudges and sharing process."""
        self._nc = await nats.connect(stack.nats_url, name="reliability-delivery-tap")
        for conn in stack.connections():
            if service_of(conn) not in ("journal", "nudges", "sharing"):
                continue
            for sub in conn.get("subscriptions_list_detail") or []:
                subject = str(sub.get("subject", ""))
                if subject.startswith("_INBOX.") and not subject.endswith("*"):
                    await self._nc.subscribe(subject, cb=self._counter(int(conn["cid"])))
        await self._nc.flush()

    async def stop(self) -> None:
        if self._nc is not None:
            await self._nc.close()

    def _counter(self, cid: int) -> Callable[[Msg], Awaitable[None]]:
        async def count(msg: Msg) -> None:
            if not msg.reply.startswith("$JS.ACK."):
                return
            # $JS.ACK.<stream>.<durable>.<delivered>.<...>, or with <domain>.<account> first.
            tokens = msg.reply.split(".")
            stream, durable, delivered = tokens[2:5] if len(tokens) == 9 else tokens[4:7]
            if stream == EVENTS_STREAM:
                counter = self.first if delivered == "1" else self.again
                counter[(cid, durable)] += 1

        return count

    def per_durable(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for (_, durable), n in (self.first + self.again).items():
            total[durable] += n
        return total


def service_of(conn: dict[str, Any]) -> str:
    return str(conn.get("name", "")).removeprefix("flowlearn-")


def make_load(users: list[str], entries: dict[str, str]) -> Any:
    def make(index: int, token: str) -> Request:
        user = users[index % len(users)]
        kind = CYCLE[index % len(CYCLE)]
        # Alternate gateways within a cycle and between cycles, so every kind of request
        # goes through both.
        gateway = (index + index // len(CYCLE)) % 2
        if kind == "entry":
            body = {"kind": "learned", "title": token, "body": f"Learned ({token})"}
            return Request("POST", "/v1/journal/entries", user, body, gateway)
        if kind == "post":
            post = {"kind": "tip", "body": f"A tip: {token}", "audience": "org"}
            return Request("POST", "/v1/posts", user, post, gateway)
        if kind == "share":
            share = {"audience": "org", "excerpt": f"Shared: {token}"}
            path = f"/v1/journal/entries/{entries[user]}/share"
            return Request("POST", path, user, share, gateway)
        path = "/v1/journal/entries?limit=5" if kind == "entries" else "/v1/feed?limit=5"
        return Request("GET", path, user, {}, gateway)

    return make


def kind_of(attempt: Attempt) -> str:
    return CYCLE[attempt.index % len(CYCLE)]


async def scale_out(workdir: Path, requests: int) -> Outcome:
    """``requests`` HTTP requests (writes and reads) through two gateways to two replicas
    of every service."""
    outcome = Outcome("two processes of every service, load through both gateways")
    run_id, users = new_run()
    started = time.monotonic()
    tap = DeliveryTap()
    with fault_stack(workdir, replicas=REPLICAS) as stack:
        await tap.start(stack)
        mongo: checks.Mongo = AsyncMongoClient(stack.mongodb_uri, tz_aware=True)
        try:
            entries = await one_entry_each(stack, users)
            urls = stack.gateway_urls
            stream = WriteStream(
                requests, make_load(users, entries), urls[0], run_id, more_urls=urls[1:]
            )
            await stream.run()
            writes = [a for a in stream.attempts if kind_of(a) in WRITES]
            reads = [a for a in stream.attempts if kind_of(a) not in WRITES]
            await _check_stored(outcome, mongo, users, run_id, writes, requests)
            outcome.expect(all(a.status == 200 for a in reads), f"reads answered {statuses(reads)}")
            await _check_consumed(outcome, stack, tap, requests)
        finally:
            await tap.stop()
            await mongo.close()
        _check_shares(outcome, stack, tap, stream.attempts)
        outcome.expect(stack.first_exited() is None, f"{stack.first_exited()} exited")
    outcome.notes.append(f"replies: {statuses(stream.attempts)}")
    outcome.seconds = time.monotonic() - started
    return outcome


async def _check_stored(
    outcome: Outcome,
    mongo: checks.Mongo,
    users: list[str],
    run_id: str,
    writes: list[Attempt],
    requests: int,
) -> None:
    """Entries once each, counted once by nudges; posts and shares once each as posts."""
    entries = [a for a in writes if kind_of(a) == "entry"]
    posted = [a for a in writes if kind_of(a) != "entry"]
    outcome.tally(entries, await checks.journal_entries(mongo, users, run_id))
    await checks.check_journal_effects(outcome, mongo, users, settle_timeout(requests))

    async def posts() -> dict[str, list[str]]:
        query = {"author_id": {"$in": users}}
        return await checks.tokens_in(mongo, checks.SHARING_DB, "posts", query, "body", run_id)

    async def all_posted() -> bool:
        found = await posts()
        return all(found.get(a.token) for a in posted if a.accepted)

    await checks.wait_for(all_posted, settle_timeout(requests))
    outcome.tally(posted, await posts())
    backlog = await checks.outbox_backlog(mongo, [checks.JOURNAL_DB, checks.SHARING_DB])
    outcome.expect(not backlog, f"outbox never published: {backlog}")


async def _check_consumed(
    outcome: Outcome, stack: FaultStack, tap: DeliveryTap, requests: int
) -> None:
    """Every durable consumer has nothing pending and everything acknowledged, and the tap
    saw every delivery the server counted (so the per-replica counts are complete)."""
    nc = await nats.connect(stack.nats_url)
    try:
        js = nc.jetstream()

        async def drained() -> bool:
            infos = await js.consumers_info(EVENTS_STREAM)
            return all(i.num_pending == 0 and i.num_ack_pending == 0 for i in infos)

        await checks.wait_for(drained, settle_timeout(requests))
        infos = await js.consumers_info(EVENTS_STREAM)
    finally:
        await nc.close()
    seen = tap.per_durable()
    for info in infos:
        name = str(info.name)
        delivered = info.delivered.consumer_seq if info.delivered else 0
        outcome.expect(
            info.num_pending == 0 and info.num_ack_pending == 0,
            f"{name}: {info.num_pending} events never delivered, "
            f"{info.num_ack_pending} never acknowledged",
        )
        outcome.expect(
            seen[name] == delivered,
            f"{name}: NATS delivered {delivered}, the tap saw {seen[name]}",
        )
    redelivered = sum(tap.again.values())
    outcome.notes.append(
        f"events delivered to consumers: {sum(tap.first.values())}, redelivered "
        f"{redelivered}; every consumer drained and acknowledged"
    )


def _check_shares(
    outcome: Outcome, stack: FaultStack, tap: DeliveryTap, attempts: list[Attempt]
) -> None:
    """Work per process. Requests: what NATS delivered to each process's queue
    subscriptions (``/connz``). Events: what the tap saw JetStream hand to each process's
    pull subscriptions. HTTP: the replies that came from each gateway's port."""
    per_gateway = Counter(a.gateway for a in attempts if a.status)
    work: dict[str, list[int]] = {
        "gateway: HTTP requests": [per_gateway[n] for n in range(REPLICAS["gateway"])]
    }
    for conn in sorted(stack.connections(), key=lambda c: int(c.get("cid", 0))):
        service = service_of(conn)
        if service not in ("journal", "nudges", "sharing"):
            continue
        subs = conn.get("subscriptions_list_detail") or []
        requests = sum(
            int(s.get("msgs", 0))
            for s in subs
            if s.get("subject") in RPC_SUBJECTS
            and str(s.get("subject")).startswith(f"flowrpc.{service}.")
        )
        events = sum(n for (cid, _), n in tap.first.items() if cid == int(conn["cid"]))
        work.setdefault(f"{service}: requests", []).append(requests)
        work.setdefault(f"{service}: events", []).append(events)
    outcome.work = {kind: counts for kind, counts in work.items() if sum(counts)}
    for kind in REQUIRED:
        counts = outcome.work.get(kind, [])
        total = sum(counts)
        outcome.expect(len(counts) == 2, f"{kind}: {len(counts)} processes did any, not 2")
        least = min(counts, default=0)
        outcome.expect(
            total > 0 and least >= total * SHARE_OF_WORK,
            f"{kind}: one process did only {least} of {total}",
        )
    outcome.notes.append(
        "work per process: "
        + "; ".join(f"{kind} {'/'.join(map(str, c))}" for kind, c in outcome.work.items())
    )
