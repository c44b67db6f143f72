"""Sans-I/O checks of WHIP/WHEP offers, before aiortc sees them.

aiortc accepts or rejects an offer with generic exceptions; these checks turn the cases a
client can fix into clear 400 (cannot parse) and 422 (parses, but we do not do that).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from streaming.errors import BadRequest, UnsupportedOffer
from streaming.sdp_syntax import (
    MAX_SDP_BYTES,
    MAX_SDP_LINES,
    check_candidate,
    check_fingerprint,
    check_text,
)

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")


@dataclass(frozen=True, slots=True)
class Codec:
    """One ``a=rtpmap`` entry with its ``a=fmtp`` parameters."""

    payload_type: int
    name: str
    clock_rate: int
    parameters: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class MediaSection:
    """One ``m=`` section of an offer."""

    kind: str
    payload_types: tuple[int, ...]
    direction: str = "sendrecv"
    codecs: list[Codec] = field(default_factory=list)
    candidates: int = 0
    has_ice_credentials: bool = False
    has_fingerprint: bool = False


@dataclass(frozen=True, slots=True)
class Offer:
    """What an offer asks for, as far as the media plane cares."""

    sections: tuple[MediaSection, ...]
    ice_ufrag: str | None = None

    def of_kind(self, kind: str) -> list[MediaSection]:
        return [s for s in self.sections if s.kind == kind]

    @property
    def candidates(self) -> int:
        return sum(s.candidates for s in self.sections)

    @property
    def opus_fec(self) -> bool:
        """The offerer can use Opus in-band FEC (``useinbandfec=1`` on an Opus codec)."""
        return any(
            is_acceptable_audio(codec) and codec.parameters.get("useinbandfec") == "1"
            for section in self.of_kind("audio")
            for codec in section.codecs
        )


def _parse_fmtp(value: str) -> tuple[int, dict[str, str]]:
    head, _, params = value.partition(" ")
    parameters: dict[str, str] = {}
    for item in params.split(";"):
        key, sep, val = item.strip().partition("=")
        if key and sep:
            parameters[key.lower()] = val.strip()
    return int(head), parameters


def _parse_m_line(value: str) -> MediaSection:
    parts = value.split()
    if len(parts) < 4 or not parts[1].isdigit():
        raise BadRequest(f"malformed m= line: 'm={value[:80]}'")
    try:
        payload_types = tuple(int(p) for p in parts[3:]) if parts[0] != "application" else ()
    except ValueError:
        raise BadRequest(f"malformed payload types in 'm={value[:80]}'") from None
    return MediaSection(kind=parts[0], payload_types=payload_types)


def _apply_attribute(
    section: MediaSection, name: str, value: str, fmtps: dict[int, dict[str, str]]
) -> None:
    if name == "rtpmap":
        pt_text, _, encoding = value.partition(" ")
        codec_name, _, rest = encoding.partition("/")
        clock_text = rest.partition("/")[0]
        if not pt_text.isdigit() or not clock_text.isdigit() or not codec_name:
            raise BadRequest(f"malformed a=rtpmap:{value[:80]}")
        section.codecs.append(Codec(int(pt_text), codec_name.upper(), int(clock_text)))
    elif name == "fmtp":
        try:
            payload_type, parameters = _parse_fmtp(value)
        except ValueError:
            raise BadRequest(f"malformed a=fmtp:{value[:80]}") from None
        fmtps[payload_type] = parameters
    elif name == "candidate":
        check_candidate(value)
        section.candidates += 1
    elif name in ("ice-ufrag", "ice-pwd"):
        section.has_ice_credentials = True
    elif name == "fingerprint":
        check_fingerprint(value)
        section.has_fingerprint = True
    elif name in DIRECTIONS:
        section.direction = name


def parse_offer(text: str) -> Offer:
    """Parse the parts of an SDP offer we check; raise ``BadRequest`` if it is not SDP."""
    lines = check_text(text, "offer", MAX_SDP_BYTES, MAX_SDP_LINES)
    if not lines or lines[0] != "v=0":
        raise BadRequest("the body is not an SDP offer (it must start with v=0)")
    sections: list[MediaSection] = []
    fmtps: list[dict[int, dict[str, str]]] = []
    session_ice = session_fingerprint = False
    ufrag: str | None = None
    for line in lines[1:]:
        if len(line) < 2 or line[1] != "=":
            raise BadRequest(f"malformed SDP line: '{line[:80]}'")
        kind, value = line[0], line[2:]
        if kind == "m":
            sections.append(_parse_m_line(value))
            fmtps.append({})
        elif kind == "a":
            name, _, attr_value = value.partition(":")
            if name == "ice-ufrag" and ufrag is None:
                ufrag = attr_value.strip()
            if not sections:
                if name == "fingerprint":
                    check_fingerprint(attr_value)
                session_ice |= name in ("ice-ufrag", "ice-pwd")
                session_fingerprint |= name == "fingerprint"
            else:
                _apply_attribute(sections[-1], name, attr_value, fmtps[-1])
    if not sections:
        raise BadRequest("the offer has no media sections")
    for section, section_fmtps in zip(sections, fmtps, strict=True):
        section.codecs = [
            Codec(c.payload_type, c.name, c.clock_rate, section_fmtps.get(c.payload_type, {}))
            for c in section.codecs
        ]
        if not (section.has_ice_credentials or session_ice):
            raise BadRequest(f"the {section.kind} section has no a=ice-ufrag/a=ice-pwd")
        if not (section.has_fingerprint or session_fingerprint):
            raise BadRequest(f"the {section.kind} section has no DTLS a=fingerprint")
    return Offer(tuple(sections), ufrag)


def is_acceptable_video(codec: Codec, video_codec: str) -> bool:
    """True if ``codec`` carries the event's video codec in a form we forward."""
    if codec.name != video_codec or codec.clock_rate != 90000:
        return False
    if video_codec != "H264":
        return True
    if codec.parameters.get("packetization-mode", "0") != "1":
        return False
    # Constrained baseline or baseline (profile_idc 0x42): what aiortc negotiates.
    return codec.parameters.get("profile-level-id", "42e01f").lower().startswith("42")


