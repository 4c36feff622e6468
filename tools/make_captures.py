"""Build the capture fixtures (tests/data/captures/) and the shipped samples (mspl_lite/data/captures/).

    .venv/bin/python tools/make_captures.py           # hand-built fixtures and samples (struct only)
    .venv/bin/python tools/make_captures.py --real    # also capture SIPp calls over loopback UDP and TCP
                                                     # with tcpdump (Debian: sip-tester, tcpdump; as root)

Hand-built files cover what a real run on one machine cannot produce: Linux cooked v2, VLAN tags,
IPv6 with extension headers, BSD loopback, raw IP, big-endian and nanosecond files, several pcapng
interfaces of different link types, out-of-order and retransmitted TCP, gaps, packets cut by the
snap length, a truncated file, TLS, garbage in a stream. Every address is a documentation address
(192.0.2.x, 198.51.100.x, 2001:db8::) and every name is contoso.com or fabrikam.com. Output is the
same byte for byte on every run (fixed times, no randomness).
"""
from __future__ import annotations

import argparse
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "data" / "captures"
SAMPLES = ROOT / "mspl_lite" / "data" / "captures"
T0 = 1_700_000_000.0       # 2023-11-14 22:13:20 UTC: a fixed start for every capture

# -- SIP messages --------------------------------------------------------------------------------------

CLIENT = ("192.0.2.31", 50250)      # terrya's Lync client (the lab's endpoint address)
JENNY = ("192.0.2.11", 50210)       # jennyl's client
FRONT_END = ("192.0.2.10", 5060)    # fe01.contoso.com (SIP over TCP 5060: readable in a capture)
APP_POOL = ("192.0.2.40", 5060)     # apppool01.contoso.com, the trusted application pool


def sip(start: str, headers: list[tuple[str, str]], body: str = "") -> bytes:
    """A SIP message with CRLF line ends and a correct Content-Length."""
    data = body.encode("utf-8")
    lines = [start] + [f"{n}: {v}" for n, v in headers] + [f"Content-Length: {len(data)}", "", ""]
    return "\r\n".join(lines).encode("utf-8") + data


def im_session(via_host: str = "192.0.2.31:50250", transport: str = "TCP") -> list[tuple[tuple, tuple, bytes]]:
    """A short IM session terrya -> jennyl through the Front End: (src, dst, message) in order."""
    sdp = ("v=0\r\no=- 0 0 IN IP4 192.0.2.31\r\ns=session\r\nc=IN IP4 192.0.2.31\r\nt=0 0\r\n"
           "m=message 5060 sip null\r\na=accept-types:text/plain\r\n")
    frm = '"Terry Adams" <sip:terrya@contoso.com>;tag=3e4f5a6b;epid=7c2e5f3a01'
    to = "<sip:jennyl@contoso.com>"
    to_tag = to + ";tag=9a8b7c6d"
    via = f"SIP/2.0/{transport} {via_host};branch=z9hG4bK-replay-1"
    fe_via = f"SIP/2.0/{transport} 192.0.2.10:5060;branch=z9hG4bK-fe-1"
    common = [("From", frm), ("To", to), ("Call-ID", "replay-im-1")]
    invite = sip("INVITE sip:jennyl@contoso.com SIP/2.0",
                 [("Via", via), ("Max-Forwards", "70")] + common +
                 [("CSeq", "1 INVITE"), ("Contact", "<sip:terrya@contoso.com;opaque=user:epid:7c2e5f3a01;gruu>"),
                  ("User-Agent", "UCCAPI/15.0.4481.1000 OC/15.0.4481.1000 (Microsoft Lync)"),
                  ("Content-Type", "application/sdp")], sdp)
    invite_out = sip("INVITE sip:jennyl@contoso.com;opaque=user:epid:5f3a7c9e01;gruu SIP/2.0",
                     [("Via", fe_via), ("Via", via), ("Max-Forwards", "69"),
                      ("Record-Route", "<sip:fe01.contoso.com:5060;transport=tcp;lr>")] + common +
                     [("CSeq", "1 INVITE"), ("Content-Type", "application/sdp")], sdp)
    trying = sip("SIP/2.0 100 Trying", [("Via", via)] + common + [("CSeq", "1 INVITE")])
    ok_in = sip("SIP/2.0 200 OK", [("Via", fe_via), ("Via", via), ("From", frm), ("To", to_tag),
                                   ("Call-ID", "replay-im-1"), ("CSeq", "1 INVITE"),
                                   ("Contact", "<sip:jennyl@contoso.com;opaque=user:epid:5f3a7c9e01;gruu>")])
    ok_out = sip("SIP/2.0 200 OK", [("Via", via), ("From", frm), ("To", to_tag), ("Call-ID", "replay-im-1"),
                                    ("CSeq", "1 INVITE"),
                                    ("Record-Route", "<sip:fe01.contoso.com:5060;transport=tcp;lr>"),
                                    ("Contact", "<sip:jennyl@contoso.com;opaque=user:epid:5f3a7c9e01;gruu>")])
    route = [("Route", "<sip:fe01.contoso.com:5060;transport=tcp;lr>")]
    ack = sip("ACK sip:jennyl@contoso.com;opaque=user:epid:5f3a7c9e01;gruu SIP/2.0",
              [("Via", via.replace("-1", "-2")), ("Max-Forwards", "70")] + route +
              [("From", frm), ("To", to_tag), ("Call-ID", "replay-im-1"), ("CSeq", "1 ACK")])
    message = sip("MESSAGE sip:jennyl@contoso.com;opaque=user:epid:5f3a7c9e01;gruu SIP/2.0",
                  [("Via", via.replace("-1", "-3")), ("Max-Forwards", "70")] + route +
                  [("From", frm), ("To", to_tag), ("Call-ID", "replay-im-1"), ("CSeq", "2 MESSAGE"),
                   ("Content-Type", "text/plain; charset=UTF-8")],
                  "Hi Jenny, the report is on http://intranet.contoso.com/q3")
    message_ok = sip("SIP/2.0 200 OK", [("Via", via.replace("-1", "-3")), ("From", frm), ("To", to_tag),
                                        ("Call-ID", "replay-im-1"), ("CSeq", "2 MESSAGE")])
    bye = sip("BYE sip:jennyl@contoso.com;opaque=user:epid:5f3a7c9e01;gruu SIP/2.0",
              [("Via", via.replace("-1", "-4")), ("Max-Forwards", "70")] + route +
              [("From", frm), ("To", to_tag), ("Call-ID", "replay-im-1"), ("CSeq", "3 BYE")])
    bye_ok = sip("SIP/2.0 200 OK", [("Via", via.replace("-1", "-4")), ("From", frm), ("To", to_tag),
                                    ("Call-ID", "replay-im-1"), ("CSeq", "3 BYE")])
    c, f, j = CLIENT, FRONT_END, JENNY
    return [(c, f, invite), (f, c, trying), (f, j, invite_out), (j, f, ok_in), (f, c, ok_out), (c, f, ack),
            (c, f, message), (f, c, message_ok), (c, f, bye), (f, c, bye_ok)]


