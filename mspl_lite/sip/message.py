"""SIP requests and responses: headers in order, a byte body, mutation and serialisation.

A parsed message remembers the exact text of each header line it was given, so ``to_bytes()``
gives the input back byte for byte (when the input was canonical: CRLF line ends, the body no
longer than Content-Length says). Only headers you change are written afresh, as ``Name: value``.

What you build or change must be what the parser accepts (decision D80): a header the parser
checks (From, Via, CSeq, ...; ``_validate.HEADER_CHECKS``, compact names included) is checked
with the same rule, Content-Length must be the body's length, a request's CSeq method its method,
the Request-URI a valid one, and no text may hold a lone surrogate (``text.lone_surrogate``).
Anything else is a ``UsageError``, so ``to_bytes()`` always works and parses back.
"""
from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Iterable, NamedTuple, Union

from ..errors import UsageError
from ..text import lone_surrogate, shown
from ._fields import KEY_CACHE, NEVER_SPLIT, find_param, header_key, set_param, split_values
from ._grammar import TOKEN_RE, Problem
from ._scan import check_uri
from ._validate import HEADER_CHECKS, check_cseq_method

__all__ = ["Header", "Message", "Request", "Response"]


class Header(NamedTuple):
    """One header field: its name as written (``"m"``, ``"Contact"``) and its unfolded value."""

    name: str
    value: str

    def __repr__(self) -> str:
        return f"Header({self.name!r}, {self.value!r})"


HeaderLike = Union[Header, "tuple[str, str]"]

#: Request-URIs and To-tag seeds up to this many characters have their answers remembered (a
#: transaction sets and derives the same few again and again); longer ones are worked out each
#: time, so the caches (``_CACHED``) hold at most a few MB whatever a replay feeds them.
_CACHED_TEXT = 512
_CACHED = 4096

#: type -> the names of its slots and its bases' (Message.copy copies a message many times a transaction).
_SLOTS: dict[type, tuple[str, ...]] = {}

_new_header = tuple.__new__  # Header(name, value) without the NamedTuple __new__ call (parser hot path)


# A control character other than TAB: not allowed in a reason phrase.
_REASON_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _as_header(item: object) -> Header:
    """Accept a Header or a (name, value) pair; refuse names that are not tokens and values with line breaks."""
    if isinstance(item, Header):
        name, value = item
    elif isinstance(item, tuple) and len(item) == 2:
        name, value = item
    else:
        raise UsageError(f"a header is a (name, value) pair, got {item!r}")
    if type(name) is str and type(value) is str and len(name) + len(value) <= _CACHED_TEXT:
        return _checked_header(name, value)
    return _new_header_checked(name, value)


def _new_header_checked(name: object, value: object) -> Header:
    return Header(_check_name(name), _check_value(name, value))


#: (name, value) -> its checked Header: a refused one raises, and lru_cache keeps no exception.
#: Headers are immutable, so two messages may share one.
_checked_header = lru_cache(maxsize=_CACHED)(_new_header_checked)


def _check_name(name: object) -> str:
    if not isinstance(name, str) or TOKEN_RE.fullmatch(name) is None:
        raise UsageError(f"a header name is a token such as 'X-Route-Hint', got {name!r}")
    return name


