"""What the SIP layer knows about header fields: names, compact forms, which values are comma
lists, and how to find or edit a ``;name=value`` parameter without breaking quotes or ``<...>``.
"""
from __future__ import annotations

import re
from typing import NamedTuple

__all__ = [
    "COMPACT_FORMS",
    "KEY_CACHE",
    "ParamSpan",
    "NEVER_SPLIT",
    "header_key",
    "split_values",
    "element_spans",
    "param_spans",
    "find_param",
    "set_param",
]

# Compact forms (RFC 3261 7.3.3 and the IANA "Header Fields" registry of SIP parameters).
COMPACT_FORMS = {
    "i": "Call-ID",
    "m": "Contact",
    "f": "From",
    "t": "To",
    "v": "Via",
    "l": "Content-Length",
    "c": "Content-Type",
    "e": "Content-Encoding",
    "k": "Supported",
    "s": "Subject",
    "o": "Event",
    "u": "Allow-Events",
    "r": "Refer-To",
    "b": "Referred-By",
    "x": "Session-Expires",
    "a": "Accept-Contact",
    "j": "Reject-Contact",
    "d": "Request-Disposition",
    "y": "Identity",
    "n": "Identity-Info",
}

# Headers whose value is one thing even when it holds commas: dates, credentials and challenges
# (``Digest realm="a", nonce="b"``), free text and comments (User-Agent "(a, b)"), and the
# single-valued identity headers. get_all never splits these (RFC 3261 7.3.1 allows the comma
# form only for headers whose grammar is a comma-separated list).
NEVER_SPLIT = frozenset(
    {
        "date",
        "www-authenticate",
        "authorization",
        "proxy-authenticate",
        "proxy-authorization",
        "authentication-info",
        "proxy-authentication-info",
        "subject",
        "user-agent",
        "server",
        "organization",
        "retry-after",
        "timestamp",
        "call-id",
        "cseq",
        "from",
        "to",
        "reply-to",
        "refer-to",
        "referred-by",
        "content-length",
        "content-type",
        "content-disposition",
        "max-forwards",
        "expires",
        "min-expires",
        "mime-version",
        "identity",
        "identity-info",
        "session-expires",
        "min-se",
        "event",
    }
)

# Header name as written -> header_key(name); shared with message.py, which inlines the lookup.
KEY_CACHE: dict[str, str] = {}


def header_key(name: str) -> str:
    """The comparison key of a header name: lower case, compact form expanded (``"M"`` -> ``"contact"``)."""
    key = KEY_CACHE.get(name)
    if key is None:
        stripped = name.strip()
        key = COMPACT_FORMS.get(stripped.lower(), stripped).lower()
        if len(KEY_CACHE) < 4096:  # header names are few; do not let junk input grow the cache
            KEY_CACHE[name] = key
    return key


# A quoted string (to its end if unterminated), a <...> (likewise), or a separator. Finding the
# separators this way skips those inside quotes and <> without a Python loop per character.
_SEPARATOR_RE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|<[^>]*>?|[;,]')


def element_spans(value: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each comma-separated element, commas inside quotes or ``<>`` kept."""
    if "," not in value:
        return [(0, len(value))]
    spans = []
    start = 0
    if '"' not in value and "<" not in value:
        while True:
            k = value.find(",", start)
            if k < 0:
                break
            spans.append((start, k))
            start = k + 1
    else:
        for m in _SEPARATOR_RE.finditer(value):
            if m.group() == ",":
                spans.append((start, m.start()))
                start = m.end()
    spans.append((start, len(value)))
    return spans


def split_values(value: str) -> list[str]:
    """Split a list header value at commas outside quotes and ``<>``; empty elements are dropped."""
    if "," not in value:
        v = value.strip()
        return [v] if v else []
    if '"' not in value and "<" not in value:
        parts = value.split(",")
    else:
        parts = [value[a:b] for a, b in element_spans(value)]
    return [v for v in map(str.strip, parts) if v]


class ParamSpan(NamedTuple):
    """Where one ``;name[=value]`` sits in a header value (``semi`` is the index of its ';')."""

    name: str
    value: str | None
    semi: int
    end: int


def param_spans(value: str, start: int, end: int) -> list[ParamSpan]:
    """The header-level parameters of the element ``value[start:end]`` (outside quotes and ``<>``)."""
    if '"' not in value and "<" not in value:
        semis = []
        k = value.find(";", start, end)
        while k >= 0:
            semis.append(k)
            k = value.find(";", k + 1, end)
    else:
        semis = [m.start() for m in _SEPARATOR_RE.finditer(value, start, end) if m.group() == ";"]
    out = []
    for n, semi in enumerate(semis):
        seg_end = semis[n + 1] if n + 1 < len(semis) else end
        name, eq, val = value[semi + 1 : seg_end].partition("=")
        name = name.strip()
        if name:
            out.append(ParamSpan(name, val.strip() if eq else None, semi, seg_end))
    return out


def find_param(value: str, name: str) -> ParamSpan | None:
    """The first header parameter called ``name`` (any case) in any element of ``value``."""
    lname = name.lower()
    for a, b in element_spans(value):
        for p in param_spans(value, a, b):
            if p.name.lower() == lname:
                return p
    return None


def set_param(value: str, name: str, new: str | None) -> str:
    """Set (or, when ``new`` is "" or None, remove) a parameter of the first element of ``value``."""
    a, b = element_spans(value)[0]
    lname = name.lower()
    for p in param_spans(value, a, b):
        if p.name.lower() == lname:
            if not new:
                return value[: p.semi].rstrip(" \t") + value[p.end :]
            return value[: p.semi] + f";{p.name}={new}" + value[p.end :]
    if not new:
        return value
    head = value[:b].rstrip(" \t")
    return head + f";{name}={new}" + value[len(head) :] if b < len(value) else head + f";{name}={new}"
