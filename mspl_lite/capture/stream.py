"""SIP over TCP: each flow's bytes put back in order, then cut into messages by Content-Length.

A TCP flow direction (source address and port -> destination address and port) is one byte
stream. Segments are placed by sequence number: out of order ones wait (bounded), retransmitted or
overlapping bytes are dropped, and bytes that were never captured leave a gap, reported with the
packet after it. The stream is cut into messages as RFC 3261 18.3 says a stream must be: the
header section up to the empty line, then exactly Content-Length bytes of body. CRLF keep-alives
between messages (a double CRLF, and the single CRLF that answers it) are skipped and counted.
Bytes that do not start a SIP message (garbage, the rest of a message after a gap, the middle of a
message when the capture started) are skipped up to the next line that is a SIP start line, with
a diagnostic: decision D104.

A connection that starts with a TLS record header is encrypted: its segments are counted as
unreadable, with one diagnostic per connection. A new connection whose first line (put in order)
is not a SIP start line (HTTP, RDP, ...) is skipped and counted as non-SIP; one captured without
its SYN is read from its first SIP start line. SIP is recognised by its start line, on any port.

Memory is bounded (decision D105): at most MAX_FLOWS flow directions, MAX_SIP_MESSAGE bytes of an
unfinished message and MAX_OUT_OF_ORDER bytes of early segments per flow, MAX_BUFFERED bytes in
all; past a limit the least recently active flow is dropped, with a diagnostic.
"""
from __future__ import annotations

import re
from collections import OrderedDict
from typing import Callable, NamedTuple

from . import MAX_SIP_MESSAGE, CaptureStats
from .packets import endpoint

__all__ = ["StreamTable", "Assembled", "SIP_START", "SIP_LINE", "looks_like_tls",
           "MAX_FLOWS", "MAX_OUT_OF_ORDER", "MAX_BUFFERED", "content_length"]

#: Most TCP flow directions followed at once. A Front End has thousands of client connections;
#: an empty flow costs well under 1 KB, so 10,000 is a few MB.
MAX_FLOWS = 10_000
#: Most bytes of early (out of order) segments one flow keeps while waiting for the bytes before
#: them: four 64 KB TCP windows. Past it, the missing bytes are taken as never captured (a gap).
MAX_OUT_OF_ORDER = 256 << 10
#: Most early segments one flow keeps (each is one dict entry to search when the hole fills).
MAX_OUT_OF_ORDER_SEGMENTS = 512
#: Most bytes buffered across all flows (unfinished messages and early segments): 64 MiB keeps a
#: laptop responsive; past it the least recently active flows are dropped, with a diagnostic.
MAX_BUFFERED = 64 << 20
#: A segment further than this from where its flow is (16 MiB, far more than any window) belongs
#: to a new connection on the same ports whose SYN was not captured: the flow starts again there.
_MAX_JUMP = 1 << 24
#: A SIP start line longer than this is no start line (RFC 3261 sets no limit; real ones are well
#: under 1 KB): bytes without a line end for that long are skipped as garbage.
_MAX_START_LINE = 8 << 10

