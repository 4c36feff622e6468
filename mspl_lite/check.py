"""``mspl-lite check FILE.am ...``: every manifest and script diagnostic, like a compiler's.

For each file: load the manifest (or read a bare ``.mspl``/``.txt`` script), parse its script
with the positions of the .am file, run the checker, and print what was found::

    forward.am:21:9: error: unknown function ProxyRequst
        ProxyRequst("");
        ^
        hint: did you mean ProxyRequest?
    check: 1 error, 0 warnings in 1 file

Exit status 0 when no file has an error (warnings allowed), 1 otherwise. A file that is missing
or unreadable is an error for that file; the others are still checked.

Stream decision: as compilers do, the diagnostics go to the error stream (stderr by default)
and the summary line to ``out``; with ``--json`` one JSON list goes to ``out`` and nothing else.
"""
from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import TextIO

from .errors import Diagnostic, InputError
from .text import MAX_MANIFEST_FILE, MAX_SCRIPT_FILE, display_path, read_input
from .language.checker import check
from .language.parser import parse_script

__all__ = ["check_command", "check_file", "check_source", "check_manifest_script"]

# Files read as a manifest whatever their first character.
_MANIFEST_SUFFIXES = (".am", ".xml")


def _file_error(filename: str, message: str, hint: str, code: str) -> Diagnostic:
    return Diagnostic(severity="error", message=message, filename=filename, hint=hint, code=code)


def _unreadable(filename: str, err: OSError) -> list[Diagnostic]:
    return [_file_error(filename, f"cannot read the file: {err.strerror or err}",
                        "check that the file can be read by you", "unreadable")]


