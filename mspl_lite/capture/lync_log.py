"""Lync Server 2010/2013 SIPStack logs, as text -> SIP messages (Skype for Business Server's: [inferred]).

The SIPStack component logs each SIP message as a protocol record. On Lync Server 2013 and Skype for
Business Server the centralized logging service (CLS), which replaced Lync Server 2010's OCSLogger,
manages and searches these logs (search-csclslogging); Snooper shows one as text [inferred]. A
record looks like this (the structure of a Microsoft support article's excerpt, sources.md
``ms-sipstack-log``, from an OCS 2007 R2 Edge Server's log; that Lync Server 2013 and Skype for
Business Server write the same form is [inferred])::

    TL_INFO(TF_PROTOCOL) [0]06E4.0EB4::01/18/2012-05:00:43.101.00005386 (SIPStack,SIPAdminLog::TraceProtocolRecord:SIPAdminLog.cpp(125))$$begin_record
    Trace-Correlation-Id: 2003888399
    Instance-Id: 0000C23F
    Direction: incoming;source="internal edge";destination="external edge"
    Peer: lyncservr.contoso.com:61182
    Message-Type: request
    Start-Line: OPTIONS sip:Options_User@fabrikam.com SIP/2.0
    To: <sip:Options_User@fabrikam.com>
    ...
    CONTENT-LENGTH: 0
    Message-Body: -
    $$end_record

The record's fields come first; from ``Start-Line`` on come the message's headers, then
``Message-Body:`` (``-`` for none) and the body's lines. The published record says ``Direction:
incoming``; ``outgoing`` for a message the server sent is [inferred]. How the message is rebuilt
from a record (CRLF line ends, the body's last line end) is decision D106. Other records
(``TF_DIAG``, ``TF_COMPONENT``) are skipped and counted. A record that never reaches
``$$end_record`` (another record starts, or the file ends) is reported at its first line, and
reading goes on.
"""
from __future__ import annotations

import re
from typing import Iterator

from . import MAX_SIP_MESSAGE, Capture, CapturedMessage
from .textlog import log_lines, log_time, to_bytes

__all__ = ["lync_log_capture", "record_time"]

_ENTRY = re.compile(r"^TL_[A-Z]+\((TF_[A-Z_]+)\)")
_TIME = re.compile(r"::(\d\d)/(\d\d)/(\d{4})-(\d\d):(\d\d):(\d\d)\.(\d{3})")
_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9-]*):[ \t]?(.*)$")


def record_time(line: str) -> float | None:
    """Seconds since the epoch of a record's header line (``::MM/DD/YYYY-HH:MM:SS.mmm``), read as UTC
    (decision D106), or None."""
    return log_time(_TIME.search(line))


def lync_log_capture(path: str, name: str) -> Capture:
    return Capture(path, name, "lync-log", _messages)


class _Record:
    __slots__ = ("line", "header", "protocol", "fields", "start_line", "headers", "body", "in_body", "size")

    def __init__(self, line: int, header: str):
        self.line = line
        self.header = header
        self.protocol = "TF_PROTOCOL" in header
        self.fields: dict[str, str] = {}
        self.start_line: str | None = None
        self.headers: list[str] = []
        self.body: list[str] | None = None
        self.size = 0


def _messages(cap: Capture) -> Iterator[CapturedMessage]:
    stats = cap.stats
    record: _Record | None = None
    index = 0
    for number, line in log_lines(cap):
        if "$$begin_record" in line:
            if record is not None:
                _unfinished(cap, record, f"line {number} starts another record")
            record = _Record(number, line)
            stats.packets += 1
            continue
        if record is None:
            continue                                    # text between records (TL_ lines without a record)
        if line.strip() == "$$end_record":
            message = _message(cap, record)
            record = None
            if message is not None:
                data, direction, peer, at, when = message
                stats.sip_messages += 1
                yield CapturedMessage(data, f"{cap.name}: line {at}", index, when, "log",
                                      peer if direction == "incoming" else None,
                                      peer if direction == "outgoing" else None, direction, cap.path, at)
                index += 1
            continue
        if _ENTRY.match(line):
            _unfinished(cap, record, f"line {number} starts another trace entry")
            record = None
            continue
        record.size += len(line) + 2
        if record.size > MAX_SIP_MESSAGE:
            cap.stats.malformed += 1
            cap.note(f"the record that starts on line {record.line} is longer than {MAX_SIP_MESSAGE} bytes without "
                     "$$end_record: skipped", line=record.line, source=record.header, code="record-too-long",
                     hint="is the log cut or damaged here?")
            record = None
            continue
        if not record.protocol:
            continue
        if record.body is not None:
            record.body.append(line)
        elif record.start_line is None:
            m = _FIELD.match(line)
            if m:
                key = m.group(1).lower()
                if key == "start-line":
                    record.start_line = m.group(2).strip()
                else:
                    record.fields[key] = m.group(2).strip()
        elif line.lower().startswith("message-body:"):
            first = line.split(":", 1)[1].lstrip(" \t")
            record.body = [] if first.strip() == "-" else [first]
        else:
            record.headers.append(line)
    if record is not None:
        _unfinished(cap, record, "the file ends")


def _unfinished(cap: Capture, record: _Record, why: str) -> None:
    cap.stats.malformed += 1
    cap.note(f"the record that starts on line {record.line} has no $$end_record ({why}): it is skipped",
             line=record.line, column=max(1, record.header.find("$$begin_record") + 1), source=record.header,
             code="no-end-record", hint="the log was cut or two logs were pasted together; the next record is read")


def _message(cap: Capture, record: _Record):
    """(bytes, direction, peer, line, time) of a finished protocol record, or None (counted)."""
    if not record.protocol:
        cap.stats.non_sip += 1
        return None
    if record.start_line is None:
        cap.stats.malformed += 1
        cap.note(f"the protocol record on line {record.line} has no Start-Line: skipped", line=record.line,
                 source=record.header, code="no-start-line", hint="a SIPStack protocol record names its Start-Line")
        return None
    head = "\r\n".join([record.start_line] + record.headers) + "\r\n\r\n"
    body = ""
    if record.body:
        body = "\r\n".join(record.body)
        declared = _declared_length(record.headers)
        if declared is not None and len(to_bytes(body)) + 2 == declared:
            body += "\r\n"                 # the body's own last line end, which the log line ends hide (D106)
    direction = record.fields.get("direction", "").split(";", 1)[0].strip().lower() or None
    if direction not in ("incoming", "outgoing"):
        direction = None
    peer = record.fields.get("peer") or None
    return to_bytes(head + body), direction, peer, record.line, record_time(record.header)


_LENGTH = re.compile(r"^(?:content-length|l)[ \t]*:[ \t]*(\d{1,9})[ \t]*$", re.IGNORECASE)


def _declared_length(headers: list[str]) -> int | None:
    for header in headers:
        m = _LENGTH.match(header)
        if m:
            return int(m.group(1))
    return None