# A method is a token (RFC 3261 25.1). No RFC bounds its length, but every method in use is short
# (SUBSCRIBE, BENOTIFY, SERVICE): bounding it keeps "xxxx...xxxINVITE sip:a SIP/2.0" (a body line
# glued to a start line) from reading as a start line.
_TOKEN = rb"[A-Za-z0-9.!%*_+`'~-]{1,32}"
#: A SIP start line: a request line (method SP Request-URI SP SIP/2.0) or a status line.
SIP_START = re.compile(rb"(?:" + _TOKEN + rb" [^ \r\n]+ SIP/2\.0|SIP/2\.0 [1-6]\d\d(?: [^\r\n]*)?)\r?\n")
#: The same, at the start of any line of a buffer (to resynchronise on).
SIP_LINE = re.compile(rb"(?m)^(?:" + _TOKEN + rb" [^ \r\n]+ SIP/2\.0|SIP/2\.0 [1-6]\d\d(?: [^\r\n]*)?)\r?\n")
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_CONTENT_LENGTH = re.compile(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r?$")
_SEQ_MOD = 1 << 32
_CR_LF = (10, 13)
_FIN, _SYN, _RST = 1, 2, 4


def looks_like_tls(payload: bytes) -> bool:
    """A TLS record header: content type 20-23 (change cipher spec, alert, handshake, data), version 3.x."""
    return len(payload) >= 5 and 20 <= payload[0] <= 23 and payload[1] == 3 and payload[2] <= 4


def content_length(head: bytes) -> int | None | str:
    """The Content-Length of a header section (``l`` is its compact form), None if absent, or the bad text."""
    m = _CONTENT_LENGTH.search(head)
    if m is None:
        return None
    value = m.group(1)
    if value.isdigit() and len(value) <= 12:
        return int(value)
    return value.decode("latin-1")


class Assembled(NamedTuple):
    """One message cut from a stream, and the packets it came in."""

    data: bytes
    first: int          # 1-based number of the packet with its first byte
    last: int           # ... and of the packet with its last byte
    time: float | None  # the first packet's time
    src: str
    dst: str
    transport: str


class _Flow:
    __slots__ = ("key", "state", "next_seq", "buf", "start", "marks", "pending", "pending_bytes",
                 "skipping", "skipped", "no_length_noted", "first_packet", "saw_syn", "discard", "need",
                 "scan", "in_keepalive")

    def __init__(self, key):
        self.key = key
        self.state = "new"        # "new" | "probe" (first line arriving) | "sip" | "tls" | "other"
        self.next_seq = None      # sequence number of the byte after the buffer
        self.buf = bytearray()    # stream bytes not yet cut into messages
        self.start = 0            # stream offset of buf[0] (counted from the first byte kept)
        self.marks = []           # [stream offset, packet number, time] per segment in buf
        self.pending = {}         # seq -> (payload, packet, time): segments ahead of next_seq
        self.pending_bytes = 0
        self.skipping = False     # skipping garbage until a start line
        self.skipped = 0          # bytes skipped so far in this run of garbage
        self.no_length_noted = False
        self.first_packet = 0
        self.saw_syn = False
        self.discard = 0          # bytes still to drop: the rest of a message too large to keep
        self.need = 0             # length of the message at buf[0], once its header section is read
        self.scan = 0             # how far buf was searched for the end of the header section
        self.in_keepalive = False # inside a run of CR/LF between messages (counted once, however split)

    def size(self) -> int:
        """Bytes held, with about 100 bytes of bookkeeping per segment (so a stream of 1-byte segments
        counts for what it costs)."""
        return len(self.buf) + self.pending_bytes + 100 * (len(self.marks) + len(self.pending))


class StreamTable:
    """Every TCP flow of one capture; ``segment()`` returns the messages each segment completes."""

    def __init__(self, stats: CaptureStats, note: Callable[..., None], name: str):
        self.stats = stats
        self.note = note
        self.name = name
        self.flows: OrderedDict = OrderedDict()
        self.buffered = 0
        self.tls_connections: set[frozenset] = set()      # TLS connections reported (one diagnostic each)

    # -- the public side ------------------------------------------------------------------------
    def segment(self, seg, packet: int, time: float | None) -> list[Assembled]:
        """Take one TCP segment (a ``packets.Segment``) of packet number ``packet``."""
        key = (seg.src, seg.sport, seg.dst, seg.dport)
        flow = self.flows.get(key)
        out: list[Assembled] = []
        if flow is None:
            flow = self._new_flow(key, out)
        else:
            self.flows.move_to_end(key)
        before = flow.size()
        payload = seg.payload
        if seg.flags & _SYN:
            if flow.state == "sip" and flow.size():
                self._close(flow, out, "a new connection started on the same ports")
                flow = self._restart(flow)
            flow.saw_syn = True
            flow.next_seq = (seg.seq + 1) % _SEQ_MOD
            flow.state = "new"
            seq = flow.next_seq
        else:
            seq = seg.seq
        if payload:                                         # (a bare ACK carries none)
            self._data(flow, seq, payload, packet, time, out, seg.cut)
        if seg.flags & (_FIN | _RST) and flow.state == "probe":
            self._probe(flow, final=True)
        if seg.flags & (_FIN | _RST) and flow.state == "sip":
            self._close(flow, out, "the connection closed")
        self.buffered += flow.size() - before
        if self.buffered > MAX_BUFFERED:
            self._shed(out)
        return out

    def finish(self) -> list[Assembled]:
        """The end of the capture: fill what can be filled, report what stays unfinished."""
        out: list[Assembled] = []
        for flow in list(self.flows.values()):
            if flow.state == "new" and flow.pending:
                self._settle_new(flow, out)
            if flow.state == "probe":
                self._probe(flow, final=True)
            if flow.state == "sip":
                self._close(flow, out, "the capture ends")
        self.flows.clear()
        self.buffered = 0
        return out

    # -- flows ----------------------------------------------------------------------------------
    def _new_flow(self, key, out) -> _Flow:
        if len(self.flows) >= MAX_FLOWS:
            _, old = self.flows.popitem(last=False)
            self.stats.flows_evicted += 1
            if old.state == "sip" and old.size():
                self.buffered -= old.size()
                self._close(old, out, f"more than {MAX_FLOWS} TCP flows are open at once (the least recently "
                                      "active is dropped)")
        flow = _Flow(key)
        self.flows[key] = flow
        self.stats.flows += 1
        return flow

    def _restart(self, flow: _Flow) -> _Flow:
        fresh = _Flow(flow.key)
        self.flows[flow.key] = fresh
        return fresh

    def _shed(self, out) -> None:
        """Over MAX_BUFFERED: drop the least recently active flows that hold bytes."""
        for key in list(self.flows):
            if self.buffered <= MAX_BUFFERED // 2:
                break
            flow = self.flows[key]
            if flow.size():
                self.buffered -= flow.size()
                self.stats.flows_evicted += 1
                self._close(flow, out, f"more than {MAX_BUFFERED >> 20} MiB are buffered across all TCP flows "
                                       "(the least recently active is dropped)")
                flow.skipping = True        # what follows is the middle of a message

    def _where(self, flow: _Flow) -> str:
        src, sport, dst, dport = flow.key
        return f"{endpoint(src, sport)} -> {endpoint(dst, dport)}"

    # -- bytes in -------------------------------------------------------------------------------
    def _data(self, flow: _Flow, seq: int, payload: bytes, packet: int, time, out, cut: int = 0) -> None:
        stats = self.stats
        if flow.state == "tls":
            stats.tls_unreadable += 1
            return
        if flow.state == "other":
            stats.non_sip += 1
            return
        if flow.state == "new":
            if flow.saw_syn and seq != flow.next_seq:
                # An early segment right after the SYN: wait for the first bytes to tell what this is.
                self._hold(flow, seq, payload, packet, time)
                if flow.pending_bytes > MAX_OUT_OF_ORDER or len(flow.pending) > MAX_OUT_OF_ORDER_SEGMENTS:
                    self._settle_new(flow, out)
                return
            if looks_like_tls(payload):
                self._forget(flow, "tls")
                stats.tls_unreadable += 1
                src, sport, dst, dport = flow.key
                connection = frozenset(((src, sport), (dst, dport)))
                if connection in self.tls_connections:
                    return                              # its other direction was reported
                if len(self.tls_connections) >= MAX_FLOWS:
                    self.tls_connections.clear()
                self.tls_connections.add(connection)
                stats.tls_flows += 1
                self.note(f"packet {packet}: TLS-encrypted TCP connection {self._where(flow)}: its SIP cannot be "
                          "read (its segments, both ways, are counted as unreadable)", code="tls",
                          hint="capture where the traffic is plain (a server's SIPStack log shows the messages "
                               "decrypted), or use TCP in a test lab")
                return
            if flow.saw_syn:
                # The stream's first bytes: put them in order like any other, and tell from its first
                # line whether this is SIP (_probe), however the line is cut into segments.
                flow.state = "probe"
                flow.next_seq = seq
            else:
                found = SIP_LINE.search(payload)
                if found is None:
                    # No SYN seen: another protocol, or the middle of a message; look again later.
                    stats.non_sip += 1
                    return
                flow.state = "sip"
                if found.start():
                    self.note(f"packet {packet}: the TCP flow {self._where(flow)} was captured from the middle "
                              f"of a message: {found.start()} bytes before its first SIP start line are skipped",
                              severity="note", code="mid-stream")
                    payload = payload[found.start():]
                    seq = (seq + found.start()) % _SEQ_MOD
                flow.next_seq = seq
        offset = (seq - flow.next_seq + (1 << 31)) % _SEQ_MOD - (1 << 31)
        if offset > _MAX_JUMP or offset < -_MAX_JUMP:
            self._close(flow, out, "its sequence numbers jump (a new connection on the same ports?)")
            flow.next_seq = seq
            flow.skipping = True
            offset = 0
        if offset > 0:
            self._hold(flow, seq, payload, packet, time)
            if flow.pending_bytes > MAX_OUT_OF_ORDER or len(flow.pending) > MAX_OUT_OF_ORDER_SEGMENTS:
                self._skip_gap(flow, out)
            return
        if offset < 0:
            if len(payload) <= -offset:
                stats.retransmitted += 1
                return
            stats.retransmitted += 1
            payload = payload[-offset:]
        self._append(flow, payload, packet, time)
        if cut:
            self._cut(flow, out)
            self._lose(flow, cut, packet)
        self._drain(flow)
        self._cut(flow, out)

    def _hold(self, flow: _Flow, seq: int, payload: bytes, packet: int, time) -> None:
        old = flow.pending.get(seq)
        if old is not None:
            if len(old[0]) >= len(payload):
                self.stats.retransmitted += 1
                return
            flow.pending_bytes -= len(old[0])
        else:
            self.stats.out_of_order += 1
        flow.pending[seq] = (payload, packet, time)
        flow.pending_bytes += len(payload)

    def _settle_new(self, flow: _Flow, out) -> None:
        """The first bytes after a SYN were never captured: go on from the earliest segment held."""
        held = sorted(flow.pending.items(), key=lambda item: (item[0] - flow.next_seq) % _SEQ_MOD)
        first, (_payload, packet, _time) = held[0]
        missing = (first - flow.next_seq) % _SEQ_MOD
        self.stats.gaps += 1
        self.note(f"packet {packet}: the first {missing} bytes of the TCP stream {self._where(flow)} were never "
                  "captured", code="tcp-gap", hint="the stream is read from the next SIP start line on")
        flow.pending.clear()
        flow.pending_bytes = 0
        flow.next_seq = first
        for seq, (payload, packet, time) in held:
            self._data(flow, seq, payload, packet, time, out)

    def _forget(self, flow: _Flow, state: str) -> None:
        """The flow is not SIP that can be read: drop what it held, count it, and ignore it from now on."""
        held = len(flow.pending)
        if state == "tls":
            self.stats.tls_unreadable += held
        else:
            self.stats.non_sip += held
        flow.pending.clear()
        flow.pending_bytes = 0
        flow.state = state

    def _append(self, flow: _Flow, payload: bytes, packet: int, time) -> None:
        flow.marks.append((flow.start + len(flow.buf), packet, time))
        flow.buf += payload
        flow.next_seq = (flow.next_seq + len(payload)) % _SEQ_MOD

    def _drain(self, flow: _Flow) -> None:
        """Move the early segments that now fit (or overlap) onto the end of the stream."""
        while flow.pending:
            progressed = False
            for seq in list(flow.pending):
                offset = (seq - flow.next_seq + (1 << 31)) % _SEQ_MOD - (1 << 31)
                if offset > 0:
                    continue
                payload, packet, time = flow.pending.pop(seq)
                flow.pending_bytes -= len(payload)
                if len(payload) > -offset:
                    self._append(flow, payload[-offset:], packet, time)
                    progressed = True
                else:
                    self.stats.retransmitted += 1
            if not progressed:
                break

    def _lose(self, flow: _Flow, cut: int, packet: int) -> None:
        """Packet ``packet`` lacks its last ``cut`` bytes (snap length): the message they belong to is lost."""
        lost = f": the unfinished message in it ({len(flow.buf)} bytes captured) is dropped" if flow.buf else ""
        self.note(f"packet {packet}: cut by the capture's snap length ({cut} bytes of its TCP payload were not "
                  f"captured){lost}", code="cut-packet",
                  hint="capture with the full packet size (tcpdump -s 0); the stream goes on at the next SIP "
                       "start line")
        flow.start += len(flow.buf)
        flow.buf.clear()
        flow.marks.clear()
        flow.next_seq = (flow.next_seq + cut) % _SEQ_MOD
        flow.skipping = True
        flow.skipped = 0

    def _skip_gap(self, flow: _Flow, out) -> None:
        """Bytes before the earliest held segment were never captured: jump over them."""
        if not flow.pending:
            return
        first = min(flow.pending, key=lambda s: (s - flow.next_seq) % _SEQ_MOD)
        missing = (first - flow.next_seq) % _SEQ_MOD
        packet = flow.pending[first][1]
        self.stats.gaps += 1
        lost = ""
        if flow.buf and not flow.skipping:
            lost = f"; the unfinished message before it ({len(flow.buf)} bytes) is dropped"
            self.stats.truncated += 1
        self.note(f"packet {packet}: {missing} bytes of the TCP stream {self._where(flow)} were never captured{lost}",
                  code="tcp-gap", hint="capture with a larger buffer (tcpdump -B 8192) or closer to the server; "
                                       "the stream goes on at the next SIP start line")
        flow.start += len(flow.buf)
        flow.buf.clear()
        flow.marks.clear()
        flow.next_seq = first
        flow.skipping = True
        flow.skipped = 0
        self._drain(flow)

    def _close(self, flow: _Flow, out, why: str) -> None:
        """The flow ends (FIN, RST, end of capture, eviction): take what is complete, report the rest."""
        while flow.pending:
            self._skip_gap(flow, out)
            self._cut(flow, out)
        self._cut(flow, out)
        if flow.buf.strip(b"\r\n") and not flow.skipping:
            packet = flow.marks[0][1] if flow.marks else 0
            self.stats.truncated += 1
            self.note(f"packet {packet}: {why} inside a SIP message of the TCP stream {self._where(flow)} "
                      f"({len(flow.buf)} bytes of it were captured): it is dropped", code="unfinished-message",
                      hint="the rest of the message was never captured; capture longer, or from the start of the "
                           "conversation")
        elif flow.skipping and flow.skipped + len(flow.buf):
            self._report_skip(flow, flow.skipped + len(flow.buf), None)
        flow.start += len(flow.buf)
        flow.buf.clear()
        flow.marks.clear()
        flow.skipping = False
        flow.skipped = 0

    # -- bytes out ------------------------------------------------------------------------------
    def _report_skip(self, flow: _Flow, count: int, packet: int | None) -> None:
        self.stats.resyncs += 1
        at = f"packet {packet}: " if packet else ""
        self.note(f"{at}{count} bytes of the TCP stream {self._where(flow)} are not SIP and are skipped"
                  + (" up to the next SIP start line" if packet else ""), code="tcp-garbage",
                  hint="a message cut by a gap, or another protocol on this connection; decision D104")

    def _consume(self, flow: _Flow, n: int) -> None:
        del flow.buf[:n]
        flow.need = flow.scan = 0
        flow.start += n
        marks = flow.marks
        if not flow.buf:
            marks.clear()
            return
        i = 0
        while i + 1 < len(marks) and marks[i + 1][0] <= flow.start:
            i += 1
        if i:
            del marks[:i]

    def _packet_at(self, flow: _Flow, offset: int):
        found = flow.marks[0]
        for mark in flow.marks:
            if mark[0] > offset:
                break
            found = mark
        return found

    def _probe(self, flow: _Flow, final: bool = False) -> bool:
        """A new connection's first line is complete: SIP (True), or another protocol (dropped, counted).
        Undecided while the line is still arriving (False, state stays "probe")."""
        head = bytes(flow.buf[:_MAX_START_LINE]).lstrip(b"\r\n")
        if not final and b"\n" not in head and len(flow.buf) < _MAX_START_LINE:
            return False
        if SIP_START.match(head):
            flow.state = "sip"
            return True
        self.stats.non_sip += len(flow.marks) + len(flow.pending)
        flow.start += len(flow.buf)
        flow.buf.clear()
        flow.marks.clear()
        self._forget(flow, "other")
        return False

    def _cut(self, flow: _Flow, out: list[Assembled]) -> None:
        buf = flow.buf
        if flow.state == "probe" and not self._probe(flow):
            return
        while buf:
            if flow.discard:
                n = min(flow.discard, len(buf))
                flow.discard -= n
                self._consume(flow, n)
                continue
            if flow.need:                                   # the message's length is known: wait for it
                if len(buf) < flow.need:
                    return
                self._emit(flow, flow.need, out)
                continue
            lead = 0
            while lead < len(buf) and buf[lead] in _CR_LF:
                lead += 1
            if lead:
                if not flow.skipping and not flow.in_keepalive:
                    self.stats.keepalives += 1
                flow.in_keepalive = True
                self._consume(flow, lead)
                continue
            flow.in_keepalive = False
            if not SIP_START.match(buf):
                if not flow.skipping and b"\n" not in buf and len(buf) < _MAX_START_LINE:
                    return                              # a start line still arriving
                found = SIP_LINE.search(buf, 1)
                if found is None:
                    keep = len(buf) - (buf.rfind(b"\n") + 1)
                    if keep >= _MAX_START_LINE:
                        keep = 0
                    drop = len(buf) - keep
                    if drop:
                        flow.skipping = True
                        flow.skipped += drop
                        self._consume(flow, drop)
                    return
                skipped = flow.skipped + found.start()
                packet = self._packet_at(flow, flow.start + found.start())[1]
                self._consume(flow, found.start())
                self._report_skip(flow, skipped, packet)
                flow.skipping = False
                flow.skipped = 0
                continue
            if flow.skipping:
                if flow.skipped:
                    self._report_skip(flow, flow.skipped, self._packet_at(flow, flow.start)[1])
                flow.skipping = False
                flow.skipped = 0
            head_end = _HEAD_END.search(buf, max(0, flow.scan - 3))
            if head_end is None:
                if len(buf) > MAX_SIP_MESSAGE:
                    self._oversized(flow, "its header section has no end (no empty line)")
                    continue
                flow.scan = len(buf)
                return
            length = content_length(bytes(buf[:head_end.start()]))
            if length is None:
                if not flow.no_length_noted:
                    flow.no_length_noted = True
                    self.note(f"packet {self._packet_at(flow, flow.start)[1]}: a SIP message over TCP "
                              f"({self._where(flow)}) has no Content-Length: taken as 0 (RFC 3261 18.3 requires it "
                              "on a stream)", code="no-content-length",
                              hint="the message's body, if any, is read as the start of the next message")
                length = 0
            elif isinstance(length, str):
                self._oversized(flow, f"its Content-Length is {length!s:.40}")
                continue
            total = head_end.end() + length
            if total > MAX_SIP_MESSAGE:
                # Its length is known: drop exactly it, as its bytes arrive, and go on with the next.
                self.stats.malformed += 1
                self.note(f"packet {self._packet_at(flow, flow.start)[1]}: a SIP message of {total} bytes in the "
                          f"TCP stream {self._where(flow)} is larger than {MAX_SIP_MESSAGE} bytes, the most mspl-lite "
                          "reads: skipped", code="message-too-large", hint="the messages after it are read")
                flow.discard = total
                continue
            if len(buf) < total:
                flow.need = total
                return
            self._emit(flow, total, out)

    def _emit(self, flow: _Flow, total: int, out: list[Assembled]) -> None:
        """The first ``total`` bytes of the buffer are one whole message."""
        first = self._packet_at(flow, flow.start)
        last = self._packet_at(flow, flow.start + total - 1)
        if last[1] != first[1]:
            self.stats.reassembled += 1
        src, sport, dst, dport = flow.key
        out.append(Assembled(bytes(flow.buf[:total]), first[1], last[1], first[2],
                             endpoint(src, sport), endpoint(dst, dport), "TCP"))
        self._consume(flow, total)

    def _oversized(self, flow: _Flow, why: str) -> None:
        """A message that cannot be framed: skip its start line and resynchronise."""
        packet = self._packet_at(flow, flow.start)[1]
        self.stats.malformed += 1
        self.note(f"packet {packet}: a SIP message of the TCP stream {self._where(flow)} cannot be cut out: {why} "
                  f"(at most {MAX_SIP_MESSAGE} bytes are read)", code="unframed-message",
                  hint="the stream goes on at the next SIP start line")
        line_end = flow.buf.find(b"\n")
        self._consume(flow, line_end + 1 if line_end >= 0 else len(flow.buf))
        flow.skipping = True
        flow.skipped = 0
