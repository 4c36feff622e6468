"""Exercises of notebook 01 (SIP in fifteen minutes): Python answers checked on course messages.

1.1 ``routing_target(message)``: the user@host the server routes on (the Request-URI), or None.
1.2 ``dialog_id(message)``: (Call-ID, From tag, To tag) of any message of a dialog.
1.3 a broken INVITE to repair until mspl_lite.sip parses it, keeping what it says.
"""
from __future__ import annotations

from typing import Any

from ..errors import SipParseError
from ..sip import parse_message
from .feedback import Passed, Problem, exercise_check
from .harness import call_function
from .messages import course_message

__all__ = ["check_routing_target", "check_dialog_id", "check_repaired_message", "BROKEN_INVITE"]

# --- 1.1 -------------------------------------------------------------------------------------

_ROUTING_CASES = (
    # (message, what it is, expected)
    ("invite-jennyl", "Terry's INVITE to Jenny", "jennyl@contoso.com"),
    ("retargeted-invite", "the retargeted INVITE (Request-URI Nuria, To Jenny)", "nuriag@contoso.com"),
    ("register-adamb", "Adam's REGISTER (Request-URI sip:contoso.com)", None),
    ("bye-from-jennyl", "Jenny's BYE to Terry's GRUU", "terrya@contoso.com"),
    ("ok-jennyl", "Jenny's 200 OK (a response)", None),
)


def _routing_hint(name: str, got: Any, expected: Any) -> str:
    if isinstance(got, str) and got.lower().startswith(("sip:", "sips:", "tel:", "<")):
        return ("return user@host without the scheme, brackets or parameters: "
                "get_user_at_host(message.request_uri)")
    if name == "retargeted-invite" and got == "jennyl@contoso.com":
        return ("that is the user in the To header. The server routes on the Request-URI (the first line, "
                "message.request_uri); To keeps the user the caller dialled, and after a retarget the two differ")
    if name == "register-adamb":
        return ("a REGISTER's Request-URI names the domain only (sip:contoso.com): get_user_at_host returns None "
                "there, and so should your function -- the user signing in is in To, not in the Request-URI")
    if name == "bye-from-jennyl" and isinstance(got, str) and ";" in got:
        return "cut the URI parameters (;opaque=...;gruu): get_user_at_host does that for you"
    if name == "ok-jennyl":
        return ("a response has no Request-URI: return None for it. Test isinstance(message, Request) first -- "
                "the Python twin of MSPL's if (sipRequest)")
    return "read message.request_uri and give it to get_user_at_host"


@exercise_check("1.1")
def check_routing_target(func: Any) -> Problem | Passed:
    """1.1: ``routing_target(message)`` -> user@host of the Request-URI, or None."""
    if not callable(func):
        return Problem(f"pass the function itself, not {type(func).__name__}",
                       "check_exercise('1.1', routing_target) -- no parentheses after the name")
    for name, what, expected in _ROUTING_CASES:
        got, error = call_function(func, course_message(name))
        if error is not None:
            hint = (_routing_hint("ok-jennyl", None, None) if name == "ok-jennyl" and "AttributeError" in error
                    else "read the error: it happened inside your function")
            return Problem(f"for {what} your function raised {error}.", hint)
        if got != expected:
            return Problem(f"for {what} your function returned {got!r}; the server routes it "
                           f"on {expected!r}." if expected else
                           f"for {what} your function returned {got!r}; expected None.",
                           _routing_hint(name, got, expected))
    return Passed("Your function reads the routing target from the Request-URI, as the server does, "
                  "and says None where there is no user (a REGISTER, a response).")


# --- 1.2 -------------------------------------------------------------------------------------

_DIALOG_CASES = (
    ("invite-jennyl", "the INVITE", ("call-jenny-7", "1a2b3c4d", None)),
    ("ok-jennyl", "Jenny's 200 OK", ("call-jenny-7", "1a2b3c4d", "9f8e7d6c")),
    ("bye-from-jennyl", "Jenny's BYE", ("call-jenny-7", "9f8e7d6c", "1a2b3c4d")),
)


def _dialog_hint(name: str, got: tuple, expected: tuple) -> str:
    call_id, from_tag, to_tag = got
    if call_id != expected[0]:
        return "the Call-ID is a header of its own: message.get('Call-ID')"
    if from_tag is None and expected[1] is not None:
        return ("tag is a header parameter (after the '>'), not a URI parameter: "
                "get_parameter_value(message.get('From'), 'tag')")
    if name == "invite-jennyl" and to_tag is not None:
        return ("the INVITE has no To tag yet -- the callee adds it when it answers; "
                "get_parameter_value returns None then, and so should your function")
    if name == "bye-from-jennyl" and (from_tag, to_tag) == (expected[2], expected[1]):
        return ("in Jenny's BYE, From is Jenny and To is Terry: the tags travel with the parties. "
                "Read both tags from this message's own From and To headers")
    return f"expected {expected!r}"


