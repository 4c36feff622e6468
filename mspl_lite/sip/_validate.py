"""Every grammar rule the parser enforces, in one place: the start line, the headers whose syntax a
Front End relies on (From, To, Contact, Route, Record-Route, Reply-To, Via, CSeq, Call-ID,
Max-Forwards, Expires, Min-Expires, Content-Length, Date, Retry-After), and the rules that span
the message (CSeq method against the request method, Content-Length against the body).

Each check takes the (unfolded) value and raises ``Problem`` with an offset into it; the parser
turns that into file, line and column. Headers not listed in ``HEADER_CHECKS`` are accepted as
they are: MSPL scripts read and write custom headers (ms-*, X-*) freely.

What is deliberately *not* an error here (RFC 4475 section 3.3, "valid-app"): missing required
headers, several values in a single-value header, several Content-Length values, unknown URI
schemes, unknown Require option tags. A server answers those with 4xx; a parser accepts them.
"""
from __future__ import annotations

import re
from typing import Callable

from ._grammar import (
    ADDRESS_LIST_RE,
    ADDRESS_RE,
    NAME_ADDR_LIST_RE,
    SIP_URI_NO_HEADERS,
    SIP_URI_RE,
    TOKEN,
    TOKEN_RE,
    VIA_RE,
    Problem,
)
from ._scan import check_uri, scan_address, scan_address_list, scan_via

__all__ = ["HEADER_CHECKS", "check_request_line", "check_status_line", "check_cseq_method", "check_body_length"]

_DIGITS_RE = re.compile(r"[0-9]+")
_SIP_VERSION_RE = re.compile(r"[Ss][Ii][Pp]/[0-9]+\.[0-9]+")
_CSEQ_RE = re.compile(r"([0-9]+)[ \t]+([A-Za-z0-9\-.!%*_+`'~]+)")
# word = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" / "(" / ")" /
#        "<" / ">" / ":" / "\" / DQUOTE / "/" / "[" / "]" / "?" / "{" / "}" )
_WORD = r"[A-Za-z0-9\-.!%*_+`'~()<>:\\\"/\[\]?{}]+"
_CALL_ID_RE = re.compile(rf"{_WORD}(?:@{_WORD})?")
_WKDAY = "Mon|Tue|Wed|Thu|Fri|Sat|Sun"
_MONTH = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
_DATE_RE = re.compile(rf"(?:{_WKDAY}), [0-9]{{2}} (?:{_MONTH}) [0-9]{{4}} [0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}} GMT")
_DATE_NO_ZONE_RE = re.compile(rf"(?:{_WKDAY}), [0-9]{{2}} (?:{_MONTH}) [0-9]{{4}} [0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}} ")

# The common start lines in one pattern each (anything else goes the slow, diagnosing way).
_REQUEST_LINE_RE = re.compile(rf"({TOKEN}) ({SIP_URI_NO_HEADERS}) (SIP/2\.0)")
_STATUS_LINE_RE = re.compile(r"(SIP/2\.0) ([1-6][0-9]{2}) ([^\x00-\x08\x0a-\x1f\x7f]*)")

_MAX_CSEQ = 2**31 - 1  # RFC 3261 8.1.1.5: "MUST be less than 2**31"
_MAX_DELTA = 2**32 - 1  # delta-seconds (Expires, Retry-After): RFC 3261 20.19
_MAX_FORWARDS = 255  # RFC 3261 20.22: "an integer in the range 0-255"
# The most digits a numeric header field may have (leading zeros included) before mspl-lite calls
# it too large. 20 digits hold every value a SIP number may take (2**64 has 20), so no valid value
# is refused, and int() never sees a long string: Python refuses over 4300 digits (ValueError) and
# converting is quadratic below that. A longer value gets a "too large" diagnostic at its start.
MAX_NUMBER_DIGITS = 20
_SHOWN_NUMBER = 120  # a number in a diagnostic message is cut to this many characters (then "...")


