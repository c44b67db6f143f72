"""Settings and event files: read once, validated, frozen."""

from config.event import Channel, ChannelKind, Event, Part, Session, Venue, VenueKind
from config.event_file import EventFileError, load_event
from config.settings import (
    IceSettings,
    MediaSettings,
    RelaySettings,
    Settings,
    SettingsError,
    load_settings,
)

__all__ = [
    "Channel",
    "ChannelKind",
    "Event",
    "EventFileError",
    "IceSettings",
    "MediaSettings",
    "Part",
    "RelaySettings",
    "Session",
    "Settings",
    "SettingsError",
    "Venue",
    "VenueKind",
    "load_event",
    "load_settings",
]
