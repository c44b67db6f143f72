"""The ``workers`` setting, the worker place in session ids, and the supervisor's plan."""

from __future__ import annotations

import dataclasses

import pytest

from config import Settings, SettingsError, load_settings
from config.settings import replace
from config.workers import worker_count
from web.cli import build_parser
from web.cli_common import settings_from_args
from web.worker_place import WorkerPlace
from web.workers import RESTART_FIRST_SECONDS, RESTART_MAX_SECONDS, WorkerSlot, worker_settings

REDIS = "redis://127.0.0.1:6379/0"


def test_one_worker_is_the_default_and_needs_nothing() -> None:
    settings = load_settings(None, {})
    assert settings.workers == 1
    assert worker_count(settings) == 1


def test_more_than_one_worker_without_redis_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match=r"'workers'.*needs redis_url"):
        load_settings(None, {"VENUEBRIDGE_WORKERS": "2"})
    settings = load_settings(None, {"VENUEBRIDGE_WORKERS": "2", "VENUEBRIDGE_REDIS_URL": REDIS})
    assert worker_count(settings) == 2


@pytest.mark.parametrize("bad", ["0", "-1", "257", "many", "1.5"])
def test_a_bad_number_of_workers_names_the_key(bad: str) -> None:
    environ = {"VENUEBRIDGE_WORKERS": bad, "VENUEBRIDGE_REDIS_URL": REDIS}
    with pytest.raises(SettingsError, match=r"(?i)workers"):
        load_settings(None, environ)


def test_auto_is_one_per_core_on_redis_and_one_on_the_embedded_default() -> None:
    embedded = load_settings(None, {"VENUEBRIDGE_WORKERS": "auto"})
    assert worker_count(embedded, cores=lambda: 8) == 1
    shared = replace(embedded, redis_url=REDIS)
    assert worker_count(shared, cores=lambda: 8) == 8
    assert worker_count(shared, cores=lambda: None) == 1


def test_several_workers_need_the_one_port_mux_not_a_range() -> None:
    environ = {
        "VENUEBRIDGE_WORKERS": "2",
        "VENUEBRIDGE_REDIS_URL": REDIS,
        "VENUEBRIDGE_ICE_UDP_MUX": "false",
        "VENUEBRIDGE_ICE_UDP_PORT_MIN": "40000",
        "VENUEBRIDGE_ICE_UDP_PORT_MAX": "40100",
    }
    with pytest.raises(SettingsError, match=r"ice\.udp_mux"):
        load_settings(None, environ)
    with pytest.raises(SettingsError, match="above 65535"):
        load_settings(
            None,
            {
                "VENUEBRIDGE_WORKERS": "4",
                "VENUEBRIDGE_REDIS_URL": REDIS,
                "VENUEBRIDGE_ICE_UDP_PORT": "65534",
            },
        )


def test_the_command_line_overrides_the_setting() -> None:
    args = build_parser().parse_args(["serve", "--workers", "3"])
    with pytest.raises(SettingsError, match="needs redis_url"):
        settings_from_args(args)
    args = build_parser().parse_args(["serve", "--workers", "auto"])
    assert settings_from_args(args).workers == "auto"


def test_worker_i_takes_media_port_plus_i_and_only_worker_0_runs_routing() -> None:
    settings = replace(Settings(), redis_url=REDIS, workers=3)
    plans = [worker_settings(settings, index) for index in range(3)]
    assert [p.ice.udp_port for p in plans] == [8189, 8190, 8191]
    assert [p.routing for p in plans] == [True, False, False]
    # Port 0 (tests): every worker picks a free port of its own.
    anywhere = replace(settings, ice=dataclasses.replace(settings.ice, udp_port=0))
    assert worker_settings(anywhere, 2).ice.udp_port == 0


def test_session_ids_name_their_worker() -> None:
    place = WorkerPlace(1, 2, "http://127.0.0.1:1")
    session_id = place.new_session_id()
    assert session_id.startswith("1w")
    assert place.owner_of(f"{session_id}.secret") == 1
    assert place.owner_of("0wabc.secret") == 0
    assert place.owner_of("7wabc.secret") is None  # no such worker
    assert place.owner_of("abc.secret") is None  # an id from before workers


def test_a_worker_that_keeps_dying_waits_longer_each_time() -> None:
    class Dead:
        exitcode = -9

    slot = WorkerSlot(1)
    pauses = []
    now = 100.0
    for _ in range(10):
        slot.process, slot.started = Dead(), now  # type: ignore[assignment]
        slot.died(now + 1)
        pauses.append(slot.start_at - (now + 1))
        now += 2
    assert pauses[0] == RESTART_FIRST_SECONDS
    assert pauses[1] == 2 * RESTART_FIRST_SECONDS
    assert max(pauses) == RESTART_MAX_SECONDS
    # One that ran a while before dying is started again after the first pause.
    slot.process, slot.started = Dead(), now  # type: ignore[assignment]
    slot.died(now + 60)
    assert slot.start_at - (now + 60) == RESTART_FIRST_SECONDS
