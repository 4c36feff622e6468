"""pcap and pcapng files -> packets -> SIP messages.

The two file formats are read here with ``struct`` (decision D103 says why no library): classic
pcap in both byte orders with micro- or nanosecond times, and pcapng's section header, interface
description, enhanced, simple and (obsolete) packet blocks, in both byte orders, each interface with
its own link type, time resolution and offset. The file is read in chunks, never whole.

Each packet then goes through ``packets.decode``; a UDP datagram that starts with a SIP start line is
one message (RFC 3261 18.3), TCP segments go to ``stream.StreamTable``. Packets are numbered from 1,
as Wireshark numbers them, so "packet 17" is the row Wireshark shows as 17.
"""
from __future__ import annotations

import struct
from typing import Iterator

from . import Capture, CapturedMessage
from .fragments import Reassembler
from .packets import Fragment, decode, endpoint, link_name, transport
from .sniff import open_stream
from .stream import SIP_START, StreamTable, looks_like_tls

__all__ = ["packet_capture", "records", "MAX_RECORD"]

#: Largest packet record read (bytes). libpcap's largest snap length is 262,144; a record that
#: claims more is a damaged file (reading on would mean trusting a garbage length).
MAX_RECORD = 262_144
#: Largest pcapng block (bytes): a packet of MAX_RECORD plus generous room for options and comments.
MAX_BLOCK = 4 << 20
_CHUNK = 1 << 20       # read size: big enough that Python's per-read cost vanishes

_PCAP_HEADER = 24
_NANO_MAGICS = {b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"}


class _Chunks:
    """A file read in 1 MiB chunks; ``take(n)`` returns up to n bytes (fewer only at the end)."""

    __slots__ = ("f", "buf", "pos", "offset")

    def __init__(self, f, head: bytes = b""):
        self.f = f
        self.buf = head
        self.pos = 0
        self.offset = 0          # file offset of buf[0]

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.buf):
            rest = self.buf[self.pos:]
            self.offset += self.pos
            more = self.f.read(max(_CHUNK, n - len(rest)))
            self.buf = rest + more if more else rest
            self.pos = 0
            end = n
        out = self.buf[self.pos:end]
        self.pos = min(end, len(self.buf))
        return out

    def tell(self) -> int:
        return self.offset + self.pos


def records(cap: Capture, f, kind: str) -> Iterator[tuple[int, float | None, int, bytes, int]]:
    """(number, time, link type, captured bytes, original length) of each packet of the file."""
    return _pcap(cap, _Chunks(f)) if kind == "pcap" else _pcapng(cap, _Chunks(f))


def _cut_file(cap: Capture, what: str, got: int, wanted: int) -> None:
    cap.stats.truncated += 1
    cap.note(f"the file ends inside {what} ({got} of its {wanted} bytes are there): the capture was cut "
             "short (copied while it was still being written?)", code="truncated-capture",
             hint="the packets before it are read; copy the capture again once the capture tool has stopped")


def _block_after(number: int) -> str:
    return f"the pcapng block after packet {number}" if number else "the first pcapng block"


def _pcap(cap: Capture, chunks: _Chunks):
    header = chunks.take(_PCAP_HEADER)
    if len(header) < _PCAP_HEADER:
        _cut_file(cap, "the file header", len(header), _PCAP_HEADER)
        return
    magic = header[:4]
    order = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    scale = 1e-9 if magic in _NANO_MAGICS else 1e-6
    _vmaj, _vmin, _zone, _sig, _snap, network = struct.unpack(order + "HHiIII", header[4:])
    link = network & 0x0FFFFFFF              # the top bits may carry the FCS length (pcap-linktype)
    unpack = struct.Struct(order + "IIII").unpack_from
    # The hot loop: records are read out of 1 MiB chunks by offset (no per-record read call).
    f, buf, pos, base, number = chunks.f, chunks.buf, chunks.pos, chunks.offset, 0
    size = len(buf)
    while True:
        if pos + 16 > size:
            base += pos
            buf = buf[pos:] + f.read(_CHUNK)
            pos, size = 0, len(buf)
            if not size:
                return
            if size < 16:
                _cut_file(cap, f"the record header of packet {number + 1}", size, 16)
                return
        sec, frac, incl, orig = unpack(buf, pos)
        number += 1
        if incl > MAX_RECORD:
            cap.stats.malformed += 1
            cap.note(f"packet {number} claims {incl} captured bytes, more than any capture tool writes "
                     f"({MAX_RECORD}): the file is damaged from byte {base + pos} on, and is read no further",
                     severity="error", code="damaged-capture",
                     hint="repair it with Wireshark's pcapfix or editcap, or capture again")
            return
        end = pos + 16 + incl
        if end > size:
            base += pos
            buf = buf[pos:] + f.read(max(_CHUNK, 16 + incl))
            pos, size = 0, len(buf)
            end = 16 + incl
            if end > size:
                _cut_file(cap, f"packet {number}", size - 16, incl)
                return
        yield number, sec + frac * scale, link, buf[pos + 16:end], orig
        pos = end


