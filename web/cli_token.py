"""``venuebridge token`` and ``revoke``: credentials of a server that is already running.

Both only read what the server made (its signing key in ``data_dir`` or on the shared
Redis, its store): a key created here would sign tokens the server refuses, so a missing
one is an error that says where the command looked and how to point it elsewhere.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from redis.exceptions import RedisError

from config import Event, Settings, load_event
from signaling.auth import ALL, Grant, Role, new_identity
from signaling.auth.revocation import RevocationLog, revoke_role, revoke_token
from signaling.bus.node import NodeBus
from signaling.errors import SignalingError, Unauthorized
from signaling.invites import InviteDesk, InviteLog, InviteRequest
from web.backends import NoServerHere, open_backends, without_password
from web.cli_common import add_deployment_options, add_settings_options, settings_from_args

# Who the revocation list names for entries made on the command line.
CLI_ACTOR = "command line"
JOIN_PATH = "/join?token="
NO_PUBLIC_URL = (
    "venuebridge: warning: no public URL is known, so the link above is only its path. "
    "Put the address browsers use in front of it, or pass --public-url "
    "(or set public_url / VENUEBRIDGE_PUBLIC_URL as the server has it)"
)


def invite_link(settings: Settings, token: str) -> str:
    """The link to hand out: on the public URL, or just the path when none is known."""
    base = (settings.public_url or "").rstrip("/")
    return f"{base}{JOIN_PATH}{token}"


def _fail(message: str) -> int:
    print(f"venuebridge: {message}", file=sys.stderr)
    return 2


def _redis_trouble(settings: Settings, error: RedisError) -> str:
    return f"cannot use the Redis at {without_password(settings.redis_url or '')}: {error}"


def cmd_token(args: argparse.Namespace) -> int:
    """Mint a token with the key of the server whose data dir (or Redis) the settings name."""
    settings = settings_from_args(args)
    event = load_event(settings.event_file)
    role = Role(args.role)
    unknown = (
        [v for v in ([args.venue] if args.venue else []) if event.venue(v) is None]
        + [s for s in args.session if s != ALL and event.session(s) is None]
        + [c for c in args.channel if event.channel(c) is None]
    )
    if unknown:
        return _fail(f"not in this event: {', '.join(unknown)}")
    if args.lang is not None and role is Role.INTERPRETER and args.channel:
        _warn_if_not_interpreted(event, args.channel[0], args.lang)
    grant = Grant(
        identity=args.name or new_identity(role.value),
        role=role,
        venue=args.venue,
        sessions=tuple(args.session),
        channels=tuple(args.channel),
        language=args.lang,
    )
    if args.lang and role is Role.CAPTIONER and not _captioned_language(event, grant):
        return _fail(f"no session named carries the language '{args.lang}'")
    try:
        token = asyncio.run(_mint(settings, event, grant, args.ttl))
    except (ValueError, NoServerHere) as error:
        return _fail(str(error))
    except RedisError as error:
        return _fail(_redis_trouble(settings, error))
    print(token)
    print(invite_link(settings, token), file=sys.stderr if args.quiet else sys.stdout)
    if not settings.public_url:
        print(NO_PUBLIC_URL, file=sys.stderr)
    return 0


def _warn_if_not_interpreted(event: Event, channel: str, language: str) -> None:
    """A warning (not a refusal) when no session on ``channel`` lists ``language``.

    Any well-formed code is accepted, so a booth can be set up before the schedule says
    which languages a session gets; a typo (``jp`` for ``ja``) still shows here.
    """
    interpreted = sorted(
        {code for s in event.sessions if s.channel == channel for code in s.languages[1:]}
    )
    if language not in interpreted:
        listed = ", ".join(interpreted) or "none"
        print(
            f"venuebridge: warning: no session on {channel} is interpreted into "
            f"'{language}' (its sessions list: {listed})",
            file=sys.stderr,
        )


async def _mint(settings: Settings, event: Event, grant: Grant, ttl: float) -> str:
    """Signed with the key of the server that has run here (data dir, or shared on Redis).

    Listed on ``/admin/invites`` like the page's own invites (labelled with its identity).
    """
    async with open_backends(settings, event, existing_only=True) as backends:
        desk = InviteDesk(backends.authority, InviteLog(backends.store, event.id), settings.invites)
        label = grant.identity[: settings.invites.max_label_chars]
        asked = InviteRequest(
            grant.role, label, ttl, grant.venue, grant.sessions, grant.channels, grant.language
        )
        try:
            invite = await desk.issue(asked, CLI_ACTOR, time.time(), identity=grant.identity)
        except SignalingError as error:
            raise ValueError(error.message) from None
        return invite.token


def _captioned_language(event: Event, grant: Grant) -> bool:
    """Whether a session the captioner token names has the token's language."""
    sessions = (
        event.sessions
        if ALL in grant.sessions
        else [s for s in event.sessions if s.id in grant.sessions]
    )
    return any(grant.language in s.languages for s in sessions)


