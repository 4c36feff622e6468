"""bytes or text -> Request | Response, or a SipParseError that says where and what to do.

Framing rules (RFC 3261 7.5, 18.3), and the choices made where a learner types a message:

* Line ends: CRLF, or bare LF. Text (``str``) with bare LF is normalised to CRLF everywhere,
  body included (a learner's SDP wants CRLF). Bytes with bare LF in the header section get CRLF
  there only; their body is left byte for byte.
* Empty lines before the start line are ignored (RFC 3261 7.5). A header section that runs to the
  end of the input without the empty line is accepted (a learner forgets it; so does RFC 4475's
  baddn.dat); the message then has no body.
* Folding: a line starting with SP or HT continues the previous header; the line break and the
  whitespace around it read as one space.
* Body: with one Content-Length value, the body is that many bytes; octets after it are ignored
  (RFC 4475 dblreq: a second message in the same datagram). A Content-Length larger than what
  follows is an error. Without Content-Length, or with several disagreeing values (RFC 4475
  mcl01), the body is everything after the empty line; serialising then adds no Content-Length
  (only ``set_body`` writes one).
* Header text is decoded as UTF-8; bytes that are not UTF-8 are kept (surrogateescape) so that
  ``to_bytes()`` gives them back unchanged.

Every fault is collected (one per line) and raised together as one ``SipParseError`` whose first
diagnostic is the earliest in the message. Grammar rules live in ``_validate``.
"""
from __future__ import annotations

import re

from ..errors import Diagnostic, SipParseError, UsageError
from ._fields import header_key
from ._grammar import TOKEN_RE, Problem
from ._validate import HEADER_CHECKS, check_body_length, check_cseq_method, check_request_line, check_status_line
from .message import Header, Request, Response, _new_header

__all__ = ["parse_message"]

_HEAD_END_RE = re.compile(rb"\r?\n\r?\n")
_LINE_END_RE = re.compile(r"\r?\n")
# The line break of a fold and the whitespace around it read as one space (RFC 3261 7.3.1).
_FOLD_RE = re.compile(r"(?:[ \t]*\r\n)+[ \t]*")
_MAX_DIAGNOSTICS = 20
# Header names seen before (as written) -> key. Only names that are valid tokens get in.
_NAME_KEYS: dict[str, str] = {}


def parse_message(data: bytes | str, *, filename: str = "<message>") -> Request | Response:
    """Parse one SIP message; raise ``SipParseError`` (file, line, column, hint) if it is malformed."""
    if isinstance(data, str):
        data = _text_to_bytes(data, filename)
    elif isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    elif not isinstance(data, bytes):
        raise UsageError(f"parse_message takes bytes or str, got {type(data).__name__}")
    return _parse(data, filename)


def _text_to_bytes(text: str, filename: str) -> bytes:
    if text.count("\n") != text.count("\r\n"):
        text = _LINE_END_RE.sub("\r\n", text)
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as err:
        before = text[: err.start]
        line = before.count("\n") + 1
        column = err.start - (before.rfind("\n") + 1) + 1
        raise SipParseError.at(
            f"character {text[err.start]!r} cannot be encoded as UTF-8",
            filename=filename,
            line=line,
            column=column,
            source=text.splitlines()[line - 1],
            hint="remove it; SIP text is UTF-8",
        ) from None


class _Diagnostics:
    """The faults of one parse, located; only created once the first fault is found."""

    __slots__ = ("filename", "lines", "first_line_no", "items")

    def __init__(self, filename: str, lines: list[str], first_line_no: int):
        self.filename = filename
        self.lines = lines
        self.first_line_no = first_line_no
        self.items: list[Diagnostic] = []

    def add(self, problem: Problem, line_index: int, column0: int) -> None:
        """Record ``problem`` found at ``lines[line_index]``, 0-based column ``column0``."""
        if len(self.items) >= _MAX_DIAGNOSTICS:
            return
        line = self.lines[line_index] if line_index < len(self.lines) else ""
        self.items.append(
            Diagnostic(
                severity="error",
                message=problem.message,
                filename=self.filename,
                line=self.first_line_no + line_index,
                column=min(column0, len(line)) + 1,
                source=line,
                hint=problem.hint,
            )
        )

    def add_in_value(self, problem: Problem, text: str, first_index: int) -> None:
        """Record a problem whose offset is into the unfolded value of the header field ``text``."""
        delta, col = _locate_value(text, text.find(":"), problem.offset)
        self.add(problem, first_index + delta, col)

    def error(self) -> SipParseError:
        self.items.sort(key=lambda d: (d.line, d.column))
        return SipParseError(self.items)


