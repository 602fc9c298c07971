"""Every fault scenario by name, with the size it is run at. The tests under tests/faults
and ``python -m reliability`` run these same functions, with different sizes."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reliability import kills, outages, poison, replicas, scale
from reliability.checks import Outcome


@dataclass(frozen=True)
class Size:
    writes: int = 2000  # journal writes, posts and shares per scenario
    nudges: int = 2000  # due nudges for the scheduler


Run = Callable[[Path, Size], Coroutine[Any, Any, Outcome]]


def _kill(service: str) -> Run:
    async def run(workdir: Path, size: Size) -> Outcome:
        return await kills.kill_journal_writes(workdir, service, size.writes)

    return run


async def _kill_sharing(workdir: Path, size: Size) -> Outcome:
    return await kills.kill_sharing_writes(workdir, size.writes)


async def _scheduler(workdir: Path, size: Size) -> Outcome:
    return await replicas.scheduler_kill(workdir, size.nudges)


async def _nats(workdir: Path, size: Size) -> Outcome:
    return await outages.nats_outage(workdir, size.writes)


async def _database(workdir: Path, size: Size) -> Outcome:
    return await outages.database_outage(workdir, size.writes)


async def _poison(workdir: Path, size: Size) -> Outcome:
    return await poison.poison_events(workdir)


async def _replicas(workdir: Path, size: Size) -> Outcome:
    return await replicas.replicas_share_work(workdir, size.writes)


async def _scale(workdir: Path, size: Size) -> Outcome:
    return await scale.scale_out(workdir, size.writes)


SCENARIOS: dict[str, Run] = {
    "kill-journal": _kill("journal"),
    "kill-nudges": _kill("nudges"),
    "kill-sharing": _kill_sharing,
    "kill-gateway": _kill("gateway"),
    "kill-scheduler": _scheduler,
    "nats-outage": _nats,
    "database-outage": _database,
    "poison": _poison,
    "replicas": _replicas,
    "scale": _scale,
}
# Reported in a section of their own (work per replica), not as a fault.
SCALE_SCENARIOS = {"scale"}
