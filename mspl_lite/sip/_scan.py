"""Scanners for the SIP grammar: walk a value that a fast pattern of ``_grammar`` refused and
raise ``Problem`` at the first character that breaks the rule, with a hint for the learner.

They are the authority on validity (a pattern may be stricter, never looser), and they also take
values apart for the address helpers. Offsets in a ``Problem`` are 0-based indexes into the
string scanned; the parser turns them into line and column.
"""
from __future__ import annotations

import re
from typing import NamedTuple

from ._grammar import (
    ABS_URI_RE,
    HNAME_RE,
    HOST_RE,
    HVALUE_RE,
    PARAMCHARS_RE,
    PASSWORD_CHAR_RE,
    PORT_RE,
    SCHEME_RE,
    SIP_URI_RE,
    TEL_URI_RE,
    TOKEN_CHARS,
    TOKEN_RE,
    UNQUOTED_VALUE_RE,
    URIC_CHARS,
    USER_CHAR_RE,
    Problem,
)

__all__ = [
    "AddressParts",
    "UriParts",
    "scan_quoted",
    "unquote",
    "check_uri",
    "scan_address",
    "scan_address_list",
    "scan_header_params",
    "scan_via",
]

_URI_HINT = "a SIP URI looks like sip:user@host:port;param=value (the user, port and params are optional)"


def _skip_ws(s: str, i: int) -> int:
    n = len(s)
    while i < n and s[i] in " \t":
        i += 1
    return i


# ---------------------------------------------------------------------------------------------
# Quoted strings
# ---------------------------------------------------------------------------------------------

def scan_quoted(s: str, i: int) -> int:
    """Return the index just after the quoted-string that starts at ``s[i] == '"'``."""
    j = i + 1
    n = len(s)
    while j < n:
        c = s[j]
        if c == '"':
            return j + 1
        if c == "\\":
            j += 2
            continue
        if (c < " " and c != "\t") or c == "\x7f":
            raise Problem(
                f"control character {c!r} inside a quoted string",
                j,
                hint='write it as a quoted pair (a backslash before it), e.g. "A\\"B"',
            )
        j += 1
    raise Problem(
        "unterminated quoted string: the opening '\"' has no closing '\"'",
        i,
        hint='close the quoted display name, e.g. "Mr. J. User" <sip:j.user@example.com>',
    )


def unquote(text: str) -> str:
    """The content of a quoted-string with its quoted pairs resolved (``"a\\"b"`` -> ``a"b``)."""
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        return text
    body = text[1:-1]
    if "\\" not in body:
        return body
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            out.append(body[i + 1])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# URIs
# ---------------------------------------------------------------------------------------------

class UriParts(NamedTuple):
    """The pieces of a URI as written (escapes kept); ``host`` is None for tel: and other schemes."""

    scheme: str
    user: str | None
    password: str | None
    host: str | None
    port: str | None
    params: str  # ";a=b;lr" as written, or ""
    headers: str  # "a=b&c=d" as written (without the "?"), or ""


def check_uri(s: str, start: int, end: int, *, context: str) -> UriParts:
    """Check the URI ``s[start:end]`` and return its parts, or raise ``Problem``.

    ``context`` is ``"request-uri"``, ``"name-addr"`` (inside <>) or ``"addr-spec"`` (bare in a
    header, where ``;`` ``,`` and ``?`` would be ambiguous).
    """
    text = s[start:end]
    if not text:
        raise Problem("empty URI", start, hint=_URI_HINT)
    if " " in text or "\t" in text:
        k = min(i for i in (text.find(" "), text.find("\t")) if i >= 0)
        raise Problem("whitespace inside a URI", start + k, hint="a URI cannot contain spaces; remove them or escape them as %20")
    m = SCHEME_RE.match(text)
    if m is None:
        raise Problem(
            f"URI {text!r} has no scheme",
            start,
            hint="start the URI with its scheme: sip:, sips: or tel:",
        )
    scheme = m.group(1).lower()
    if scheme in ("sip", "sips"):
        sm = SIP_URI_RE.fullmatch(text)
        if sm is not None:
            parts = UriParts(
                scheme,
                sm.group("user"),
                sm.group("password"),
                sm.group("host"),
                sm.group("port"),
                sm.group("params"),
                sm.group("headers") or "",
            )
        else:
            parts = _diagnose_sip_uri(text, start, m.end(), scheme)
        if parts.headers and context == "request-uri":
            q = text.index("?", len(text) - len(parts.headers) - 1)
            raise Problem(
                "escaped headers ('?...') are not allowed in a SIP Request-URI",
                start + q,
                hint="RFC 3261 19.1.1: the '?header=value' part of a URI may appear in a Contact or "
                "Refer-To, never in the Request-URI; remove it",
            )
        return parts
    if scheme == "tel":
        tm = TEL_URI_RE.fullmatch(text)
        if tm is None:
            raise Problem(
                f"malformed tel: URI {text!r}",
                start,
                hint="a tel: URI is a phone number, e.g. tel:+14255550100 or tel:5550100;phone-context=contoso.com",
            )
        return UriParts("tel", tm.group("user"), None, None, None, tm.group("params"), "")
    if ABS_URI_RE.fullmatch(text) is None:
        k = next((k for k in range(m.end(), len(text)) if text[k] not in URIC_CHARS), m.end())
        what = f"character {text[k]!r} is not allowed in a URI" if k < len(text) else "URI has nothing after its scheme"
        raise Problem(what, start + k, hint="escape it as %XX (e.g. %20 for a space)")
    return UriParts(scheme, None, None, None, None, "", "")