def _parse(raw: bytes, filename: str) -> Request | Response:
    n = len(raw)
    start = 0
    first_line_no = 1
    # RFC 3261 7.5: implementations SHOULD ignore CRLFs that precede the start line.
    while start < n and raw[start] in b"\r\n":
        if raw[start] == 10:
            first_line_no += 1
        start += 1
    if start >= n:
        raise SipParseError.at(
            "empty message",
            filename=filename,
            hint="a message starts with a request line (INVITE sip:bob@contoso.com SIP/2.0) or a status line (SIP/2.0 200 OK)",
        )

    # ---- framing: the header section, its lines, the body. CRLF throughout is the usual case,
    # found by plain find and split; bare or mixed LF goes the regex way.
    j = raw.find(b"\r\n\r\n", start)
    crlf = raw.count(b"\r\n", start, j) if j >= 0 else -1
    if j >= 0 and raw.count(b"\n", start, j) == crlf:
        head = raw[start:j].decode("utf-8", "surrogateescape")
        body_start = j + 4
        lines = head.split("\r\n")
    else:
        m = _HEAD_END_RE.search(raw, start)
        if m is not None:
            j, body_start = m.start(), m.end()
        else:  # no empty line: the headers run to the end and there is no body
            j = body_start = n
            if raw.endswith(b"\r\n"):
                j -= 2
            elif raw.endswith(b"\n"):
                j -= 1
        head = raw[start:j].decode("utf-8", "surrogateescape")
        crlf = head.count("\r\n")
        lines = _LINE_END_RE.split(head)
    faults: list[tuple[Problem, int, int]] = []  # framing faults: (problem, line index, column)
    if raw.count(b"\r", start, j) != crlf:
        faults.extend(_stray_cr(lines))
    diags = None

    # ---- start line
    first = lines[0]
    request = first[:4].upper() != "SIP/"  # a status line starts with the version
    method = uri = reason = ""
    version = "SIP/2.0"
    code = 0
    try:
        if request:
            method, uri, version = check_request_line(first)
        else:
            version, code, reason = check_status_line(first)
    except Problem as problem:
        faults.append((problem, 0, problem.offset))

    # ---- header fields
    folded = "\n " in head or "\n\t" in head
    texts: list[str] | None = None  # field texts, when they differ from lines[1:]
    firsts: list[int] | None = None  # line index of each field, when folding moved them
    raw_map: dict[int, tuple[Header, str]] = {}
    if folded:
        texts, firsts = _group_folded(lines, faults)
    if faults:
        diags = _Diagnostics(filename, lines, first_line_no)
        for problem, index, column in faults:
            diags.add(problem, index, column)
    headers, special, diags = _header_fields(
        lines[1:] if texts is None else texts, firsts, raw_map, diags, filename, lines, first_line_no
    )

    # ---- rules that span the message, and the body
    body = raw[body_start:]
    lengths: dict[int, int] = {}
    cseq_seen = False
    for key, value, i in special:
        if key == "cseq":
            if request and not cseq_seen and method:
                try:
                    check_cseq_method(value, method)
                except Problem as problem:
                    diags = diags or _Diagnostics(filename, lines, first_line_no)
                    diags.add_in_value(problem, texts[i] if texts else lines[i + 1], firsts[i] if firsts else i + 1)
            cseq_seen = True
        else:
            lengths.setdefault(int(value), i)
    if len(lengths) == 1:
        ((length, i),) = lengths.items()
        try:
            check_body_length(length, len(body))
        except Problem as problem:
            diags = diags or _Diagnostics(filename, lines, first_line_no)
            diags.add_in_value(problem, texts[i] if texts else lines[i + 1], firsts[i] if firsts else i + 1)
        body = body[:length]  # RFC 4475 dblreq: octets after the body are ignored

    if diags is not None:
        raise diags.error()

    msg: Request | Response
    if request:
        msg = object.__new__(Request)
        msg.method = method
        msg._request_uri = uri
    else:
        msg = object.__new__(Response)
        msg.status_code = code
        msg.reason = reason
    msg.headers = headers
    msg._body = body
    msg.sip_version = version
    msg._raw = raw_map
    return msg


def _header_fields(
    texts: list[str],
    firsts: list[int] | None,
    raw_map: dict[int, tuple[Header, str]],
    diags: _Diagnostics | None,
    filename: str,
    lines: list[str],
    first_line_no: int,
) -> tuple[list[Header], list[tuple[str, str, int]], _Diagnostics | None]:
    """Read each header field (``texts[i]``, folds joined) into a Header and check its value.

    This loop is the parser's hot path: a name seen before costs one dict lookup, a value with a
    check costs one compiled fullmatch when it is valid. Returns the headers, the CSeq and
    Content-Length values for the message-wide rules, and the diagnostics so far.
    """
    headers: list[Header] = []
    special: list[tuple[str, str, int]] = []
    checks = HEADER_CHECKS
    name_keys = _NAME_KEYS
    new_header = _new_header
    for i, text in enumerate(texts):
        name, _, value = text.partition(":")
        key = name_keys.get(name)
        keep_text = False  # keep the line as written: it is not "Name: value"
        if key is None:
            try:
                key, name = _name_key(text, text.find(":"))
            except Problem as problem:
                diags = diags or _Diagnostics(filename, lines, first_line_no)
                diags.add(problem, firsts[i] if firsts else i + 1, problem.offset)
                continue
            keep_text = len(name) + 1 + len(value) != len(text)  # "TO :" (blanks before the colon)
        if "\n" in value:
            value = _FOLD_RE.sub(" ", value)
            keep_text = True
        stripped = value.strip(" \t")
        h = new_header(Header, (name, stripped))
        headers.append(h)
        if keep_text or value[:1] != " " or len(value) != len(stripped) + 1:
            raw_map[id(h)] = (h, text)
        check = checks.get(key)
        if check is not None:
            if check[0](stripped) is None:
                try:
                    check[1](stripped)
                except Problem as problem:
                    diags = diags or _Diagnostics(filename, lines, first_line_no)
                    diags.add_in_value(problem, text, firsts[i] if firsts else i + 1)
                    continue
            if check[2]:
                special.append((key, stripped, i))
    return headers, special, diags