def helpdesk_call(transport: str = "TCP") -> list[tuple[tuple, tuple, bytes]]:
    """A call to the helpdesk contact: the Front End hands it to the application pool, which answers 500."""
    sdp = ("v=0\r\no=- 0 0 IN IP4 192.0.2.31\r\ns=session\r\nc=IN IP4 192.0.2.31\r\nt=0 0\r\n"
           "m=audio 50000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\n")
    frm = '"Terry Adams" <sip:terrya@contoso.com>;tag=1a2b3c4d;epid=7c2e5f3a01'
    to = "<sip:helpdesk@contoso.com>"
    via = f"SIP/2.0/{transport} 192.0.2.31:50250;branch=z9hG4bK-replay-call-1"
    fe_via = f"SIP/2.0/{transport} 192.0.2.10:5060;branch=z9hG4bK-fe-call-1"
    common = [("From", frm), ("To", to), ("Call-ID", "replay-call-1")]
    invite = sip("INVITE sip:helpdesk@contoso.com SIP/2.0",
                 [("Via", via), ("Max-Forwards", "70")] + common +
                 [("CSeq", "1 INVITE"), ("Contact", "<sip:192.0.2.31:50250;transport=tcp>"),
                  ("User-Agent", "UCCAPI/15.0.4481.1000 OC/15.0.4481.1000 (Microsoft Lync)"),
                  ("Content-Type", "application/sdp")], sdp)
    invite_out = sip("INVITE sip:apppool01.contoso.com@contoso.com;gruu;opaque=srvr:helpdesk:Ab3dEf SIP/2.0",
                     [("Via", fe_via), ("Via", via), ("Max-Forwards", "69")] + common +
                     [("CSeq", "1 INVITE"), ("Content-Type", "application/sdp")], sdp)
    error_in = sip("SIP/2.0 500 Internal Server Error",
                   [("Via", fe_via), ("Via", via), ("From", frm), ("To", to + ";tag=5e00aa01"),
                    ("Call-ID", "replay-call-1"), ("CSeq", "1 INVITE"),
                    ("Ms-Diagnostics", '1;reason="Service Unavailable";source="apppool01.contoso.com"')])
    error_out = sip("SIP/2.0 500 Internal Server Error",
                    [("Via", via), ("From", frm), ("To", to + ";tag=5e00aa01"), ("Call-ID", "replay-call-1"),
                     ("CSeq", "1 INVITE"),
                     ("Ms-Diagnostics", '1;reason="Service Unavailable";source="apppool01.contoso.com"')])
    ack = sip("ACK sip:helpdesk@contoso.com SIP/2.0",
              [("Via", via), ("Max-Forwards", "70"), ("From", frm), ("To", to + ";tag=5e00aa01"),
               ("Call-ID", "replay-call-1"), ("CSeq", "1 ACK")])
    c, f, a = CLIENT, FRONT_END, APP_POOL
    return [(c, f, invite), (f, a, invite_out), (a, f, error_in), (f, c, error_out), (c, f, ack)]


JENNY_PHONE = ("192.0.2.12", 50211)  # jennyl's second endpoint (Lync 2013 for Windows Phone in the lab)


