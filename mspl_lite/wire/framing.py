"""Where one SIP message ends: a datagram is one message; a stream is cut by Content-Length.

RFC 3261 18.3: over a stream transport Content-Length "MUST be used" to find the end of each
message; a CRLF CRLF between messages is a keep-alive ping, answered with CRLF (decision D98).
Every part is bounded so that a peer that sends forever costs a fixed amount of memory.
"""
from __future__ import annotations

import re

__all__ = ["MAX_MESSAGE_BYTES", "MAX_HEADER_BYTES", "FramingError", "StreamFramer", "content_length"]

#: The largest message accepted on any transport: a UDP datagram cannot be larger (65,535
#: bytes less the IP and UDP headers), and a SIP message that needs more has no business on a
#: loopback lab server. A TCP message over it closes the connection with 413 first.
MAX_MESSAGE_BYTES = 65_507
#: The header section of a message on a stream: past this without the empty line, the peer is
#: not sending SIP (or is sending forever); the connection is closed.
MAX_HEADER_BYTES = 32_768

_HEAD_END = re.compile(rb"\r?\n\r?\n")
_CONTENT_LENGTH = re.compile(rb"^(?:content-length|l)[ \t]*:[ \t]*([^\s]*)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)


class FramingError(Exception):
    """The stream cannot be read any further: ``status`` is the response to send before closing."""

    def __init__(self, status: int, reason: str, warning: str):
        super().__init__(warning)
        self.status = status
        self.reason = reason
        self.warning = warning


def content_length(head: bytes) -> int | None:
    """The Content-Length of a header section; None when it has none; -1 when it is not a number."""
    values = _CONTENT_LENGTH.findall(head)
    if not values:
        return None
    if len(set(values)) != 1 or not values[0].isdigit() or len(values[0]) > 9:
        return -1
    return int(values[0])


class StreamFramer:
    """Bytes of a stream in, whole messages out (``feed`` returns each message complete so far).

    ``pings`` counts the CRLF CRLF keep-alives seen (the caller answers each with CRLF).
    Raises FramingError for a stream that cannot be framed: no Content-Length, a bad one, a
    header section or a message over the limits.
    """

    def __init__(self, max_message: int = MAX_MESSAGE_BYTES, max_header: int = MAX_HEADER_BYTES):
        self._buffer = bytearray()
        self.max_message = max_message
        self.max_header = max_header
        self.pings = 0

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        out = []
        while True:
            self._skip_keepalives()
            if not self._buffer:
                break
            match = _HEAD_END.search(self._buffer, 0, self.max_header + 4)
            if match is None:
                if len(self._buffer) > self.max_header:
                    raise FramingError(400, "Bad Request",
                                       f"no end of the header section within {self.max_header} bytes")
                break
            head = bytes(self._buffer[:match.start()])
            length = content_length(head)
            if length is None:
                raise FramingError(400, "Bad Request", "Content-Length is required over a stream transport "
                                                        "(RFC 3261 18.3)")
            if length < 0:
                raise FramingError(400, "Bad Request", "Content-Length is not one whole number")
            total = match.end() + length
            if total > self.max_message:
                raise FramingError(413, "Request Entity Too Large",
                                   f"the message is {total} bytes; this server takes {self.max_message}")
            if len(self._buffer) < total:
                break
            out.append(bytes(self._buffer[:total]))
            del self._buffer[:total]
        return out

    def _skip_keepalives(self) -> None:
        while self._buffer[:2] == b"\r\n" or self._buffer[:1] == b"\n":
            if self._buffer[:4] == b"\r\n\r\n":
                self.pings += 1
                del self._buffer[:4]
            elif len(self._buffer) < 4 and b"\r\n\r\n".startswith(bytes(self._buffer)):
                return              # maybe the start of a ping: wait for the rest
            else:
                del self._buffer[:2 if self._buffer[:2] == b"\r\n" else 1]

    @property
    def buffered(self) -> int:
        return len(self._buffer)
