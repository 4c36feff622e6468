"""One captured frame -> its UDP datagram or TCP segment: link layer, IPv4/IPv6, UDP, TCP.

``decode(link_type, frame)`` returns a ``Segment`` or a reason string saying why the frame carries
nothing to read ("non-ip", "fragment", "malformed: ...", ...). Addresses stay raw bytes here and are
formatted only for the packets that carry SIP (``endpoint``), which keeps a capture of a million
non-SIP packets fast.
"""
from __future__ import annotations

import ipaddress
import struct
from typing import NamedTuple

__all__ = ["Segment", "Fragment", "decode", "transport", "endpoint", "LINK_TYPES", "link_name"]

#: pcap/pcapng link types this reader decodes (the LINKTYPE_ values of the tcpdump.org registry).
LINK_TYPES = {
    0: "NULL (BSD loopback)",
    1: "Ethernet",
    12: "raw IP",
    14: "raw IP",
    101: "raw IP",
    108: "LOOP (OpenBSD loopback)",
    113: "Linux cooked (SLL)",
    228: "raw IPv4",
    229: "raw IPv6",
    276: "Linux cooked v2 (SLL2)",
}

_ETH_IPV4, _ETH_IPV6 = 0x0800, 0x86DD
_VLAN_TAGS = (0x8100, 0x88A8, 0x9100)
_U16 = struct.Struct("!H")
_IPV4 = struct.Struct("!BBHHHBBH4s4s")
_UDP = struct.Struct("!HHH")
_TCP = struct.Struct("!HHIIBB")
# IPv6 extension headers walked over to reach UDP or TCP (IPv6, section 4.1): hop-by-hop, routing,
# destination options, mobility, HIP, shim6. Fragment (44), AH (51) and ESP (50) are handled apart.
_IPV6_EXTENSIONS = {0, 43, 60, 135, 139, 140}
# Address families of the NULL and LOOP link types: 2 is IPv4 everywhere; IPv6 is 24 (NetBSD,
# OpenBSD), 28 (FreeBSD) or 30 (macOS).
_AF_IPV6 = {24, 28, 30}


class Segment(NamedTuple):
    """A UDP datagram or TCP segment: addresses as raw bytes, the payload, TCP's sequence and flags."""

    proto: str          # "UDP" | "TCP"
    src: bytes          # 4 or 16 bytes
    sport: int
    dst: bytes
    dport: int
    payload: bytes
    seq: int            # TCP only (0 for UDP)
    flags: int          # TCP flags byte (FIN 1, SYN 2, RST 4)
    cut: int            # bytes of the IP packet the frame lacks (cut by the snap length), usually 0


class Fragment(NamedTuple):
    """One piece of a fragmented IPv4 or IPv6 datagram (``fragments.py`` puts them together)."""

    key: tuple          # (version, source, destination, protocol, identification)
    offset: int         # byte offset of this piece in the datagram's payload
    more: bool          # more pieces follow
    data: bytes         # this piece of the payload (UDP or TCP header and data)
    proto: int
    src: bytes
    dst: bytes
    cut: int            # bytes of this piece not captured (snap length)


def link_name(link_type: int) -> str:
    return LINK_TYPES.get(link_type, f"link type {link_type}")


def decode(link_type: int, frame: bytes) -> Segment | str:
    """The UDP or TCP segment in ``frame`` (of ``link_type``), or why there is none."""
    if link_type == 1:                      # Ethernet: dst, src, EtherType (after any VLAN tags)
        if frame[12:14] == b"\x08\x00":      # the common case first: untagged IPv4
            return _ipv4(frame, 14)
        if len(frame) < 14:
            return "malformed: Ethernet header cut short"
        kind = _U16.unpack_from(frame, 12)[0]
        offset = 14
        while kind in _VLAN_TAGS:
            if len(frame) < offset + 4:
                return "malformed: VLAN tag cut short"
            kind = _U16.unpack_from(frame, offset + 2)[0]
            offset += 4
        return _ether(kind, frame, offset)
    if link_type == 113:                    # Linux cooked: protocol at bytes 14-15 of 16
        if len(frame) < 16:
            return "malformed: Linux cooked header cut short"
        return _ether(_U16.unpack_from(frame, 14)[0], frame, 16)
    if link_type == 276:                    # Linux cooked v2: protocol at bytes 0-1 of 20
        if len(frame) < 20:
            return "malformed: Linux cooked v2 header cut short"
        return _ether(_U16.unpack_from(frame, 0)[0], frame, 20)
    if link_type in (0, 108):               # BSD loopback: a 4-byte address family
        if len(frame) < 4:
            return "malformed: loopback header cut short"
        if link_type == 108:
            family = int.from_bytes(frame[:4], "big")
        else:                               # host byte order of the capturing machine
            family = int.from_bytes(frame[:4], "little")
            if family > 0xFFFF:
                family = int.from_bytes(frame[:4], "big")
        if family == 2:
            return _ipv4(frame, 4)
        if family in _AF_IPV6:
            return _ipv6(frame, 4)
        return "non-ip"
    if link_type in (12, 14, 101):          # raw IP: the version nibble says which
        if not frame:
            return "malformed: empty packet"
        version = frame[0] >> 4
        if version == 4:
            return _ipv4(frame, 0)
        if version == 6:
            return _ipv6(frame, 0)
        return "malformed: raw IP packet of version %d" % version
    if link_type == 228:
        return _ipv4(frame, 0)
    if link_type == 229:
        return _ipv6(frame, 0)
    return "unsupported"


