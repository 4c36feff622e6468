"""Exercises of notebook 07 (answering, blocking and filtering), checked on the simulated Front End.

7.1 Refuse calls to the boardroom: 403 with an ms-diagnostics header (Respond's "Name=value" headers).
7.2 Jenny takes IMs from contoso.com only: proxyByDefault false, so what is allowed is passed on by hand.
7.3 Predict the response path: which watchers run their script for a 480, and in which order.
7.4 Ring the reception desk: fork one call to Jenny and Nuria (BeginFork, Fork, EndFork).

Each script is registered in a fresh Front End with the manifest the exercise states, and real
transactions go through the chain; the feedback names the first transaction that went wrong and
what the caller experienced. The solutions are at the end (``SOLUTION_ROWS``), shown only by
``show_solution``.
"""
from __future__ import annotations

from typing import Any

from ..errors import InputError, RegistrationRefused
from ..sip import get_parameter_value
from .feedback import Feedback
from .harness import Problem, compile_answer, not_yet, passed
from .lab_apps import critical_lines, lab_app, learner_app
from .variants import variant

__all__ = ["check_boardroom", "check_internal_ims", "check_response_path", "check_reception_fork",
           "response_path_front_end", "EXERCISE_ROWS", "SOLUTION_ROWS", "BOARDROOM", "RECEPTION",
           "critical_hint", "register_answer"]

BOARDROOM = "sip:boardroom@contoso.com"
RECEPTION = "sip:reception@contoso.com"
_FABRIKAM = '"Al Young" <sip:aly@fabrikam.com>'
_NB07 = "07-answering-blocking-and-filtering"

# Hints for the critical errors learners meet here, by the start of the interpreter's message.
_CRITICAL_HINTS = (
    ("null passed", "a function returned null (\"not found\") and the script passed it on: keep the value in a "
                    "variable and test it with `!= null` first"),
    ("null used as the index", "the key was null (\"not found\"): test it with `!= null` before file[key]"),
    ("Respond: header argument", 'extra headers of Respond are written "Name=value", one string per header: '
                                 '"ms-diagnostics=99001;reason=\\"...\\""'),
    ("bad Respond header", 'extra headers of Respond are written "Name=value", one string per header'),
    ("Fork without BeginFork", "a fork is BeginFork(false, 0); then Fork(uri) for each target; then EndFork()"),
    ("EndFork without BeginFork", "a fork is BeginFork(false, 0); then Fork(uri) for each target; then EndFork()"),
    ("EndFork with no Fork", "call Fork(uri) for each target between BeginFork and EndFork"),
    ("the fork begun", "call EndFork() after the last Fork(...): without it no branch is sent"),
    ("BeginFork while", "one BeginFork, then the Forks, then one EndFork"),
    ("Fork on a strict-routed", "a request with a Route header cannot be forked: leave it alone (strictRoute "
                                "\"false\" keeps such requests away from your script)"),
)


def critical_hint(message: str, on_response: bool = False) -> str:
    """The hint for a critical error whose message is ``message``."""
    if " after " in message and "already left this application" in message:
        return ("a script makes one final decision (ProxyRequest, Respond, EndFork, ...): put `return;` right "
                "after it. To reach several targets, fork")
    if "needs a request, but the current message is a response" in message or on_response:
        return "the script also runs for responses: put request-only calls inside if (sipRequest) { ... }"
    for start, hint in _CRITICAL_HINTS:
        if message.startswith(start):
            return hint
    return "fix the line the critical error points at"


def register_answer(exercise: str, text: Any, name: str, *, priority: int | None = None, **settings):
    """(FrontEnd with the answer registered as ``name``, None) or (None, Feedback saying what is wrong)."""
    from ..frontend import FrontEnd

    script = compile_answer(exercise, text)
    if isinstance(script, Problem):
        return None, not_yet(exercise, script)
    fe = FrontEnd()
    try:
        fe.register(learner_app(exercise, name, text, **settings), priority)
    except (InputError, RegistrationRefused) as err:
        return None, not_yet(exercise, Problem(f"the application cannot be registered: {err}",
                                               "fix what the message names"))
    return fe, None