# Signatures of files people give by mistake: shown in the "not text" diagnostic.
_SIGNATURES = ((b"\x89PNG", "a PNG image"), (b"PK\x03\x04", "a zip archive (or a .docx/.xlsx)"),
               (b"%PDF", "a PDF document"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
               (b"\x1f\x8b", "a gzip archive"), (b"MZ", "a Windows program"), (b"\x7fELF", "a program"))
_UNICODE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")
_SIP_START = re.compile(r"\A[\ufeff \t\r\n]*(?:[A-Za-z]+ +\S+ +SIP/2\.0\s*$|SIP/2\.0 +\d{3}\b)", re.M)


def _place(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in bytes) of ``offset``."""
    start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - start + 1


def not_text(data: bytes, filename: str, expected: str) -> Diagnostic | None:
    """An error when ``data`` is a binary file (a known signature, or a NUL byte), else None.

    A UTF-16 file starts with a byte-order mark and holds NUL bytes: that is text, left to the decoder.
    """
    if data.startswith(_UNICODE_BOMS[:2]):
        return None
    kind = next((name for magic, name in _SIGNATURES if data.startswith(magic)), None)
    nul = data.find(b"\x00")
    if kind is None and nul < 0:
        return None
    size = f"{len(data)} byte{'' if len(data) == 1 else 's'}"
    line, column = _place(data, nul) if kind is None else (1, 1)
    what = f"it looks like {kind}" if kind else f"byte {nul} is a NUL character, which text never holds"
    return Diagnostic(severity="error", message=f"not text: {size}; {what}", filename=filename,
                      line=line, column=column, code="not-text",
                      hint=f"give the {expected} itself, saved as plain text (UTF-8)")


def looks_like_sip(text: str) -> bool:
    """True when the first line is a SIP request line or status line."""
    return bool(_SIP_START.match(text[:2000]))


def _sip_given(filename: str) -> Diagnostic:
    return Diagnostic(severity="error", message="this is a SIP message, not a manifest", filename=filename,
                      line=1, column=1, code="sip-message",
                      hint="to run it through the chain use mspl-lite trace MESSAGE --app FILE.am; "
                           "mspl-lite check takes .am manifests and .mspl scripts")


def check_manifest_script(manifest) -> list[Diagnostic]:
    """Diagnostics of a loaded manifest's script (plus the manifest's own warnings)."""
    found = list(getattr(manifest, "warnings", ()) or ())
    try:
        script = parse_script(manifest.script, filename=manifest.filename, line=manifest.script_line,
                              column=manifest.script_column, file_source=manifest.source)
    except InputError as err:
        return found + list(err.diagnostics)
    return found + check(script, manifest=manifest)


def _check_script_text(text: str, filename: str) -> list[Diagnostic]:
    try:
        script = parse_script(text, filename=filename)
    except InputError as err:
        return list(err.diagnostics)
    return check(script)


def _looks_like_xml(text: str) -> bool:
    return text.lstrip("\ufeff \t\r\n").startswith("<")


def check_source(text: str, filename: str = "<script>") -> list[Diagnostic]:
    """Diagnostics of a manifest's text (when it starts with '<') or of a bare script's text.

    Flat files of a manifest are not read from disk here; their declarations are still checked.
    """
    if _looks_like_xml(text):
        from .manifest import parse_manifest
        try:
            manifest = parse_manifest(text, filename=filename)
        except InputError as err:
            return list(err.diagnostics)
        return check_manifest_script(manifest)
    return _check_script_text(text.lstrip("\ufeff"), filename)


def check_file(path: str | os.PathLike) -> list[Diagnostic]:
    """Diagnostics of one file: a manifest (.am) or a bare MSPL script; never raises for bad input."""
    filename = display_path(path)
    p = Path(path)
    try:   # exists() too can fail, e.g. on a name longer than the system allows
        if not p.exists():
            return [_file_error(filename, "no such file", "check the path and the file name", "no-such-file")]
        if p.is_dir():
            return [_file_error(filename, "this is a folder, not a file",
                                "give the .am file (or the .mspl script) inside it", "not-a-file")]
    except (OSError, ValueError) as err:  # ValueError: a NUL in the name
        return _unreadable(filename, err) if isinstance(err, OSError) else [
            _file_error(filename, "this name holds a NUL character", "check the path", "unreadable")]
    try:  # regular files only, bounded: /dev/zero or a FIFO is refused at once, never read
        data = read_input(p, limit=max(MAX_MANIFEST_FILE, MAX_SCRIPT_FILE), what="file", filename=filename)
    except InputError as err:
        return list(err.diagnostics)
    expected = ".am manifest or .mspl script"
    binary = not_text(data, filename, expected)
    if binary:
        return [binary]
    if not data.strip(b"\xef\xbb\xbf \t\r\n"):
        return [_file_error(filename, f"the file is empty ({len(data)} bytes)",
                            "an .am manifest starts with <?xml ...?> and <r:applicationManifest ...>; "
                            "a script is MSPL code", "empty")]
    head = data[:2000].decode("utf-8", errors="replace")
    if looks_like_sip(head):
        return [_sip_given(filename)]
    if p.suffix.lower() in _MANIFEST_SUFFIXES or _looks_like_xml(head):
        from .manifest import parse_manifest
        from .manifest.source import declared_encoding, decode
        try:  # the bytes just read, not a second read of a file that may have changed
            text = decode(data, filename, what="manifest", declared=declared_encoding(data))
            manifest = parse_manifest(text, filename=filename, base_dir=p.parent)
        except InputError as err:
            return list(err.diagnostics)
        return check_manifest_script(manifest)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        return [_file_error(filename, f"this file is not UTF-8 text (byte {err.start})",
                            "save the script as UTF-8", "not-utf8")]
    return _check_script_text(text, filename)


def _summary(errors: int, warnings: int, files: int) -> str:
    def n(count, word):
        return f"{count} {word}{'' if count == 1 else 's'}"
    return f"check: {n(errors, 'error')}, {n(warnings, 'warning')} in {n(files, 'file')}"


def check_command(args, out: TextIO, err: TextIO | None = None) -> int:
    """Run ``mspl-lite check``: ``args.files`` (paths) and ``args.json`` (bool). Returns the exit status."""
    err = err if err is not None else sys.stderr
    everything: list[Diagnostic] = []
    for path in args.files:
        diagnostics = check_file(path)
        everything += diagnostics
        if not getattr(args, "json", False):
            for d in diagnostics:
                print(d.render(), file=err)
    errors = sum(d.severity == "error" for d in everything)
    warnings = sum(d.severity == "warning" for d in everything)
    if getattr(args, "json", False):
        json.dump([d.to_dict() for d in everything], out, indent=2)
        out.write("\n")
    else:
        print(_summary(errors, warnings, len(args.files)), file=out)
    return 1 if errors else 0
