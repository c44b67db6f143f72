"""Every use of aiortc/aioice internals, in one module, and why.

aiortc 1.16 has no public API to take RTP packets off a connection without decoding them,
nor to send pre-formed RTP through a connection's SRTP context. Stock ``RTCRtpReceiver``
starts a decoder thread and depacketises into a jitter buffer; stock ``RTCRtpSender`` polls
a track 50 times a second, packs frames itself and sends SRs with no media clock. A relay
needs none of that, so we keep aiortc for what it does well (SDP, ICE, DTLS, SRTP keys)
and replace, per instance, the two calls through which a connected ``RTCPeerConnection``
starts media (verified in ``RTCPeerConnection.__connect``):

* ``transceiver.receiver.receive(parameters)``: we register our own endpoint with the
  DTLS transport's ``RtpRouter`` (``_register_rtp_receiver``); it gets every parsed
  ``RtpPacket`` and inbound RTCP. No decoder thread is started, no decoder ever created.
* ``transceiver.sender.send(parameters)``: we register our own endpoint for the sender's
  SSRC (``_register_rtp_sender``) to get the subscriber's RR/NACK/PLI, and send RTP via
  ``SrtpSink``: libsrtp's ``srtp_protect`` (through pylibsrtp's cffi binding, on the
  session ``RTCDtlsTransport._tx_srtp`` keyed from the DTLS handshake) in place in a C
  buffer, then ``sendto`` on the socket of the nominated aioice pair
  (``Connection._nominated``), synchronously. aiortc's own path is three awaits deep and
  allocates several objects per packet; this one costs no task switch. The server's
  connections have host candidates only (no ICE servers), so the nominated pair is always
  a plain UDP ``StunProtocol``.

Because the stock ``receive``/``send`` never ran, the stock ``stop()`` of those objects
is a no-op; ``RTCPeerConnection.close()`` still closes ICE and DTLS.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable
from typing import Any, Protocol

from aioice.ice import StunProtocol
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RTCP_RTPFB,
    RTCP_RTPFB_NACK,
    RtcpPsfbPacket,
    RtcpReceiverInfo,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSenderInfo,
    RtcpSrPacket,
    pack_remb_fci,
    pack_rtcp_packet,
)
from pylibsrtp._binding import ffi, lib

from streaming.nack import nack_items
from streaming.native import native_dest

logger = logging.getLogger(__name__)

SRTP_BUFFER = 1500
SRTP_TRAILER = 16 + 128  # pylibsrtp's SRTP_MAX_TRAILER_LEN
_HEADER = struct.Struct("!BBHII")
_SSRCS = struct.Struct("!LL")
_NACK_ITEM = struct.Struct("!HH")
srtp_protect = lib.srtp_protect


def srtp_protect_address() -> int:
    """Where pylibsrtp's ``srtp_protect`` is: the native batch calls the same libsrtp."""
    return int(ffi.cast("uintptr_t", ffi.addressof(lib, "srtp_protect")))


def new_peer_connection() -> Any:
    """A server-side connection: host candidates only, nothing asks a public STUN server."""
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


def ice_connections(pc: Any) -> list[Any]:
    """The aioice ``Connection`` of each ICE transport the connection still uses.

    Read after ``setRemoteDescription``: by then aiortc has dropped the transports that
    BUNDLE made redundant (each transceiver starts with its own), and before
    ``createAnswer``, which reads their ICE username (``streaming/ice_ports.py``).
    """
    transports = {id(t.receiver.transport): t.receiver.transport for t in pc.getTransceivers()}
    return [dtls.transport._connection for dtls in transports.values()]


def prefer_codecs(transceiver: Any, video_codec: str) -> None:
    """Offer only Opus or the event's video codec, without RTX (we retransmit in-stream)."""
    kind = transceiver.kind
    wanted = "audio/opus" if kind == "audio" else f"video/{video_codec.lower()}"
    codecs = [c for c in RTCRtpSender.getCapabilities(kind).codecs if c.mimeType.lower() == wanted]
    transceiver.setCodecPreferences(codecs)


