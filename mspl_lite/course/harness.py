"""Running a learner's answer safely: compile an MSPL script, run it on course messages, register it
on the simulated Front End, call a Python function; every failure becomes words, never a traceback.

The checks in the ``*_exercises`` modules are built from these pieces; each returns the first
``Problem`` it finds or ``Passed`` (feedback.py). ``script_check(id)`` is ``exercise_check(id)`` for
an MSPL script answer: the check is handed the script compiled.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import InputError, MsplLiteError, RegistrationRefused
from ..language import Script, ScriptEnvironment, ScriptRun, compile_script
from ..language import ast as mspl_ast
from .feedback import Feedback, Passed, Problem, exercise_check
from .lab_apps import critical_lines, learner_app
from .messages import course_message

__all__ = ["script_check", "Outcome", "compile_answer", "run_script", "call_function", "describe_run",
           "critical_problem", "critical_hint", "app_critical_problem", "register_answer", "endpoint_contacts",
           "load_problem", "error_lines", "manifest_answer", "functions_of", "uses_statement", "warning_lines",
           "STARTER_MARK"]

#: Starter answers contain this; an answer that still does is not written yet.
STARTER_MARK = "your code here"


# ---------------------------------------------------------------------------------------------
# An MSPL script run on course messages


def script_check(exercise: str, *, manifest: Callable[[], Any] | None = None):
    """Decorate the check of an MSPL script answer: it is given the compiled Script (``manifest()``
    supplies its flat files) once the answer is written and compiles, and returns a Problem or Passed."""

    def decorate(check: Callable[[Script], Problem | Passed]) -> Callable[[Any], Feedback]:
        @exercise_check(exercise)
        @functools.wraps(check)
        def compiled(text: Any) -> Problem | Passed:
            script = compile_answer(exercise, text, manifest=manifest() if manifest else None)
            return script if isinstance(script, Problem) else check(script)

        return compiled

    return decorate


def error_lines(err: MsplLiteError, limit: int = 3) -> tuple[str, ...]:
    """The first ``limit`` diagnostics of ``err`` rendered (file:line:col, caret, hint); else its message."""
    return tuple(d.render() for d in getattr(err, "diagnostics", ())[:limit]) or (str(err),)


def compile_answer(exercise: str, text: Any, *, manifest: Any = None) -> Script | Problem:
    """Compile a learner's MSPL script (named ``exercise-<id>.mspl`` in diagnostics)."""
    if not isinstance(text, str):
        return Problem(f"the answer should be the script as a string, not {type(text).__name__}",
                       "put the script between r''' and ''' as in the starter cell")
    if not text.strip() or STARTER_MARK in text:
        return Problem("the script is still the starter.", "replace the '// your code here' line with your script")
    try:
        return compile_script(text, filename=f"exercise-{exercise}.mspl", manifest=manifest)
    except InputError as err:
        first = err.diagnostics[0]
        more = len(err.diagnostics) - 1
        return Problem(f"the script does not compile ({len(err.diagnostics)} error{'s' if more else ''}: "
                       f"{first.message}).",
                       "fix the first error shown below, then run the check again", error_lines(err))


def warning_lines(script: Script) -> tuple[str, ...]:
    """The checker's warnings about ``script``, rendered: a passed check shows them as notes."""
    return tuple(w.render() for w in script.warnings)


@dataclass(frozen=True, slots=True)
class Outcome:
    """One run of the learner's script on one course message: the message after the run, the record."""

    name: str
    message: Any
    run: ScriptRun

    @property
    def responds(self) -> list:
        """The run's Respond decisions."""
        return [d for d in self.run.dispositions if d.kind == "respond"]

    @property
    def actions(self) -> list:
        """Decisions other than ProxyRequest(""), which only says "pass it on" (like no action)."""
        return [d for d in self.run.dispositions if not (d.kind == "proxy" and not d.uri)]

    @property
    def critical(self) -> str | None:
        """The first critical error, rendered, or None."""
        return self.run.critical_errors[0].render() if self.run.critical_errors else None


def run_script(script: Script, name: str, env: ScriptEnvironment | None = None) -> Outcome:
    """Run ``script`` on a fresh copy of course message ``name``."""
    message = course_message(name)
    return Outcome(name, message, script.run(message, env))


def describe_run(outcome: Outcome) -> str:
    """What the script did with one message, in one line: its decisions, log lines and faults."""
    parts = [d.describe() for d in outcome.run.dispositions]
    parts += [f'Log("{e.name}", {str(e.detail).lower()}, ...) -> {e.text!r}' for e in outcome.run.log]
    if outcome.run.critical_errors:
        parts.append("critical error: " + outcome.run.critical_errors[0].message)
    return "; ".join(parts) or "no action"


def functions_of(script: Script) -> dict[str, Any]:
    """The script's function definitions by name."""
    return {f.name: f for f in script.ast.functions}


def uses_statement(script: Script, node_type: type) -> bool:
    """True when the script contains a statement of ``node_type`` (e.g. ``ast.Switch``)."""
    return any(isinstance(n, node_type) for n in mspl_ast.walk(script.ast))


# ---------------------------------------------------------------------------------------------
# Critical errors: what to tell the learner


_NULL_HINT = ("a function returned null (\"not found\") and the script passed it on: keep the value in a "
              "variable and test it with `!= null` first")

