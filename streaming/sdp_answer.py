"""Sans-I/O edits of our SDP answers."""

from __future__ import annotations


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