def rtcp_ssrc(transceiver: Any) -> int:
    """The SSRC aiortc announced for this transceiver; our RTCP reports use it."""
    return int(transceiver.sender._ssrc)


class IngestHandler(Protocol):
    """What a publisher track does with what the router hands it."""

    def on_receive_started(self, payload_types: dict[int, str], sink: SrtpSink) -> None: ...

    def on_rtp(
        self,
        ssrc: int,
        payload_type: int,
        sequence_number: int,
        timestamp: int,
        marker: bool,
        payload: bytes,
    ) -> None: ...

    def on_sender_report(self, ssrc: int, ntp: int) -> None: ...


class EgressHandler(Protocol):
    """What a subscriber track does with its connection and its peer's feedback."""

    def on_send_started(
        self, sink: SrtpSink, ssrc: int, payload_type: int, clock_rate: int
    ) -> None: ...

    def on_nack(self, lost: list[int]) -> None: ...

    def on_keyframe_request(self) -> None: ...

    def on_receiver_report(
        self, fraction_lost: int, packets_lost: int, jitter: int, lsr: int, dlsr: int
    ) -> None: ...


class SrtpSink:
    """Sends RTP/RTCP through one connection's SRTP context, synchronously.

    The per-packet path writes the header and payload into one C buffer, protects it in
    place with libsrtp (pylibsrtp's ``lib.srtp_protect`` on the DTLS transport's session)
    and hands a memoryview of it to the UDP socket: no intermediate bytes objects and no
    asyncio buffering. A full socket buffer (``BlockingIOError``) reports the subscriber
    as slow; its writer keeps the packet queued and retries.
    """

    def __init__(self, dtls_transport: Any) -> None:
        self._dtls = dtls_transport
        self._nominated: dict[int, Any] = dtls_transport.transport._connection._nominated
        self._pair: Any = None
        self._socket: Any = None
        self._transport: Any = None
        self._address: tuple[str, int] | None = None
        self._srtp: Any = None
        self._cdata = ffi.new("char[]", SRTP_BUFFER)
        self._view = memoryview(ffi.buffer(self._cdata))
        self._length = ffi.new("int *")
        self._warned = False
        self.send_errors = 0
        # The native batch's view of the pair (``streaming/native_batch.py``), if it has one.
        self._dest: Any = None
        self._dest_pointer = 0

    def _select(self, pair: Any) -> bool:
        """Adopt the nominated pair ``pair``; False if we cannot send on it."""
        self._pair = pair
        self._socket = None
        if pair is None or self._dtls._tx_srtp is None:
            return False
        if not isinstance(pair.protocol, StunProtocol):
            if not self._warned:
                logger.warning("selected ICE pair is not plain UDP; not sending media")
                self._warned = True
            return False
        self._transport = pair.protocol.transport
        # asyncio's selector transport keeps the raw socket in ``_sock``; sending on it
        # directly lets a full kernel buffer surface as BlockingIOError (a slow subscriber)
        # instead of growing asyncio's unbounded buffer. Other transports: their sendto.
        self._socket = getattr(self._transport, "_sock", None) or self._transport
        self._address = pair.remote_addr
        self._srtp = self._dtls._tx_srtp._srtp[0]
        # Kept with the pair: the native batch sends through this pointer.
        self._dest, self._dest_pointer = native_dest(
            self._socket, self._address, int(ffi.cast("uintptr_t", self._srtp))
        )
        return self._socket is not None

    def batch_target(self) -> tuple[int, int] | None:
        """``(socket fd, native destination)`` of the pair now, or None: send plainly."""
        pair = self._nominated.get(1)
        if pair is not self._pair and not self._select(pair):
            return None
        if not self._dest_pointer or self._socket is None:
            return None
        return self._socket.fileno(), self._dest_pointer

    def writable(self) -> bool:
        """True if the connection is up (used before sending queued packets)."""
        pair = self._nominated.get(1)
        if pair is not self._pair and not self._select(pair):
            return False
        return self._socket is not None and not self._transport.is_closing()

    def send_rtp(
        self,
        payload_type: int,
        marker: bool,
        sequence: int,
        timestamp: int,
        ssrc: int,
        payload: bytes,
    ) -> bool:
        """Protect and send one RTP packet; False if it must wait (not sent)."""
        pair = self._nominated.get(1)
        if pair is not self._pair and not self._select(pair):
            return False
        if self._socket is None:
            return False
        size = 12 + len(payload)
        if size > SRTP_BUFFER - SRTP_TRAILER:
            return True  # cannot be protected; dropped
        _HEADER.pack_into(
            self._view, 0, 0x80, (0x80 if marker else 0) | payload_type, sequence, timestamp, ssrc
        )
        self._view[12:size] = payload
        self._length[0] = size
        if srtp_protect(self._srtp, self._cdata, self._length):
            self.send_errors += 1
            return True
        try:
            self._socket.sendto(self._view[: self._length[0]], self._address)
        except BlockingIOError:
            return False
        except OSError:
            self.send_errors += 1
        return True

    def send_rtcp(self, data: bytes) -> None:
        """Protect and send one compound RTCP packet; dropped if not connected."""
        if self.writable():
            self._transport.sendto(self._dtls._tx_srtp.protect_rtcp(data), self._address)


