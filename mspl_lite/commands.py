"""``mspl-lite apps`` and ``mspl-lite trace``: the chain and one transaction from the command line.

    mspl-lite apps  [--app FILE.am@PRIORITY ...] [--lab FILE] [--json]
    mspl-lite trace MESSAGE_FILE --app FILE.am@PRIORITY [--app ...] [--lab FILE] [--json]

Without ``@PRIORITY`` an application goes just above UserServices when its manifest has
<allowRegistrationBeforeUserServices/>, otherwise just below it; a priority past the end of the
chain places it last. An application placed below DefaultRouting is registered with a warning on
stderr (Dn439078 says it must be above; decision D52). Errors are MsplLiteError values: cli.py prints them and exits 1.

This module sits on top of the simulator and the view layer (it draws --diagram), so it lives
beside cli.py rather than inside mspl_lite.frontend: data flows one way.
"""
from __future__ import annotations

import json
import os
import sys
from typing import TextIO

from .errors import InputError
from .text import shown
from .frontend import FrontEnd
from .view import chain_diagram, transaction_diagram

__all__ = ["apps_command", "trace_command", "parse_app_spec"]


def parse_app_spec(spec: str) -> tuple[str, int | None]:
    """``"redirect.am@5"`` -> ("redirect.am", 5); ``"redirect.am"`` -> ("redirect.am", None)."""
    if "@" in spec:
        path, _, prio = spec.rpartition("@")
        digits = prio.strip()
        # isascii: str.isdigit() is also true for "²" and other digits int() refuses.
        if digits.isascii() and digits.isdigit() and path:
            if len(digits) > MAX_PRIORITY_DIGITS:
                raise InputError.at(f"--app {shown(_short(spec))}: the priority {_short(digits)} is too large",
                                    filename="--app", hint=f"a priority is 0 to {10 ** MAX_PRIORITY_DIGITS - 1}; "
                                    "any number past the end of the chain places the application last")
            return path, int(digits)
        try:
            exists = os.path.exists(spec)
        except (ValueError, OSError):  # a NUL in the name, a name too long
            exists = False
        if not exists:
            raise InputError.at(f"--app {shown(_short(spec))}: the priority after '@' must be a number 0 or more",
                                filename="--app", hint="write --app FILE.am@5 (priority 0 runs first), or leave "
                                                       "@PRIORITY out to place the application next to UserServices")
    return spec, None


#: Digits of an ``@PRIORITY``: a chain has a few dozen applications; 5,000 digits once reached
#: Python's int conversion limit and a traceback.
MAX_PRIORITY_DIGITS = 6


def _short(text: str, most: int = 80) -> str:
    return text if len(text) <= most else text[:most] + "..."


def _front_end(args) -> FrontEnd:
    fe = FrontEnd(getattr(args, "lab", None))
    for spec in getattr(args, "app", None) or []:
        path, priority = parse_app_spec(spec)
        try:
            fe.register(path, priority)
        except InputError as err:
            # Only a file the loader refused is looked at again: a good manifest is read once.
            _refuse_wrong_app(path, err)
            raise
    return fe


def _refuse_wrong_app(path: str, err: InputError) -> None:
    """A SIP message or a lab file given with --app: name what it is (rather than "stray characters
    before the root element") and where it goes on the command line. Returns when it is neither."""
    from .check import looks_like_sip
    from .errors import ManifestError
    from .text import MAX_MANIFEST_FILE, display_path, read_input

    name = display_path(path)
    try:   # the file the loader just read: regular and bounded, or err already says why not
        data = read_input(path, limit=MAX_MANIFEST_FILE, what="manifest", filename=name)
    except InputError:
        return
    head = data[:2000].decode("utf-8", errors="replace")
    start = len(head) - len(head.lstrip("\ufeff \t\r\n"))
    line = head.count("\n", 0, start) + 1          # the first line that is not blank, quoted
    line_start = head.rfind("\n", 0, start) + 1
    column = start - line_start + 1
    first = head[line_start:].split("\n", 1)[0].rstrip("\r")[:200]
    if looks_like_sip(head):
        raise ManifestError.at("this is a SIP message, not an application manifest: give it as MESSAGE_FILE",
                               filename=name, line=line, column=column, source=first, code="sip-message-given",
                               hint="mspl-lite trace MESSAGE_FILE --app FILE.am: the message comes first, "
                                    "each --app names an .am manifest") from err
    if _is_lab(data):
        raise ManifestError.at("this is a lab file, not an application manifest: give it with --lab",
                               filename=name, line=line, column=column, source=first, code="lab-given",
                               hint="mspl-lite trace MESSAGE_FILE --app FILE.am --lab LAB.toml") from err


