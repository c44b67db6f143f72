"""A publisher shaped like OBS: offer without candidates, H.264 PT 96, Opus PT 111, no PATCH."""

from __future__ import annotations

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription

from tests.helpers import eventually
from tests.integration.conftest import PRODUCER_SECRET, MediaServer
from tests.media_peers import FlatVideoTrack, SilenceTrack, needs_network, subscribe
from tests.obs_offer import obs_shaped

pytestmark = [pytest.mark.network, needs_network]


async def test_obs_shaped_client_publishes_and_a_player_decodes(media_server: MediaServer) -> None:
    http, url = media_server.http, media_server.url
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    video = pc.addTransceiver(FlatVideoTrack(180), direction="sendonly")
    audio = pc.addTransceiver(SilenceTrack(), direction="sendonly")
    video.setCodecPreferences(
        [
            c
            for c in RTCRtpSender.getCapabilities("video").codecs
            if c.mimeType == "video/H264" and c.parameters.get("profile-level-id") == "42e01f"
        ]
    )
    audio.setCodecPreferences(
        [c for c in RTCRtpSender.getCapabilities("audio").codecs if c.mimeType == "audio/opus"]
    )
    await pc.setLocalDescription(await pc.createOffer())
    offer = obs_shaped(pc.localDescription.sdp)
    assert "a=candidate" not in offer
    assert "a=rtpmap:96 H264/90000" in offer
    assert "a=rtpmap:111 opus/48000/2" in offer
    headers = {"Content-Type": "application/sdp", "Authorization": f"Bearer {PRODUCER_SECRET}"}
    player = None
    try:
        async with http.post(f"{url}/whip/gz-hall-3", data=offer, headers=headers) as response:
            answer = await response.text()
            assert response.status == 201, answer
            assert "Location" in response.headers
        assert "a=candidate:" in answer
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        # The server learns the publisher's address from its connectivity checks alone.
        await eventually(lambda: media_server.hub.channel("gz-hall-3").live, "OBS-shaped live")
        player = await subscribe(http, f"{url}/whep/gz-hall-3")
        await eventually(lambda: player is not None and player.frames >= 15, "decoded frames")
        assert abs((player.last_luma or 0) - 180) < 25
    finally:
        if player is not None:
            await player.close()
        await pc.close()