def cmd_revoke(args: argparse.Namespace) -> int:
    """Revoke one token (by id, or the token itself) or every token of a role issued until now."""
    settings = settings_from_args(args)
    event = load_event(settings.event_file)
    try:
        described = asyncio.run(_revoke(settings, event, args))
    except (ValueError, NoServerHere) as error:
        return _fail(str(error))
    except RedisError as error:
        return _fail(_redis_trouble(settings, error))
    print(
        f"revoked {described}; running servers apply it within "
        f"{settings.tokens.revocation_refresh_seconds} s"
    )
    return 0


async def _revoke(settings: Settings, event: Event, args: argparse.Namespace) -> str:
    """Write the revocation into the store the servers read (SQLite in data_dir, or Redis)."""
    now = time.time()
    async with open_backends(settings, event, existing_only=True) as backends:
        if args.role:
            entry = revoke_role(Role(args.role), CLI_ACTOR, now)
        else:
            token_id = args.token_id
            if args.token:
                try:
                    token_id = backends.authority.verify(args.token).token_id
                except Unauthorized as error:
                    raise ValueError(f"{error.message}: nothing to revoke") from None
                if token_id is None:
                    raise ValueError("that token has no id: revoke its role with --role")
            entry = revoke_token(token_id, CLI_ACTOR, now)
        await RevocationLog(backends.store, event.id).add(entry)
        # A nudge for nodes on a shared Redis; the others re-read the list on their timer.
        await NodeBus(backends.bus, "cli").publish("revoked", {})
        return entry.describe()


def parse_ttl(text: str) -> float:
    """``90``, ``90s``, ``15m``, ``12h`` or ``3d`` as seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    text = text.strip().lower()
    scale = units.get(text[-1:])
    number = text[:-1] if scale else text
    if not number.isdigit() or int(number) <= 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a duration like 90s, 15m, 12h or 3d")
    return float(int(number) * (scale or 1))


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``token`` and ``revoke`` on the ``venuebridge`` parser."""
    token = commands.add_parser(
        "token",
        help="mint a role token and its invite link (with a running server's key)",
        description="Mint a token signed with the key of a server that has already run. "
        "Nothing is created: point it at that server with --data-dir or --settings.",
    )
    add_settings_options(token)
    add_deployment_options(token)
    token.add_argument("--role", required=True, choices=[r.value for r in Role])
    token.add_argument("--venue", help="operator: the venue id")
    token.add_argument(
        "--session",
        action="append",
        default=[],
        help="moderator, captioner: a session id or '*' (repeat)",
    )
    token.add_argument(
        "--channel", action="append", default=[], help="producer: channels; interpreter: one"
    )
    token.add_argument(
        "--lang",
        help="captioner: the one language they caption (default: any); "
        "interpreter: the language they interpret into (required)",
    )
    token.add_argument(
        "--ttl", type=parse_ttl, default="12h", help="lifetime: 90s, 15m, 12h, 3d (default 12h)"
    )
    token.add_argument("--name", help="identity to put in the token (default: generated)")
    token.add_argument("--quiet", action="store_true", help="print only the token on stdout")
    token.set_defaults(run=cmd_token)

    revoke = commands.add_parser("revoke", help="revoke one token, or every token of a role")
    add_settings_options(revoke)
    revoke.add_argument("--data-dir", type=Path, help="the server's data directory")
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--token-id", help="the token's id (its jti claim)")
    which.add_argument("--token", help="the token itself")
    which.add_argument(
        "--role", choices=[r.value for r in Role], help="every token of this role issued until now"
    )
    revoke.set_defaults(run=cmd_revoke)