def _check_chars(text: str, start: int, end: int, char_re: re.Pattern[str], base: int, part: str, *,
                 hint: str) -> None:
    """Raise ``Problem`` at the first character of ``text[start:end]`` that ``char_re`` (one
    allowed character or %XX escape) does not match; ``part`` names the URI part for the message."""
    j = start
    while j < end:
        m = char_re.match(text, j)
        if m is None:
            raise Problem(f"character {text[j]!r} is not allowed in {part}", base + j, hint=hint)
        j = m.end()


def _diagnose_sip_uri(text: str, base: int, i: int, scheme: str) -> UriParts:
    """Walk a SIP URI that the fast pattern refused; raise at the first fault (or accept it)."""
    n = len(text)
    user = password = None
    at = text.find("@", i)
    if at >= 0:
        colon = text.find(":", i, at)
        user_end = colon if colon >= 0 else at
        if user_end == i:
            raise Problem("empty user part before '@' in a SIP URI", base + i, hint=_URI_HINT)
        _check_chars(text, i, user_end, USER_CHAR_RE, base, "the user part of a SIP URI",
                     hint="escape it as %XX (e.g. %40 for @, %20 for a space)")
        user = text[i:user_end]
        if colon >= 0:
            _check_chars(text, colon + 1, at, PASSWORD_CHAR_RE, base, "the password of a SIP URI",
                         hint="escape it as %XX")
            password = text[colon + 1 : at]
        i = at + 1
    hm = HOST_RE.match(text, i)
    if hm is None:
        raise Problem(
            "missing or malformed host in a SIP URI",
            base + i,
            hint=_URI_HINT,
        )
    host = hm.group()
    i = hm.end()
    port = None
    if i < n and text[i] == ":":
        pm = PORT_RE.match(text, i + 1)
        if pm is None:
            raise Problem("the port of a SIP URI must be a number", base + i + 1, hint="e.g. sip:pool.contoso.com:5061")
        port = pm.group()
        i = pm.end()
    params_start = i
    while i < n and text[i] == ";":
        nm = PARAMCHARS_RE.match(text, i + 1)
        if nm is None:
            raise Problem(
                "empty URI parameter (extraneous ';')" if i + 1 >= n or text[i + 1] in ";?" else
                f"character {text[i + 1]!r} cannot start a URI parameter",
                base + i + (0 if i + 1 >= n or text[i + 1] in ";?" else 1),
                hint="URI parameters are written ;name or ;name=value",
            )
        i = nm.end()
        if i < n and text[i] == "=":
            vm = PARAMCHARS_RE.match(text, i + 1)
            if vm is None:
                raise Problem("URI parameter has '=' but no value", base + i, hint="write ;name=value or just ;name")
            i = vm.end()
    params = text[params_start:i]
    headers = ""
    if i < n and text[i] == "?":
        h0 = i + 1
        i = h0
        while True:
            hm2 = HNAME_RE.match(text, i)
            if hm2 is None or hm2.end() >= n or text[hm2.end()] != "=":
                raise Problem("malformed URI header (expected ?name=value)", base + i, hint="URI headers are written ?name=value&name2=value2 with %XX escapes")
            i = HVALUE_RE.match(text, hm2.end() + 1).end()
            if i < n and text[i] == "&":
                i += 1
                continue
            break
        headers = text[h0:i]
    if i < n:
        raise Problem(
            f"character {text[i]!r} is not allowed here in a SIP URI",
            base + i,
            hint="escape it as %XX; " + _URI_HINT,
        )
    return UriParts(scheme, user, password, host, port, params, headers)


