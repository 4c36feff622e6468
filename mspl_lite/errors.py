"""Errors and diagnostics shared by every layer of mspl_lite.

Two kinds of failure, split as h11 does:

* ``InputError``: the *input* was bad (a SIP message, a manifest, an MSPL script, a lab file).
  It carries one or more ``Diagnostic`` values that point at file, line and column and say
  what to do. Command line tools and widgets show ``str(error)`` and never a traceback.
* ``UsageError``: the *caller* asked for something illegal (a Python programming mistake).

Anything else escaping the package is a bug in mspl_lite.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Literal, Sequence

__all__ = [
    "Diagnostic",
    "MsplLiteError",
    "InputError",
    "SipParseError",
    "ManifestError",
    "ScriptError",
    "LabError",
    "UsageError",
    "RegistrationRefused",
    "render_diagnostics",
    "source_line",
]

Severity = Literal["error", "warning", "note"]


# The last text source_line() split, with its lines (one tuple, replaced whole, so threads never
# see one text with another's lines): a compile that reports 20,000 faults of one file splits it
# once, not 20,000 times (that was quadratic: seconds for a large script).
_split: tuple[str, list[str]] = ("", [])


def source_line(text: str | None, line: int) -> str | None:
    """Return line ``line`` (1-based) of ``text`` without its line ending, or None.

    Linear in all: the lines of the last text asked about are kept (found by identity, else
    by equality), so many diagnostics of one file split it once."""
    global _split
    if text is None or line < 1:
        return None
    split = _split
    if text is not split[0] and text != split[0]:
        split = _split = (text, text.splitlines())
    lines = split[1]
    if line > len(lines):
        return None
    return lines[line - 1]


#: Most characters of a quoted source line a diagnostic shows: a window around the column, so a
#: 1 MB line (a minified manifest, a pasted log) renders as one screen line, not 1 MB.
MAX_QUOTED_LINE = 200
#: Most characters of a message, hint or file name a diagnostic shows (one may quote a value the
#: learner wrote, which can be any length).
MAX_SHOWN = 1000


def _cut(text: str, most: int) -> str:
    """``text``, or its first ``most`` characters and an ellipsis saying how much was left out."""
    return text if len(text) <= most else f"{text[:most]}... ({len(text) - most} more characters)"


def _around(text: str, column: int) -> tuple[str, int]:
    """At most MAX_QUOTED_LINE characters of ``text`` around 1-based ``column``, and the column in them."""
    if len(text) <= MAX_QUOTED_LINE:
        return text, column
    start = max(0, min(column - 1 - MAX_QUOTED_LINE // 2, len(text) - MAX_QUOTED_LINE))
    end = start + MAX_QUOTED_LINE
    shown = ("..." if start else "") + text[start:end] + ("..." if end < len(text) else "")
    return shown, (column - start + (3 if start else 0)) if column else 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnostic:
    """One message about one place in one file, rendered like a compiler's.

    ``line`` and ``column`` are 1-based; 0 means "unknown" and is left out of the
    rendering. ``hint`` says what to do about it.
    """

    severity: Severity
    message: str
    filename: str = "<input>"
    line: int = 0
    column: int = 0
    source: str | None = None
    hint: str | None = None
    code: str | None = None

    def location(self) -> str:
        where = self.filename
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        return where

    def render(self) -> str:
        """``file:line:col: error: message``, the source line, a caret, then the hint."""
        out = [f"{_cut(self.location(), MAX_SHOWN)}: {self.severity}: {_cut(self.message, MAX_SHOWN)}"]
        if self.source is not None and self.line:
            text, column = _around(self.source.rstrip("\r\n"), self.column)
            out.append(f"    {text}")
            if column:
                # Keep tabs so the caret lines up under the fault however tabs render.
                pad = "".join(c if c == "\t" else " " for c in text[: column - 1])
                out.append(f"    {pad}^")
        if self.hint:
            out.append(f"    hint: {_cut(self.hint, MAX_SHOWN)}")
        return "\n".join(out)

    def to_dict(self) -> dict:
        return {
            "severity": self.severity,
            "message": self.message,
            "file": self.filename,
            "line": self.line,
            "column": self.column,
            "hint": self.hint,
            "code": self.code,
        }

    def __str__(self) -> str:
        return self.render()


def render_diagnostics(diagnostics: Iterable[Diagnostic]) -> str:
    return "\n".join(d.render() for d in diagnostics)


class MsplLiteError(Exception):
    """Root of every error mspl_lite raises on purpose."""


class InputError(MsplLiteError):
    """The input was bad. ``diagnostics`` says where and what to do."""

    def __init__(self, diagnostics: Diagnostic | Sequence[Diagnostic]):
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        super().__init__(render_diagnostics(self.diagnostics))

    @classmethod
    def at(
        cls,
        message: str,
        *,
        filename: str = "<input>",
        line: int = 0,
        column: int = 0,
        source: str | None = None,
        hint: str | None = None,
        code: str | None = None,
    ):
        """Build the error from one located message; ``source`` is the offending line's text."""
        return cls(
            Diagnostic(
                severity="error",
                message=message,
                filename=filename,
                line=line,
                column=column,
                source=source,
                hint=hint,
                code=code,
            )
        )

    @property
    def first(self) -> Diagnostic:
        return self.diagnostics[0]

    @property
    def line(self) -> int:
        return self.first.line

    @property
    def column(self) -> int:
        return self.first.column

    @property
    def filename(self) -> str:
        return self.first.filename


class SipParseError(InputError):
    """A SIP message could not be parsed."""


class ManifestError(InputError):
    """An application manifest (.am) is broken."""


class ScriptError(InputError):
    """An MSPL script does not compile (what CompileSPL.exe would refuse)."""


class LabError(InputError):
    """A lab file (users, routes, policies of the simulated pool) is broken."""


class RegistrationRefused(MsplLiteError):
    """The simulated server refused New-CsServerApplication; ``str()`` is the server's reason."""


class UsageError(MsplLiteError, ValueError):
    """The Python caller used the API wrongly (not a problem of the learner's input)."""
