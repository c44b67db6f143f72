"""Long-haul protection, the edges of it: Opus FEC kept in our SDP, the repair settings
and their limits, and the NACK packets we write ourselves."""

from __future__ import annotations

import pytest
from aiortc.rtp import RtcpPacket, RtcpRtpfbPacket

from config import SettingsError, load_settings
from streaming import aiortc_glue as glue
from streaming.nack import (
    RepairTuning,
    nack_items,
)
from streaming.sdp_answer import with_opus_fec
from streaming.sdp_offer import parse_offer
from tests.obs_offer import OBS_OFFER

# -- Opus in-band FEC in our SDP -----------------------------------------------------------

AIORTC_AUDIO = [
    "m=audio 9 UDP/TLS/RTP/SAVPF 111",
    "a=mid:0",
    "a=rtpmap:111 opus/48000/2",
    "a=rtcp-mux",
]


def test_offers_with_fec_are_recognised() -> None:
    assert parse_offer(OBS_OFFER).opus_fec
    without = OBS_OFFER.replace(";useinbandfec=1", "")
    assert not parse_offer(without).opus_fec
    browser = OBS_OFFER.replace(
        "minptime=10;maxaveragebitrate=96000;stereo=1;sprop-stereo=1;useinbandfec=1",
        "minptime=10;useinbandfec=1",
    )
    assert parse_offer(browser).opus_fec


def test_fec_is_added_to_an_answer_without_an_opus_fmtp() -> None:
    sdp = "\r\n".join(["v=0", *AIORTC_AUDIO, "m=video 9 UDP/TLS/RTP/SAVPF 96", ""])
    edited = with_opus_fec(sdp).split("\r\n")
    assert edited[edited.index("a=rtpmap:111 opus/48000/2") + 1] == "a=fmtp:111 useinbandfec=1"
    assert with_opus_fec("\r\n".join(edited)) == "\r\n".join(edited)  # once only


def test_fec_joins_an_existing_opus_fmtp_and_leaves_other_codecs_alone() -> None:
    sdp = "\r\n".join(
        [
            "v=0",
            "m=audio 9 UDP/TLS/RTP/SAVPF 109",
            "a=rtpmap:109 OPUS/48000/2",
            "a=fmtp:109 minptime=10",
            "m=video 9 UDP/TLS/RTP/SAVPF 96",
            "a=rtpmap:96 H264/90000",
            "a=fmtp:96 profile-level-id=42e01f;packetization-mode=1",
            "",
        ]
    )
    edited = with_opus_fec(sdp)
    assert "a=fmtp:109 minptime=10;useinbandfec=1" in edited.split("\r\n")
    assert "a=fmtp:96 profile-level-id=42e01f;packetization-mode=1" in edited
    assert with_opus_fec("v=0\r\nm=video 9 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n") == (
        "v=0\r\nm=video 9 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n"
    )
    assert with_opus_fec(OBS_OFFER) == OBS_OFFER  # already there: unchanged


# -- the settings that bound it ------------------------------------------------------------


def test_repair_settings_from_the_environment() -> None:
    defaults = load_settings(None, {})
    assert RepairTuning.from_settings(defaults.media) == RepairTuning()
    env = {
        "VENUEBRIDGE_MEDIA_NACK_HISTORY_MAX_PACKETS": "8192",
        "VENUEBRIDGE_MEDIA_NACK_GIVE_UP_MS": "2500",
        "VENUEBRIDGE_MEDIA_KEYFRAME_LOSS_PERCENT": "30",
    }
    tuning = RepairTuning.from_settings(load_settings(None, env).media)
    assert tuning == RepairTuning(8192, 2.5, 0.3)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("NACK_HISTORY_MAX_PACKETS", "63"),
        ("NACK_HISTORY_MAX_PACKETS", "16385"),
        ("NACK_GIVE_UP_MS", "99"),
        ("NACK_GIVE_UP_MS", "10001"),
        ("KEYFRAME_LOSS_PERCENT", "0"),
        ("KEYFRAME_LOSS_PERCENT", "101"),
    ],
)
def test_each_repair_limit_is_checked_by_name(key: str, value: str) -> None:
    with pytest.raises(SettingsError, match=rf"'media\.{key.lower()}': must be"):
        load_settings(None, {f"VENUEBRIDGE_MEDIA_{key}": value})


# -- NACK packets --------------------------------------------------------------------------


def _unpacked(lost: list[int]) -> list[int]:
    packet = RtcpPacket.parse(glue.nack(1, 2, lost))[0]
    assert isinstance(packet, RtcpRtpfbPacket)
    return [sequence & 0xFFFF for sequence in packet.lost]


def test_nack_items_cover_any_order_and_the_wrap() -> None:
    assert nack_items([]) == []
    assert nack_items([10, 11, 13]) == [(10, 0b101)]
    assert nack_items([40, 10, 11]) == [(10, 0b1), (40, 0)]  # a retry list: not sorted
    assert nack_items([1, 65535, 0, 65534]) == [(65534, 0b111)]  # across the wrap
    assert nack_items([5, 5, 65541]) == [(5, 0)]  # duplicates, and masked to 16 bits
    assert nack_items(list(range(100, 140))) == [(100, 0xFFFF), (117, 0xFFFF), (134, 0b11111)]


def test_nack_packets_round_trip_through_a_parser() -> None:
    for lost in ([7, 3, 4], [65530, 2, 65535, 0], [*range(65500, 65536), 0, 1]):
        assert sorted(_unpacked(lost)) == sorted(lost)