# ---------------------------------------------------------------------------------------------
# Addresses: name-addr / addr-spec with header parameters (From, To, Contact, Route, ...)
# ---------------------------------------------------------------------------------------------

class AddressParts(NamedTuple):
    """One address as written: display name (None if absent), URI text and its offset, params."""

    display_name: str | None
    uri: str
    uri_start: int
    angle: bool
    params: list  # [(name, value or None)], values as written (quotes kept)
    uri_parts: UriParts
    end: int


def scan_header_params(s: str, i: int, *, in_list: bool, what: str = "the address") -> tuple[list, int]:
    """Scan ``*( SEMI generic-param )`` from ``i``; stop at the end or (in a list) at a ','."""
    params: list = []
    n = len(s)
    while True:
        j = _skip_ws(s, i)
        if j >= n:
            return params, j
        c = s[j]
        if c == "," and in_list:
            return params, j
        if c != ";":
            if c == ",":
                raise Problem(
                    "this header takes a single value, but a ',' follows it",
                    j,
                    hint="put a display name that contains a comma in double quotes, or remove the second value",
                )
            raise Problem(
                f"unexpected {c!r} after {what}",
                j,
                hint="parameters follow as ;name=value; put a URI that has its own ';' or '?' inside <>",
            )
        k = _skip_ws(s, j + 1)
        tm = TOKEN_RE.match(s, k)
        if tm is None:
            if k >= n or s[k] in ";,":
                raise Problem(
                    "extraneous ';' (empty parameter)",
                    j,
                    hint="remove the extra separator: parameters are written ;name or ;name=value",
                )
            raise Problem(
                f"character {s[k]!r} cannot start a parameter name",
                k,
                hint="parameter names are tokens (letters, digits and -.!%*_+`'~)",
            )
        name = tm.group()
        e = _skip_ws(s, tm.end())
        if e < n and s[e] == "=":
            v = _skip_ws(s, e + 1)
            if v < n and s[v] == '"':
                ve = scan_quoted(s, v)
            else:
                vm = UNQUOTED_VALUE_RE.match(s, v)
                if vm is None:
                    raise Problem(
                        f"parameter {name!r} has '=' but no value",
                        e,
                        hint=f"write ;{name}=value, ;{name}=\"quoted value\" or just ;{name}",
                    )
                ve = vm.end()
            params.append((name, s[v:ve]))
            i = ve
        else:
            params.append((name, None))
            i = tm.end()


def scan_address(s: str, i: int, *, in_list: bool, name_addr_only: bool = False) -> AddressParts:
    """Scan one ``(name-addr / addr-spec) *(SEMI param)`` starting at ``i``."""
    n = len(s)
    i = _skip_ws(s, i)
    if i >= n or (in_list and s[i] == ","):
        raise Problem(
            "missing address" if not in_list or i >= n else "extraneous ',' (empty list element)",
            i,
            hint="write an address such as <sip:user@contoso.com> or \"Name\" <sip:user@contoso.com>",
        )
    display_name = None
    c = s[i]
    if c == '"':
        j = scan_quoted(s, i)
        display_name = unquote(s[i:j])
        k = _skip_ws(s, j)
        if k >= n or s[k] != "<":
            raise Problem(
                "a quoted display name must be followed by <URI>",
                k,
                hint='write "Display Name" <sip:user@host>',
            )
        i = k
    elif c != "<":
        sm = SCHEME_RE.match(s, i)
        if sm is not None and sm.end() < n and s[sm.end()] not in " \t":
            if name_addr_only:
                raise Problem(
                    "this header needs its URI in <>",
                    i,
                    hint="write <sip:host;lr> (Route and Record-Route take name-addr only)",
                )
            return _scan_addr_spec(s, i, in_list=in_list)
        j = i
        while j < n and s[j] != "<":
            ch = s[j]
            if ch in TOKEN_CHARS or ch in " \t":
                j += 1
                continue
            word_start = j
            while word_start > i and s[word_start - 1] not in " \t":
                word_start -= 1
            if ch == ":" and SCHEME_RE.match(s, word_start):
                raise Problem(
                    "a URI that follows a display name must be enclosed in <>",
                    word_start,
                    hint="write Alice <sip:alice@contoso.com>",
                )
            raise Problem(
                f"character {ch!r} is not allowed in an unquoted display name",
                j,
                hint='an unquoted display name may hold only token characters; put it in double quotes, '
                'e.g. "Bell, Alexander" <sip:a.g.bell@example.com>',
            )
        if j >= n:
            raise Problem(
                "expected <URI> after the display name",
                j,
                hint="write Name <sip:user@host>, or the URI alone",
            )
        display_name = s[i:j].strip(" \t")
        i = j
    # LAQUOT addr-spec RAQUOT
    close = s.find(">", i + 1)
    if close < 0:
        raise Problem("missing '>' after the URI", i, hint="close the URI: <sip:user@host>")
    uri_start = i + 1
    if uri_start < close and (s[uri_start] in " \t" or s[close - 1] in " \t"):
        k = uri_start if s[uri_start] in " \t" else close - 1
        while s[k - 1] in " \t" and k > uri_start:
            k -= 1
        raise Problem(
            "whitespace inside <...>: an addr-spec cannot contain spaces",
            k,
            hint="remove the spaces between '<', the URI and '>': <sip:t.watson@example.org>",
        )
    lt = s.find("<", uri_start, close)
    if lt >= 0:
        raise Problem("'<' inside <...>", lt, hint="a URI cannot contain '<'; escape it as %3C")
    uri_parts = check_uri(s, uri_start, close, context="name-addr")
    params, end = scan_header_params(s, close + 1, in_list=in_list)
    return AddressParts(display_name, s[uri_start:close], uri_start, True, params, uri_parts, end)