_FORK_HINT = "a fork is BeginFork(false, 0); then Fork(uri) for each target; then EndFork()"

# Hints for the critical errors learners meet, by the start of the interpreter's message.
_CRITICAL_HINTS = (
    ("null passed", _NULL_HINT),
    ("null used as the index", "the key was null (\"not found\"): test it with `!= null` before file[key]"),
    ("Respond: header argument", 'extra headers of Respond are written "Name=value", one string per header: '
                                 '"ms-diagnostics=99001;reason=\\"...\\""'),
    ("bad Respond header", 'extra headers of Respond are written "Name=value", one string per header'),
    ("Fork without BeginFork", _FORK_HINT),
    ("EndFork without BeginFork", _FORK_HINT),
    ("EndFork with no Fork", "call Fork(uri) for each target between BeginFork and EndFork"),
    ("the fork begun", "call EndFork() after the last Fork(...): without it no branch is sent"),
    ("BeginFork while", "one BeginFork, then the Forks, then one EndFork"),
    ("Fork on a strict-routed", "a request with a Route header cannot be forked: leave it alone (strictRoute "
                                "\"false\" keeps such requests away from your script)"),
)


def critical_hint(message: str, on_response: bool = False) -> str:
    """The hint for a critical error whose message is ``message`` (raised on a response: ``on_response``)."""
    if " after " in message and "already left this application" in message:
        return ("a script makes one final decision (ProxyRequest, Respond, EndFork, ...): put `return;` right "
                "after it. To reach several targets, fork")
    if "needs a request, but the current message is a response" in message or on_response:
        return "the script also runs for responses: put request-only calls inside if (sipRequest) { ... }"
    for start, hint in _CRITICAL_HINTS:
        if message.startswith(start):
            return hint
    return "fix the line the critical error points at"


def critical_problem(outcome: Outcome, what: str, hint: str | None = None) -> Problem | None:
    """The first critical error of a script run on a course message as a Problem (None when there is none).

    Without ``hint``: a null passed on gets the null hint, a fault on a response the
    ``if (sipRequest)`` hint, anything else the interpreter's own hint.
    """
    if outcome.critical is None:
        return None
    if hint is None:
        error = outcome.run.critical_errors[0]
        if error.message.startswith("null passed"):
            hint = _NULL_HINT
        elif not hasattr(outcome.message, "method"):
            hint = "a script sees responses too: put request-only calls inside if (sipRequest) { ... }"
        else:
            hint = error.hint or "fix the line the critical error points at"
    return Problem(f"on {what} the script stopped with a critical error (the server logs it; 10 of them "
                   "disable the application).", hint, (outcome.critical,))


def app_critical_problem(exercise: str, trace: Any, app: str, text: str, what: str) -> Problem | None:
    """The first critical error ``app`` (the learner's script ``text``) raised on ``trace`` as a Problem
    (None when there is none); the details point into the learner's script."""
    notes = [c for c in trace.critical_errors if c.app == app]
    if not notes:
        return None
    on_response = any(c.app == app for r in trace.responses for c in r.critical_errors) and not any(
        c.app == app for h in trace.hops for c in h.critical_errors)
    return Problem(f"on {what} your script stopped with a critical error (the server logs it; 10 of them "
                   "disable the application).", critical_hint(notes[0].message, on_response),
                   critical_lines(trace, app, text, f"exercise-{exercise}.mspl"))


# ---------------------------------------------------------------------------------------------
# Applications on the simulated Front End


def manifest_answer(text: str) -> str:
    """A manifest as the learner meant it: the line break after a Python string's opening quotes is not
    part of it (an XML declaration must come first)."""
    return text.lstrip() if text.lstrip().startswith("<?xml") else text


def load_problem(err: InputError, what: str = "the manifest") -> Problem:
    """A manifest (or its flat files) that does not load, as a Problem with the loader's diagnostics."""
    first = err.diagnostics[0]
    return Problem(f"{what} does not load: {first.message}.", first.hint, error_lines(err))


def register_answer(exercise: str, text: Any, name: str, *, priority: int | None = None, **settings) -> Any:
    """A fresh Front End with the learner's script registered as application ``name`` (manifest
    ``settings`` as lab_apps.manifest_text takes them), or the Problem that prevents it.

    Positions of warnings and critical errors are the script's own (``exercise-<id>.mspl``).
    """
    from ..frontend import FrontEnd

    script = compile_answer(exercise, text)
    if isinstance(script, Problem):
        return script
    fe = FrontEnd()
    try:
        fe.register(learner_app(exercise, name, text, **settings), priority)
    except (InputError, RegistrationRefused) as err:
        return Problem(f"the application cannot be registered: {err}", "fix what the message names")
    return fe


def endpoint_contacts(fe: Any, aor: str) -> set[str]:
    """Where user ``aor``'s phones ring on ``fe``: the Contact of each endpoint it signed in with."""
    return {e.contact for e in fe.registrations.get(aor, ())}


# ---------------------------------------------------------------------------------------------
# A Python answer


def call_function(func: Any, *args: Any) -> tuple[Any, str | None]:
    """Call a learner's Python function: (result, None) or (None, "ExceptionName: message")."""
    try:
        return func(*args), None
    except Exception as exc:  # a learner's bug is feedback, not a crash of the check
        return None, f"{type(exc).__name__}: {exc}"