class _ReceiverEndpoint:
    """Stands in for ``RTCRtpReceiver`` in the DTLS transport's router."""

    def __init__(self, handler: IngestHandler) -> None:
        self._handler = handler
        self._failed = False

    async def _handle_rtp_packet(self, packet: Any, arrival_time_ms: int) -> None:
        # An exception here would end aiortc's receive loop for the whole connection:
        # one bad packet is logged (once) and skipped instead.
        try:
            self._handler.on_rtp(
                packet.ssrc,
                packet.payload_type,
                packet.sequence_number,
                packet.timestamp,
                bool(packet.marker),
                packet.payload,
            )
        except Exception:
            if not self._failed:
                self._failed = True
                logger.exception("an RTP packet could not be handled; skipped")

    async def _handle_rtcp_packet(self, packet: Any) -> None:
        if isinstance(packet, RtcpSrPacket):
            self._handler.on_sender_report(packet.ssrc, packet.sender_info.ntp_timestamp)

    def _handle_disconnect(self) -> None:
        """The connection's owner learns of it through the connection state."""


class _SenderEndpoint:
    """Stands in for ``RTCRtpSender`` in the router: our SSRC's RTCP feedback."""

    def __init__(self, ssrc: int, handler: EgressHandler) -> None:
        self._ssrc = ssrc
        self._handler = handler

    async def _handle_rtcp_packet(self, packet: Any) -> None:
        handler = self._handler
        if isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
            # aiortc's parser can yield 65536 and up for a PID near the wrap.
            handler.on_nack([sequence & 0xFFFF for sequence in packet.lost])
        elif isinstance(packet, RtcpPsfbPacket) and packet.fmt in (RTCP_PSFB_PLI, RTCP_PSFB_FIR):
            handler.on_keyframe_request()
        elif isinstance(packet, (RtcpRrPacket, RtcpSrPacket)):
            for report in packet.reports:
                if report.ssrc == self._ssrc:
                    handler.on_receiver_report(
                        report.fraction_lost,
                        report.packets_lost,
                        report.jitter,
                        report.lsr,
                        report.dlsr,
                    )


def take_over_receiver(transceiver: Any, handler: IngestHandler) -> Callable[[], None]:
    """Route the transceiver's incoming RTP to ``handler``; returns an undo for close."""
    receiver = transceiver.receiver
    endpoint = _ReceiverEndpoint(handler)

    async def receive(parameters: Any) -> None:
        receiver.transport._register_rtp_receiver(endpoint, parameters)
        payload_types = {c.payloadType: c.mimeType.lower() for c in parameters.codecs}
        handler.on_receive_started(payload_types, SrtpSink(receiver.transport))

    receiver.receive = receive
    return lambda: receiver.transport._unregister_rtp_receiver(endpoint)


def take_over_sender(transceiver: Any, handler: EgressHandler) -> Callable[[], None]:
    """Hand the transceiver's sending side to ``handler``; returns an undo for close."""
    sender = transceiver.sender
    endpoint = _SenderEndpoint(int(sender._ssrc), handler)

    async def send(parameters: Any) -> None:
        sender.transport._register_rtp_sender(endpoint, parameters)
        codec = parameters.codecs[0]
        handler.on_send_started(
            SrtpSink(sender.transport), int(sender._ssrc), codec.payloadType, codec.clockRate
        )

    sender.send = send
    return lambda: sender.transport._unregister_rtp_sender(endpoint)


