"""Sans-I/O edits of our SDP answers (and of the relay pull's offer)."""

from __future__ import annotations

FEC_PARAMETER = "useinbandfec"


def advertise_addresses(sdp: str, addresses: tuple[str, ...]) -> str:
    """Replace host candidates' addresses with the advertised ones (NAT, cloud VMs).

    aioice gathers the interface addresses; behind a 1:1 NAT the client must be told the
    public one. Each host candidate becomes one candidate per advertised address, same port.
    """
    if not addresses:
        return sdp
    out: list[str] = []
    for line in sdp.split("\r\n"):
        bits = line.split()
        if line.startswith("a=candidate:") and len(bits) >= 8 and bits[7] == "host":
            for index, address in enumerate(addresses):
                copy = list(bits)
                copy[0] = f"{bits[0]}{index}" if index else bits[0]
                copy[4] = address
                out.append(" ".join(copy))
        elif line.startswith("c=IN IP4 "):
            out.append(f"c=IN IP4 {addresses[0]}")
        else:
            out.append(line)
    return "\r\n".join(out)


def _opus_payload_types(lines: list[str]) -> set[str]:
    types = set()
    for line in lines:
        if line.startswith("a=rtpmap:"):
            payload_type, _, encoding = line[len("a=rtpmap:") :].partition(" ")
            if encoding.lower().startswith("opus/48000"):
                types.add(payload_type)
    return types


def with_opus_fec(sdp: str) -> str:
    """Declare Opus in-band FEC (``useinbandfec=1``) on every Opus payload type.

    aiortc writes no ``a=fmtp`` for Opus, so its answers silently drop the FEC a
    browser or OBS offered; the parameter tells the far end's encoder that we (and the
    players we forward to, who decode it) want the redundancy. We forward Opus
    payloads untouched, so FEC the publisher adds survives every hop that keeps this.
    """
    lines = sdp.split("\r\n")
    opus = _opus_payload_types(lines)
    if not opus:
        return sdp
    has_fmtp = set()
    out: list[str] = []
    for line in lines:
        if line.startswith("a=fmtp:"):
            payload_type, _, parameters = line[len("a=fmtp:") :].partition(" ")
            if payload_type in opus:
                has_fmtp.add(payload_type)
                if FEC_PARAMETER not in parameters.lower():
                    joined = (
                        f"{parameters};{FEC_PARAMETER}=1" if parameters else f"{FEC_PARAMETER}=1"
                    )
                    line = f"a=fmtp:{payload_type} {joined}"
        out.append(line)
    result: list[str] = []
    for line in out:
        result.append(line)
        if line.startswith("a=rtpmap:"):
            payload_type = line[len("a=rtpmap:") :].partition(" ")[0]
            if payload_type in opus and payload_type not in has_fmtp:
                result.append(f"a=fmtp:{payload_type} {FEC_PARAMETER}=1")
    return "\r\n".join(result)