def _critical(exercise: str, trace, app: str, text: str, what: str) -> Problem | None:
    """The first critical error ``app`` raised on ``trace`` as a Problem (None when there is none)."""
    notes = [c for c in trace.critical_errors if c.app == app]
    if not notes:
        return None
    on_response = any(c.app == app for r in trace.responses for c in r.critical_errors) and not any(
        c.app == app for h in trace.hops for c in h.critical_errors)
    return Problem(f"on {what} your script stopped with a critical error (the server logs it; 10 of them "
                   "disable the application).", critical_hint(notes[0].message, on_response),
                   critical_lines(trace, app, text, f"exercise-{exercise}.mspl"))


def _untouched(exercise: str, fe, text: str, app: str, message, what: str, hint: str) -> Problem | None:
    """A transaction the application must leave alone: no critical error, no action, no change."""
    trace = fe.send(message)
    problem = _critical(exercise, trace, app, text, what)
    if problem:
        return problem
    hop = trace.hop(app)
    if hop.ran and hop.effect not in ("passed",):
        return Problem(f"your script acted on {what}: {hop.action} ({trace.outcome.summary()}).", hint)
    return None


# --- 7.1 -------------------------------------------------------------------------------------

def _diagnostics_header(response_text: str | None) -> str | None:
    for line in (response_text or "").split("\r\n"):
        if line.lower().startswith("ms-diagnostics:"):
            return line.split(":", 1)[1].strip()
    return None


def check_boardroom(text: Any) -> Feedback:
    """7.1: calls to the boardroom get 403 with ms-diagnostics 99001;reason="...";source="<this server>"."""
    fe, feedback = register_answer("7.1", text, "BlockBoardroom", methods="INVITE,MESSAGE", reason_codes="ALL")
    if feedback is not None:
        return feedback
    trace = fe.send(variant("invite-jennyl", callee=BOARDROOM))
    problem = _critical("7.1", trace, "BlockBoardroom", text, "Terry's call to the boardroom")
    if problem:
        return not_yet("7.1", problem)
    hop = trace.hop("BlockBoardroom")
    if trace.outcome.decided_by != "BlockBoardroom" or trace.outcome.kind != "responded":
        added = [c for c in (hop.changes.headers if hop.changes else ()) if c.name.lower() == "ms-diagnostics"]
        hint = ("AddHeader changes the request, and headers added with it are NOT part of a response you send "
                "(Lync 2013 reference, AddHeader): give the header to Respond as \"ms-diagnostics=...\""
                if added else
                f"compare the Request-URI's user@host with boardroom@contoso.com and call Respond(403, ...)")
        return not_yet("7.1", Problem(f"the call to the boardroom was not answered by your application: "
                                      f"{trace.outcome.summary()}.", hint))
    if trace.outcome.status != 403:
        return not_yet("7.1", Problem(f"the boardroom call was answered {trace.outcome.status} "
                                      f"{trace.outcome.reason}.",
                                      "403 Forbidden says 'the server understood, and refuses'; 404 would claim "
                                      "there is no boardroom, 480 that it is only away"))
    diagnostics = _diagnostics_header(trace.outcome.response)
    if diagnostics is None:
        added = [c for c in (hop.changes.headers if hop.changes else ()) if c.name.lower() == "ms-diagnostics"]
        hint = ("AddHeader added it to the request, which nobody sees now: headers added earlier with AddHeader "
                "are NOT included in the response (AddHeader page). Pass it to Respond instead"
                if added else 'add it as a third argument: Respond(403, "Forbidden", "ms-diagnostics=99001;...")')
        return not_yet("7.1", Problem("the 403 reached Terry without an ms-diagnostics header.", hint))
    if not diagnostics.split(";", 1)[0].strip() == "99001":
        return not_yet("7.1", Problem(f"the header reads ms-diagnostics: {diagnostics}.",
                                      "the error id comes first: 99001;reason=\"...\";source=\"...\""))
    if not (get_parameter_value(diagnostics, "reason") or "").strip('" '):
        return not_yet("7.1", Problem(f"the header reads ms-diagnostics: {diagnostics}, with no reason.",
                                      'add ;reason="Boardroom calls are disabled" (escape the quotes as \\" in MSPL)'))
    source = (get_parameter_value(diagnostics, "source") or "").strip('"')
    if source.lower() != fe.lab.server.lower():
        return not_yet("7.1", Problem(f"the header's source is {source or 'missing'}, not this server.",
                                      "source names the server that answered: Concatenate(..., FQDN, ...) uses the "
                                      "built-in variable FQDN (fe01.contoso.com here)"))
    for message, what, hint in (
            (variant("im-nuriag", callee=BOARDROOM), "an IM to the boardroom",
             "only calls: test sipRequest.Method == \"INVITE\""),
            (variant("invite-jennyl"), "Terry's call to Jenny", "compare the callee with boardroom@contoso.com first"),
    ):
        problem = _untouched("7.1", fe, text, "BlockBoardroom", message, what, hint)
        if problem:
            return not_yet("7.1", problem)
    return passed("7.1", f"Terry's client gets 403 Forbidden with ms-diagnostics: {diagnostics}; the IM and the "
                         "other calls, and every response on the way back, pass untouched.")