def _is_lab(data: bytes) -> bool:
    """True when ``data`` is TOML with a [pool] table, as every lab file has (labfile.py)."""
    import tomllib

    from .text import MAX_LAB_FILE

    if len(data) > MAX_LAB_FILE:
        return False
    try:
        table = tomllib.loads(data.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError, RecursionError):   # TOMLDecodeError is a ValueError
        return False
    return isinstance(table.get("pool"), dict)


def _warn(fe: FrontEnd, err: TextIO | None) -> None:
    """A registration Dn439078 rules out is accepted (decision D52), and said at once on stderr."""
    for warning in fe.chain.placement_warnings():
        (err or sys.stderr).write(f"warning: {warning}\n")


def _diagram(args, draw, what) -> None:
    """--diagram FILE: draw ``what`` with the view layer and save it (SVG, DOT or PNG by suffix)."""
    path = getattr(args, "diagram", None)
    if path:
        draw(what).save(path)


def _refuse_wrong_kind(data: bytes, name: str) -> None:
    """A binary file or a manifest given as MESSAGE_FILE: say so, rather than a dozen header errors."""
    from .check import not_text
    from .errors import SipParseError

    binary = not_text(data, name, "SIP message")
    if binary:
        raise SipParseError(binary)
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        raise SipParseError.at("this is an application manifest, not a SIP message: give it with --app",
                               filename=name, line=1, column=1, code="manifest-given",
                               hint="mspl-lite trace MESSAGE --app FILE.am; a message starts with a request "
                                    "line (INVITE sip:bob@contoso.com SIP/2.0) or a status line (SIP/2.0 200 OK)")


def apps_command(args, out: TextIO) -> int:
    """Print the chain like Get-CsServerApplication (or JSON rows with --json)."""
    fe = _front_end(args)
    _warn(fe, None)
    _diagram(args, chain_diagram, fe)
    if getattr(args, "json", False):
        json.dump({"pool": fe.lab.pool, "apps": fe.apps,
                   "warnings": fe.chain.placement_warnings(),
                   "note": "Built-in order as Gg182575 lists it (running in that order is inferred, decision D10); "
                           "numeric priorities, Uris, Enabled and Critical values inferred (decision D50) except "
                           "DefaultRouting's (Gg182575, Gg182598)."},
                  out, indent=2)
        out.write("\n")
    else:
        out.write(fe.listing() + "\n")
    return 0


def trace_command(args, out: TextIO) -> int:
    """Simulate one transaction of MESSAGE_FILE through the chain; text, or JSON with --json."""
    from .sip import parse_message

    fe = _front_end(args)
    _warn(fe, None)
    from .errors import SipParseError
    from .text import MAX_MESSAGE_FILE, display_path, read_input

    name = display_path(args.message)
    data = read_input(args.message, limit=MAX_MESSAGE_FILE, what="SIP message", error=SipParseError, filename=name)
    _refuse_wrong_kind(data, name)
    message = parse_message(data, filename=name)
    trace = fe.send(message)
    _diagram(args, transaction_diagram, trace)
    if getattr(args, "json", False):
        json.dump(trace.to_json(), out, indent=2)
        out.write("\n")
    else:
        out.write(trace.text() + "\n")
    return 0