def _ether(kind: int, frame: bytes, offset: int) -> Segment | str:
    if kind == _ETH_IPV4:
        return _ipv4(frame, offset)
    if kind == _ETH_IPV6:
        return _ipv6(frame, offset)
    return "non-ip"


def _ipv4(frame: bytes, offset: int) -> Segment | str:
    if len(frame) < offset + 20:
        return "malformed: IPv4 header cut short"
    vihl, _tos, total, ident, frag, _ttl, proto, _sum, src, dst = _IPV4.unpack_from(frame, offset)
    if vihl >> 4 != 4:
        return "malformed: IPv4 header of version %d" % (vihl >> 4)
    ihl = (vihl & 15) * 4
    if ihl < 20 or total < ihl:
        return "malformed: IPv4 header length %d, total length %d" % (ihl, total)
    end = offset + total
    size = len(frame)
    if frag & 0x3FFF:                       # more fragments, or an offset: one piece of a datagram
        return Fragment((4, src, dst, proto, ident), (frag & 0x1FFF) * 8, bool(frag & 0x2000),
                        frame[offset + ihl:min(end, size)], proto, src, dst, max(0, end - size))
    if end > size:
        return _transport(proto, frame, offset + ihl, size, src, dst, end - size)
    return _transport(proto, frame, offset + ihl, end, src, dst, 0)


def _ipv6(frame: bytes, offset: int) -> Segment | str:
    if len(frame) < offset + 40:
        return "malformed: IPv6 header cut short"
    if frame[offset] >> 4 != 6:
        return "malformed: IPv6 header of version %d" % (frame[offset] >> 4)
    length = _U16.unpack_from(frame, offset + 4)[0]
    proto = frame[offset + 6]
    src, dst = frame[offset + 8:offset + 24], frame[offset + 24:offset + 40]
    end = offset + 40 + length
    cut = max(0, end - len(frame))
    end = min(end, len(frame))
    at = offset + 40
    while True:
        if proto in _IPV6_EXTENSIONS:
            if at + 8 > end:
                return "malformed: IPv6 extension header cut short"
            proto, at = frame[at], at + (frame[at + 1] + 1) * 8
        elif proto == 44:                   # fragment header: 8 bytes; offset and M flag
            if at + 8 > end:
                return "malformed: IPv6 fragment header cut short"
            field = _U16.unpack_from(frame, at + 2)[0]
            if field & 0xFFF9:
                ident = frame[at + 4:at + 8]
                return Fragment((6, src, dst, frame[at], ident), field & 0xFFF8, bool(field & 1),
                                frame[at + 8:end], frame[at], src, dst, cut)
            proto, at = frame[at], at + 8   # an atomic fragment (offset 0, last): read on
        elif proto == 51:                   # authentication header: length in 4-byte units, minus 2
            if at + 8 > end:
                return "malformed: IPv6 authentication header cut short"
            proto, at = frame[at], at + (frame[at + 1] + 2) * 4
        else:
            break
    return _transport(proto, frame, at, end, src, dst, cut)


def transport(proto: int, payload: bytes, src: bytes, dst: bytes) -> Segment | str:
    """The UDP or TCP segment of a whole IP payload (a datagram put together from its fragments)."""
    return _transport(proto, payload, 0, len(payload), src, dst, 0)


def _transport(proto: int, frame: bytes, at: int, end: int, src: bytes, dst: bytes, cut: int) -> Segment | str:
    if proto == 17:
        if at + 8 > end:
            return "malformed: UDP header cut short"
        sport, dport, length = _UDP.unpack_from(frame, at)
        stop = at + length if 8 <= length <= end - at else end
        if length > end - at + cut:
            return "malformed: UDP length %d beyond the IP packet" % length
        return Segment("UDP", src, sport, dst, dport, frame[at + 8:stop], 0, 0, cut)
    if proto == 6:
        if at + 20 > end:
            return "malformed: TCP header cut short"
        sport, dport, seq, _ack, data_offset, flags = _TCP.unpack_from(frame, at)
        header = (data_offset >> 4) * 4
        if header < 20 or at + header > end:
            return "malformed: TCP header length %d" % header
        return Segment("TCP", src, sport, dst, dport, frame[at + header:end], seq, flags, cut)
    if proto == 50:
        return "esp"
    return "non-ip-transport"


_ADDRESSES: dict[bytes, str] = {}
#: Distinct addresses formatted and kept; past it the cache starts again (a scan of the whole
#: IPv4 space must not grow memory without end).
_MAX_ADDRESSES = 4096


def endpoint(address: bytes, port: int) -> str:
    """``10.0.0.5:5061``, or ``[2001:db8::1]:5060`` for IPv6."""
    text = _ADDRESSES.get(address)
    if text is None:
        if len(_ADDRESSES) >= _MAX_ADDRESSES:
            _ADDRESSES.clear()
        if len(address) == 4:
            text = "%d.%d.%d.%d" % tuple(address)
        else:
            text = "[" + ipaddress.IPv6Address(address).compressed + "]"
        _ADDRESSES[address] = text
    return f"{text}:{port}"