def _short(text: str) -> str:
    """A value as a message quotes it: at most ``_SHOWN_NUMBER`` characters."""
    return text if len(text) <= _SHOWN_NUMBER else f"{text[:_SHOWN_NUMBER]}... ({len(text)} characters)"


_REQUEST_LINE_HINT = "the request line is METHOD SP Request-URI SP SIP/2.0, with single spaces, e.g. INVITE sip:bob@contoso.com SIP/2.0"


# ---------------------------------------------------------------------------------------------
# Start line
# ---------------------------------------------------------------------------------------------

def check_request_line(line: str) -> tuple[str, str, str]:
    """``METHOD SP Request-URI SP SIP-Version`` -> (method, uri, version), or raise ``Problem``."""
    m = _REQUEST_LINE_RE.fullmatch(line)
    if m is not None:
        return m.group(1, 2, 3)
    parts = line.split(" ")
    if len(parts) != 3 or not all(parts) or "\t" in line:
        _diagnose_request_line(line, parts)
    method, uri, version = parts
    if TOKEN_RE.fullmatch(method) is None:
        bad = next(k for k, c in enumerate(method) if TOKEN_RE.fullmatch(c) is None) if method else 0
        raise Problem(
            f"character {method[bad]!r} is not allowed in a method name",
            bad,
            hint="a method is a token such as INVITE, MESSAGE or REGISTER",
        )
    if version != "SIP/2.0" and version.upper() != "SIP/2.0":
        start = len(method) + len(uri) + 2
        if _SIP_VERSION_RE.fullmatch(version):
            raise Problem(
                f"unsupported SIP version {version!r}: the only version is SIP/2.0",
                start,
                hint="write SIP/2.0 (a server answers 505 Version Not Supported)",
            )
        raise Problem(f"expected SIP/2.0 at the end of the request line, got {version!r}", start, hint=_REQUEST_LINE_HINT)
    ustart = len(method) + 1
    if uri.startswith("<"):
        raise Problem(
            "the Request-URI must not be enclosed in <>",
            ustart,
            hint=f"write {method} {uri.strip('<>')} {version} (the <> form is for header fields)",
        )
    if SIP_URI_RE.fullmatch(uri) is None or "?" in uri:
        check_uri(line, ustart, ustart + len(uri), context="request-uri")
    return method, uri, version


def _diagnose_request_line(line: str, parts: list[str]) -> None:
    if not line.strip():
        raise Problem("the message has no start line", 0, hint="begin with a request line such as INVITE sip:bob@contoso.com SIP/2.0")
    if line[0] in " \t":
        raise Problem(
            "whitespace at the start of the request line",
            0,
            hint="remove the indentation (in a notebook, textwrap.dedent does it); " + _REQUEST_LINE_HINT,
        )
    stripped = line.rstrip(" \t")
    if len(stripped) < len(line):
        raise Problem(
            "trailing whitespace at the end of the request line",
            len(stripped),
            hint="remove the spaces after SIP/2.0; " + _REQUEST_LINE_HINT,
        )
    tab = line.find("\t")
    if tab >= 0:
        raise Problem("a tab in the request line", tab, hint=_REQUEST_LINE_HINT)
    double = line.find("  ")
    if double >= 0:
        raise Problem(
            "extra whitespace between the elements of the request line",
            double + 1,
            hint=_REQUEST_LINE_HINT,
        )
    if len(parts) > 3:
        # the URI is everything but the first and last word: a space sits inside it
        at = len(parts[0]) + 1 + len(parts[1])
        raise Problem(
            "whitespace inside the Request-URI on the request line",
            at,
            hint="a Request-URI cannot contain spaces: remove them or escape them as %20; " + _REQUEST_LINE_HINT,
        )
    colon = line.find(":")
    if colon > 0 and TOKEN_RE.fullmatch(line[:colon].rstrip()):
        raise Problem(
            "the message starts with a header, not a request or status line",
            0,
            hint="the first line is e.g. INVITE sip:bob@contoso.com SIP/2.0 or SIP/2.0 200 OK",
        )
    raise Problem("a request line needs a method, a Request-URI and SIP/2.0", len(line), hint=_REQUEST_LINE_HINT)


