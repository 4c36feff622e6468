"""``try_script(source, message)``: compile a short MSPL snippet, run it on a course message, show
what it did as plain text -- the notebooks' way of trying one language feature at a time.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ScriptError
from ..language import ScriptEnvironment, compile_script
from .messages import course_message

__all__ = ["RunText", "try_script"]


@dataclass(frozen=True, slots=True)
class RunText:
    """Text that shows as itself in a notebook (no quotes, real line breaks)."""

    text: str

    def __repr__(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text


def try_script(source: str, message: str = "invite-jennyl", *, manifest=None,
               env: ScriptEnvironment | None = None) -> RunText:
    """Compile ``source`` (as snippet.mspl) and run it on course message ``message``.

    Shows the compile errors if it does not compile; otherwise its warnings, then what the run did
    (decisions, log lines, critical errors) and, when the script changed the message, the headers
    it added or changed. ``manifest`` gives the snippet flat files (see language_exercises).
    """
    try:
        script = compile_script(source, filename="snippet.mspl", manifest=manifest)
    except ScriptError as err:
        return RunText(f"does not compile:\n{err}")
    msg = course_message(message)
    before = list(msg.headers)
    run = script.run(msg, env)
    out = [w.render() for w in script.warnings]
    out.append(run.describe())
    added = [h for h in msg.headers if h not in before]
    if added:
        out.append("headers added or changed: " + "; ".join(f"{h.name}: {h.value}" for h in added))
    return RunText("\n".join(out))
