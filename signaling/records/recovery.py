"""Opening the as-run log at start-up, closing what an unclean stop left on air."""

from __future__ import annotations

import logging
from datetime import datetime

from config.event import Event
from signaling.records.airing import Judgement
from signaling.records.log import AsRunLog
from signaling.records.store import AiringStore

logger = logging.getLogger(__name__)


async def open_asrun_log(
    store: AiringStore,
    event: Event,
    rules: Judgement,
    now: datetime,
    *,
    rehearsal: bool = False,
) -> AsRunLog:
    """The log as stored, with airings a killed node left open closed at its last heartbeat."""
    began = await store.began(now)
    log = AsRunLog(event, since=began, rules=rules, airings=await store.load())
    log.rehearsal = rehearsal
    last_alive = await store.last_alive()
    if last_alive is None:
        return log
    closed = log.recover(last_alive)
    if closed:
        logger.warning("closed %d airing(s) left open by an unclean stop", len(closed))
        # Saved at once: another node reading the store must not see them on air either.
        await store.save(closed)
    return log
