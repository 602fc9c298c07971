"""The sharing service's periodic work: publish the end of gatherings that have ended and
the review nudges of posts whose review date has come.

Every replica runs it; each item is claimed in the same transaction as its outbox event,
so running it twice (or on two replicas at once) publishes nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from flowlearn_shared.background import BackgroundLoop

log = logging.getLogger("flowlearn.sharing.sweeper")

Job = Callable[[], Awaitable[int]]


class Sweeper(BackgroundLoop):
    task_name = "sharing-sweeper"

    def __init__(self, jobs: dict[str, Job], interval_seconds: float) -> None:
        self.jobs = jobs
        self.interval_seconds = interval_seconds

    async def run_once(self) -> dict[str, int]:
        done: dict[str, int] = {}
        for name, job in self.jobs.items():
            try:
                done[name] = await job()
            except Exception:  # the next pass retries; one failing job does not stop others
                log.exception("periodic job failed", extra={"job": name})
                done[name] = 0
        return done

    async def run(self) -> None:
        while True:
            await self.run_once()
            await asyncio.sleep(self.interval_seconds)
