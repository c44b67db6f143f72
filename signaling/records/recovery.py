"""Opening the as-run log at start-up, closing what an unclean stop left on air."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

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
    restart_grace: timedelta = timedelta(0),
) -> AsRunLog:
    """The log as stored, with airings a killed node left open closed at its last heartbeat.

    Back within ``restart_grace`` of that heartbeat, they go on instead, with the time the
    server was down as an off-air interval.
    """
    began = await store.began(now)
    log = AsRunLog(event, since=began, rules=rules, airings=await store.load())
    log.rehearsal = rehearsal
    last_alive = await store.last_alive()
    if last_alive is None:
        return log
    if log.open_airings() and now - last_alive <= restart_grace:
        continued = log.continue_after_restart(last_alive, now)
        logger.warning("continuing %d airing(s) after a restart", len(continued))
        await store.save(continued)
        return log
    closed = log.recover(last_alive)
    if closed:
        logger.warning("closed %d airing(s) left open by an unclean stop", len(closed))
        # Saved at once: another node reading the store must not see them on air either.
        await store.save(closed)
    return log
