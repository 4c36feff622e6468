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
from typing import Sequence

from ..errors import Diagnostic, SipParseError, UsageError
from ..text import lone_surrogate, shown
from ._fields import header_key
from ._grammar import TOKEN_RE, Problem
from ._validate import HEADER_CHECKS, check_body_length, check_cseq_method, check_request_line, check_status_line
from .message import Header, Request, Response, _new_header

__all__ = ["parse_message"]

_HEAD_END_RE = re.compile(rb"\r?\n\r?\n")
_LINE_END_RE = re.compile(r"\r?\n")
_FOLD_START_RE = re.compile(r"\n[ \t]")  # a line that continues the one before it
_MAX_DIAGNOSTICS = 20
# A fault found while parsing: (problem, index into the message's lines, 0-based column).
_Fault = tuple[Problem, int, int]
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
    """A learner's text as bytes: bare LF becomes CRLF everywhere (body included), then UTF-8.

    A lone surrogate (any one, also U+DC80-U+DCFF, which ``surrogateescape`` would turn into a byte
    that is not UTF-8) is no character: a located error, as ``text.lone_surrogate`` defines it.
    """
    bad = lone_surrogate(text)
    if bad is not None:
        before = text[:bad]
        line = before.count("\n") + 1
        start = before.rfind("\n") + 1
        end = text.find("\n", bad)
        raise SipParseError.at(
            f"{shown(text[bad])} is a lone surrogate, not a character: SIP text is UTF-8",
            filename=filename,
            line=line,
            column=bad - start + 1,
            source=shown(text[start : end if end >= 0 else len(text)].rstrip("\r")),
            hint="remove it (it often comes from a bad copy and paste, or '\\ud800' in Python code); "
            "to send bytes that are not UTF-8, pass the message as bytes",
        )
    if text.count("\n") != text.count("\r\n"):
        text = _LINE_END_RE.sub("\r\n", text)
    return text.encode("utf-8")


def _value_fault(problem: Problem, text: str, first_index: int) -> _Fault:
    """Locate a problem whose offset is into the unfolded value of the header field ``text``
    (which starts on line ``first_index``)."""
    delta, column = _locate_value(text, text.find(":"), problem.offset)
    return problem, first_index + delta, column


def _error(faults: list[_Fault], filename: str, lines: list[str], first_line_no: int) -> SipParseError:
    """One SipParseError for the first ``_MAX_DIAGNOSTICS`` faults, earliest in the message first."""
    items = []
    for problem, index, column0 in faults[:_MAX_DIAGNOSTICS]:
        line = lines[index] if index < len(lines) else ""
        items.append(
            Diagnostic(
                severity="error",
                message=problem.message,
                filename=filename,
                line=first_line_no + index,
                column=min(column0, len(line)) + 1,
                source=line,
                hint=problem.hint,
            )
        )
    items.sort(key=lambda d: (d.line, d.column))
    return SipParseError(items)


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
            "empty message" if not n else "empty message: only blank lines",
            filename=filename, line=1 if n else 0, column=1 if n else 0,
            hint="a message starts with a request line (INVITE sip:bob@contoso.com SIP/2.0) or a status line (SIP/2.0 200 OK)",
        )

    # ---- framing: the header section, its lines, the body. CRLF throughout is the usual case:
    # one find, one split, and two counts that prove no bare LF or CR is left in the lines.
    # Bare or mixed LF goes the regex way.
    j = raw.find(b"\r\n\r\n", start)
    if j >= 0:
        head = raw[start:j].decode("utf-8", "surrogateescape")
        lines = head.split("\r\n")
        crlf = len(lines) - 1
        body_start = j + 4
    if j < 0 or head.count("\n") != crlf:
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
    faults: list[_Fault] = []
    if head.count("\r") != crlf:
        faults.extend(_stray_cr(lines))

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

    # ---- header fields: texts[i] is one field (continuation lines joined), starting on line firsts[i]
    if _FOLD_START_RE.search(head) is None:
        texts, firsts = lines[1:], range(1, len(lines))
    else:
        texts, firsts = _group_folded(lines, faults)
    raw_map: dict[int, tuple[Header, str]] = {}
    headers, message_wide = _header_fields(texts, firsts, raw_map, faults)

    # ---- rules that span the message, and the body
    lengths: dict[int, int] = {}  # Content-Length value -> its field's index
    cseq_seen = False
    for key, value, i in message_wide:
        if key == "cseq":
            if request and not cseq_seen and method:
                try:
                    check_cseq_method(value, method)
                except Problem as problem:
                    faults.append(_value_fault(problem, texts[i], firsts[i]))
            cseq_seen = True
        else:
            lengths.setdefault(int(value), i)
    body_end = n
    if len(lengths) == 1:
        ((length, i),) = lengths.items()
        try:
            check_body_length(length, n - body_start)
        except Problem as problem:
            faults.append(_value_fault(problem, texts[i], firsts[i]))
        body_end = body_start + length  # RFC 4475 dblreq: octets after the body are ignored

    if faults:
        raise _error(faults, filename, lines, first_line_no)

    # Every part is checked already: build the message without the constructors, whose checks
    # would validate each header a second time.
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
    msg._body = raw[body_start:body_end]
    msg.sip_version = version
    msg._raw = raw_map
    return msg