def check_status_line(line: str) -> tuple[str, int, str]:
    """``SIP-Version SP Status-Code SP Reason-Phrase`` -> (version, code, reason)."""
    m = _STATUS_LINE_RE.fullmatch(line)
    if m is not None:
        return m.group(1), int(m.group(2)), m.group(3)
    parts = line.split(" ", 2)
    version = parts[0]
    if version.upper() != "SIP/2.0":
        if _SIP_VERSION_RE.fullmatch(version):
            raise Problem(
                f"unsupported SIP version {version!r}: the only version is SIP/2.0",
                0,
                hint="write SIP/2.0",
            )
        raise Problem(f"a status line starts with SIP/2.0, got {version!r}", 0, hint="e.g. SIP/2.0 200 OK")
    if len(parts) < 2 or not parts[1]:
        raise Problem("the status line has no status code", len(version) + 1, hint="e.g. SIP/2.0 200 OK")
    code = parts[1]
    cstart = len(version) + 1
    if _DIGITS_RE.fullmatch(code) is None:
        raise Problem(f"the status code must be three digits, got {code!r}", cstart, hint="e.g. SIP/2.0 486 Busy Here")
    if len(code) != 3 or not 100 <= int(code) <= 699:  # int() only of 3 digits
        raise Problem(
            f"status code {_short(code)} is out of range (100-699)",
            cstart,
            hint="a status code is three digits from 100 to 699, e.g. 200, 486, 503",
        )
    reason = parts[2] if len(parts) == 3 else ""
    for k, c in enumerate(reason):
        if (c < " " and c != "\t") or c == "\x7f":
            raise Problem(f"control character {c!r} in the reason phrase", cstart + 4 + k, hint="remove it")
    return version, int(code), reason


# ---------------------------------------------------------------------------------------------
# Header fields
# ---------------------------------------------------------------------------------------------

def _check_single_address(value: str) -> None:
    """From, To, Reply-To: one name-addr or addr-spec with header parameters."""
    if not value:
        raise Problem("empty address header", 0, hint="write an address such as <sip:user@contoso.com>;tag=1234")
    scan_address(value, 0, in_list=False)


def _check_contact(value: str) -> None:
    """Contact: a list of addresses, or ``*`` (a REGISTER that removes every binding)."""
    if value == "*":
        return
    if not value:
        raise Problem("empty Contact header", 0, hint="write Contact: <sip:user@host>, or * in a REGISTER that removes every binding")
    scan_address_list(value)


def _check_route(value: str) -> None:
    """Route, Record-Route: a list of name-addrs (the URI always in <>)."""
    if not value:
        raise Problem("empty route header", 0, hint="write <sip:proxy.contoso.com;lr>")
    scan_address_list(value, name_addr_only=True)


def _digits(value: str, header: str, example: str) -> int:
    """A non-negative integer value; huge ones are returned as -1 (the caller says "too large")."""
    if _DIGITS_RE.fullmatch(value) is None:
        if value.startswith("-") and _DIGITS_RE.fullmatch(value[1:]):
            raise Problem(f"negative {header} {_short(value)}", 0, hint=f"{header} is a non-negative integer, e.g. {header}: {example}")
        bad = next((k for k, c in enumerate(value) if not "0" <= c <= "9"), 0)
        raise Problem(
            f"{header} must be a number, got {_short(value)!r}" if value else f"empty {header}",
            bad,
            hint=f"e.g. {header}: {example}",
        )
    return int(value) if len(value) <= MAX_NUMBER_DIGITS else -1  # bounded before int()