def _check_value(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise UsageError(f"the value of header {name!r} must be a str, got {type(value).__name__}")
    if "\r" in value or "\n" in value:
        raise UsageError(f"the value of header {name!r} contains a line break")
    _check_text(value, f"the value of header {name!r}")
    return value.strip(" \t")


def _check_text(text: str, what: str) -> None:
    """Refuse a lone surrogate: it is no character and cannot be written as UTF-8."""
    k = lone_surrogate(text)
    if k is not None:
        raise UsageError(f"{what} holds a lone surrogate {shown(text[k])} at index {k}, which is not a "
                         "character and cannot be sent; remove it")


def _refused(name: str, value: str, problem: Problem) -> UsageError:
    """The parser's fault in a header value, as the UsageError of the call that would write it."""
    shown_value = shown(value if len(value) <= 80 else value[:80] + "...")
    return UsageError(f"the parser would refuse {name}: {shown_value} (at character {problem.offset + 1}): "
                      f"{problem.message}; {problem.hint}")


def _check_field(name: str, value: str) -> str:
    """Check ``value`` with the parser's rule for header ``name`` (if it has one); return its key."""
    if len(name) + len(value) <= _CACHED_TEXT:
        return _checked_field(name, value)
    return _check_field_now(name, value)


def _check_field_now(name: str, value: str) -> str:
    key = header_key(name)
    check = HEADER_CHECKS.get(key)
    if check is not None and check[0](value) is None:
        try:
            check[1](value)
        except Problem as problem:
            raise _refused(name, value, problem) from None
    return key


_checked_field = lru_cache(maxsize=_CACHED)(_check_field_now)   # pure, like _checked_header


def check_request_uri(uri: object) -> str:
    """``uri`` if the parser accepts it as a Request-URI (one URI, a scheme, no spaces, <> or
    ``?headers``, no lone surrogate); else ``UsageError`` saying why."""
    if type(uri) is str and len(uri) <= _CACHED_TEXT:
        return _checked_request_uri(uri)
    return _check_request_uri(uri)


def _check_request_uri(uri: object) -> str:
    if not isinstance(uri, str) or not uri or uri != uri.strip() or any(c in uri for c in " \t\r\n<>"):
        raise UsageError(f"a Request-URI is one URI without spaces or <>, e.g. 'sip:bob@contoso.com', got {uri!r}")
    _check_text(uri, "the Request-URI")
    try:  # the parser's rule for the request line
        check_uri(uri, 0, len(uri), context="request-uri")
    except Problem as problem:
        raise UsageError(f"the parser would refuse the Request-URI {shown(uri[:80])!r} (at character "
                         f"{problem.offset + 1}): {problem.message}; {problem.hint}") from None
    return uri


#: The URIs found valid (a refused one raises, and lru_cache keeps no exception).
_checked_request_uri = lru_cache(maxsize=_CACHED)(_check_request_uri)


def _check_status_code(code: object) -> None:
    """Refuse anything but a response status code (an int from 100 to 699)."""
    if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 699:
        raise UsageError(f"a status code is an int from 100 to 699, got {code!r}")


def _as_bytes(body: object) -> bytes:
    if isinstance(body, str):
        _check_text(body, "the body")
        return body.encode("utf-8")
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    raise UsageError(f"a body is bytes or str, got {type(body).__name__}")


class Message:
    """What requests and responses share: headers, body, serialisation. Use Request or Response."""

    __slots__ = ("headers", "_body", "sip_version", "_raw")

    headers: list[Header]
    sip_version: str

    def __init__(self, headers: Iterable[HeaderLike] = (), body: bytes | str = b"", sip_version: str = "SIP/2.0"):
        self._body = _as_bytes(body)
        self.headers = [_as_header(h) for h in headers]
        for h in self.headers:
            self._agree(h[0], h[1])
        if not isinstance(sip_version, str) or sip_version.upper() != "SIP/2.0":
            raise UsageError(f"the SIP version is SIP/2.0 (the only one), got {sip_version!r}")
        self.sip_version = sip_version
        # id(header) -> (header, original text) for parsed header lines that are not written
        # "Name: value" (folded, spaced, ...); the header object is kept so its id stays unique.
        self._raw: dict[int, tuple[Header, str]] = {}

    # ---- headers ---------------------------------------------------------------------------

    def get(self, name: str) -> str | None:
        """The value of the first header called ``name`` (any case, compact forms match), or None."""
        keys = KEY_CACHE
        key = keys.get(name) or header_key(name)
        for h in self.headers:
            if (keys.get(h[0]) or header_key(h[0])) == key:
                return h[1]
        return None

    def get_all(self, name: str) -> list[str]:
        """Every value of ``name``, comma lists split outside quotes and ``<>`` (see NEVER_SPLIT)."""
        key = header_key(name)
        values = self._values(key)
        if key in NEVER_SPLIT:
            return values
        out: list[str] = []
        for v in values:
            out.extend(split_values(v))
        return out

    def _values(self, key: str) -> list[str]:
        """The values of every header whose ``header_key`` is ``key``, unsplit, in order."""
        keys = KEY_CACHE
        return [h[1] for h in self.headers if (keys.get(h[0]) or header_key(h[0])) == key]

    def _agree(self, name: str, value: str, *, first: bool | None = None) -> None:
        """Refuse a header the parser would refuse in this message (decision D80). ``first``: it
        becomes the first of its name (a request's first CSeq must name the request's method);
        None: find out, only for a CSeq, so appending other headers stays O(1)."""
        key = _check_field(name, value)
        if key == "content-length" and int(value) != len(self._body):  # checked: at most 15 digits
            raise UsageError(f"Content-Length {value} differs from the body's {len(self._body)} bytes: the parser "
                             "would cut or refuse the body; set_body() sets the body and its Content-Length")
        if key == "cseq" and isinstance(self, Request) and (first or (first is None and self.get(name) is None)):
            try:
                check_cseq_method(value, self.method)
            except Problem as problem:
                raise _refused(name, value, problem) from None

    def add_header(self, name: str, value: str) -> None:
        """Append a header (MSPL AddHeader's "already exists" rule is the language layer's job)."""
        header = _as_header((name, value))
        self._agree(header[0], header[1])
        self.headers.append(header)

    def set_header(self, name: str, value: str) -> None:
        """Replace every header called ``name`` by one ``value``: in the first one's place and spelling, else appended."""
        header = _as_header((name, value))
        self._agree(header[0], header[1], first=True)
        key = header_key(name)
        keys = KEY_CACHE
        kept: list[Header] = []
        placed = False
        for h in self.headers:
            if (keys.get(h[0]) or header_key(h[0])) == key:
                if not placed:   # the first one's spelling, the new value
                    kept.append(header if h[0] == header[0] else _new_header(Header, (h[0], header[1])))
                    placed = True
            else:
                kept.append(h)
        if not placed:
            kept.append(header)
        self.headers = kept

    def remove_header(self, name: str) -> int:
        """Remove every header called ``name``; return how many there were."""
        key = header_key(name)
        before = len(self.headers)
        self.headers = [h for h in self.headers if header_key(h[0]) != key]
        return before - len(self.headers)

    def set_header_param(self, name: str, param: str, value: str | None) -> bool:
        """Set ``;param=value`` on the first header called ``name`` ("" or None removes it).

        Backs MSPL SetParameterValue: false if the header is missing or ``param`` is empty.
        The first occurrence of the parameter (outside quotes and ``<>``) is replaced; a new one
        is appended to the first element of a comma list.
        """
        if not param:
            return False
        if TOKEN_RE.fullmatch(param) is None:
            raise UsageError(f"a parameter name is a token, got {param!r}")
        if value is not None and not isinstance(value, str):
            raise UsageError(f"the value of parameter {param!r} must be a str or None, got {type(value).__name__}")
        if value and ("\r" in value or "\n" in value):
            raise UsageError(f"the value of parameter {param!r} contains a line break")
        if value:
            _check_text(value, f"the value of parameter {param!r}")
        key = header_key(name)
        for i, h in enumerate(self.headers):
            if header_key(h[0]) == key:
                changed = set_param(h[1], param, value)
                self._agree(h[0], changed, first=i == self._first_index(key))
                self.headers[i] = Header(h[0], changed)
                return True
        return False

    def _first_index(self, key: str) -> int:
        """The index of the first header whose key is ``key`` (-1 if none)."""
        return next((i for i, h in enumerate(self.headers) if header_key(h[0]) == key), -1)

    # ---- body ----------------------------------------------------------------------------------

    @property
    def body(self) -> bytes:
        """The body as bytes. Assigning it calls ``set_body`` (Content-Length follows)."""
        return self._body

    @body.setter
    def body(self, data: bytes | str) -> None:
        self.set_body(data)

    @property
    def content(self) -> str:
        """The body decoded as UTF-8 (MSPL ``sipMessage.Content``); assignable like ``body``."""
        return self._body.decode("utf-8", "replace")

    @content.setter
    def content(self, text: str) -> None:
        self.set_body(text)

    def set_body(self, data: bytes | str, content_type: str | None = None) -> None:
        """Replace the body (str is encoded as UTF-8); Content-Length is set to its length."""
        self._body = _as_bytes(data)
        self.set_header("Content-Length", str(len(self._body)))
        if content_type is not None:
            self.set_header("Content-Type", content_type)

    # ---- serialisation ---------------------------------------------------------------------

    def start_line(self) -> str:
        """The request line or status line, without its CRLF."""
        raise NotImplementedError

    def to_bytes(self) -> bytes:
        """The message as SIP bytes: start line, headers as parsed or ``Name: value``, CRLF, body."""
        raw = self._raw
        lines = [self.start_line()]
        if raw:
            for h in self.headers:
                entry = raw.get(id(h))
                lines.append(entry[1] if entry is not None and entry[0] is h else f"{h[0]}: {h[1]}")
        else:
            lines.extend([f"{h[0]}: {h[1]}" for h in self.headers])
        lines.append("\r\n")
        return "\r\n".join(lines).encode("utf-8", "surrogateescape") + self._body

    def __bytes__(self) -> bytes:
        return self.to_bytes()

    def __str__(self) -> str:
        # Printable always: a binary body part shows as U+FFFD rather than failing to print.
        return self.to_bytes().decode("utf-8", "replace")

    def copy(self):
        """An independent copy (headers are immutable values, so a shallow list copy suffices)."""
        cls = type(self)
        other = object.__new__(cls)
        if cls is Request:      # the common cases spelt out: a transaction copies its messages often
            other.method = self.method
            other._request_uri = self._request_uri
        elif cls is Response:
            other.status_code = self.status_code
            other.reason = self.reason
        else:
            slots = _SLOTS.get(cls)
            if slots is None:   # every slot of the class and its bases, found once per class
                slots = _SLOTS[cls] = tuple(slot for c in cls.__mro__ for slot in getattr(c, "__slots__", ()))
            for slot in slots:
                setattr(other, slot, getattr(self, slot))
        other.headers = list(self.headers)
        other._body = self._body
        other.sip_version = self.sip_version
        other._raw = dict(self._raw) if self._raw else {}
        return other

    __copy__ = copy


class Request(Message):
    """A SIP request: method, Request-URI, headers, body."""

    __slots__ = ("method", "_request_uri")

    def __init__(
        self,
        method: str,
        request_uri: str,
        headers: Iterable[HeaderLike] = (),
        body: bytes | str = b"",
        sip_version: str = "SIP/2.0",
    ):
        if not isinstance(method, str) or TOKEN_RE.fullmatch(method) is None:
            raise UsageError(f"a method is a token such as INVITE, got {method!r}")
        self.method = method
        super().__init__(headers, body, sip_version)
        cseq = self.get("CSeq")
        if cseq is not None:
            self._agree("CSeq", cseq, first=True)
        self.request_uri = request_uri

    @property
    def request_uri(self) -> str:
        """The Request-URI as text; assigning checks it is one URI with no spaces or <>."""
        return self._request_uri

    @request_uri.setter
    def request_uri(self, uri: str) -> None:
        self._request_uri = check_request_uri(uri)

    def start_line(self) -> str:
        return f"{self.method} {self._request_uri} {self.sip_version}"

    def __repr__(self) -> str:
        return f"<Request {self.method} {self._request_uri}>"

    def create_response(self, code: int, reason: str, headers: Iterable[HeaderLike] = ()) -> "Response":
        """A response to this request (RFC 3261 8.2.6.2).

        Copies Via (all, in order), From, To, Call-ID and CSeq, then ``headers``, then
        ``Content-Length: 0``. A To without a tag gets one (except in 100 Trying); the tag is
        derived from Call-ID and CSeq, so the same request always gets the same tag.
        """
        _check_status_code(code)
        out: list[Header] = []
        first: dict[str, str] = {}      # key -> the first value of From, To, Call-ID, CSeq
        keys = KEY_CACHE
        for h in self.headers:          # one pass over the headers
            key = keys.get(h[0]) or header_key(h[0])
            if key == "via":
                out.append(Header("Via", h[1]))
            elif key in _ANSWER_COPIES and key not in first:
                first[key] = h[1]
        for key, name in _ANSWER_COPIES.items():
            value = first.get(key)
            if value is None:
                continue
            # no ";" means no parameter at all, so no tag (find_param would say the same, slower)
            if key == "to" and code != 100 and (";" not in value or find_param(value, "tag") is None):
                value = set_param(value, "tag", _to_tag(f"{first.get('call-id') or ''}\n{first.get('cseq') or ''}"))
            out.append(Header(name, value))
        extra = [_as_header(h) for h in headers]
        out.extend(h for h in extra if header_key(h.name) != "content-length")
        out.append(Header("Content-Length", "0"))
        response = Response(code, reason, sip_version=self.sip_version)
        response.headers = out
        return response

    def _to_tag(self) -> str:
        return _to_tag(f"{self.get('Call-ID') or ''}\n{self.get('CSeq') or ''}")


#: The headers a response copies from its request after the Vias (RFC 3261 8.2.6.2): key -> name.
_ANSWER_COPIES = {"from": "From", "to": "To", "call-id": "Call-ID", "cseq": "CSeq"}


def _to_tag(seed: str) -> str:
    """The To tag of a response to the request whose Call-ID and CSeq make ``seed``."""
    if len(seed) <= _CACHED_TEXT:
        return _cached_to_tag(seed)
    return _hash_tag(seed)


def _hash_tag(seed: str) -> str:
    return hashlib.sha256(seed.encode("utf-8", "surrogateescape")).hexdigest()[:10]


_cached_to_tag = lru_cache(maxsize=_CACHED)(_hash_tag)


class Response(Message):
    """A SIP response: status code, reason phrase, headers, body."""

    __slots__ = ("status_code", "reason")

    def __init__(
        self,
        status_code: int,
        reason: str,
        headers: Iterable[HeaderLike] = (),
        body: bytes | str = b"",
        sip_version: str = "SIP/2.0",
    ):
        super().__init__(headers, body, sip_version)
        _check_status_code(status_code)
        if not isinstance(reason, str) or _REASON_CONTROL.search(reason) is not None:
            raise UsageError(f"a reason phrase is one line of text without control characters, got {shown(reason)!r}")
        _check_text(reason, "the reason phrase")
        self.status_code = status_code
        self.reason = reason

    def start_line(self) -> str:
        return f"{self.sip_version} {self.status_code} {self.reason}"

    def __repr__(self) -> str:
        return f"<Response {self.status_code} {self.reason}>" if self.reason else f"<Response {self.status_code}>"
