"""``venuebridge doctor``: run every check side by side, print one line each, exit 1 on FAIL."""

from __future__ import annotations

import argparse
import asyncio
import ssl
import sys
from datetime import UTC, datetime
from pathlib import Path

from config import Event, Settings, load_event
from web.cli_common import (
    add_deployment_options,
    add_settings_options,
    bounded_number,
    settings_from_args,
)
from web.doctor.host_checks import check_clock, check_data_dir
from web.doctor.media_checks import check_media_port, check_turn
from web.doctor.redis_check import check_redis
from web.doctor.report import Check, exit_code, summary
from web.doctor.web_checks import check_certificate, check_public_url, tls_context

DEFAULT_TIMEOUT = 5.0


async def run_checks(
    settings: Settings,
    event: Event,
    *,
    ca_file: Path | None = None,
    udp_port: int | None = None,
    within: float = DEFAULT_TIMEOUT,
) -> list[Check]:
    """Every check, concurrently (each bounded by ``within``), in a fixed order."""
    context = tls_context(ca_file)
    now = datetime.now(UTC)
    public, certificate, media, turn, redis = await asyncio.gather(
        check_public_url(settings, event, context, within),
        check_certificate(settings, context, within, now),
        check_media_port(settings, udp_port, within),
        check_turn(settings, context, within),
        check_redis(settings, event, within),
    )
    host = [check_clock(), *check_data_dir(settings)]
    return [public, certificate, *media, *turn, *redis, *host]


def cmd_doctor(args: argparse.Namespace) -> int:
    """Check the deployment these settings describe; 1 when anything failed."""
    settings = settings_from_args(args)
    event = load_event(settings.event_file)
    try:
        tls_context(args.ca_file)
    except (OSError, ssl.SSLError) as error:
        print(f"venuebridge: --ca-file {args.ca_file}: cannot use it ({error})", file=sys.stderr)
        return 2
    print(f"venuebridge doctor: event '{event.id}', data dir {settings.data_dir.resolve()}")
    checks = asyncio.run(
        run_checks(
            settings, event, ca_file=args.ca_file, udp_port=args.udp_port, within=args.timeout
        )
    )
    for check in checks:
        print(check.line())
    print(summary(checks))
    sys.stdout.flush()
    return exit_code(checks)


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number")
    return int(text)


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``doctor`` on the ``venuebridge`` parser."""
    doctor = commands.add_parser(
        "doctor",
        help="check a deployment from the inside and say what to fix",
        description="Run beside the server, with its settings and environment: checks the "
        "public URL, its certificate, the media UDP port, TURN, Redis, the clock and the "
        "data dir. One line per check; exit status 1 when any check FAILs.",
    )
    add_settings_options(doctor)
    add_deployment_options(doctor)
    doctor.add_argument(
        "--ca-file", type=Path, help="trust this CA (PEM) instead of the system's, for TLS"
    )
    doctor.add_argument(
        "--udp-port", type=_port, help="the media UDP port to probe (default: ice.udp_port)"
    )
    doctor.add_argument(
        "--timeout",
        type=bounded_number(120, "a number of seconds up to 120"),
        default=DEFAULT_TIMEOUT,
        help=f"seconds to wait for each answer (default {DEFAULT_TIMEOUT:g})",
    )
    doctor.set_defaults(run=cmd_doctor)