def sender_report(ssrc: int, ntp: int, rtp_timestamp: int, packets: int, octets: int) -> bytes:
    """An RTCP SR with no report blocks."""
    info = RtcpSenderInfo(
        ntp_timestamp=ntp,
        rtp_timestamp=rtp_timestamp,
        packet_count=packets & 0xFFFFFFFF,
        octet_count=octets & 0xFFFFFFFF,
    )
    return bytes(RtcpSrPacket(ssrc=ssrc, sender_info=info))


def receiver_report(
    ssrc: int, media_ssrc: int, fraction_lost: int, lost: int, highest: int, lsr: int, dlsr: int
) -> bytes:
    """An RTCP RR about one source."""
    info = RtcpReceiverInfo(
        ssrc=media_ssrc,
        fraction_lost=fraction_lost,
        packets_lost=lost,
        highest_sequence=highest,
        jitter=0,
        lsr=lsr,
        dlsr=dlsr,
    )
    return bytes(RtcpRrPacket(ssrc=ssrc, reports=[info]))


def picture_loss(ssrc: int, media_ssrc: int) -> bytes:
    """An RTCP PLI (RFC 4585) asking ``media_ssrc`` for a keyframe."""
    return bytes(RtcpPsfbPacket(fmt=RTCP_PSFB_PLI, ssrc=ssrc, media_ssrc=media_ssrc))


def nack(ssrc: int, media_ssrc: int, lost: list[int]) -> bytes:
    """An RTCP generic NACK for ``lost`` sequence numbers (any order, wrapping or not).

    Packed here, not by ``RtcpRtpfbPacket``: its packer assumes an ascending list that
    does not wrap, and raises (inside aiortc's receive loop) for anything else.
    """
    fci = b"".join(_NACK_ITEM.pack(pid, mask) for pid, mask in nack_items(lost))
    return pack_rtcp_packet(RTCP_RTPFB, RTCP_RTPFB_NACK, _SSRCS.pack(ssrc, media_ssrc) + fci)


def remb(ssrc: int, media_ssrcs: list[int], bitrate: int) -> bytes:
    """An RTCP REMB telling the publisher how much it may send."""
    fci = pack_remb_fci(bitrate, media_ssrcs)
    return bytes(RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=ssrc, media_ssrc=0, fci=fci))


def remote_candidate(line: str, mid: str | None) -> Any:
    """An ``RTCIceCandidate`` from a trickled ``candidate:...`` attribute value."""
    from aiortc.sdp import candidate_from_sdp

    bits = line.removeprefix("candidate:").split()
    if len(bits) < 8 or not bits[1].isdigit() or not bits[3].isdigit() or not bits[5].isdigit():
        raise ValueError("malformed candidate")
    candidate = candidate_from_sdp(" ".join(bits))
    candidate.sdpMid = mid
    candidate.sdpMLineIndex = 0 if mid is None else None
    return candidate


def rtp_encoder(kind: str) -> Any:
    """aiortc's own encoder for ``"H264"``, ``"VP8"`` or ``"opus"``, used once per slate.

    ``aiortc.codecs`` is not re-exported by ``aiortc`` but its encoders already split
    frames into RTP payloads (H.264 FU-A/STAP-A, VP8 descriptors) the way browsers
    expect, so the slate needs no packetiser of its own. Only the slate encodes: never
    a viewer or a publisher's media.
    """
    from aiortc.codecs.h264 import MAX_BITRATE, H264Encoder
    from aiortc.codecs.opus import OpusEncoder
    from aiortc.codecs.vpx import Vp8Encoder

    if kind == "opus":
        return OpusEncoder()
    encoder = H264Encoder() if kind == "H264" else Vp8Encoder()
    # A still picture of text: spend what the encoder allows on its one keyframe.
    encoder.target_bitrate = MAX_BITRATE
    return encoder
