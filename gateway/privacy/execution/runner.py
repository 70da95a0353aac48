"""The request workflow and sweepers inside `serve` (the embedded default needs no
second process); production may run `privacy-gateway worker` instead, or as well:
claims keep two runners off the same request."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from gateway.privacy.execution.sweeper import Sweeper
from gateway.privacy.execution.workflow import Workflow

log = logging.getLogger("gateway.privacy")


async def run_once(workflow: Workflow, sweeper: Sweeper) -> int:
    """One round: sweep (expiry, SLA flags, retention, exports), then run what is ready."""
    await sweeper.sweep()
    return await workflow.run_pending()


class InProcessRunner:
    """Runs the workflow and the sweepers inside `serve`, every few seconds."""

    def __init__(self, workflow: Workflow, sweeper: Sweeper, interval_seconds: float) -> None:
        self._workflow = workflow
        self._sweeper = sweeper
        self._interval = interval_seconds
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._interval > 0:
            self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                await run_once(self._workflow, self._sweeper)
            except Exception as exc:  # keep serving; the next round retries
                # Type only, no traceback: messages can quote personal data.
                log.error("privacy workflow round failed with %s", type(exc).__name__)  # noqa: TRY400
            await asyncio.sleep(self._interval)
