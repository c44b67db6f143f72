"""``venuebridge recordings list|export``: the recording index, and a session's airing cut
into one file by stream copy (streaming/recording_cut.py)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from redis.exceptions import RedisError

from config import Settings, load_event
from signaling.records.airing import Airing
from signaling.records.recording_join import (
    NothingToExport,
    find_file,
    session_pieces,
)
from signaling.records.recording_join import RecordingIndex as IndexOfFiles
from signaling.records.recordings import RecordingFile, RecordingIndex
from signaling.records.store import AiringStore
from streaming.recording_cut import CutError, Stretch, cut
from web.backends import NoServerHere, open_existing_store, store_exists, without_password
from web.cli_common import add_settings_options, settings_from_args
from web.recording_wiring import recording_directory


def _utc(moment: datetime | None) -> str:
    if moment is None:
        return "open"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def open_recording_index(settings: Settings) -> RecordingIndex:
    """The index the server keeps beside its recordings (read only here)."""
    return RecordingIndex(recording_directory(settings))


def _ended(file: RecordingFile) -> str:
    return f"{_utc(file.ended_at)} ({file.end_reason})" if file.ended_at else "open"


def cmd_list(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    index = open_recording_index(settings)
    files = sorted(index.files(channel=args.channel), key=lambda f: (f.channel, f.started_at))
    if not files:
        where = f" of channel '{args.channel}'" if args.channel else ""
        print(f"No recordings{where} in {index.directory}.")
        return 0
    print(f"Recordings in {index.directory}:")
    print(f"{'file':<52} {'start (UTC)':<21} {'seconds':>8}  {'tracks':<12} end")
    for f in files:
        tracks = f"{f.kind} " + ",".join(language or "floor" for language in f.languages)
        print(f"{f.name:<52} {_utc(f.started_at):<21} {f.duration:>8.1f}  {tracks:<12} {_ended(f)}")
    return 0


async def _airings(settings: Settings) -> list[Airing]:
    event = load_event(settings.event_file)
    if not store_exists(settings):
        return []
    async with open_existing_store(settings, event) as store:
        return await AiringStore(store, event.id).load()


def export_session(
    index: IndexOfFiles,
    airings: list[Airing],
    session: str,
    venue: str | None,
    output: Path | None,
    now: datetime,
) -> str:
    """Cut ``session``'s airing at ``venue`` into ``output``; a line saying what was written.

    ``NothingToExport`` or ``CutError`` say why nothing could be.
    """
    files = list(index.files())
    venue_id, pieces = session_pieces(airings, files, session, venue, now)
    stretches, kinds = [], set()
    for piece in pieces:
        found = find_file(index, piece.file)
        if found is None or not found.path.is_file():
            raise CutError(f"recording {piece.file} is in the index but not on disk")
        stretches.append(Stretch(found.path, piece.from_offset, piece.to_offset))
        kinds.add(found.kind)
    if len(kinds) > 1:
        # H.264 in MP4 and VP8 in WebM cannot share a file without re-encoding.
        raise CutError(f"the airing was recorded as {' and '.join(sorted(kinds))}: no one file")
    kind = kinds.pop()
    target = output or Path(f"{session}-{venue_id}.{kind}")
    result = cut(stretches, target, container=kind)
    lead = max(result.lead_in, default=0.0)
    return (
        f"{target}: {result.seconds} s of session '{session}' at '{venue_id}' from "
        f"{len(pieces)} piece(s) of {len({p.file for p in pieces})} file(s), by stream copy "
        f"(cuts start at the keyframe at or before each start: up to {lead} s early)"
    )


def cmd_export(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if args.output is not None and args.output.exists() and not args.force:
        print(f"venuebridge: {args.output} exists (use --force)", file=sys.stderr)
        return 2
    try:
        airings = asyncio.run(_airings(settings))
    except NoServerHere as error:
        print(f"venuebridge: {error}", file=sys.stderr)
        return 2
    except RedisError as error:
        where = without_password(settings.redis_url or "")
        print(f"venuebridge: cannot read the Redis at {where}: {error}", file=sys.stderr)
        return 2
    index = open_recording_index(settings)
    try:
        line = export_session(
            index, airings, args.session, args.venue, args.output, datetime.now(UTC)
        )
    except (NothingToExport, CutError) as error:
        print(f"venuebridge: {error}", file=sys.stderr)
        return 1
    print(line)
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``recordings list`` and ``recordings export`` on the ``venuebridge`` parser."""
    recordings = commands.add_parser(
        "recordings", help="recorded files, and a session's airing cut into one file"
    )
    actions = recordings.add_subparsers(dest="action", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="the recorded files, per channel")
    add_settings_options(listing)
    listing.add_argument("--data-dir", type=Path, help="the server's data directory")
    listing.add_argument("--channel", help="only this channel's files")
    listing.set_defaults(run=cmd_list)

    export = actions.add_parser(
        "export",
        help="cut a session's airing into one MP4 (stream copy, no re-encode)",
        description="Cut what a venue saw of SESSION into one MP4 by stream copy: each "
        "stretch from the keyframe at or before its start, files joined across a rotation "
        "or a publisher's reconnect, stretches off air left out.",
    )
    add_settings_options(export)
    export.add_argument("--data-dir", type=Path, help="the server's data directory")
    export.add_argument("session", help="session id (or one airing's id, e.g. unscheduled@jp#1)")
    export.add_argument("--venue", help="venue id (needed when the session aired at several)")
    export.add_argument(
        "-o", "--output", type=Path, help="file to write (default: SESSION-VENUE.mp4, or .webm)"
    )
    export.add_argument("--force", action="store_true", help="overwrite --output")
    export.set_defaults(run=cmd_export)