_BLOCK_HEAD = {"<": struct.Struct("<II"), ">": struct.Struct(">II")}


def _pcapng(cap: Capture, chunks: _Chunks):
    order = "<"
    interfaces: list[tuple[int, float, float]] = []     # (link type, seconds per unit, offset)
    number = 0
    take = chunks.take
    while True:
        head = take(8)
        if not head:
            return
        if len(head) < 8:
            _cut_file(cap, _block_after(number) + "'s header", len(head), 8)
            return
        if head[:4] == b"\x0a\x0d\x0d\x0a":          # section header: its byte order magic says the order
            bom = take(4)
            if len(bom) < 4:
                _cut_file(cap, f"a section header before packet {number + 1}", len(bom), 4)
                return
            if bom == b"\x4d\x3c\x2b\x1a":
                order = "<"
            elif bom == b"\x1a\x2b\x3c\x4d":
                order = ">"
            else:
                cap.stats.malformed += 1
                cap.note(f"a pcapng section header at byte {chunks.tell() - 12} has no valid byte-order magic: the "
                         "file is damaged and is read no further", severity="error", code="damaged-capture",
                         hint="repair it with Wireshark's pcapfix or editcap, or capture again")
                return
            length = struct.unpack(order + "I", head[4:])[0]
            rest_len = length - 12
            interfaces = []
            prefix = bom
        else:
            kind, length = _BLOCK_HEAD[order].unpack(head)
            rest_len = length - 8
            prefix = b""
        if length < 12 or length % 4 or length > MAX_BLOCK:
            cap.stats.malformed += 1
            cap.note(f"a pcapng block at byte {chunks.tell() - 8 - len(prefix)} claims a length of {length} bytes: "
                     "the file is damaged from there on and is read no further", severity="error",
                     code="damaged-capture", hint="repair it with Wireshark's pcapfix or editcap, or capture again")
            return
        body = take(rest_len)
        if len(body) < rest_len:
            _cut_file(cap, _block_after(number), len(body) + 8, length)
            return
        if prefix:
            continue                                    # section header: options not needed
        if kind == 6 or kind == 2 or kind == 3:         # enhanced, obsolete and simple packet blocks
            number += 1
            if len(body) < (8 if kind == 3 else 24):
                cap.stats.malformed += 1
                cap.note(f"packet {number}: its pcapng block is {length} bytes, too short for a packet block: "
                         "skipped", code="damaged-packet",
                         hint="the file is damaged here; the packets after it are read")
                continue
            if kind == 3:
                iface = 0
                orig = struct.unpack_from(order + "I", body)[0]
                data = body[4:length - 16 + 4]
                data = data[:orig]
                units = None
            else:
                if kind == 6:
                    iface, hi, lo, incl, orig = struct.unpack_from(order + "IIIII", body)
                    start = 20
                else:
                    iface, _drops, hi, lo, incl, orig = struct.unpack_from(order + "HHIIII", body)
                    start = 20
                if incl > len(body) - start - 4:
                    cap.stats.malformed += 1
                    cap.note(f"packet {number} claims {incl} bytes, more than its block holds: skipped",
                             code="damaged-packet")
                    continue
                data = body[start:start + incl]
                units = (hi << 32) | lo
            if iface >= len(interfaces):
                cap.stats.malformed += 1
                cap.note(f"packet {number} names interface {iface}, which no interface block describes: skipped",
                         code="damaged-packet")
                continue
            link, per_unit, offset = interfaces[iface]
            yield number, (units * per_unit + offset) if units is not None else None, link, data, orig
        elif kind == 1:                                  # interface description
            if len(body) < 12:
                cap.stats.malformed += 1
                cap.note(f"an interface block before packet {number + 1} is {length} bytes, too short: its packets "
                         "cannot be read", code="damaged-capture", hint="the file is damaged here")
                interfaces.append((-1, 1e-6, 0.0))      # keeps the numbering of the interfaces after it
                continue
            link, _reserved, _snap = struct.unpack_from(order + "HHI", body)
            per_unit, offset = 1e-6, 0.0
            for code, value in _options(body, 8, order):
                if code == 9 and value:
                    resolution = value[0]
                    per_unit = 2.0 ** -(resolution & 0x7F) if resolution & 0x80 else 10.0 ** -resolution
                elif code == 14 and len(value) == 8:
                    offset = float(struct.unpack(order + "q", value)[0])
            interfaces.append((link, per_unit, offset))
        # other blocks (name resolution, statistics, custom, decryption secrets) carry no packets