def _header_fields(
    texts: list[str], firsts: Sequence[int], raw_map: dict[int, tuple[Header, str]], faults: list[_Fault]
) -> tuple[list[Header], list[tuple[str, str, int]]]:
    """Read each header field (``texts[i]``, folds joined) into a Header and check its value.

    This loop is the parser's hot path: a name seen before costs one dict lookup, a value with a
    check costs one compiled fullmatch when it is valid. A field whose text differs from
    ``Name: value`` goes into ``raw_map``, so that ``to_bytes()`` writes it as it was given. Faults
    go to ``faults``. Returns the headers and the CSeq and Content-Length values (key, value,
    field index) for the rules that span the message.
    """
    headers: list[Header] = []
    message_wide: list[tuple[str, str, int]] = []
    checks = HEADER_CHECKS
    name_keys = _NAME_KEYS
    new_header = _new_header
    for i, text in enumerate(texts):
        name, _, value = text.partition(":")
        key = name_keys.get(name)
        if key is None:
            try:
                key, name = _name_key(text)
            except Problem as problem:
                faults.append((problem, firsts[i], problem.offset))
                continue
        value = _unfold(value) if "\n" in value else value.strip(" \t")
        h = new_header(Header, (name, value))
        headers.append(h)
        if text != f"{name}: {value}":  # folded, blanks before ':' or around the value, ...
            raw_map[id(h)] = (h, text)
        check = checks.get(key)
        if check is not None:
            fast, full, spans_message = check
            if fast(value) is None:
                try:
                    full(value)
                except Problem as problem:
                    faults.append(_value_fault(problem, text, firsts[i]))
                    continue
            if spans_message:
                message_wide.append((key, value, i))
    return headers, message_wide


def _unfold(value: str) -> str:
    """A folded value as one line, stripped: each line break with the whitespace around it (and any
    whitespace-only lines between) reads as one space (RFC 3261 7.3.1).

    A split and a strip per line, so each character is visited a bounded number of times. (The
    regex ``(?:[ \t]*\r\n)+[ \t]*`` it replaces re-scanned a long run of blanks from each of its
    positions: 80 KB of blanks took 11 s.)
    """
    segs = value.split("\r\n")
    rest = [t for t in (seg.strip(" \t") for seg in segs[1:]) if t]
    return " ".join([segs[0].strip(" \t"), *rest]).strip(" \t")


def _group_folded(lines: list[str], faults: list[_Fault]) -> tuple[list[str], list[int]]:
    """Join continuation lines to their header: field texts (CRLF kept) and their first line index.

    Each field's lines are collected in a list and joined once: appending to the text instead
    copies it for every continuation line (quadratic in the number of lines).
    """
    texts: list[str] = []
    firsts: list[int] = []
    groups: list[list[str]] = []
    for idx in range(1, len(lines)):
        line = lines[idx]
        if line[:1] in (" ", "\t"):
            if groups:
                groups[-1].append(line)
            else:
                problem = Problem(
                    "a line that starts with whitespace continues the previous header, but there is none",
                    0,
                    hint="remove the indentation (in a notebook, textwrap.dedent does it)",
                )
                faults.append((problem, idx, 0))
            continue
        groups.append([line])
        firsts.append(idx)
    texts = [group[0] if len(group) == 1 else "\r\n".join(group) for group in groups]
    return texts, firsts


def _stray_cr(lines: list[str]) -> list[_Fault]:
    """A fault for each line that still holds a CR once the lines are split at their line ends."""
    out = []
    for idx, line in enumerate(lines):
        k = line.find("\r")
        if k >= 0:
            out.append((Problem("a carriage return (CR) not followed by LF", k, hint="end every line with CRLF (or LF)"), idx, k))
    return out


def _name_key(text: str) -> tuple[str, str]:
    """Check the header name of a field not seen before: (key, name without trailing blanks).

    Names written exactly as a token are remembered so the next message skips this check.
    """
    colon = text.find(":")
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

    Rebuilds the value the way the parser does (``_unfold``), remembering where each
    character came from. Only runs on the error path.
    """
    if "\r\n" not in text:  # one line: the value is the text after ':' without its blanks
        start = colon + 1 + (len(text) - colon - 1 - len(text[colon + 1 :].lstrip(" \t")))
        length = len(text[start:].rstrip(" \t"))
        return 0, start + min(offset, length) if length else len(text)
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
