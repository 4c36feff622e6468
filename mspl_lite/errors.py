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


def source_line(text: str | None, line: int) -> str | None:
    """Return line ``line`` (1-based) of ``text`` without its line ending, or None."""
    if text is None or line < 1:
        return None
    lines = text.splitlines()
    if line > len(lines):
        return None
    return lines[line - 1]


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
        out = [f"{self.location()}: {self.severity}: {self.message}"]
        if self.source is not None and self.line:
            text = self.source.rstrip("\r\n")
            out.append(f"    {text}")
            if self.column:
                # Keep tabs so the caret lines up under the fault however tabs render.
                pad = "".join(c if c == "\t" else " " for c in text[: self.column - 1])
                out.append(f"    {pad}^")
        if self.hint:
            out.append(f"    hint: {self.hint}")
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