def forked_call(transport: str = "TCP") -> list[tuple[tuple, tuple, bytes]]:
    """A call terrya -> jennyl that the Front End forks to Jenny's two endpoints (their GRUUs): both ring,
    the phone answers, the Front End cancels the desktop's copy (RFC 3261 16.7 step 10), which answers
    200 to the CANCEL and 487 to the INVITE, and the Front End ACKs that 487 itself (17.1.1.3)."""
    sdp = ("v=0\r\no=- 0 0 IN IP4 192.0.2.31\r\ns=session\r\nc=IN IP4 192.0.2.31\r\nt=0 0\r\n"
           "m=audio 50000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\n")
    frm = '"Terry Adams" <sip:terrya@contoso.com>;tag=f0c1a2b3;epid=7c2e5f3a01'
    to = "<sip:jennyl@contoso.com>"
    call_id = "replay-fork-1"
    via = f"SIP/2.0/{transport} 192.0.2.31:50250;branch=z9hG4bK-fork-1"
    desk_via = f"SIP/2.0/{transport} 192.0.2.10:5060;branch=z9hG4bK-fe-fork-1a"
    phone_via = f"SIP/2.0/{transport} 192.0.2.10:5060;branch=z9hG4bK-fe-fork-1b"
    desk_gruu = "sip:jennyl@contoso.com;opaque=user:epid:5f3a7c9e01;gruu"
    phone_gruu = "sip:jennyl@contoso.com;opaque=user:epid:5f3a7c9e02;gruu"
    desk_to, phone_to = to + ";tag=d35k0001", to + ";tag=9h0e0002"
    rr = ("Record-Route", "<sip:fe01.contoso.com:5060;transport=tcp;lr>")
    invite = sip("INVITE sip:jennyl@contoso.com SIP/2.0",
                 [("Via", via), ("Max-Forwards", "70"), ("From", frm), ("To", to), ("Call-ID", call_id),
                  ("CSeq", "1 INVITE"), ("Contact", "<sip:terrya@contoso.com;opaque=user:epid:7c2e5f3a01;gruu>"),
                  ("User-Agent", "UCCAPI/15.0.4481.1000 OC/15.0.4481.1000 (Microsoft Lync)"),
                  ("Content-Type", "application/sdp")], sdp)

    def copy(gruu: str, fe_via: str) -> bytes:
        return sip(f"INVITE {gruu} SIP/2.0",
                   [("Via", fe_via), ("Via", via), ("Max-Forwards", "69"), rr, ("From", frm), ("To", to),
                    ("Call-ID", call_id), ("CSeq", "1 INVITE"), ("Content-Type", "application/sdp")], sdp)

    def back(status: str, fe_via: str | None, to_value: str, cseq: str = "1 INVITE", extra=()) -> bytes:
        vias = ([("Via", fe_via)] if fe_via else []) + ([("Via", via)] if cseq == "1 INVITE" else [])
        return sip(f"SIP/2.0 {status}", vias + [("From", frm), ("To", to_value), ("Call-ID", call_id),
                                                ("CSeq", cseq)] + list(extra))

    phone_contact = ("Contact", f"<{phone_gruu}>")
    cancel = sip(f"CANCEL {desk_gruu} SIP/2.0", [("Via", desk_via), ("Max-Forwards", "70"), ("From", frm),
                                                 ("To", to), ("Call-ID", call_id), ("CSeq", "1 CANCEL")])
    ack_487 = sip(f"ACK {desk_gruu} SIP/2.0", [("Via", desk_via), ("Max-Forwards", "70"), ("From", frm),
                                               ("To", desk_to), ("Call-ID", call_id), ("CSeq", "1 ACK")])
    ack_via = f"SIP/2.0/{transport} 192.0.2.31:50250;branch=z9hG4bK-fork-2"
    route = ("Route", "<sip:fe01.contoso.com:5060;transport=tcp;lr>")
    ack = sip(f"ACK {phone_gruu} SIP/2.0", [("Via", ack_via), ("Max-Forwards", "70"), route, ("From", frm),
                                            ("To", phone_to), ("Call-ID", call_id), ("CSeq", "1 ACK")])
    ack_out = sip(f"ACK {phone_gruu} SIP/2.0",
                  [("Via", f"SIP/2.0/{transport} 192.0.2.10:5060;branch=z9hG4bK-fe-fork-2"), ("Via", ack_via),
                   ("Max-Forwards", "69"), ("From", frm), ("To", phone_to), ("Call-ID", call_id), ("CSeq", "1 ACK")])
    c, f, d, p = CLIENT, FRONT_END, JENNY, JENNY_PHONE
    return [(c, f, invite), (f, c, back("100 Trying", None, to)),
            (f, d, copy(desk_gruu, desk_via)), (f, p, copy(phone_gruu, phone_via)),
            (d, f, back("180 Ringing", desk_via, desk_to)), (f, c, back("180 Ringing", None, desk_to)),
            (p, f, back("180 Ringing", phone_via, phone_to)), (f, c, back("180 Ringing", None, phone_to)),
            (p, f, back("200 OK", phone_via, phone_to, extra=[phone_contact])),
            (f, c, back("200 OK", None, phone_to, extra=[rr, phone_contact])),
            (f, d, cancel), (d, f, back("200 OK", desk_via, to, cseq="1 CANCEL")),
            (d, f, back("487 Request Terminated", desk_via, desk_to)), (f, d, ack_487),
            (c, f, ack), (f, p, ack_out)]


def big_invite() -> bytes:
    """An INVITE too large for one Ethernet frame (an SDP with many candidates), as Lync clients send."""
    lines = ["v=0", "o=- 0 0 IN IP4 192.0.2.31", "s=session", "c=IN IP4 192.0.2.31", "t=0 0",
             "m=audio 50000 RTP/AVP 0 8 101"]
    lines += [f"a=candidate:{n} 1 UDP {2130706431 - n} 192.0.2.31 {50000 + n} typ host" for n in range(60)]
    return sip("INVITE sip:jennyl@contoso.com SIP/2.0",
               [("Via", "SIP/2.0/UDP 192.0.2.31:50250;branch=z9hG4bK-big-1"), ("Max-Forwards", "70"),
                ("From", '"Terry Adams" <sip:terrya@contoso.com>;tag=b19'), ("To", "<sip:jennyl@contoso.com>"),
                ("Call-ID", "big-invite-1"), ("CSeq", "1 INVITE"), ("Content-Type", "application/sdp")],
               "\r\n".join(lines) + "\r\n")