# --- 7.2 -------------------------------------------------------------------------------------

_GUARD = dict(methods="MESSAGE", reason_codes="NONE", proxy_by_default=False)


def check_internal_ims(text: Any) -> Feedback:
    """7.2 (proxyByDefault false): IMs to Jenny from outside contoso.com get 403; every other IM goes on."""
    fe, feedback = register_answer("7.2", text, "ImGuard", **_GUARD)
    if feedback is not None:
        return feedback
    cases = (
        (variant("im-nuriag", callee="sip:jennyl@contoso.com"), "Terry's IM to Jenny", True),
        (variant("im-nuriag", callee="sip:jennyl@contoso.com", caller=_FABRIKAM), "Al's IM to Jenny (fabrikam.com)",
         False),
        (variant("im-nuriag", caller=_FABRIKAM), "Al's IM to Nuria (fabrikam.com)", True),
        (variant("im-nuriag"), "Terry's IM to Nuria", True),
        (variant("im-nuriag", callee="sip:JennyL@Contoso.com", caller='"Terry Adams" <sip:TerryA@CONTOSO.COM>'),
         "Terry's IM to JennyL@Contoso.com (written in capitals)", True),
    )
    for message, what, deliver in cases:
        trace = fe.send(message)
        problem = _critical("7.2", trace, "ImGuard", text, what)
        if problem:
            if trace.outcome.kind == "dropped":
                problem = Problem(problem.message + " With proxyByDefault false a stopped script drops the IM.",
                                  problem.hint, problem.details)
            return not_yet("7.2", problem)
        hop = trace.hop("ImGuard")
        if deliver:
            if trace.outcome.kind == "dropped":
                return not_yet("7.2", Problem(
                    f"{what} was dropped: your script took no action, and with proxyByDefault false that means the "
                    f"server drops it. Terry's client: {trace.outcome.client_experience}.",
                    "pass every IM you allow on explicitly with ProxyRequest(\"\"), then return;"))
            if trace.outcome.decided_by == "ImGuard":
                return not_yet("7.2", Problem(f"{what} was stopped by your script: {hop.action}.",
                                              "only IMs to jennyl@contoso.com from a sender outside contoso.com are "
                                              "refused; compare host names with EqualString(..., true)"))
            if hop.effect != "passed":
                return not_yet("7.2", Problem(f"your script changed {what}: {hop.action}.",
                                              "hand it on unchanged: ProxyRequest(\"\")"))
        else:
            if trace.outcome.decided_by != "ImGuard" or trace.outcome.kind != "responded":
                return not_yet("7.2", Problem(f"{what} was not refused: {trace.outcome.summary()}.",
                                              "when the callee is jennyl@contoso.com and GetHostName(sipMessage.From) "
                                              "is not contoso.com, Respond(403, \"Forbidden\") and return;"))
            if trace.outcome.status != 403:
                return not_yet("7.2", Problem(f"{what} got {trace.outcome.status} {trace.outcome.reason}.",
                                              "refuse it with 403 Forbidden"))
    return passed("7.2", "Outside IMs to Jenny get 403; every other IM leaves your application through "
                         "ProxyRequest(\"\"), which proxyByDefault false makes your job.")


# --- 7.3 -------------------------------------------------------------------------------------

_WATCH_SCRIPT = '''
if (sipResponse) {
    Log("Debugr", false, "%s saw the response");
}
'''

#: (name, reasonCodes, where) of the four watchers of 7.3.
WATCHERS = (("CallAudit", "ALL", "UserServices+1"), ("FailWatch", "4XX,5XX,6XX", "InterClusterRouting+1"),
            ("SuccessWatch", "2XX", "IIMFilter"), ("LateWatch", "ALL", "last"))


