"""Sans-I/O WHIP/WHEP rules: offers, headers, trickle fragments, TURN credentials."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from config import IceSettings
from streaming.errors import (
    BadRequest,
    PreconditionFailed,
    Unauthenticated,
    UnsupportedMediaType,
    UnsupportedOffer,
)
from streaming.http_rules import (
    bearer_token,
    check_if_match,
    parse_trickle_fragment,
    require_content_type,
)
from streaming.ice_servers import ice_servers_for, link_header, turn_credentials
from streaming.sdp_answer import advertise_addresses
from streaming.sdp_offer import check_play_offer, check_publish_offer, parse_offer
from tests.obs_offer import OBS_OFFER


def test_obs_offer_is_understood() -> None:
    offer = parse_offer(OBS_OFFER)
    assert [s.kind for s in offer.sections] == ["audio", "video"]
    assert offer.candidates == 0
    assert offer.ice_ufrag == "PLLl"
    video = offer.of_kind("video")[0]
    assert video.codecs[0].parameters["packetization-mode"] == "1"
    check_publish_offer(offer, "H264")
    with pytest.raises(UnsupportedOffer, match="VP8"):
        check_publish_offer(offer, "VP8")
    with pytest.raises(UnsupportedOffer, match="recvonly"):
        check_play_offer(offer, "H264")


def test_offers_that_are_not_sdp() -> None:
    for text in ("", "hello", "v=0\r\nnonsense\r\n", "v=0\r\nm=audio x\r\n", "v=0\r\ns=-\r\n"):
        with pytest.raises(BadRequest):
            parse_offer(text)
    with pytest.raises(BadRequest, match="too large"):
        parse_offer("v=0\r\n" + "a=x\r\n" * 20000)
    with pytest.raises(BadRequest, match="rtpmap"):
        parse_offer(OBS_OFFER.replace("a=rtpmap:96 H264/90000", "a=rtpmap:x H264"))


def test_only_audio_and_video() -> None:
    offer = OBS_OFFER + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:2\r\n"
    with pytest.raises(UnsupportedOffer, match="application"):
        check_publish_offer(parse_offer(offer), "H264")


def test_content_type_token_and_if_match() -> None:
    require_content_type("application/sdp; charset=utf-8", "application/sdp")
    with pytest.raises(UnsupportedMediaType):
        require_content_type(None, "application/sdp")
    assert bearer_token(None) is None
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer  abc ") == "abc"
    for bad in ("Basic abc", "Bearer", "Bearer   "):
        with pytest.raises(Unauthenticated):
            bearer_token(bad)
    check_if_match(None, '"e"')
    check_if_match("*", '"e"')
    check_if_match('"x", "e"', '"e"')
    with pytest.raises(PreconditionFailed):
        check_if_match('"x"', '"e"')


def test_trickle_fragment() -> None:
    fragment = parse_trickle_fragment(
        "a=ice-ufrag:u\r\na=ice-pwd:p\r\na=mid:0\r\n"
        "a=candidate:1 1 udp 1 192.0.2.1 5000 typ host\r\na=end-of-candidates\r\n"
    )
    assert fragment.ufrag == "u"
    assert fragment.candidates == (("0", "candidate:1 1 udp 1 192.0.2.1 5000 typ host"),)
    assert fragment.end_of_candidates
    with pytest.raises(BadRequest):
        parse_trickle_fragment("a=candidate:1 1 udp\r\n")
    with pytest.raises(BadRequest):
        parse_trickle_fragment("garbage")


def test_turn_rest_credentials_match_coturn() -> None:
    username, password = turn_credentials("s3cret", "alice", 1_900_000_000)
    assert username == "1900000000:alice"
    expected = hmac.new(b"s3cret", b"1900000000:alice", hashlib.sha1).digest()
    assert base64.b64decode(password) == expected
    ice = IceSettings(
        stun_urls=("stun:a:3478",),
        turn_urls=("turn:b:3478",),
        turn_secret="s3cret",
        turn_credential_ttl=60,
    )
    stun, turn = ice_servers_for(ice, "sess", now=1000.0)
    assert link_header(stun) == '<stun:a:3478>; rel="ice-server"'
    assert turn.username == "1060:sess"
    assert link_header(turn).endswith('credential-type="password"')


def test_advertised_addresses_replace_host_candidates() -> None:
    answer = "\r\n".join(
        [
            "v=0",
            "c=IN IP4 10.0.0.5",
            "a=candidate:abc 1 udp 2130706431 10.0.0.5 40000 typ host",
            "a=candidate:def 1 udp 1694498815 198.51.100.9 40000 typ srflx raddr 10.0.0.5 rport 1",
            "",
        ]
    )
    out = advertise_addresses(answer, ("203.0.113.7", "2001:db8::7"))
    assert "a=candidate:abc 1 udp 2130706431 203.0.113.7 40000 typ host" in out
    assert "a=candidate:abc1 1 udp 2130706431 2001:db8::7 40000 typ host" in out
    assert "10.0.0.5 40000 typ host" not in out
    assert "typ srflx" in out
    assert "c=IN IP4 203.0.113.7" in out
    assert advertise_addresses(answer, ()) == answer