def options(n: int = 1) -> bytes:
    return sip("OPTIONS sip:fe01.contoso.com SIP/2.0",
               [("Via", f"SIP/2.0/UDP 192.0.2.31:50250;branch=z9hG4bK-opt-{n}"), ("Max-Forwards", "70"),
                ("From", f"<sip:terrya@contoso.com>;tag=opt{n}"), ("To", "<sip:fe01.contoso.com>"),
                ("Call-ID", f"options-{n}"), ("CSeq", f"{n} OPTIONS")])


# -- frames -----------------------------------------------------------------------------------------------

def _addr(host: str) -> bytes:
    return socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)


def _sum16(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4(src: str, dst: str, proto: int, payload: bytes, ident: int = 1, frag: int = 0x4000) -> bytes:
    head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0, _addr(src), _addr(dst))
    head = head[:10] + struct.pack("!H", _sum16(head)) + head[12:]
    return head + payload


def ipv6(src: str, dst: str, proto: int, payload: bytes, extensions: bytes = b"", first: int | None = None) -> bytes:
    """IPv6; ``extensions`` are already chained, ``first`` their first next-header value."""
    nxt = proto if first is None else first
    return struct.pack("!IHBB16s16s", 6 << 28, len(extensions) + len(payload), nxt, 64, _addr(src), _addr(dst)) \
        + extensions + payload