def is_acceptable_audio(codec: Codec) -> bool:
    """Opus at 48 kHz is the only audio codec forwarded."""
    return codec.name == "OPUS" and codec.clock_rate == 48000


def _check_shape(offer: Offer) -> tuple[MediaSection | None, MediaSection | None]:
    audio, video = offer.of_kind("audio"), offer.of_kind("video")
    others = [s.kind for s in offer.sections if s.kind not in ("audio", "video")]
    if others:
        raise UnsupportedOffer(f"only audio and video are supported, not {', '.join(others)}")
    if len(audio) > 1 or len(video) > 1:
        raise UnsupportedOffer("at most one audio and one video section are supported")
    return (audio[0] if audio else None), (video[0] if video else None)


def _check_codecs(audio: MediaSection | None, video: MediaSection | None, video_codec: str) -> None:
    if video is not None and not any(is_acceptable_video(c, video_codec) for c in video.codecs):
        offered = ", ".join(sorted({c.name for c in video.codecs})) or "none"
        detail = " with packetization-mode=1, constrained baseline" if video_codec == "H264" else ""
        raise UnsupportedOffer(
            f"this event's video codec is {video_codec}{detail}; the offer has {offered}"
        )
    if audio is not None and not any(is_acceptable_audio(c) for c in audio.codecs):
        raise UnsupportedOffer("audio must be Opus/48000")


def check_publish_offer(offer: Offer, video_codec: str) -> None:
    """A WHIP offer: one audio and/or one video section the publisher sends, our codecs."""
    audio, video = _check_shape(offer)
    if audio is None and video is None:
        raise UnsupportedOffer("the offer has neither audio nor video")
    for section in (audio, video):
        if section is not None and section.direction not in ("sendonly", "sendrecv"):
            raise UnsupportedOffer(f"the {section.kind} section must be sendonly for WHIP")
    _check_codecs(audio, video, video_codec)


def check_play_offer(offer: Offer, video_codec: str) -> None:
    """A WHEP offer: one audio and/or one video section the player receives, our codecs."""
    audio, video = _check_shape(offer)
    if audio is None and video is None:
        raise UnsupportedOffer("the offer has neither audio nor video")
    for section in (audio, video):
        if section is not None and section.direction not in ("recvonly", "sendrecv"):
            raise UnsupportedOffer(f"the {section.kind} section must be recvonly for WHEP")
    _check_codecs(audio, video, video_codec)