def _group_folded(lines: list[str], faults: list) -> tuple[list[str], list[int]]:
    """Join continuation lines to their header: field texts (CRLF kept) and their first line index."""
    texts: list[str] = []
    firsts: list[int] = []
    for idx in range(1, len(lines)):
        line = lines[idx]
        if line[:1] in (" ", "\t") and line:
            if texts:
                texts[-1] += "\r\n" + line
            else:
                faults.append(
                    (
                        Problem(
                            "a line that starts with whitespace continues the previous header, but there is none",
                            0,
                            hint="remove the indentation (in a notebook, textwrap.dedent does it)",
                        ),
                        idx,
                        0,
                    )
                )
            continue
        texts.append(line)
        firsts.append(idx)
    return texts, firsts


def _stray_cr(lines: list[str]) -> list[tuple[Problem, int, int]]:
    out = []
    for idx, line in enumerate(lines):
        k = line.find("\r")
        if k >= 0:
            out.append((Problem("a carriage return (CR) not followed by LF", k, hint="end every line with CRLF (or LF)"), idx, k))
    return out


def _name_key(text: str, colon: int) -> tuple[str, str]:
    """Check the header name of a field not seen before: (key, name without trailing blanks).

    Names written exactly as a token are remembered so the next message skips this check.
    """
    if colon < 0:
        raise Problem(
            f"header line has no ':' (got {text[:60]!r})",
            0,
            hint="a header line is 'Name: value', e.g. 'From: <sip:alice@contoso.com>;tag=1'; "
            "a line that starts with whitespace continues the previous header",
        )
    if colon == 0:
        raise Problem("header line has no name before ':'", 0, hint="a header line is 'Name: value'")
    written = text[:colon]
    name = written.rstrip(" \t")
    if TOKEN_RE.fullmatch(name) is None:
        bad = next((k for k, c in enumerate(name) if not TOKEN_RE.fullmatch(c)), 0)
        c = name[bad]
        if c in " \t" and colon + 1 < len(text) and text[colon + 1] not in " \t":
            # "From sip:alice@contoso.com": the ':' found belongs to a URI; the header's is missing.
            first = name[:bad]
            raise Problem(
                f"header line has no ':' (got {text[:60]!r})",
                0,
                hint=f"a header line is 'Name: value'; write '{first}: {text[bad:].strip()[:40]}'",
            )
        if c in " \t":
            message = f"header name {name!r} contains whitespace"
        elif c in "\r\n":
            message = f"header name {name[:bad]!r} is folded onto the next line"
        else:
            message = f"character {c!r} is not allowed in a header name"
        raise Problem(
            message,
            bad,
            hint="a header name is a token such as Contact or ms-keep-alive, followed directly by ':'",
        )
    key = header_key(name)
    if written == name and len(_NAME_KEYS) < 4096:
        _NAME_KEYS[written] = key
    return key, name


def _locate_value(text: str, colon: int, offset: int) -> tuple[int, int]:
    """Map an offset into the unfolded value of field ``text`` to (line delta, 0-based column).

    Rebuilds the value the way the parser does (``_FOLD_RE`` then strip), remembering where each
    character came from. Only runs on the error path.
    """
    segs = text.split("\r\n")
    chars: list[tuple[str, int, int]] = [(segs[0][c], 0, c) for c in range(colon + 1, len(segs[0]))]
    for d in range(1, len(segs)):
        while chars and chars[-1][0] in " \t":
            chars.pop()
        seg = segs[d]
        k = len(seg) - len(seg.lstrip(" \t"))
        chars.append((" ", d, max(k - 1, 0)))
        chars.extend((seg[c], d, c) for c in range(k, len(seg)))
    lo = 0
    while lo < len(chars) and chars[lo][0] in " \t":
        lo += 1
    hi = len(chars)
    while hi > lo and chars[hi - 1][0] in " \t":
        hi -= 1
    chars = chars[lo:hi]
    if offset < len(chars):
        return chars[offset][1], chars[offset][2]
    if chars:
        return chars[-1][1], chars[-1][2] + 1
    return 0, len(segs[0])
