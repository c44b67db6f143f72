"""Stopping a background task that talks to Redis.

redis-py can swallow a cancellation that lands inside one of its calls, and the task
then runs on (its loop sleeps and calls again), so ``task.cancel(); await task`` may wait
for ever. Owners cancel, then wait a bounded time, then leave the task behind with a log
line: a shutdown must not hang on it.
"""

from __future__ import annotations

import asyncio
import logging

logger = logging.getLogger(__name__)


async def cancel_and_wait(task: asyncio.Task[None], patience: float, what: str) -> None:
    """Cancel ``task`` and wait up to ``patience`` seconds for it to end (``what`` it is)."""
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=patience)
    if not done:
        logger.warning("%s did not stop in time; left behind", what)
    elif not task.cancelled() and task.exception() is not None:
        logger.warning("%s had failed: %s", what, task.exception())