def _options(body: bytes, at: int, order: str):
    """(code, value) of each option from ``at`` up to the block's trailing length."""
    end = len(body) - 4
    opt = struct.Struct(order + "HH")
    while at + 4 <= end:
        code, size = opt.unpack_from(body, at)
        if code == 0:
            return
        yield code, body[at + 4:at + 4 + size]
        at += 4 + (size + 3) // 4 * 4


_CRLF = (b"\r", b"\n")
_TLS_FIRST = (b"\x14", b"\x15", b"\x16", b"\x17")


def packet_capture(path: str, name: str, kind: str) -> Capture:
    return Capture(path, name, kind, _messages)


def _messages(cap: Capture) -> Iterator[CapturedMessage]:
    stats = cap.stats
    streams = StreamTable(stats, cap.note, cap.name)
    link_counts: dict[int, int] = {}         # by number while reading; by name in stats at the end
    unsupported_noted: set[int] = set()
    try:
        yield from _read(cap, streams, link_counts, unsupported_noted)
    finally:
        for link, count in link_counts.items():
            stats.link_types[link_name(link)] = stats.link_types.get(link_name(link), 0) + count


def _read(cap: Capture, streams: StreamTable, link_counts: dict[int, int], unsupported_noted: set[int]):
    stats = cap.stats
    index = 0
    name = cap.name
    path = cap.path
    pieces = Reassembler()
    with open_stream(path, name) as f:
        for number, time, link, data, orig in records(cap, f, cap.format):
            stats.packets += 1
            if link in link_counts:
                link_counts[link] += 1
            else:
                link_counts[link] = 1
            seg = decode(link, data)
            where = f"{name}: packet {number}"
            if seg.__class__ is Fragment:
                stats.fragments += 1
                whole = pieces.add(seg, number)
                if whole is None:
                    continue
                proto, payload, src, dst, (first, last) = whole
                seg = transport(proto, payload, src, dst)
                where = f"{name}: packets {first}-{last}"
                orig = len(data)                 # each piece was whole (a cut one gives the datagram up)
            if seg.__class__ is str:
                if seg == "non-ip" or seg == "non-ip-transport":
                    stats.non_sip += 1
                elif seg == "esp":
                    stats.tls_unreadable += 1
                elif seg == "unsupported":
                    stats.unsupported += 1
                    if link not in unsupported_noted:
                        unsupported_noted.add(link)
                        cap.note(f"packet {number}: link type {link} is not one mspl-lite reads (it reads Ethernet, "
                                 "Linux cooked, loopback and raw IP): its packets are counted as unsupported",
                                 code="link-type", hint="capture on an Ethernet or 'any' interface")
                else:
                    stats.malformed += 1
                    if len(data) < orig:
                        stats.truncated += 1
                    cap.note(f"packet {number}: {seg[len('malformed: '):]}: skipped", code="damaged-packet",
                             hint="the packet is damaged or was cut; the others are read")
                continue
            if seg.proto == "UDP":
                payload = seg.payload
                if SIP_START.match(payload):
                    if seg.cut or len(data) < orig:
                        stats.truncated += 1
                        cap.note(f"packet {number}: a SIP message over UDP cut by the capture's snap length "
                                 f"({len(data)} of {orig} bytes captured): skipped", code="cut-packet",
                                 hint="capture with the full packet size (tcpdump -s 0)")
                        continue
                    stats.sip_messages += 1
                    yield CapturedMessage(payload, where, index, time, "UDP", endpoint(seg.src, seg.sport),
                                          endpoint(seg.dst, seg.dport), None, path, None)
                    index += 1
                elif payload[:1] in _CRLF and not payload.strip(b"\r\n"):
                    stats.keepalives += 1
                elif payload[:1] in _TLS_FIRST and looks_like_tls(payload):
                    stats.tls_unreadable += 1
                else:
                    stats.non_sip += 1
                continue
            if seg.cut:
                stats.truncated += 1        # the stream reports the message it cuts
            for done in streams.segment(seg, number, time):
                yield _assembled(cap, done, index)
                index += 1
        for done in streams.finish():
            yield _assembled(cap, done, index)
            index += 1
    pieces.finish()
    if pieces.lost:
        stats.fragments_lost = pieces.lost
        cap.note(f"packet {pieces.first_lost_packet}: {pieces.lost} IP fragments belong to datagrams the capture "
                 "never completes (a piece was not captured, or cut): they cannot be read", code="ip-fragment",
                 hint="capture with the full packet size (tcpdump -s 0), on the interface that sees every piece")


def _assembled(cap: Capture, done, index: int) -> CapturedMessage:
    """A message cut from a TCP stream, named by the packet (or packets) it came in."""
    cap.stats.sip_messages += 1
    packets = f"packet {done.first}" if done.first == done.last else f"packets {done.first}-{done.last}"
    return CapturedMessage(done.data, f"{cap.name}: {packets}", index, done.time, done.transport, done.src, done.dst,
                           None, cap.path, None)
