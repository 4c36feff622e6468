"""Captures of real SIP traffic -> a stream of whole SIP messages, for ``mspl-lite replay`` (issue 13).

``read_capture(path)`` sniffs the format from the content (never from the name) and returns a
``Capture``: iterate it once and it yields ``CapturedMessage`` values in capture order, reading the
file as it goes, so memory stays bounded whatever the file's size. What could not be read (non-SIP
packets, TLS, incomplete fragments, truncated packets, gaps in a TCP stream, a log record without its end) is
counted in ``Capture.stats`` and, where a learner can act on it, reported as a located diagnostic.

Formats: pcap and pcapng (``pcap.py``, link, IP, UDP and TCP in ``packets.py``, IP fragments put back
together in ``fragments.py``, TCP reassembly and SIP framing in ``stream.py``), the Lync Server
SIPStack protocol records (``lync_log.py``), the Lync 2013 client's UccApi log (``uccapi_log.py``),
a .sip file or a folder of them (``sip_files.py``).

``data`` is the raw message; parsing it (``mspl_lite.sip.parse_message``) and reporting a malformed
SIP message are the caller's: this package reports only what is wrong at its own level.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Iterator

from ..errors import Diagnostic, InputError

__all__ = ["CapturedMessage", "CaptureStats", "Capture", "CaptureError", "read_capture",
           "MAX_DIAGNOSTICS", "MAX_SIP_MESSAGE"]

#: Most diagnostics one capture keeps; the rest are counted (``CaptureStats.diagnostics_dropped``).
#: A damaged capture can fault on every packet: a million diagnostics would be a million lines
#: nobody reads and unbounded memory; the first hundred show what is wrong and where.
MAX_DIAGNOSTICS = 100
#: Largest SIP message the readers assemble (bytes). The same limit as one message file for
#: ``mspl-lite trace`` (text.MAX_MESSAGE_FILE): far above any real Lync message (a large presence
#: NOTIFY or an SDP with many candidates is some tens of KB), and it bounds every buffer below.
MAX_SIP_MESSAGE = 1 << 20


class CaptureError(InputError):
    """A capture (pcap, pcapng, server or client log, .sip file or folder) cannot be read."""


@dataclass(frozen=True, slots=True)
class CapturedMessage:
    """One whole SIP message found in a capture, and where it was found."""

    data: bytes              # one whole SIP message (reassembled over TCP; several per segment split)
    where: str               # for diagnostics: "calls.pcapng: packet 17" / "Lync.log: line 120"
    index: int               # 0-based order in the capture
    time: float | None       # seconds since the epoch, when the capture says
    transport: str           # "UDP" | "TCP" | "TLS" | "log" | "file"
    src: str | None          # "10.0.0.5:5061" ("[2001:db8::1]:5060" for IPv6), None when unknown
    dst: str | None
    direction: str | None    # "incoming" | "outgoing" as a server log says; None for packet captures
    path: str                # the file the message came from
    line: int | None         # the 1-based line of its first line, for text formats


@dataclass(slots=True)
class CaptureStats:
    """What one pass over a capture found; filled while iterating."""

    packets: int = 0          # packets (pcap records, pcapng packet blocks) or log records read
    sip_messages: int = 0     # messages yielded
    non_sip: int = 0          # packets skipped: not IP, not UDP/TCP, or no SIP in the payload
    keepalives: int = 0       # CRLF keep-alives between messages, skipped (decision D104)
    tls_unreadable: int = 0   # TCP segments of TLS flows (encrypted: not readable)
    tls_flows: int = 0        # TLS connections (each reported once)
    fragments: int = 0        # IP fragments seen (put together into their datagrams)
    fragments_lost: int = 0   # ... of datagrams the capture never completes (unreadable)
    unsupported: int = 0      # packets of a link type this reader does not decode
    truncated: int = 0        # packets cut short (snap length, or the file ends inside them)
    malformed: int = 0        # damaged headers (IP, UDP, TCP, pcap records) or log records
    reassembled: int = 0      # messages that spanned several TCP segments
    retransmitted: int = 0    # TCP segments (or parts) seen before: dropped
    out_of_order: int = 0     # TCP segments that arrived before the bytes preceding them
    gaps: int = 0             # holes in a TCP stream (bytes never captured)
    resyncs: int = 0          # times a TCP stream was resynchronised at a SIP start line
    flows: int = 0            # TCP flow directions seen
    flows_evicted: int = 0    # flows dropped to stay within the flow and buffer limits
    link_types: dict[str, int] = field(default_factory=dict)   # link type name -> packets
    diagnostics: list[Diagnostic] = field(default_factory=list)
    diagnostics_dropped: int = 0

    def report(self, diagnostic: Diagnostic) -> None:
        """Keep ``diagnostic`` if fewer than MAX_DIAGNOSTICS are kept, else count it."""
        if len(self.diagnostics) < MAX_DIAGNOSTICS:
            self.diagnostics.append(diagnostic)
        else:
            self.diagnostics_dropped += 1

    def to_dict(self) -> dict:
        out = {name: getattr(self, name) for name in self.__slots__ if name != "diagnostics"}
        out["link_types"] = dict(self.link_types)
        out["diagnostics"] = [d.to_dict() for d in self.diagnostics]
        return out


class Capture:
    """A capture file (or folder) to iterate once; ``stats`` fills while iterating."""

    __slots__ = ("path", "name", "format", "stats", "_messages", "_used")

    def __init__(self, path: str, name: str, format: str,
                 messages: Callable[["Capture"], Iterator[CapturedMessage]]):
        self.path = path
        self.name = name          # the path as diagnostics show it
        self.format = format      # "pcap" | "pcapng" | "lync-log" | "uccapi-log" | "sip-folder" | "sip-file"
        self.stats = CaptureStats()
        self._messages = messages
        self._used = False

    def __iter__(self) -> Iterator[CapturedMessage]:
        from ..errors import UsageError

        if self._used:
            raise UsageError("a Capture is read once, as it streams the file: call read_capture() again")
        self._used = True
        return self._messages(self)

    def note(self, message: str, *, severity: str = "warning", line: int = 0, column: int = 0,
             source: str | None = None, hint: str | None = None, code: str | None = None) -> None:
        """Report one located fault of this capture (kept up to MAX_DIAGNOSTICS, then counted)."""
        self.stats.report(Diagnostic(severity=severity, message=message, filename=self.name, line=line,
                                     column=column, source=source, hint=hint, code=code))

    def __repr__(self) -> str:
        return f"<Capture {self.format} {self.name}>"


def read_capture(path: str | os.PathLike) -> Capture:
    """The capture at ``path``, its format sniffed from its first bytes; ``CaptureError`` if it is none.

    Nothing but the first bytes is read here: iterate the result to read the messages.
    """
    from .sniff import open_capture

    return open_capture(path)
