"""The ``venuebridge`` command line: serve, check, schedule, report, imports; token and revoke
(web/cli_token.py), recordings (web/cli_recordings.py), doctor (web/doctor/)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from redis.exceptions import RedisError

from config import Event, EventFileError, Settings, SettingsError, load_event
from config.event import Part
from config.schedule import by_day_and_hall, local_time, sessions_for_venue, zone_label
from config.schedule_import import ImportOptions, ScheduleImportError, import_schedule
from config.workers import parse_workers, worker_count
from signaling.files import private_dir
from signaling.records.airing import Airing
from signaling.records.report import airing_row, terminal_report, to_csv
from signaling.records.store import AiringStore
from web import cli_recordings, cli_token
from web.app import create_app, version
from web.backends import NoServerHere, open_existing_store, store_exists, without_password
from web.cli_common import (
    add_settings_options,
    bounded_number,
    public_url_warning,
    settings_from_args,
)
from web.doctor import command as doctor_command
from web.logs import configure_logging
from web.server import serve_until_signalled
from web.workers import serve_workers

logger = logging.getLogger("venuebridge")
_settings = settings_from_args


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    configure_logging(settings.log_level, settings.log_format)
    event = load_event(settings.event_file)
    if settings.rehearsal_from is not None and event.session(settings.rehearsal_from) is None:
        print(
            f"venuebridge: no session '{settings.rehearsal_from}' to rehearse from", file=sys.stderr
        )
        return 2
    private_dir(settings.data_dir)
    warning = public_url_warning(settings)
    if warning is not None:
        logger.warning("%s", warning)
    count = worker_count(settings)
    if count > 1:
        code = serve_workers(settings, count)  # web/workers.py: a supervisor of workers
        logger.info("venuebridge stopped")
        return code
    app = create_app(settings, event)
    shown_host = "localhost" if settings.host in ("0.0.0.0", "::") else settings.host
    logger.info(
        "venuebridge %s serving '%s' (%d sessions) on %s://%s:%d/ with data in %s",
        version(),
        event.name,
        len(event.sessions),
        "https" if settings.tls_cert is not None else "http",
        shown_host,
        settings.port,
        settings.data_dir.resolve(),
    )
    # The same construction as the tests' servers (web/server.py); SIGINT and SIGTERM
    # shut it down gracefully.
    asyncio.run(serve_until_signalled(app, settings))
    logger.info("venuebridge stopped")
    return 0


def _workers_flag(text: str) -> int | str:
    try:
        return parse_workers(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of workers or auto") from None


def cmd_check(args: argparse.Namespace) -> int:
    event = load_event(args.event)
    print(f"{args.event}: OK — {event.name} ({event.time_zone.key})")
    print(f"  venues:   {len(event.venues)} ({', '.join(v.id for v in event.venues)})")
    print(f"  channels: {len(event.channels)}")
    print(f"  sessions: {len(event.sessions)}")
    if event.sessions:
        first, last = event.sessions[0], max(event.sessions, key=lambda s: s.end)
        zone = event.time_zone
        print(
            f"  runs:     {first.start.astimezone(zone):%Y-%m-%d %H:%M} to "
            f"{last.end.astimezone(zone):%Y-%m-%d %H:%M} {zone.key}"
        )
    return 0


def cmd_schedule(args: argparse.Namespace) -> int:
    settings = _settings(args)
    event: Event = load_event(settings.event_file)
    venue = event.venue(args.venue)
    if venue is None:
        known = ", ".join(v.id for v in event.venues)
        print(f"venuebridge: unknown venue '{args.venue}' (known: {known})", file=sys.stderr)
        return 2
    zone = venue.time_zone
    sessions = sessions_for_venue(event, venue.id)
    print(f"{event.name}: {venue.name}")
    if sessions:
        print(f"Times in {zone_label(sessions[0].start, zone)}")
    for day in by_day_and_hall(event, sessions, zone):
        print(f"\n{day.day:%A %d %B %Y}")
        rows = sorted(
            ((s, hall.channel) for hall in day.halls for s in hall.sessions),
            key=lambda row: row[0].start,
        )
        for session, channel in rows:
            direction = "sends" if channel.venue == venue.id else "receives"
            when = f"{local_time(session.start, zone)}-{local_time(session.end, zone, day.day)}"
            print(f"  {when:<13} {session.title}")
            print(f"  {'':<13} {session.part.label} · {channel.title} · {direction}")
    if not sessions:
        print("No sessions for this venue.")
    return 0


def _track_part(text: str) -> tuple[str, Part]:
    track, sep, part = text.rpartition("=")
    if not sep or not track.strip():
        raise argparse.ArgumentTypeError(f"expected TRACK=PART, got {text!r}")
    try:
        return track.strip(), Part(part.strip())
    except ValueError:
        choices = ", ".join(p.value for p in Part)
        raise argparse.ArgumentTypeError(f"{part!r} is not one of {choices}") from None


def cmd_import_schedule(args: argparse.Namespace) -> int:
    source = str(args.export)
    try:
        text = args.export.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        print(f"venuebridge: cannot read {source}: {error}", file=sys.stderr)
        return 2
    options = ImportOptions(
        venue_id=args.venue_id,
        venue_name=args.venue_name,
        time_zone=args.time_zone,
        default_part=args.default_part,
        track_parts=dict(args.part or []),
    )
    toml_text, event = import_schedule(text, options, source)
    if args.output is None:
        sys.stdout.write(toml_text)
    else:
        if args.output.exists() and not args.force:
            print(f"venuebridge: {args.output} exists (use --force)", file=sys.stderr)
            return 2
        args.output.write_text(toml_text, encoding="utf-8")
        print(
            f"{args.output}: {event.name}, {len(event.channels)} channels, "
            f"{len(event.sessions)} sessions",
            file=sys.stderr,
        )
    return 0


async def _load_airings(settings: Settings, event: Event) -> list[Airing]:
    """The as-run records from the store the server uses (SQLite in data_dir, or Redis)."""
    if not store_exists(settings):
        return []  # no server ran here yet: do not leave an empty store behind
    async with open_existing_store(settings, event) as store:
        return await AiringStore(store, event.id).load()


def cmd_report(args: argparse.Namespace) -> int:
    """Print the as-run records per venue, in each venue's own time."""
    settings = _settings(args)
    event = load_event(settings.event_file)
    try:
        loaded = asyncio.run(_load_airings(settings, event))
    except NoServerHere as error:
        print(f"venuebridge: {error}", file=sys.stderr)
        return 2
    except RedisError as error:
        print(
            f"venuebridge: cannot read the Redis at {without_password(settings.redis_url or '')}: "
            f"{error}",
            file=sys.stderr,
        )
        return 2
    airings = sorted(loaded, key=lambda a: (a.scheduled_start, a.id))
    if args.format == "csv":
        sys.stdout.write(to_csv([airing_row(event, a) for a in airings]))
    else:
        print(terminal_report(event, airings))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="venuebridge",
        description="Live links between a convention's main venue and its sub-venues.",
    )
    parser.add_argument("--version", action="version", version=f"venuebridge {version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    with_settings = add_settings_options

    serve = commands.add_parser("serve", help="run the server")
    with_settings(serve)
    serve.add_argument("--host", help="address to listen on")
    serve.add_argument("--port", type=int, help="HTTP port")
    serve.add_argument("--data-dir", type=Path, help="where the store and secret live")
    serve.add_argument(
        "--workers",
        type=_workers_flag,
        help='worker processes: a number, or "auto" (one per core; needs redis_url)',
    )
    serve.add_argument(
        "--rehearse",
        action="store_true",
        help="rehearsal clock: the first session starts a few minutes from now",
    )
    serve.add_argument("--rehearse-from", metavar="SESSION", help="rehearse from this session")
    serve.add_argument(
        "--rehearse-speed",
        type=bounded_number(3600, "a speed between 0 and 3600"),
        metavar="N",
        help="run the rehearsal clock N times faster",
    )
    serve.set_defaults(run=cmd_serve)

    check = commands.add_parser("check", help="validate an event file and summarise it")
    check.add_argument("event", type=Path, help="event file (TOML)")
    check.set_defaults(run=cmd_check)

    schedule = commands.add_parser("schedule", help="a venue's schedule in its local time")
    with_settings(schedule)
    schedule.add_argument("--venue", required=True, help="venue id, e.g. jp")
    schedule.set_defaults(run=cmd_schedule)

    report = commands.add_parser("report", help="the as-run records, per venue")
    with_settings(report)
    report.add_argument("--data-dir", type=Path, help="where the server keeps its store")
    report.add_argument("--format", choices=("table", "csv"), default="table")
    report.set_defaults(run=cmd_report)

    imports = commands.add_parser(
        "import-schedule", help="turn a pretalx/frab schedule.json into an event file"
    )
    imports.add_argument("export", type=Path, help="the schedule.json export")
    imports.add_argument("-o", "--output", type=Path, help="event file to write (else stdout)")
    imports.add_argument("--force", action="store_true", help="overwrite --output")
    imports.add_argument("--venue-id", default="main", help="id of the venue (default: main)")
    imports.add_argument("--venue-name", default="Main venue", help="name of the venue")
    imports.add_argument("--time-zone", help="IANA zone when the export names none")
    imports.add_argument(
        "--part",
        action="append",
        type=_track_part,
        metavar="TRACK=PART",
        help="programme part for a track (repeatable)",
    )
    imports.add_argument(
        "--default-part",
        type=Part,
        default=Part.PROFESSIONAL_MEETINGS,
        choices=list(Part),
        metavar="PART",
        help="part for talks whose track maps to none (default: professional_meetings)",
    )
    imports.set_defaults(run=cmd_import_schedule)

    cli_token.add_commands(commands)
    cli_recordings.add_commands(commands)
    doctor_command.add_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except (SettingsError, EventFileError, ScheduleImportError) as error:
        print(f"venuebridge: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader (``| head``) went away; that is not an error of ours.
        sys.stderr.close()
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