def _scan_addr_spec(s: str, i: int, *, in_list: bool) -> AddressParts:
    """A URI written without <> in From/To/Contact: it ends at ';', ',' or whitespace."""
    n = len(s)
    j = i
    while j < n and s[j] not in ";, \t":
        ch = s[j]
        if ch == "?":
            raise Problem(
                "a URI with escaped headers ('?...') must be enclosed in <> here",
                j,
                hint="RFC 3261 20: a URI that contains ',', ';' or '?' must be written in <>, "
                "e.g. Contact: <sip:user@example.com?Route=...>",
            )
        if ch in '<>"':
            raise Problem(f"unexpected {ch!r} inside a URI", j, hint="write the address as \"Name\" <sip:user@host>")
        j += 1
    uri_parts = check_uri(s, i, j, context="addr-spec")
    params, end = scan_header_params(s, j, in_list=in_list, what="the URI")
    return AddressParts(None, s[i:j], i, False, params, uri_parts, end)


def scan_address_list(s: str, *, name_addr_only: bool = False) -> list[AddressParts]:
    """Scan a comma-separated list of addresses (Contact, Route, Record-Route)."""
    out = []
    i = 0
    n = len(s)
    while True:
        parts = scan_address(s, i, in_list=True, name_addr_only=name_addr_only)
        out.append(parts)
        i = _skip_ws(s, parts.end)
        if i >= n:
            return out
        # scan_header_params stopped at ','
        i += 1
        if _skip_ws(s, i) >= n:
            raise Problem("extraneous ',' at the end of the list", i - 1, hint="remove the trailing comma")


# ---------------------------------------------------------------------------------------------
# Via
# ---------------------------------------------------------------------------------------------

_VIA_HINT = "a Via value is SIP/2.0/<transport> host[:port];branch=z9hG4bK..., e.g. SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bK776a"


def scan_via(s: str) -> None:
    """Scan ``via-parm *(COMMA via-parm)``; raise ``Problem`` at the first fault."""
    n = len(s)
    i = 0
    while True:
        i = _skip_ws(s, i)
        if i >= n or s[i] == ",":
            raise Problem(
                "extraneous ',' (empty Via value)" if i < n or i > 0 else "empty Via header",
                i,
                hint="remove the extra separator; " + _VIA_HINT,
            )
        for step in range(3):
            tm = TOKEN_RE.match(s, i)
            if tm is None:
                raise Problem("expected SIP/2.0/<transport> at the start of a Via value", i, hint=_VIA_HINT)
            i = _skip_ws(s, tm.end())
            if step < 2:
                if i >= n or s[i] != "/":
                    raise Problem("expected '/' in the Via protocol (SIP/2.0/<transport>)", i, hint=_VIA_HINT)
                i = _skip_ws(s, i + 1)
        if i == tm.end() and i < n:
            raise Problem("expected whitespace between the Via protocol and the host", i, hint=_VIA_HINT)
        hm = HOST_RE.match(s, i)
        if hm is None:
            raise Problem("missing or malformed host in Via", i, hint=_VIA_HINT)
        i = hm.end()
        j = _skip_ws(s, i)
        if j < n and s[j] == ":":
            pm = PORT_RE.match(s, _skip_ws(s, j + 1))
            if pm is None:
                raise Problem("the Via port must be a number", j + 1, hint=_VIA_HINT)
            i = pm.end()
        _params, i = scan_header_params(s, i, in_list=True, what="the Via host")
        if i >= n:
            return
        i += 1  # the ','
