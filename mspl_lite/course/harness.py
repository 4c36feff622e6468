"""Running a learner's answer safely: compile an MSPL script, run it on course messages, call a
Python function; every failure becomes words for a Feedback, never a traceback.

The checks in the ``*_exercises`` modules are built from these pieces and a ``Problem``: the
first thing found wrong, with a hint that says what to do.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..errors import InputError
from ..language import Script, ScriptEnvironment, ScriptRun, compile_script
from ..language import ast as mspl_ast
from .feedback import Feedback
from .messages import course_message

__all__ = ["Problem", "Outcome", "compile_answer", "run_script", "call_function", "describe_run",
           "critical_problem", "functions_of", "uses_statement", "passed", "not_yet", "STARTER_MARK"]

#: Starter answers contain this; an answer that still does is not written yet.
STARTER_MARK = "your code here"


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong with an answer (``message``) and what to do about it (``hint``)."""

    message: str
    hint: str | None = None
    details: tuple[str, ...] = ()


def passed(exercise: str, message: str, details: tuple[str, ...] = ()) -> Feedback:
    return Feedback(exercise=exercise, passed=True, message=message, details=details)


def not_yet(exercise: str, problem: Problem) -> Feedback:
    return Feedback(exercise=exercise, passed=False, message=problem.message, hint=problem.hint,
                    details=problem.details)


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
                       "fix the first error shown below, then run the check again",
                       tuple(d.render() for d in err.diagnostics[:3]))


@dataclass(frozen=True, slots=True)
class Outcome:
    """One run of the learner's script on one course message: the message after the run, the record."""

    name: str
    message: Any
    run: ScriptRun

    @property
    def responds(self) -> list:
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


_NULL_HINT = ("a function returned null (\"not found\") and the script passed it on: keep the value in a "
              "variable and test it with `!= null` first")


def critical_problem(outcome: Outcome, what: str, hint: str | None = None) -> Problem | None:
    """The run's first critical error as a Problem (None when there is none).

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


def describe_run(outcome: Outcome) -> str:
    """What the script did with one message, in one line: its decisions, log lines and faults."""
    parts = [d.describe() for d in outcome.run.dispositions]
    parts += [f'Log("{e.name}", {str(e.detail).lower()}, ...) -> {e.text!r}' for e in outcome.run.log]
    if outcome.run.critical_errors:
        parts.append("critical error: " + outcome.run.critical_errors[0].message)
    return "; ".join(parts) or "no action"


def call_function(func: Any, *args: Any) -> tuple[Any, str | None]:
    """Call a learner's Python function: (result, None) or (None, "ExceptionName: message")."""
    try:
        return func(*args), None
    except Exception as exc:  # a learner's bug is feedback, not a crash of the check
        return None, f"{type(exc).__name__}: {exc}"


def functions_of(script: Script) -> dict[str, Any]:
    """The script's function definitions by name."""
    return {f.name: f for f in script.ast.functions}


def uses_statement(script: Script, node_type: type) -> bool:
    """True when the script contains a statement of ``node_type`` (e.g. ``ast.Switch``)."""
    return any(isinstance(n, node_type) for n in mspl_ast.walk(script.ast))


def first_problem(checks: list[Callable[[], Problem | None]]) -> Problem | None:
    """Run the checks in order; the first problem found, or None."""
    for check in checks:
        problem = check()
        if problem is not None:
            return problem
    return None