def response_path_front_end():
    """The Front End of 7.3: four watchers that log the responses their reasonCodes accept."""
    from ..frontend import FrontEnd

    fe = FrontEnd()
    for name, codes, where in WATCHERS:
        manifest = lab_app(name, _WATCH_SCRIPT % name, methods="INVITE", reason_codes=codes)
        if where == "last":
            priority = len(fe.chain)
        elif where.endswith("+1"):
            priority = fe.chain.index(where[:-2]) + 1
        else:
            priority = fe.chain.index(where)
        fe.register(manifest, priority)
    return fe


def _kim_trace():
    from ..frontend import sample_path

    return response_path_front_end().send(sample_path("messages/invite-kima.sip").read_text())


def check_response_path(answer: Any) -> Feedback:
    """7.3: the watchers whose script runs for the 480 Terry's call to Kim gets, in the order they run."""
    names = [w[0] for w in WATCHERS]
    if not isinstance(answer, (list, tuple)) or not all(isinstance(a, str) for a in answer) or \
            [a for a in answer if a.strip() == "..."]:
        return not_yet("7.3", Problem("give a list of watcher names, in the order their scripts run.",
                                      f"choose from {', '.join(names)}"))
    given = [a.strip() for a in answer]
    unknown = [a for a in given if a.lower() not in {n.lower() for n in names}]
    if unknown:
        return not_yet("7.3", Problem(f"{', '.join(unknown)} is not one of the four watchers.",
                                      f"choose from {', '.join(names)}"))
    trace = _kim_trace()
    expected = [e.app for e in trace.log if e.app in names]
    by_name = {r.app.lower(): r for r in trace.responses}
    for a in given:
        hop = trace.hop(a)
        if not hop.ran:
            return not_yet("7.3", Problem(f"{hop.app} never saw the INVITE ({hop.sentence}), so the 480 "
                                          "does not pass through it.",
                                          "a response retraces the request's path: only applications that saw "
                                          "the request, above the one that answered, can see it"))
        r = by_name.get(a.lower())
        if r is not None and not r.ran:
            return not_yet("7.3", Problem(f"{r.app}'s script does not run for the 480: {r.sentence}.",
                                          "the responseFilter decides which responses a script sees"))
    missing = [e for e in expected if e.lower() not in [g.lower() for g in given]]
    if missing:
        return not_yet("7.3", Problem(f"{len(missing)} watcher{'s' if len(missing) > 1 else ''} whose script runs "
                                      "for the 480 is missing.",
                                      "check each watcher: did it see the INVITE, and does its reasonCodes accept "
                                      "a 4xx?"))
    if [g.lower() for g in given] != [e.lower() for e in expected]:
        return not_yet("7.3", Problem("the right watchers, in the wrong order.",
                                      "responses travel back up the chain in reverse order: the last application "
                                      "sees the response first (LCS 2005 SDK, cc165046)"))
    return passed("7.3", "DefaultRouting answered; the 480 climbed back through the applications above it, "
                         "bottom first, and only the scripts whose reasonCodes accept a 4xx ran: "
                         + " then ".join(expected) + ".")


# --- 7.4 -------------------------------------------------------------------------------------

