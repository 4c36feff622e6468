"""Every exercise of the series and ``check_exercise(id, answer)``, which says what is wrong.

    check_exercise("3.1", script_text)   # -> Feedback: "Passed" or "Not yet" with a specific hint

A check compiles or calls the answer, runs it on the course messages (mspl_lite.course.messages)
and reports the first thing that differs from the task, in the learner's terms ("your script
answered the REGISTER too: test sipRequest.Method first"), never a bare pass/fail.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..errors import UsageError
from . import chain_exercises as chain
from . import first_app_exercises as first_app
from . import language_exercises as language
from . import routing_exercises as routing
from . import sip_exercises as sip
from .feedback import Feedback

__all__ = ["Exercise", "EXERCISES", "check_exercise"]


@dataclass(frozen=True, slots=True)
class Exercise:
    """One exercise: where it is, what the answer is (a Python function, SIP text, a script, a
    manifest) and the check that judges it."""

    id: str
    notebook: str
    title: str
    answer: str          # "python function" | "SIP text" | "MSPL script" | "manifest" | "application name"
    check: Callable[[Any], Feedback]

    def __repr__(self) -> str:
        return f"<Exercise {self.id} ({self.notebook}): {self.title}>"


_NB00 = "00-start-here"
_NB01 = "01-sip-in-fifteen-minutes"
_NB02 = "02-the-front-end-application-chain"
_NB03 = "03-your-first-mspl-application"
_NB04 = "04-the-language"
_NB05 = "05-routing-with-proxyrequest"
_NB06 = "06-retargetrequest"

EXERCISES: dict[str, Exercise] = {e.id: e for e in (
    Exercise("0.1", _NB00, "Who answers a REGISTER?", "application name", chain.check_register_answerer),
    Exercise("1.1", _NB01, "Where does the server route it?", "python function", sip.check_routing_target),
    Exercise("1.2", _NB01, "Which dialog is this?", "python function", sip.check_dialog_id),
    Exercise("1.3", _NB01, "Repair a pasted INVITE", "SIP text", sip.check_repaired_message),
    Exercise("2.1", _NB02, "A place where WatchIm sees IMs", "priority", chain.check_priority),
    Exercise("2.2", _NB02, "The New-CsServerApplication command", "PowerShell command", chain.check_cmdlet),
    Exercise("3.1", _NB03, "Adam is on leave", "MSPL script", first_app.check_adam_on_leave),
    Exercise("3.2", _NB03, "The manifest for Adam's application", "manifest", first_app.check_adam_manifest),
    Exercise("3.3", _NB03, "Warn about passwords in IMs", "MSPL script", first_app.check_password_log),
    Exercise("4.1", _NB04, "The caller's host, or nothing", "MSPL script", language.check_caller_host),
    Exercise("4.2", _NB04, "Does the caller support early media?", "MSPL script", language.check_early_media),
    Exercise("4.3", _NB04, "Name the request with a switch", "MSPL script", language.check_request_kind),
    Exercise("4.4", _NB04, "Delegates from a flat file", "MSPL script", language.check_delegates),
    Exercise("5.1", _NB05, "Route calls for a room system", "MSPL script", routing.check_room_route),
    Exercise("5.2", _NB05, "What runs after ProxyRequest(uri)?", "application names", routing.check_ran_after_proxy),
    Exercise("6.1", _NB06, "Forward IMs and keep the IM filter", "MSPL script", routing.check_im_forward),
    Exercise("6.2", _NB06, "A retired number, through OutboundRouting", "MSPL script", routing.check_old_number),
)}

# Notebooks 07-10: each module lists its exercises as (id, notebook, title, answer, check) rows.
from . import answering_exercises, capstone, debugging_exercises, managed_exercises  # noqa: E402

for _module in (answering_exercises, debugging_exercises, managed_exercises, capstone):
    EXERCISES.update({row[0]: Exercise(*row) for row in _module.EXERCISE_ROWS})


def check_exercise(exercise: str, answer: Any) -> Feedback:
    """Check ``answer`` for exercise ``exercise`` ("3.1"); the Feedback says what to fix next."""
    try:
        entry = EXERCISES[str(exercise)]
    except KeyError:
        raise UsageError(f"no exercise {exercise!r}; known: {', '.join(EXERCISES)}") from None
    return entry.check(answer)
