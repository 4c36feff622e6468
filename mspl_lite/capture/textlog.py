"""Reading a text log line by line, bounded: shared by the SIPStack and UccApi log readers.

The encoding is told from a byte-order mark (UTF-16 LE/BE, UTF-8) and is UTF-8 otherwise, with
bytes that are not UTF-8 kept (surrogateescape) so a message comes back byte for byte.
A line longer than MAX_LOG_LINE is reported and skipped, never read whole.
"""
from __future__ import annotations

import calendar
import codecs
import io
import re
from typing import Iterator

from . import Capture
from .sniff import open_stream

__all__ = ["log_lines", "to_bytes", "MAX_LOG_LINE"]

#: Longest log line read (characters). A SIP header line is rarely over a few KB (a long Via or
#: a presence document on one line); 256 K characters is far past that and bounds memory.
MAX_LOG_LINE = 256 << 10


def _encoding(head: bytes) -> tuple[str, int]:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", 3
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    return "utf-8", 0


def log_lines(cap: Capture) -> Iterator[tuple[int, str]]:
    """(1-based line number, line without its line end) of the log file ``cap.path``."""
    with open_stream(cap.path, cap.name) as raw:
        buffered = io.BufferedReader(raw, 1 << 20)
        encoding, skip = _encoding(buffered.peek(4)[:4])
        buffered.read(skip)
        text = io.TextIOWrapper(buffered, encoding=encoding, errors="surrogateescape", newline=None)
        number = 0
        while True:
            line = text.readline(MAX_LOG_LINE)
            if not line:
                return
            number += 1
            if len(line) >= MAX_LOG_LINE and not line.endswith("\n"):
                cap.stats.malformed += 1
                cap.note(f"line {number} is longer than {MAX_LOG_LINE} characters: skipped", line=number,
                         code="long-line", hint="is this really a text log?")
                while line and not line.endswith("\n"):
                    line = text.readline(MAX_LOG_LINE)
                continue
            yield number, line.rstrip("\r\n")


def to_bytes(text: str) -> bytes:
    """A message's text as the bytes that were on the wire (UTF-8, undecodable bytes given back)."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:          # a lone surrogate that stands for no byte (a damaged UTF-16 log)
        return text.encode("utf-8", "replace")


def log_time(match: re.Match | None) -> float | None:
    """Seconds since the epoch from a log line's time, matched as (month, day, year, hour, minute,
    second, millisecond) and read as UTC (decision D106); None when absent or not a real date."""
    if not match:
        return None
    month, day, year, hour, minute, second, milli = (int(g) for g in match.groups())
    try:
        return calendar.timegm((year, month, day, hour, minute, second)) + milli / 1000
    except (ValueError, OverflowError):
        return None
