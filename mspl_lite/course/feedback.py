"""What a check says to the learner: passed or not yet, what went wrong, and a hint.

A check is a function decorated with ``exercise_check(id)``: it returns the first ``Problem`` it
finds (what is wrong, and a hint that says what to do) or ``Passed`` (why the answer works), and
the decorator turns that into the exercise's ``Feedback``. A ``Feedback`` shows itself in a
notebook as a small HTML box (the words "passed" / "not yet" carry the verdict, colour only
repeats it) and as plain text everywhere else; both are deterministic, so nbval can compare them.
"""
from __future__ import annotations

import functools
import html
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["Feedback", "Problem", "Passed", "exercise_check"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Feedback:
    """The verdict of one exercise check.

    ``message`` says what was found (one or two sentences); ``hint`` says what to do next;
    ``details`` are extra lines shown as they are (compiler diagnostics, what the script did).
    """

    exercise: str
    passed: bool
    message: str
    hint: str | None = None
    details: tuple[str, ...] = ()

    @property
    def verdict(self) -> str:
        """The verdict in words: "passed" or "not yet"."""
        return "passed" if self.passed else "not yet"

    def text(self) -> str:
        """The feedback as plain text."""
        out = [f"Exercise {self.exercise}: {self.verdict} -- {self.message}"]
        if self.hint:
            out.append(f"  hint: {self.hint}")
        for d in self.details:
            out.append("    " + d.replace("\n", "\n    "))
        return "\n".join(out)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()

    def __bool__(self) -> bool:
        return self.passed

    def _repr_html_(self) -> str:
        colour = "#2e7d32" if self.passed else "#b26a00"
        mark = "&#10004;" if self.passed else "&#9998;"
        parts = [f'<div style="border-left:6px solid {colour};padding:6px 10px;margin:4px 0">',
                 f'<b>{mark} Exercise {html.escape(self.exercise)}: {self.verdict}</b> &mdash; '
                 f"{html.escape(self.message)}"]
        if self.hint:
            parts.append(f"<br><b>Hint:</b> {html.escape(self.hint)}")
        if self.details:
            body = html.escape("\n".join(self.details))
            parts.append(f'<pre style="margin:6px 0 0 0;font-size:90%">{body}</pre>')
        parts.append("</div>")
        return "".join(parts)


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong with an answer (``message``) and what to do about it (``hint``)."""

    message: str
    hint: str | None = None
    details: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Passed:
    """Why the answer works (``message``), and notes shown under it (the checker's warnings)."""

    message: str
    details: tuple[str, ...] = ()


def exercise_check(exercise: str) -> Callable[[Callable[..., Problem | Passed]], Callable[..., Feedback]]:
    """Decorate a check that returns a Problem or Passed: it then returns the Feedback of ``exercise``."""

    def decorate(check: Callable[..., Problem | Passed]) -> Callable[..., Feedback]:
        @functools.wraps(check)
        def judged(*answer: Any) -> Feedback:
            verdict = check(*answer)
            if isinstance(verdict, Passed):
                from .progress import record_pass

                record_pass("exercises", exercise)   # for progress(): notebooks run in separate kernels
                return Feedback(exercise=exercise, passed=True, message=verdict.message, details=verdict.details)
            return Feedback(exercise=exercise, passed=False, message=verdict.message, hint=verdict.hint,
                            details=verdict.details)

        judged.exercise = exercise  # the registry's rows name it too: tests/test_course.py compares them
        return judged

    return decorate