def _check_cseq(value: str) -> None:
    m = _CSEQ_RE.fullmatch(value)
    if m is None:
        dm = _DIGITS_RE.match(value)
        if dm is None:
            raise Problem(
                "CSeq must be a sequence number followed by the method",
                0,
                hint="e.g. CSeq: 1 INVITE (the method repeats the request's method)",
            )
        rest = value[dm.end():]
        k = dm.end() + (len(rest) - len(rest.lstrip(" \t")))
        raise Problem(
            "CSeq needs a method after the sequence number" if k >= len(value) or k == dm.end()
            else f"invalid character in the CSeq method",
            k,
            hint="e.g. CSeq: 1 INVITE (the method repeats the request's method)",
        )
    number = m.group(1)
    if len(number) > MAX_NUMBER_DIGITS or int(number) > _MAX_CSEQ:
        raise Problem(
            f"CSeq sequence number {_short(number)} is too large (it must be below 2**31)",
            0,
            hint="RFC 3261 8.1.1.5: the CSeq number is a 32-bit value below 2**31; a server answers 400",
        )


def _check_max_forwards(value: str) -> None:
    n = _digits(value, "Max-Forwards", "70")
    if n < 0 or n > _MAX_FORWARDS:
        raise Problem(
            f"Max-Forwards {_short(value)} is out of range (0-255)",
            0,
            hint="RFC 3261 20.22: Max-Forwards is 0-255; clients send 70",
        )


def _delta_seconds(header: str, example: str) -> Callable[[str], None]:
    def check(value: str) -> None:
        if header == "Retry-After":
            # Retry-After = delta-seconds [ comment ] *( SEMI retry-param )
            m = _DIGITS_RE.match(value)
            if m is None:
                raise Problem(f"{header} must start with a number of seconds", 0, hint=f"e.g. {header}: {example}")
            number = m.group()
        else:
            number = value
        n = _digits(number, header, example)
        if n < 0 or n > _MAX_DELTA:
            raise Problem(
                f"{header} value {_short(number)} is too large (at most 2**32-1 seconds)",
                0,
                hint=f"RFC 3261 20.19: {header} is a number of seconds from 0 to 4294967295",
            )

    check.__doc__ = f"{header}: delta-seconds below 2**32."
    return check


def _check_content_length(value: str) -> None:
    if _digits(value, "Content-Length", "0") < 0 or len(value) > 15:
        raise Problem(
            f"Content-Length {_short(value)} is absurdly large",
            0,
            hint="Content-Length is the number of bytes in the body",
        )


def _check_call_id(value: str) -> None:
    if _CALL_ID_RE.fullmatch(value) is None:
        bad = next((k for k, c in enumerate(value) if c in " \t"), None)
        if not value:
            raise Problem("empty Call-ID", 0, hint="a Call-ID is a unique word such as a8f3c01b@192.0.2.4")
        raise Problem(
            "whitespace inside the Call-ID" if bad is not None else "malformed Call-ID",
            bad or 0,
            hint="a Call-ID is one word, optionally word@word, e.g. a8f3c01b@192.0.2.4",
        )


def _check_date(value: str) -> None:
    if _DATE_RE.fullmatch(value) is not None:
        return
    m = _DATE_NO_ZONE_RE.match(value)
    if m is not None:
        raise Problem(
            f"the Date must be in GMT, got {value[m.end():]!r}",
            m.end(),
            hint="SIP dates are RFC 1123 dates in GMT, e.g. Date: Sat, 13 Nov 2010 23:29:00 GMT",
        )
    raise Problem(
        "the Date is not an RFC 1123 date",
        0,
        hint="write e.g. Date: Sat, 13 Nov 2010 23:29:00 GMT",
    )


