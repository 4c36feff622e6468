r"""A Lync or Skype for Business client's UccApi log -> the SIP packets it sent and received.

UccApi logs are the client's SIP trace, named ``appName-UccApi-x.uccapilog`` (bb878897, a page of the
OCS 2007 R2 client API); the Skype for Business client keeps its own in
``%appdatalocal%\Microsoft\Office\16.0\Lync\Tracing\Lync-UccApi-0.UccApilog``
(deploy-media-bypass-in-cloud-connector).

Each packet is announced by a line such as::

    01/15/2014|14:08:38.473 1C38:1D5C INFO  :: Sending Packet - 192.0.2.10:5061 (From Local Address: 192.0.2.31:50250) 1234 bytes:

(``Data Received - ... (To Local Address: ...)`` for one received), followed by the message, either
between ``<![CDATA[`` and ``]]>`` or up to the line ``End of Sending Packet`` / ``End of Data
Received``. The end lines of a real log are published on a third-party page, not Microsoft's
(msxfaq-parseuccapilog): ``End of Sending Packet - 192.168.100.100:5061 (From Local Address: ...)``
and ``End of Data Received -192.168.100.100:5061 (To Local Address: ...)``, the second without a
space after the dash; the address is read with or without one. No published excerpt of a whole
packet was found: the announcing line and the message between the markers are [inferred]
(decision D106). The byte count on the announcing line tells whether the message's last line end
belongs to it. A packet whose end never comes is reported and skipped.
"""
from __future__ import annotations

import re
from typing import Iterator

from . import MAX_SIP_MESSAGE, Capture, CapturedMessage
from .textlog import log_lines, log_time, to_bytes

__all__ = ["uccapi_log_capture"]

# "-\s*": a published received line has no space after the dash (msxfaq-parseuccapilog).
_PACKET = re.compile(r"(?P<verb>Sending Packet|Data Received) -\s*(?P<remote>\S+?)\s*\((?P<side>From|To) Local Address:"
                     r"\s*(?P<local>[^)\s]+)\)\s*(?P<bytes>\d+) bytes")
_END = re.compile(r"End of (?:Sending Packet|Data Received)")
_PREFIX = re.compile(r"^\s*\d\d/\d\d/\d{4}\|[\d:.]+\s+\S+\s+[A-Z]+\s+::\s?")
_TIME = re.compile(r"^\s*(\d\d)/(\d\d)/(\d{4})\|(\d\d):(\d\d):(\d\d)\.(\d{3})")


def uccapi_log_capture(path: str, name: str) -> Capture:
    return Capture(path, name, "uccapi-log", _messages)


def _time(line: str) -> float | None:
    return log_time(_TIME.match(line))


class _Packet:
    __slots__ = ("line", "header", "match", "lines", "cdata", "size", "time")

    def __init__(self, line: int, header: str, match: re.Match):
        self.line = line
        self.header = header
        self.match = match
        self.lines: list[str] = []
        self.cdata = False
        self.size = 0
        self.time = _time(header)


def _messages(cap: Capture) -> Iterator[CapturedMessage]:
    stats = cap.stats
    packet: _Packet | None = None
    index = 0
    for number, line in log_lines(cap):
        found = _PACKET.search(line) if "Local Address" in line else None
        if found and not _END.search(line):
            if packet is not None:
                _unfinished(cap, packet, f"line {number} announces another packet")
            packet = _Packet(number, line, found)
            stats.packets += 1
            continue
        if packet is None:
            continue
        done = False
        if not packet.cdata and not packet.lines and "<![CDATA[" in line:
            packet.cdata = True
            line = line.split("<![CDATA[", 1)[1]
        elif not packet.lines and not packet.cdata:
            line = _PREFIX.sub("", line, count=1)
        if packet.cdata and "]]>" in line:
            line, done = line.split("]]>", 1)[0], True
            if line:
                packet.lines.append(line)
        elif not packet.cdata and _END.search(line):
            done = True
        else:
            packet.lines.append(line)
            packet.size += len(line) + 2
            if packet.size > MAX_SIP_MESSAGE:
                stats.malformed += 1
                cap.note(f"the packet announced on line {packet.line} runs over {MAX_SIP_MESSAGE} bytes without its "
                         "end: skipped", line=packet.line, source=packet.header, code="packet-too-long",
                         hint="is the log cut or damaged here?")
                packet = None
            continue
        if done:
            message = _message(packet)
            sending = packet.match.group("verb") == "Sending Packet"
            remote, local = packet.match.group("remote"), packet.match.group("local")
            stats.sip_messages += 1
            # direction is None: it is "as a server log says", and this is the client's log; src and dst
            # say which way the packet went (the client's address is the local one).
            yield CapturedMessage(message, f"{cap.name}: line {packet.line}", index, packet.time, "log",
                                  local if sending else remote, remote if sending else local,
                                  None, cap.path, packet.line)
            index += 1
            packet = None
    if packet is not None:
        _unfinished(cap, packet, "the file ends")


def _message(packet: _Packet) -> bytes:
    lines = list(packet.lines)
    while lines and not lines[0].strip():
        lines.pop(0)
    text = "\r\n".join(lines)
    declared = int(packet.match.group("bytes"))
    data = to_bytes(text)
    if len(data) + 2 == declared or (b"\r\n\r\n" not in data and len(data) + 4 == declared):
        data += b"\r\n" if len(data) + 2 == declared else b"\r\n\r\n"
    elif b"\r\n\r\n" not in data:
        data += b"\r\n\r\n"               # a message without a body: its empty line ends the packet
    return data


def _unfinished(cap: Capture, packet: _Packet, why: str) -> None:
    cap.stats.malformed += 1
    column = packet.match.start() + 1
    cap.note(f"the packet announced on line {packet.line} never ends ({why}): it is skipped", line=packet.line,
             column=column, source=packet.header, code="unfinished-packet",
             hint="the log was cut here; the next packet is read")
