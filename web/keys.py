"""Typed keys for what the application holds; no module globals."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CollectorRegistry

from config import Event, Settings
from config.node import NodeIdentity
from signaling.auth import Credentials, TokenAuthority
from signaling.auth.anonymous import AnonymousMinter
from signaling.clock import Clock
from signaling.hub import Hub, HubOptions
from signaling.invites import InviteDesk, UseRecorder
from signaling.nodes import Directory
from signaling.records.interpreting_store import InterpretingRecorder
from signaling.routing.homes import HomeBook
from signaling.routing.service import RoutingService
from signaling.store import EventStore
from streaming.hub import MediaHub
from streaming.ice_ports import IcePorts
from web.peers import PeerOrigins
from web.worker_metrics import WorkerLoad
from web.worker_place import WorkerLinks, WorkerPlace

SETTINGS = web.AppKey("settings", Settings)
EVENT = web.AppKey("event", Event)
METRICS = web.AppKey("metrics", CollectorRegistry)
STARTED_AT = web.AppKey("started_at", float)
MEDIA = web.AppKey("media", MediaHub)
# Where ICE connections put their candidates: the one media port (UdpMux) or a range.
ICE_PORTS = web.AppKey("ice_ports", IcePorts)

# The control plane (issue 4): hub, token authority, store.
HUB = web.AppKey("hub", Hub)
AUTHORITY = web.AppKey("authority", TokenAuthority)
# Every request's token resolves here: a signed token or the ingest key (web/auth.py).
CREDENTIALS = web.AppKey("credentials", Credentials)
HUB_OPTIONS = web.AppKey("hub_options", HubOptions)
STORE = web.AppKey("store", EventStore)
# Identities for /ws clients without a token, minted at a bounded rate per address.
ANONYMOUS = web.AppKey("anonymous", AnonymousMinter)

# The server's clock: the system clock, or the rehearsal clock (issue 11).
CLOCK = web.AppKey("clock", Clock)

# Routing and as-run records (issue 5): only on the node that runs the automation.
ROUTING = web.AppKey("routing", RoutingService)
# Interpreters' on-air turns (issue 15): kept by the node that runs the automation.
INTERPRETING = web.AppKey("interpreting", InterpretingRecorder)

# Invites (issue 12): the list behind /admin/invites and the recorder of their last use.
INVITES = web.AppKey("invites", InviteDesk)
INVITE_USES = web.AppKey("invite_uses", UseRecorder)

# Nodes (issue 13): who this node is, and the directory of nodes and channel holders.
NODE = web.AppKey("node", NodeIdentity)
DIRECTORY = web.AppKey("directory", Directory)
# The other nodes' origins, which the pages may connect to (after a 307): CSP connect-src.
PEERS = web.AppKey("peers", PeerOrigins)
# Which node is home to each venue (settings' node.venues over the event file).
HOMES = web.AppKey("homes", HomeBook)

# Worker processes (issue 14): this worker's place among the node's, and its siblings.
WORKER = web.AppKey("worker", WorkerPlace)
WORKER_LINKS = web.AppKey("worker_links", WorkerLinks)
# This worker's load sample, and the siblings' as last shared (players included).
WORKER_LOAD = web.AppKey("worker_load", WorkerLoad)