_CSEQ_FAST_RE = re.compile(r"[0-9]{1,9}[ \t]+[A-Za-z0-9\-.!%*_+`'~]+")  # below 10**9 < 2**31
# Leading zeros are bounded too (MAX_NUMBER_DIGITS), so a caller's int() of an accepted value is safe.
_MAX_FORWARDS_FAST_RE = re.compile(r"0{0,17}(?:[0-9]{1,2}|1[0-9]{2}|2[0-4][0-9]|25[0-5])")
_CONTENT_LENGTH_FAST_RE = re.compile(r"[0-9]{1,15}")
_DELTA_FAST_RE = re.compile(r"[0-9]{1,9}")  # below 10**9 < 2**32
_RETRY_AFTER_FAST_RE = re.compile(r"[0-9]{1,9}(?:[ \t]*\([^()]*\))?(?:[ \t]*;.*)?")

HEADER_CHECKS: dict[str, tuple[Callable[[str], object], Callable[[str], None], bool]] = {
    "from": (ADDRESS_RE.fullmatch, _check_single_address, False),
    "to": (ADDRESS_RE.fullmatch, _check_single_address, False),
    "reply-to": (ADDRESS_RE.fullmatch, _check_single_address, False),
    "contact": (ADDRESS_LIST_RE.fullmatch, _check_contact, False),
    "route": (NAME_ADDR_LIST_RE.fullmatch, _check_route, False),
    "record-route": (NAME_ADDR_LIST_RE.fullmatch, _check_route, False),
    "via": (VIA_RE.fullmatch, scan_via, False),
    "cseq": (_CSEQ_FAST_RE.fullmatch, _check_cseq, True),
    "call-id": (_CALL_ID_RE.fullmatch, _check_call_id, False),
    "max-forwards": (_MAX_FORWARDS_FAST_RE.fullmatch, _check_max_forwards, False),
    "expires": (_DELTA_FAST_RE.fullmatch, _delta_seconds("Expires", "3600"), False),
    "min-expires": (_DELTA_FAST_RE.fullmatch, _delta_seconds("Min-Expires", "60"), False),
    "retry-after": (_RETRY_AFTER_FAST_RE.fullmatch, _delta_seconds("Retry-After", "120"), False),
    "content-length": (_CONTENT_LENGTH_FAST_RE.fullmatch, _check_content_length, True),
    "date": (_DATE_RE.fullmatch, _check_date, False),
}
"""Header key (see ``_fields.header_key``) -> (fast, full, spans_message). ``fast(value)`` is a
compiled pattern's fullmatch: a match means valid. Otherwise ``full(value)`` decides, raising
``Problem`` at the fault; it may also accept (a fast pattern may be stricter, never looser). The
parser calls ``full`` only after ``fast`` refused, so ``full`` does not try ``fast`` again, and
tests/test_sip_torture.py can hold the scanners alone against the patterns.
``spans_message`` marks CSeq and Content-Length, which the parser also checks against the request
line and the body."""


# ---------------------------------------------------------------------------------------------
# Rules that span the message
# ---------------------------------------------------------------------------------------------

def check_cseq_method(cseq_value: str, method: str) -> None:
    """RFC 3261 8.1.1.5: the CSeq method MUST match the request's method."""
    m = _CSEQ_RE.fullmatch(cseq_value)
    if m is not None and m.group(2) != method:
        raise Problem(
            f"the CSeq method {m.group(2)!r} differs from the request method {method!r}",
            m.start(2),
            hint=f"the CSeq method repeats the method of the request line: CSeq: {m.group(1)} {method}",
        )


def check_body_length(length: int, available: int) -> None:
    """Content-Length may not promise more bytes than follow the empty line (RFC 4475 clerr)."""
    if length > available:
        raise Problem(
            f"Content-Length {length} is larger than the body ({available} bytes)",
            0,
            hint="Content-Length counts the bytes after the empty line (a CRLF counts 2): "
            "correct it, or leave it out and the body is taken whole",
        )