def check_reception_fork(text: Any) -> Feedback:
    """7.4: INVITEs to the reception desk ring Jenny and Nuria at once (BeginFork/Fork/EndFork)."""
    fe, feedback = register_answer("7.4", text, "Reception", methods="INVITE", reason_codes="NONE")
    if feedback is not None:
        return feedback
    trace = fe.send(variant("invite-jennyl", callee=RECEPTION))
    problem = _critical("7.4", trace, "Reception", text, "Terry's call to the reception desk")
    if problem:
        return not_yet("7.4", problem)
    hop = trace.hop("Reception")
    contacts = {aor: {e.contact for e in fe.registrations.get(aor, ())}
                for aor in ("jennyl@contoso.com", "nuriag@contoso.com")}
    rang = {b.target for b in trace.branches}
    if hop.effect == "proxied":
        return not_yet("7.4", Problem(f"your script proxied the call to one place ({hop.action}).",
                                      "one ProxyRequest sends one copy; to ring two people at once, fork: "
                                      "BeginFork(false, 0); Fork(\"sip:jennyl@contoso.com\"); "
                                      "Fork(\"sip:nuriag@contoso.com\"); EndFork();"))
    if hop.effect == "retargeted":
        return not_yet("7.4", Problem("RetargetRequest gives the call one new target user.",
                                      "to ring two people at once, fork: BeginFork, a Fork per person, EndFork"))
    if hop.effect != "forked":
        return not_yet("7.4", Problem(f"the reception call was not forked: {trace.outcome.summary()}.",
                                      "when the Request-URI's user@host is reception@contoso.com, "
                                      "BeginFork(false, 0), Fork each person, EndFork()"))
    for aor, who in (("jennyl@contoso.com", "Jenny"), ("nuriag@contoso.com", "Nuria")):
        if not contacts[aor] & rang:
            return not_yet("7.4", Problem(f"{who}'s phone did not ring: the fork went to {', '.join(sorted(rang))}.",
                                          f"Fork(\"sip:{aor}\"): a user's address reaches her signed-in endpoints"))
    problem = _untouched("7.4", fe, text, "Reception", variant("invite-jennyl"), "Terry's call to Jenny",
                         "fork only calls for reception@contoso.com")
    if problem:
        return not_yet("7.4", problem)
    won = trace.outcome.destination
    return passed("7.4", f"Jenny's and Nuria's endpoints rang at once; the first answer ({won}) won and the others "
                         "got CANCEL. The chain below was skipped: EndFork routed the call.")


# --- the registry rows and the solutions (mspl_lite.course.exercises / solutions read them) ---------

EXERCISE_ROWS = (
    ("7.1", _NB07, "Refuse calls to the boardroom, with a diagnostic", "MSPL script", check_boardroom),
    ("7.2", _NB07, "Jenny takes IMs from contoso.com only", "MSPL script", check_internal_ims),
    ("7.3", _NB07, "Predict the response path", "application names", check_response_path),
    ("7.4", _NB07, "Ring the reception desk", "MSPL script", check_reception_fork),
)

SOLUTION_ROWS = (
    ("7.1", "mspl", r'''
if (sipRequest) {
    if (sipRequest.Method == "INVITE") {
        if (EqualString(GetUserAtHost(sipRequest.RequestUri), "boardroom@contoso.com", true)) {
            Respond(403, "Forbidden",
                    Concatenate("ms-diagnostics=99001;reason=\"Boardroom calls are disabled\";source=\"",
                                FQDN, "\""));
            return;
        }
    }
}
''', "Respond's extra headers are \"Name=value\" strings (the first '=' separates them); AddHeader would only "
     "change the request, which nobody sees once you answer. FQDN is the built-in variable naming this server. "
     "if (sipRequest) matters: reasonCodes ALL runs the script for every response too."),
    ("7.2", "mspl", r'''
if (sipRequest) {
    if (EqualString(GetUserAtHost(sipRequest.RequestUri), "jennyl@contoso.com", true)) {
        host = GetHostName(sipMessage.From);
        if (host == null || !EqualString(host, "contoso.com", true)) {
            Respond(403, "Forbidden");
            return;
        }
    }
    ProxyRequest("");
    return;
}
''', "With proxyByDefault false, taking no action drops the IM: the sender hears nothing and its client gives up "
     "after 32 s. So every IM you allow leaves through ProxyRequest(\"\"). host == null covers a sender without a "
     "host; || only evaluates the right side when the left is false."),
    ("7.3", "python", 'answer_7_3 = ["FailWatch", "CallAudit"]',
     "LateWatch sits below DefaultRouting and never saw the INVITE, so the 480 does not pass through it. "
     "SuccessWatch saw the INVITE, but reasonCodes 2XX keeps its script out of a 480. The response climbs "
     "bottom first: FailWatch (lower in the chain) before CallAudit."),
    ("7.4", "mspl", r'''
if (sipRequest) {
    if (EqualString(GetUserAtHost(sipRequest.RequestUri), "reception@contoso.com", true)) {
        BeginFork(false, 0);
        Fork("sip:jennyl@contoso.com");
        Fork("sip:nuriag@contoso.com");
        EndFork();
        return;
    }
}
''', "BeginFork, one Fork per target, EndFork, in that order (hh347174, hh364734); EndFork sends every branch "
     "and counts as handled. A request with a Route header cannot be forked, which strictRoute=\"false\" keeps "
     "away from the script."),
)
