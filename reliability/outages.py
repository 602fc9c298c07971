"""NATS or the database stopped for a while during a stream of journal writes, then started
again on the same port and data directory. Clients get a quick, clean refusal meanwhile;
nothing accepted is lost; services reconnect by themselves (same processes) and the work
flows again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pymongo import AsyncMongoClient

from reliability import checks
from reliability.checks import Outcome
from reliability.kills import new_run, settle_timeout
from reliability.load import Attempt, WriteStream, journal_entry, statuses
from reliability.stack import REQUEST_TIMEOUT_SECONDS, FaultStack, fault_stack

OUTAGE_SECONDS = 10.0
# After the server is back, a client may still meet a refusal while connections return.
RECOVERY_SECONDS = 5.0


@dataclass
class Window:
    down: float = 0.0  # monotonic: the server stopped answering
    up: float = 0.0  # started again and answering

    def during(self, attempts: list[Attempt]) -> list[Attempt]:
        return [a for a in attempts if self.down <= a.started < self.up]

    def well_after(self, attempts: list[Attempt]) -> list[Attempt]:
        return [a for a in attempts if a.started >= self.up + RECOVERY_SECONDS]


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def outage_rate(writes: int, outage: float) -> float:
    """Pace so the stream lasts well past the outage: writes before, during and after."""
    return min(25.0, writes / (outage * 2.5 + 10))


async def outage_during(
    stream: WriteStream, stop: Callable[[], None], start: Callable[[], None], outage: float
) -> Window:
    await stream.wait_accepted(stream.count // 4)
    window = Window()
    await asyncio.to_thread(stop)
    window.down = time.monotonic()
    await asyncio.sleep(outage)
    await asyncio.to_thread(start)
    window.up = time.monotonic()
    return window


async def _outage(
    workdir: Path, which: str, writes: int, outage: float, refusals: set[int], quick: bool
) -> Outcome:
    outcome = Outcome(f"{which} stopped {outage:.0f} s during journal writes")
    run_id, users = new_run()
    started = time.monotonic()
    with fault_stack(workdir) as stack:
        stop, start = _controls(stack, which)
        pids = stack.pids()
        rate = outage_rate(writes, outage)
        stream = WriteStream(
            writes, journal_entry(users), stack.config.gateway_url, run_id, rate=rate
        )
        _, window = await asyncio.gather(stream.run(), outage_during(stream, stop, start, outage))
        p99 = _check_refusals(outcome, window.during(stream.attempts), refusals)
        if quick:
            outcome.expect(
                p99 < REQUEST_TIMEOUT_SECONDS,
                f"refusals p99 {p99:.2f} s is not under the request timeout",
            )
        after = window.well_after(stream.attempts)
        late = [a for a in after if not a.accepted]
        outcome.expect(bool(after), "no writes were sent after the server came back")
        outcome.expect(
            not late,
            f"{len(late)} of {len(after)} writes {RECOVERY_SECONDS:.0f} s or more after the "
            f"restart were refused: {statuses(late)}",
        )
        mongo: checks.Mongo = AsyncMongoClient(stack.mongodb_uri, tz_aware=True)
        try:
            outcome.tally(stream.attempts, await checks.journal_entries(mongo, users, run_id))
            await checks.check_journal_effects(outcome, mongo, users, settle_timeout(writes))
        finally:
            await mongo.close()
        now = stack.pids()
        restarted = sorted(
            k for k in pids if now.get(k) != pids[k] or not stack.services[k].running
        )
        outcome.expect(not restarted, f"processes exited or were replaced: {restarted}")
        outcome.notes.append(f"every service kept its process (pids {sorted(now.values())})")
    outcome.notes.append(f"replies: {statuses(stream.attempts)}, {rate:.0f} writes/s offered")
    outcome.seconds = time.monotonic() - started
    return outcome


def _controls(stack: FaultStack, which: str) -> tuple[Callable[[], None], Callable[[], None]]:
    if which == "NATS":
        return stack.stop_nats, stack.start_nats
    return stack.stop_mongo, stack.start_mongo


def _check_refusals(outcome: Outcome, during: list[Attempt], refusals: set[int]) -> float:
    """Writes sent while the server was down: refused cleanly, in time, with Retry-After.
    Returns the 99th percentile of the refusals' times."""
    refused = [a for a in during if not a.accepted]
    seconds = [a.seconds for a in refused]
    p99 = percentile(seconds, 99)
    outcome.notes.append(
        f"during the outage: {len(during)} writes, {statuses(during)}; refusals p50 "
        f"{percentile(seconds, 50) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max "
        f"{max(seconds, default=0) * 1000:.0f} ms (request timeout "
        f"{REQUEST_TIMEOUT_SECONDS * 1000:.0f} ms)"
    )
    outcome.expect(bool(refused), "no write was sent (or refused) during the outage")
    unclean = [a for a in refused if a.status not in refusals]
    outcome.expect(not unclean, f"refusals other than {sorted(refusals)}: {statuses(unclean)}")
    no_problem = [a for a in refused if "application/problem+json" not in a.content_type]
    outcome.expect(not no_problem, f"{len(no_problem)} refusals were not problem+json")
    no_retry = [a for a in refused if a.status == 503 and not a.retry_after]
    outcome.expect(not no_retry, f"{len(no_retry)} 503 replies without Retry-After")
    outcome.expect(
        max(seconds, default=0) < REQUEST_TIMEOUT_SECONDS + 1.0,
        f"a refusal took {max(seconds, default=0):.1f} s (a hang past the request timeout)",
    )
    return p99


async def nats_outage(workdir: Path, writes: int, outage: float = OUTAGE_SECONDS) -> Outcome:
    """The gateway knows at once that NATS is gone: refusals well under the timeout."""
    return await _outage(workdir, "NATS", writes, outage, {503}, quick=True)


async def database_outage(workdir: Path, writes: int, outage: float = OUTAGE_SECONDS) -> Outcome:
    """A service waits for the database a while: refusals within the request timeout."""
    return await _outage(workdir, "the database", writes, outage, {500, 503}, quick=False)
