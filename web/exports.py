"""``/api/sessions/{id}/questions.csv`` and ``.json``: every question in every state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from config import Event, Session
from config.csv_export import csv_text
from signaling.errors import Forbidden
from signaling.qa.model import Question
from web.auth import require_grant
from web.errors import http_error
from web.keys import EVENT, HUB

COLUMNS = [
    "id",
    "state",
    "text",
    "original_text",
    "name",
    "language",
    "origin",
    "origin_venue",
    "votes",
    "asker",
    "translation_zh",
    "translation_en",
    "dismiss_reason",
    "merged_into",
    "merged_from",
    "edits",
    *(
        f"{moment}_{zone}"
        for moment in ("asked_at", "approved_at", "staged_at", "answered_at", "closed_at")
        for zone in ("utc", "venue")
    ),
]


def venue_zone(event: Event, session: Session) -> ZoneInfo:
    """The time zone of the venue whose hall carries the session."""
    channel = event.channel(session.channel)
    venue = event.venue(channel.venue) if channel else None
    return venue.time_zone if venue else event.time_zone


def _times(at: float | None, zone: ZoneInfo) -> tuple[str, str]:
    if at is None:
        return "", ""
    moment = datetime.fromtimestamp(at, UTC)
    return moment.isoformat().replace("+00:00", "Z"), moment.astimezone(zone).isoformat()


def question_row(question: Question, zone: ZoneInfo) -> dict[str, Any]:
    """One question flattened for the exports."""
    row: dict[str, Any] = {
        "id": question.id,
        "state": question.state.value,
        "text": question.text,
        "original_text": question.edits[0].old_text if question.edits else question.text,
        "name": question.name,
        "language": question.language,
        "origin": question.origin,
        "origin_venue": question.origin_venue or "",
        "votes": question.votes,
        "asker": question.asker,
        "translation_zh": question.translations.get("zh", ""),
        "translation_en": question.translations.get("en", ""),
        "dismiss_reason": question.dismiss_reason or "",
        "merged_into": question.merged_into or "",
        "merged_from": " ".join(question.merged_from),
        "edits": len(question.edits),
    }
    for moment in ("asked_at", "approved_at", "staged_at", "answered_at", "closed_at"):
        utc, local = _times(getattr(question, moment), zone)
        row[f"{moment}_utc"], row[f"{moment}_venue"] = utc, local
    return row


async def _rows(request: web.Request) -> tuple[Session, ZoneInfo, list[dict[str, Any]]]:
    event = request.app[EVENT]
    session_id = request.match_info["session"]
    grant = require_grant(request)
    session = event.session(session_id)
    if session is None:
        raise http_error(web.HTTPNotFound, f"unknown session '{session_id}'")
    if not grant.may_export(session_id):
        raise Forbidden("exports are for this session's moderators")
    zone = venue_zone(event, session)
    room = await request.app[HUB].rooms.room(session_id)
    questions = sorted(room.questions.values(), key=lambda q: (q.asked_at, int(q.id[1:])))
    return session, zone, [question_row(q, zone) for q in questions]


async def questions_json(request: web.Request) -> web.Response:
    session, zone, rows = await _rows(request)
    return web.json_response(
        {
            "session": session.id,
            "title": str(session.title),
            "titles": session.title.as_dict(),
            "venue_time_zone": zone.key,
            "questions": rows,
        }
    )


async def questions_csv(request: web.Request) -> web.Response:
    session, _, rows = await _rows(request)
    return web.Response(
        text=csv_text(COLUMNS, rows),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{session.id}-questions.csv"'},
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/api/sessions/{session}/questions.json", questions_json)
    app.router.add_get("/api/sessions/{session}/questions.csv", questions_csv)