def ipv4_fragments(src: str, dst: str, proto: int, payload: bytes, ident: int, size: int = 1480) -> list[bytes]:
    """``payload`` in IPv4 fragments of at most ``size`` bytes (a multiple of 8), in order."""
    out = []
    for at in range(0, len(payload), size):
        more = 0x2000 if at + size < len(payload) else 0
        out.append(ipv4(src, dst, proto, payload[at:at + size], ident=ident, frag=more | at // 8))
    return out


def ipv6_fragments(src: str, dst: str, proto: int, payload: bytes, ident: int, size: int = 1232) -> list[bytes]:
    """``payload`` in IPv6 fragments (a fragment header each) of at most ``size`` bytes."""
    out = []
    for at in range(0, len(payload), size):
        more = 1 if at + size < len(payload) else 0
        header = bytes([proto, 0]) + struct.pack("!HI", at | more, ident)
        out.append(ipv6(src, dst, proto, payload[at:at + size], header, first=44))
    return out


def udp(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def tcp(sport: int, dport: int, seq: int, payload: bytes, flags: int = 0x18, ack: int = 1) -> bytes:
    return struct.pack("!HHIIBBHHH", sport, dport, seq % (1 << 32), ack, 5 << 4, flags, 65535, 0, 0) + payload


def ether(ip: bytes, v6: bool = False, vlans: tuple[int, ...] = ()) -> bytes:
    head = b"\x00\x15\x5d\x01\x02\x03" + b"\x00\x15\x5d\x0a\x0b\x0c"
    for vid in vlans:
        head += struct.pack("!HH", 0x8100, vid)
    return head + struct.pack("!H", 0x86DD if v6 else 0x0800) + ip


def sll(ip: bytes, v6: bool = False) -> bytes:
    return struct.pack("!HHH8sH", 0, 1, 6, b"\x00\x15\x5d\x01\x02\x03\x00\x00", 0x86DD if v6 else 0x0800) + ip


def sll2(ip: bytes, v6: bool = False) -> bytes:
    return struct.pack("!HHIHBB8s", 0x86DD if v6 else 0x0800, 0, 2, 1, 0, 6, b"\x00\x15\x5d\x01\x02\x03\x00\x00") + ip


def null_loop(ip: bytes, v6: bool = False) -> bytes:
    return struct.pack("<I", 30 if v6 else 2) + ip       # BSD loopback: family in host (little-endian) order


# -- files ------------------------------------------------------------------------------------------------

def write_pcap(path: Path, link: int, packets: list[tuple[float, bytes]] | list, *, big: bool = False,
               nano: bool = False, snaplen: int = 262144, cut: int | None = None) -> None:
    """A classic pcap file; ``packets`` are (time, frame) or (time, frame, original length)."""
    order = ">" if big else "<"
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = bytearray(struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, snaplen, link))
    for item in packets:
        when, frame = item[0], item[1]
        orig = item[2] if len(item) > 2 else len(frame)
        sec = int(when)
        frac = round((when - sec) * (1e9 if nano else 1e6))
        out += struct.pack(order + "IIII", sec, frac, len(frame), orig) + frame
    data = bytes(out if cut is None else out[:cut])
    path.write_bytes(data)


def _block(order: str, kind: int, body: bytes) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    length = len(body) + 12
    return struct.pack(order + "II", kind, length) + body + struct.pack(order + "I", length)


def _option(order: str, code: int, value: bytes) -> bytes:
    return struct.pack(order + "HH", code, len(value)) + value + b"\x00" * (-len(value) % 4)


def write_pcapng(path: Path, interfaces: list[tuple[int, int | None]], packets: list[tuple[int, float, bytes]], *,
                 big: bool = False, simple: bool = False, comment: str = "mspl-lite fixture") -> None:
    """pcapng: interfaces are (link type, tsresol option byte or None); packets (interface, time, frame)."""
    order = ">" if big else "<"
    out = bytearray(_block(order, 0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1)
                           + _option(order, 1, comment.encode()) + _option(order, 0, b"")))
    resolutions = []
    for link, resol in interfaces:
        opts = b""
        if resol is not None:
            opts += _option(order, 9, bytes([resol]))
        opts += _option(order, 2, b"eth0") + _option(order, 0, b"")
        out += _block(order, 1, struct.pack(order + "HHI", link, 0, 262144) + opts)
        resolutions.append(resol)
    for iface, when, frame in packets:
        if simple:
            out += _block(order, 3, struct.pack(order + "I", len(frame)) + frame)
            continue
        resol = resolutions[iface] if iface < len(resolutions) else None   # a bad interface id: for tests
        per_second = (2 ** (resol & 0x7F) if resol & 0x80 else 10 ** resol) if resol is not None else 10 ** 6
        units = round(when * per_second)
        out += _block(order, 6, struct.pack(order + "IIIII", iface, units >> 32, units & 0xFFFFFFFF, len(frame),
                                              len(frame)) + frame)
    path.write_bytes(bytes(out))


class TcpConversation:
    """Two directions of one TCP connection: frames with correct sequence numbers."""

    def __init__(self, a: tuple, b: tuple, isn_a: int = 1000, isn_b: int = 5000):
        self.seq = {a: isn_a, b: isn_b}
        self.a, self.b = a, b

    def syn(self, frm: tuple) -> tuple[tuple, tuple, bytes, int]:
        to = self.b if frm == self.a else self.a
        seg = (frm, to, b"", self.seq[frm], 0x02)
        self.seq[frm] += 1
        return seg

    def send(self, frm: tuple, data: bytes, flags: int = 0x18):
        to = self.b if frm == self.a else self.a
        seg = (frm, to, data, self.seq[frm], flags)
        self.seq[frm] += len(data) + (1 if flags & 1 else 0)
        return seg


def tcp_frame(seg, wrap=ether, v6: bool = False) -> bytes:
    (sh, sp), (dh, dp), data, seq, flags = seg
    ip = (ipv6 if v6 else ipv4)(sh, dh, 6, tcp(sp, dp, seq, data, flags))
    return wrap(ip, v6) if wrap is not ether else ether(ip, v6)


def udp_frame(src: tuple, dst: tuple, data: bytes, wrap=ether, v6: bool = False) -> bytes:
    ip = (ipv6 if v6 else ipv4)(src[0], dst[0], 17, udp(src[1], dst[1], data))
    return wrap(ip, v6) if wrap is not ether else ether(ip, v6)


def over_tcp(flow: list[tuple[tuple, tuple, bytes]], *, handshake: bool = True, split: int | None = None,
             wrap=ether, v6: bool = False, coalesce: bool = False) -> list[bytes]:
    """The messages of ``flow`` as TCP frames, one connection per host pair (split: segment size)."""
    conversations: dict[frozenset, TcpConversation] = {}
    frames: list[bytes] = []
    pending: dict[tuple, bytes] = {}
    for src, dst, message in flow:
        pair = frozenset((src, dst))
        conv = conversations.get(pair)
        if conv is None:
            conv = conversations[pair] = TcpConversation(src, dst, 1000 + 7919 * len(conversations),
                                                         5000 + 104729 * len(conversations))
            if handshake:
                frames.append(tcp_frame(conv.syn(src), wrap, v6))
                frames.append(tcp_frame(conv.syn(dst), wrap, v6))
        if coalesce:
            pending[(src, dst)] = pending.get((src, dst), b"") + message
            continue
        pieces = [message] if not split else [message[i:i + split] for i in range(0, len(message), split)]
        for piece in pieces:
            frames.append(tcp_frame(conv.send(src, piece), wrap, v6))
    for (src, dst), data in pending.items():
        conv = conversations[frozenset((src, dst))]
        frames.append(tcp_frame(conv.send(src, data), wrap, v6))
    return frames


def timed(frames: list[bytes], start: float = T0, step: float = 0.01) -> list[tuple[float, bytes]]:
    return [(start + i * step, f) for i, f in enumerate(frames)]


# -- the fixtures -----------------------------------------------------------------------------------------

def fixtures(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    session, call = im_session(), helpdesk_call()
    udp_session = [(s, d, m.replace(b"/TCP ", b"/UDP ")) for s, d, m in im_session(transport="UDP")]

    # UDP over Ethernet, little-endian microseconds; the same big-endian nanoseconds.
    frames = [udp_frame(s, d, m) for s, d, m in udp_session]
    write_pcap(out / "udp-session.pcap", 1, timed(frames))
    write_pcap(out / "udp-session-be-nano.pcap", 1, timed(frames, T0 + 0.000000123), big=True, nano=True)

    # TCP: one message per segment; split over 200-byte segments; several messages in one segment.
    write_pcap(out / "tcp-session.pcap", 1, timed(over_tcp(session)))
    write_pcap(out / "tcp-split.pcap", 1, timed(over_tcp(session, split=200)))
    write_pcap(out / "tcp-coalesced.pcap", 1, timed(over_tcp(session, coalesce=True)))

    # Out of order and retransmitted segments: swap neighbours, repeat some.
    frames = over_tcp(session, split=300)
    shuffled = []
    for i in range(0, len(frames) - 1, 2):
        shuffled += [frames[i + 1], frames[i]] if i >= 2 else [frames[i], frames[i + 1]]
        if i % 6 == 0:
            shuffled.append(frames[i])                  # a retransmission
    if len(frames) % 2:
        shuffled.append(frames[-1])
    write_pcap(out / "tcp-out-of-order.pcap", 1, timed(shuffled))

    # Overlapping segments: each 300-byte piece sent again with 100 bytes of the next one.
    conv = TcpConversation(CLIENT, FRONT_END)
    stream = b"".join(m for s, d, m in session if s == CLIENT)
    overl = [tcp_frame(conv.syn(CLIENT)), tcp_frame(conv.syn(FRONT_END))]
    base = conv.seq[CLIENT]
    for i in range(0, len(stream), 300):
        overl.append(tcp_frame((CLIENT, FRONT_END, stream[i:i + 400], base + i, 0x18)))
    write_pcap(out / "tcp-overlap.pcap", 1, timed(overl))

    # Link types: VLAN (two tags), Linux cooked v1 and v2, BSD loopback, raw IPv4 (link 101), IPv6.
    write_pcap(out / "vlan.pcap", 1, timed([ether(ipv4(s[0], d[0], 17, udp(s[1], d[1], m)), vlans=(10, 20))
                                           for s, d, m in udp_session[:3]]))
    write_pcap(out / "sll.pcap", 113, timed([udp_frame(s, d, m, sll) for s, d, m in udp_session[:3]]))
    write_pcap(out / "sll2.pcap", 276, timed(over_tcp(session[:4], wrap=sll2)))
    write_pcap(out / "null-loopback.pcap", 0, timed([udp_frame(s, d, m, null_loop) for s, d, m in udp_session[:3]]))
    write_pcap(out / "raw-ip.pcap", 101,
               timed([ipv4(s[0], d[0], 17, udp(s[1], d[1], m)) for s, d, m in udp_session[:3]]))
    v6a, v6b = ("2001:db8::31", 50250), ("2001:db8::10", 5060)
    hop = bytes([17, 0]) + b"\x01\x04\x00\x00\x00\x00"           # hop-by-hop options, next header UDP
    v6_frames = [ether(ipv6(v6a[0], v6b[0], 17, udp(v6a[1], v6b[1], options(1)), hop, first=0), v6=True),
                 ether(ipv6(v6b[0], v6a[0], 17, udp(v6b[1], v6a[1], options(2))), v6=True)]
    v6_frames += over_tcp([(v6a, v6b, m) for _s, _d, m in session[:2]], v6=True)
    write_pcap(out / "ipv6.pcap", 1, timed(v6_frames))

    # pcapng: two interfaces (Ethernet, microseconds; Linux cooked, nanoseconds), both byte orders;
    # simple packet blocks.
    packets = [(i % 2, T0 + i * 0.01, udp_frame(s, d, m) if i % 2 == 0 else udp_frame(s, d, m, sll))
               for i, (s, d, m) in enumerate(udp_session)]
    write_pcapng(out / "two-interfaces.pcapng", [(1, None), (113, 9)], packets)
    write_pcapng(out / "two-interfaces-be.pcapng", [(1, None), (113, 9)], packets, big=True)
    write_pcapng(out / "simple-blocks.pcapng", [(1, None)], [(0, 0, udp_frame(s, d, m)) for s, d, m in udp_session[:3]],
                 simple=True)

    # Bad input: truncated file, packet cut by the snap length, gap, garbage, TLS, fragments, non-SIP.
    frames = [udp_frame(s, d, m) for s, d, m in udp_session]
    whole = timed(frames)
    size = 24 + sum(16 + len(f) for _t, f in whole)
    write_pcap(out / "truncated.pcap", 1, whole, cut=size - 150)
    cut_frames = [(t, f) if i != 2 else (t, f[:120], len(f)) for i, (t, f) in enumerate(timed(over_tcp(session)))]
    write_pcap(out / "snap-cut.pcap", 1, cut_frames, snaplen=65535)
    gap = over_tcp(session, split=250)
    del gap[5]                                            # a segment never captured
    write_pcap(out / "tcp-gap.pcap", 1, timed(gap))
    conv = TcpConversation(CLIENT, FRONT_END)
    msgs = [m for s, d, m in session if s == CLIENT]
    garbage = [tcp_frame(conv.syn(CLIENT)), tcp_frame(conv.syn(FRONT_END)),
               tcp_frame(conv.send(CLIENT, msgs[0])),
               tcp_frame(conv.send(CLIENT, b"\x16\x00garbage that is not SIP\r\nnor anything\r\n")),
               tcp_frame(conv.send(CLIENT, b"\r\n\r\n")),                   # a keep-alive ping
               tcp_frame(conv.send(CLIENT, msgs[1] + b"\r\n" + msgs[2]))]
    write_pcap(out / "tcp-garbage.pcap", 1, timed(garbage))
    tls_conv = TcpConversation(CLIENT, ("192.0.2.10", 5061))
    tls = [tcp_frame(tls_conv.syn(CLIENT)), tcp_frame(tls_conv.syn(("192.0.2.10", 5061))),
           tcp_frame(tls_conv.send(CLIENT, bytes.fromhex("160301002e010000aa0303") + b"\x00" * 40)),
           tcp_frame(tls_conv.send(("192.0.2.10", 5061), bytes.fromhex("1603030031020000") + b"\x00" * 45)),
           tcp_frame(tls_conv.send(CLIENT, bytes.fromhex("1703030040") + bytes(range(64))))]
    tls += [udp_frame(s, d, m) for s, d, m in udp_session[:2]]
    write_pcap(out / "tls.pcap", 1, timed(tls))
    big = options(7) + b"x" * 0
    frag1 = ether(ipv4("192.0.2.31", "192.0.2.10", 17, udp(50250, 5060, big)[:64], ident=77, frag=0x2000))
    frag2 = ether(ipv4("192.0.2.31", "192.0.2.10", 17, udp(50250, 5060, big)[64:], ident=77, frag=8))
    arp = b"\xff" * 6 + b"\x00\x15\x5d\x01\x02\x03" + b"\x08\x06" + b"\x00\x01\x08\x00\x06\x04\x00\x01" + b"\x00" * 20
    dns = udp_frame(("192.0.2.31", 53000), ("192.0.2.53", 53), b"\x12\x34\x01\x00\x00\x01" + b"\x00" * 6)
    http = TcpConversation(("192.0.2.31", 50300), ("192.0.2.80", 80))
    mixed = [arp, dns, frag1, frag2, tcp_frame(http.syn(("192.0.2.31", 50300))),
             tcp_frame(http.send(("192.0.2.31", 50300), b"GET / HTTP/1.1\r\nHost: intranet.contoso.com\r\n\r\n")),
             udp_frame(CLIENT, FRONT_END, b"\r\n\r\n"), udp_frame(*udp_session[0])]
    write_pcap(out / "mixed.pcap", 1, timed(mixed))
    write_pcap(out / "unknown-link.pcap", 147, timed([b"\x00" * 40]))
    # A large INVITE over UDP in IPv4 fragments (the last one first) and in IPv6 fragments.
    invite = big_invite()
    v4 = [ether(f) for f in ipv4_fragments("192.0.2.31", "192.0.2.10", 17, udp(50250, 5060, invite), ident=4242)]
    v6 = [ether(f, v6=True) for f in ipv6_fragments("2001:db8::31", "2001:db8::10", 17,
                                                    udp(50250, 5060, invite), ident=77)]
    write_pcap(out / "udp-fragmented.pcap", 1, timed([v4[-1]] + v4[:-1] + v6))
    damaged = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    damaged += struct.pack("<IIII", int(T0), 0, 0x7FFFFFF0, 0x7FFFFFF0) + b"\x00" * 64
    (out / "damaged.pcap").write_bytes(bytes(damaged))

    # A .sip folder (name order), a single .sip file.
    folder = out / "sip-folder"
    folder.mkdir(exist_ok=True)
    for i, (_s, _d, m) in enumerate(session[:3], 1):
        (folder / f"{i:03d}.sip").write_bytes(m)
    (folder / "README.txt").write_text("Not a .sip file: skipped and counted.\n")
    (out / "one.sip").write_bytes(session[0][2])

    # Logs.
    (out / "sipstack.log").write_bytes(sipstack_log(session + call, broken=True))
    (out / "uccapi.log").write_bytes(uccapi_log(session))

    # Files that are no capture.
    (out / "not-a-capture.json").write_text('{"calls": []}\n')
    (out / "not-a-capture.html").write_text("<!DOCTYPE html>\n<html><body>Capture</body></html>\n")
    (out / "not-a-capture.gz").write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 16)
    (out / "not-a-capture.txt").write_text("Just some notes about yesterday's calls.\n")

    # A call the Front End forks to two endpoints (decision D121): a pcap, and the same as a .sip folder.
    fork = forked_call()
    write_pcap(out / "forked-call.pcap", 1, timed(over_tcp(fork)))
    folder = out / "forked-call"
    folder.mkdir(exist_ok=True)
    for i, (_s, _d, m) in enumerate(fork, 1):
        (folder / f"{i:03d}.sip").write_bytes(m)


# -- logs -------------------------------------------------------------------------------------------------

def _stamp(when: float, sep: str) -> str:
    t = time.gmtime(when)
    return time.strftime(f"%m/%d/%Y{sep}%H:%M:%S", t) + f".{int(round((when % 1) * 1000)):03d}"


def _peer(side: tuple) -> str:
    names = {FRONT_END[0]: "fe01.contoso.com", APP_POOL[0]: "apppool01.contoso.com"}
    return f"{names.get(side[0], side[0])}:{side[1]}"


def sipstack_log(flow, *, broken: bool = False, start: float = T0) -> bytes:
    """The Front End's SIPStack log of ``flow`` (TL_INFO(TF_PROTOCOL) records), with a diagnostic record."""
    lines: list[str] = []
    n = 0
    for i, (src, dst, message) in enumerate(flow):
        if FRONT_END not in (src, dst):
            continue
        incoming = dst == FRONT_END
        head, _, body = message.partition(b"\r\n\r\n")
        start_line, *headers = head.decode().split("\r\n")
        when = start + i * 0.01
        lines.append(f"TL_INFO(TF_PROTOCOL) [0]0A3C.0B44::{_stamp(when, '-')}.{0x1000 + n:08X} "
                     "(SIPStack,SIPAdminLog::TraceProtocolRecord:SIPAdminLog.cpp(125))$$begin_record")
        lines += [f"Trace-Correlation-Id: {3100000000 + n}", f"Instance-Id: {0x2A00 + n:08X}",
                  "Direction: " + ("incoming" if incoming else "outgoing"),
                  "Peer: " + _peer(src if incoming else dst),
                  "Message-Type: " + ("response" if start_line.startswith("SIP/2.0") else "request"),
                  "Start-Line: " + start_line]
        lines += headers
        text = body.decode()
        if text:
            body_lines = text.split("\r\n")
            if body_lines[-1] == "":
                body_lines.pop()
            lines.append("Message-Body: " + body_lines[0])
            lines += body_lines[1:]
        else:
            lines.append("Message-Body: -")
        if broken and n == 3:
            n += 1
            continue                                    # this record lost its $$end_record
        lines.append("$$end_record")
        n += 1
        if n == 2:
            lines.append(f"TL_WARN(TF_DIAG) [0]0A3C.0B44::{_stamp(when, '-')}.{0x1000 + n:08X} "
                         "(SIPStack,SIPAdminLog::WriteDiagnosticEvent:SIPAdminLog.cpp(830))$$begin_record")
            lines += ["Severity: warning", "Text: Message was not sent because the connection was closed",
                      "Peer: 192.0.2.31:50250", "$$end_record"]
    return ("\r\n".join(lines) + "\r\n").encode()


def uccapi_log(flow, *, start: float = T0) -> bytes:
    """terrya's Lync 2013 client log (UccApi) of ``flow``: the packets it sent and received."""
    lines: list[str] = []
    for i, (src, dst, message) in enumerate(flow):
        if CLIENT not in (src, dst):
            continue
        when = _stamp(start + i * 0.01, "|")
        sending = src == CLIENT
        remote = dst if sending else src
        verb, side = ("Sending Packet", "From") if sending else ("Data Received", "To")
        lines.append(f"{when} 1C38:1D5C INFO  :: {verb} - {remote[0]}:{remote[1]} ({side} Local Address: "
                     f"{CLIENT[0]}:{CLIENT[1]}) {len(message)} bytes:")
        text = message.decode().split("\r\n")
        if text[-1] == "":
            text.pop()
        lines.append(f"{when} 1C38:1D5C INFO  :: {verb} - {remote[0]}:{remote[1]}<![CDATA[" + text[0])
        lines += text[1:]
        lines.append("]]>")
        lines.append(f"{when} 1C38:1D5C INFO  :: End of {verb} - {remote[0]}:{remote[1]} ({side} Local Address: "
                     f"{CLIENT[0]}:{CLIENT[1]}) {len(message)} bytes")
        lines.append(f"{when} 1C38:1D5C INFO  :: CUccSipStack::OnPacket - processed")
    return ("\r\n".join(lines) + "\r\n").encode()


def samples(out: Path) -> None:
    """The shipped samples: an IM session and a call through the Front End (the call gets a 500 from the
    application pool), as a pcapng and as the Front End's SIPStack log."""
    out.mkdir(parents=True, exist_ok=True)
    flow = im_session() + helpdesk_call()
    frames = over_tcp(flow)
    write_pcapng(out / "frontend-session.pcapng", [(1, 6)], [(0, T0 + i * 0.01, f) for i, f in enumerate(frames)],
                 comment="mspl-lite sample: an IM session and a call to the helpdesk through fe01.contoso.com")
    (out / "frontend-session-sipstack.log").write_bytes(sipstack_log(flow))


# -- real captures ----------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sipp_calls(flag: str, capture: list[str], target: Path) -> None:
    """Run three SIPp calls (UAC -> UAS, 127.0.0.1) while ``capture`` (a tcpdump or dumpcap command) records."""
    uas_port, uac_port = _free_port(), _free_port()
    command = [part.replace("PORTS", f"port {uas_port} or port {uac_port}") for part in capture]
    with tempfile.TemporaryDirectory() as tmp:
        log = open(Path(tmp) / "capture.log", "w")
        dump = subprocess.Popen(["timeout", "60"] + command + ["-w", str(target)], stdout=log, stderr=log)
        time.sleep(3)
        uas = subprocess.Popen(["timeout", "60", "sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", str(uas_port),
                                "-t", flag, "-nostdin", "-m", "3"], cwd=tmp,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        subprocess.run(["timeout", "60", "sipp", "-sn", "uac", f"127.0.0.1:{uas_port}", "-i", "127.0.0.1",
                        "-p", str(uac_port), "-t", flag, "-nostdin", "-m", "3", "-r", "10", "-d", "100"],
                       cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        uas.wait(timeout=60)
        time.sleep(0.5)
        dump.send_signal(signal.SIGINT)       # the capture tool writes its last packets and stops
        dump.wait(timeout=30)
        log.close()
        if target.stat().st_size < 100:
            sys.exit(f"{command[0]} captured nothing: " + (Path(tmp) / "capture.log").read_text())
    target.chmod(0o644)
    print(f"captured {target.relative_to(ROOT)} ({target.stat().st_size} bytes)")


def real(out: Path) -> None:
    """SIPp UAC -> UAS over loopback, captured by the real tools (each stopped by its PID):
    UDP with tcpdump on lo (pcap, Ethernet link type, microseconds), TCP with tcpdump on 'any'
    (pcap, Linux cooked v2, nanoseconds) and TCP with dumpcap (pcapng)."""
    for tool in ("sipp", "tcpdump", "dumpcap"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed (Debian: apt-get install sip-tester tcpdump tshark)")
    _sipp_calls("u1", ["tcpdump", "-i", "lo", "-U", "-s", "0", "PORTS"], out / "sipp-udp.pcap")
    _sipp_calls("t1", ["tcpdump", "-i", "any", "-U", "-s", "0", "--time-stamp-precision=nano", "PORTS"],
                out / "sipp-tcp-any.pcap")
    _sipp_calls("t1", ["dumpcap", "-q", "-i", "lo", "-f", "PORTS"], out / "sipp-tcp.pcapng")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--real", action="store_true", help="also capture SIPp calls with tcpdump (root)")
    args = parser.parse_args()
    fixtures(FIXTURES)
    samples(SAMPLES)
    if args.real:
        real(FIXTURES)
    total = sum(p.stat().st_size for p in FIXTURES.rglob("*") if p.is_file())
    print(f"fixtures: {total} bytes in {FIXTURES.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
