"""Stopping the background loops (scheduler, channel sender) within a bound: work in hand
may finish, and what is cut short gives up its leases rather than holding them until they
end, so another replica takes it over at once during a rolling deploy."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("flowlearn.nudges.stopping")


async def pause(stopping: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, waking early when ``stopping`` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)


async def finish_within(tasks: list[asyncio.Task[Any]], grace: float) -> None:
    """Let ``tasks`` end by themselves for up to ``grace`` seconds, then cancel the rest
    and wait while they release what they hold."""
    if not tasks:
        return
    _, late = await asyncio.wait(tasks, timeout=grace)
    for task in late:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def release_leases(release: Callable[[], Awaitable[int]], what: str) -> None:
    """Give up leases of work cut short; on failure they simply run out."""
    try:
        released = await release()
    except Exception as exc:
        log.warning("could not release %s leases: %r", what, exc)
        return
    if released:
        log.info("released %d %s leases on stop", released, what)
