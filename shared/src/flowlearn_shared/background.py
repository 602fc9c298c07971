"""A component's long-running ``run`` loop as one asyncio task."""

from __future__ import annotations

import asyncio
import contextlib


class BackgroundLoop:
    """``start`` runs ``run`` as a task, once; ``stop`` cancels it and waits for it."""

    task_name = "background"
    _task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=self.task_name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
