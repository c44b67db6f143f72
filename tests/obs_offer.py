"""The shape of offer OBS Studio 30+ sends over WHIP (libdatachannel): no candidates."""

from __future__ import annotations

import re

FINGERPRINT = ":".join(f"{i:02X}" for i in range(32))

OBS_OFFER = "\r\n".join(
    [
        "v=0",
        "o=rtc 4107523824 0 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0 1",
        "a=group:LS 0 1",
        "a=msid-semantic:WMS *",
        "a=setup:actpass",
        "a=ice-ufrag:PLLl",
        "a=ice-pwd:6yXGa9xNoU2fUnXi8Fe4Xo",
        "a=ice-options:ice2,trickle",
        f"a=fingerprint:sha-256 {FINGERPRINT}",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111",
        "c=IN IP4 0.0.0.0",
        "a=mid:0",
        "a=sendonly",
        "a=ssrc:2803128014 cname:obs",
        "a=ssrc:2803128014 msid:obs obs-audio",
        "a=msid:obs obs-audio",
        "a=rtcp-mux",
        "a=rtpmap:111 opus/48000/2",
        "a=fmtp:111 minptime=10;maxaveragebitrate=96000;stereo=1;sprop-stereo=1;useinbandfec=1",
        "m=video 9 UDP/TLS/RTP/SAVPF 96",
        "c=IN IP4 0.0.0.0",
        "a=mid:1",
        "a=sendonly",
        "a=ssrc:1151340553 cname:obs",
        "a=ssrc:1151340553 msid:obs obs-video",
        "a=msid:obs obs-video",
        "a=rtcp-mux",
        "a=rtpmap:96 H264/90000",
        "a=rtcp-fb:96 nack",
        "a=rtcp-fb:96 nack pli",
        "a=fmtp:96 profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1",
        "",
    ]
)


def obs_shaped(sdp: str) -> str:
    """Make an aiortc offer look like OBS's: no candidates, H.264 as PT 96, Opus as 111.

    Only the constrained-baseline H.264 codec and Opus are kept (set codec preferences so
    the offer has no others); payload type numbers are rewritten everywhere they appear.
    """
    lines = [line for line in sdp.split("\r\n") if not line.startswith("a=candidate:")]
    lines = [line for line in lines if line != "a=end-of-candidates"]
    text = "\r\n".join(lines)
    audio_pt = re.search(r"a=rtpmap:(\d+) opus/48000", text)
    video_pt = re.search(r"a=rtpmap:(\d+) H264/90000", text)
    assert audio_pt is not None
    assert video_pt is not None
    mapping = {audio_pt.group(1): "111", video_pt.group(1): "96"}

    def remap(line: str) -> str:
        if line.startswith(("m=audio", "m=video")):
            head = line.split()[:3]
            return " ".join(head + [mapping.get(pt, pt) for pt in line.split()[3:]])
        match = re.match(r"a=(rtpmap|fmtp|rtcp-fb):(\d+)(.*)", line)
        if match and match.group(2) in mapping:
            return f"a={match.group(1)}:{mapping[match.group(2)]}{match.group(3)}"
        return line

    return "\r\n".join(remap(line) for line in text.split("\r\n"))