@exercise_check("1.2")
def check_dialog_id(func: Any) -> Problem | Passed:
    """1.2: ``dialog_id(message)`` -> (Call-ID, From tag, To tag)."""
    if not callable(func):
        return Problem(f"pass the function itself, not {type(func).__name__}",
                       "check_exercise('1.2', dialog_id)")
    for name, what, expected in _DIALOG_CASES:
        got, error = call_function(func, course_message(name))
        if error is not None:
            return Problem(f"for {what} your function raised {error}.",
                           "read the error: it happened inside your function")
        if not (isinstance(got, tuple) and len(got) == 3):
            return Problem(f"for {what} your function returned {got!r}.",
                           "return a tuple of three: (call_id, from_tag, to_tag)")
        if got != expected:
            return Problem(f"for {what} your function returned {got!r}.",
                           _dialog_hint(name, got, expected))
    return Passed("Call-ID plus the two tags identify the dialog; the INVITE has no To tag yet, and "
                  "in the BYE the tags have swapped sides with From and To.")


# --- 1.3 -------------------------------------------------------------------------------------

#: What the learner starts from: three faults that real messages copied from e-mails and logs have.
BROKEN_INVITE = """\
INVITE sip:jennyl@contoso.com SIP/2.0
Via: SIP/2.0/TLS 192.0.2.31:50250;branch=z9hG4bK-call-jenny-10
Max-Forwards: 70
From: "Terry Adams" <sip:terrya@contoso.com>;tag=1a2b3c4d;epid=7c2e5f3a01
To: \u201cJenny Lee\u201d <sip:jennyl@contoso.com>
Call-ID call-jenny-10
CSeq: 1 INVITE
Content-Type: text/plain
Content-Length: 30

Hello, this is a test.
"""


_TYPOGRAPHIC_QUOTES = ("\u201c", "\u201d", "\u201e", "\u00ab", "\u00bb")


@exercise_check("1.3")
def check_repaired_message(text: Any) -> Problem | Passed:
    """1.3: the repaired INVITE parses and still says what it said."""
    if not isinstance(text, str):
        return Problem(f"the answer should be the message text (a str), not {type(text).__name__}",
                       "edit the text between the triple quotes")
    try:
        msg = parse_message(text, filename="exercise-1.3.sip")
    except SipParseError as err:
        first = err.diagnostics[0]
        count = len(err.diagnostics)
        hint = first.hint
        if any(q in (first.source or "") for q in _TYPOGRAPHIC_QUOTES):
            hint = ("those are typographic quotes (\u201c \u201d), as word processors and mail clients write them: "
                    "SIP needs straight double quotes (\")")
        return Problem(
            f"the parser still finds {count} problem{'s' if count > 1 else ''}; the first is on line {first.line}: "
            f"{first.message}.", hint, tuple(d.render() for d in err.diagnostics))
    checks = (
        (getattr(msg, "method", None) == "INVITE" and str(getattr(msg, "request_uri", "")) == "sip:jennyl@contoso.com",
         "the request line changed", "keep INVITE sip:jennyl@contoso.com SIP/2.0"),
        (msg.get("Call-ID") == "call-jenny-10", f"the Call-ID is now {msg.get('Call-ID')!r}",
         "keep the value call-jenny-10: only the ':' after the name was missing"),
        (msg.get("To") == '"Jenny Lee" <sip:jennyl@contoso.com>', f"the To header is now {msg.get('To')!r}",
         'write the display name between straight double quotes: To: "Jenny Lee" <sip:jennyl@contoso.com>'),
        (msg.content.rstrip("\r\n") == "Hello, this is a test.", f"the body is now {msg.content!r}",
         "Content-Length counts the bytes of the body: 'Hello, this is a test.' is 22 bytes, plus 2 for its CRLF"),
    )
    for ok, what, hint in checks:
        if not ok:
            return Problem(f"it parses, but {what}.", hint)
    return Passed("It parses and still says the same thing. The three faults -- typographic quotes from a "
                  "word processor, a header without ':', a Content-Length that does not match -- are the "
                  "usual ones in messages pasted from e-mails and documents.")
