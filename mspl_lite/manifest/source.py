"""Source text of a manifest or flat file: bytes to text, offsets to 1-based (line, column), diagnostics."""
from __future__ import annotations

import codecs
import re
from bisect import bisect_right

from ..errors import Diagnostic, ManifestError, Severity

LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what expat counts as one line break


class SourceMap:
    """Offsets <-> 1-based (line, column) in a named text, with line breaks counted as expat counts them."""

    def __init__(self, text: str, filename: str):
        self.text, self.filename = text, filename
        self.starts = [0] + [m.end() for m in LINE_BREAK.finditer(text)]

    def offset(self, line: int, column0: int) -> int:
        """The offset of 0-based ``column0`` on ``line`` (both clamped into the text)."""
        line = min(max(line, 1), len(self.starts))
        return min(self.starts[line - 1] + column0, len(self.text))

    def position(self, offset: int) -> tuple[int, int]:
        """The 1-based (line, column) of ``offset``."""
        line = bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1

    def line_text(self, line: int) -> str | None:
        """The text of 1-based ``line`` without its line break, or None past the end."""
        if not 1 <= line <= len(self.starts):
            return None
        start = self.starts[line - 1]
        end = self.starts[line] if line < len(self.starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    def diagnostic(self, severity: Severity, message: str, where: tuple[int, int], hint: str, code: str) -> Diagnostic:
        """A diagnostic at ``where`` (1-based line, column) in this text, quoting that line."""
        line, column = where
        return Diagnostic(severity=severity, message=message, filename=self.filename, line=line, column=column,
                          source=self.line_text(line), hint=hint, code=code)


_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def declared_encoding(data: bytes) -> str | None:
    """The encoding an XML declaration names (``<?xml ... encoding="utf-16"?>``), or None."""
    match = _DECLARED_ENCODING.match(data)
    return match.group(1).decode("ascii") if match else None


# The text of an XML declaration: its bytes are the same in every encoding an XML file may name
# once the declaration itself could be read as ASCII (XML 1.0 appendix F).
_ASCII_PROBE = '<?xml version="1.0" encoding="utf-8"?>'


def _declared_codec(declared: str, data: bytes, filename: str) -> str:
    """The codec of a declared encoding, or a ManifestError at the name in the declaration.

    Only a text encoding that writes ASCII as ASCII can be named there: the declaration was
    just read as ASCII bytes. That rules out what Python calls codecs but XML does not
    (rot13, base64, undefined, punycode, idna, unicode-escape) and UTF-16/UTF-32 without a BOM.
    """
    match = _DECLARED_ENCODING.match(data)
    before = data[: match.start(1)] if match else b""
    line = 1 + len(LINE_BREAK.findall(before.decode("ascii", errors="replace")))
    column = len(before) - max(before.rfind(b"\n"), before.rfind(b"\r")) if match else 1
    hint = 'save the file as UTF-8 and write <?xml version="1.0" encoding="utf-8"?>'

    def refuse(message: str) -> ManifestError:
        return ManifestError.at(message, filename=filename, line=line, column=column, hint=hint, code="encoding",
                                source=data.split(b"\n", line)[line - 1][:400].decode("ascii", errors="replace"))
    try:
        info = codecs.lookup(declared)
    except (LookupError, ValueError):
        raise refuse(f"the XML declaration names an encoding Python does not know: {declared}") from None
    try:
        ascii_compatible = (getattr(info, "_is_text_encoding", True) and info.name not in _NOT_XML
                            and _ASCII_PROBE.encode(info.name) == _ASCII_PROBE.encode("ascii"))
    except (UnicodeError, LookupError, TypeError, ValueError):
        ascii_compatible = False
    if not ascii_compatible:
        raise refuse(f"{declared} is not an encoding an XML file can be written in here "
                     "(the declaration itself is written in ASCII)")
    return info.name


# Python codecs that map text to text but are no character encoding of a file.
_NOT_XML = {"undefined", "punycode", "idna", "unicode-escape", "raw-unicode-escape", "unicode-internal"}


def decode(data: bytes, filename: str, *, what: str, declared: str | None = None) -> str:
    """Bytes of a manifest or flat file -> text: a BOM wins, then a declared encoding, then UTF-8."""
    if data.startswith(b"\xef\xbb\xbf"):
        encoding, data = "utf-8", data[3:]
    elif data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        encoding = "utf-32"  # checked before UTF-16: its little-endian BOM starts with UTF-16's
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"  # Notepad's "Unicode"; the codec reads and drops the BOM
    elif declared and declared.lower().replace("_", "-") not in ("utf-8", "utf8", "utf-16", "utf16"):
        encoding = _declared_codec(declared, data, filename)
    else:
        encoding = "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as err:
        # Locate the bad byte in characters and lines as every other diagnostic does: the text
        # before it decodes cleanly, and the whole text decodes with U+FFFD in its place.
        smap = SourceMap(data.decode(encoding, errors="replace"), filename)
        where = smap.position(len(data[: err.start].decode(encoding, errors="replace")))
        raise ManifestError(smap.diagnostic(
            "error", f"the {what} is not valid {encoding.upper()} text (byte 0x{data[err.start]:02X})", where,
            "save the file as UTF-8 (in Notepad: File > Save As, Encoding: UTF-8)", "encoding",
        )) from None
    except UnicodeError as err:  # a codec that fails as a whole, without a position
        raise ManifestError.at(f"the {what} cannot be read as {encoding} text ({err})", filename=filename,
                               line=1, column=1, hint="save the file as UTF-8", code="encoding") from None


def position_in_script(script: str, line: int, column: int, offset: int) -> tuple[int, int]:
    """The 1-based (line, column) of ``script[offset]``, for a script that starts at (line, column)."""
    before = script[:offset]
    newlines = before.count("\n")
    if not newlines:
        return line, column + len(before)
    return line + newlines, len(before) - before.rfind("\n")

