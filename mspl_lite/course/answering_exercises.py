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

from ..sip import get_parameter_value
from .feedback import Passed, Problem, exercise_check
from .harness import app_critical_problem, endpoint_contacts, register_answer
from .lab_apps import lab_app
from .variants import variant

__all__ = ["check_boardroom", "check_internal_ims", "check_response_path", "check_reception_fork",
           "response_path_front_end", "EXERCISE_ROWS", "SOLUTION_ROWS", "BOARDROOM", "RECEPTION"]

BOARDROOM = "sip:boardroom@contoso.com"
RECEPTION = "sip:reception@contoso.com"
_FABRIKAM = '"Al Young" <sip:aly@fabrikam.com>'
_NB07 = "07-answering-blocking-and-filtering"


def _untouched(exercise: str, fe, text: str, app: str, message, what: str, hint: str) -> Problem | None:
    """A transaction the application must leave alone: no critical error, no action, no change."""
    trace = fe.send(message)
    problem = app_critical_problem(exercise, trace, app, text, what)
    if problem:
        return problem
    hop = trace.hop(app)
    if hop.ran and hop.effect != "passed":
        return Problem(f"your script acted on {what}: {hop.action} ({trace.outcome.summary()}).", hint)
    return None


# --- 7.1 -------------------------------------------------------------------------------------

def _diagnostics_header(response_text: str | None) -> str | None:
    for line in (response_text or "").split("\r\n"):
        if line.lower().startswith("ms-diagnostics:"):
            return line.split(":", 1)[1].strip()
    return None


@exercise_check("7.1")
def check_boardroom(text: Any) -> Problem | Passed:
    """7.1: calls to the boardroom get 403 with ms-diagnostics 99001;reason="...";source="<this server>"."""
    fe = register_answer("7.1", text, "BlockBoardroom", methods="INVITE,MESSAGE", reason_codes="ALL")
    if isinstance(fe, Problem):
        return fe
    trace = fe.send(variant("invite-jennyl", callee=BOARDROOM))
    problem = app_critical_problem("7.1", trace, "BlockBoardroom", text, "Terry's call to the boardroom")
    if problem:
        return problem
    hop = trace.hop("BlockBoardroom")
    if trace.outcome.decided_by != "BlockBoardroom" or trace.outcome.kind != "responded":
        added = [c for c in (hop.changes.headers if hop.changes else ()) if c.name.lower() == "ms-diagnostics"]
        hint = ("AddHeader changes the request, and headers added with it are NOT part of a response you send "
                "(Lync 2013 reference, AddHeader): give the header to Respond as \"ms-diagnostics=...\""
                if added else
                f"compare the Request-URI's user@host with boardroom@contoso.com and call Respond(403, ...)")
        return Problem(f"the call to the boardroom was not answered by your application: "
                       f"{trace.outcome.summary()}.", hint)
    if trace.outcome.status != 403:
        return Problem(f"the boardroom call was answered {trace.outcome.status} "
                       f"{trace.outcome.reason}.",
                       "403 Forbidden says 'the server understood, and refuses'; 404 would claim "
                       "there is no boardroom, 480 that it is only away")
    diagnostics = _diagnostics_header(trace.outcome.response)
    if diagnostics is None:
        added = [c for c in (hop.changes.headers if hop.changes else ()) if c.name.lower() == "ms-diagnostics"]
        hint = ("AddHeader added it to the request, which nobody sees now: headers added earlier with AddHeader "
                "are NOT included in the response (AddHeader page). Pass it to Respond instead"
                if added else 'add it as a third argument: Respond(403, "Forbidden", "ms-diagnostics=99001;...")')
        return Problem("the 403 reached Terry without an ms-diagnostics header.", hint)
    if not diagnostics.split(";", 1)[0].strip() == "99001":
        return Problem(f"the header reads ms-diagnostics: {diagnostics}.",
                       "the error id comes first: 99001;reason=\"...\";source=\"...\"")
    if not (get_parameter_value(diagnostics, "reason") or "").strip('" '):
        return Problem(f"the header reads ms-diagnostics: {diagnostics}, with no reason.",
                       'add ;reason="Boardroom calls are disabled" (escape the quotes as \\" in MSPL)')
    source = (get_parameter_value(diagnostics, "source") or "").strip('"')
    if source.lower() != fe.lab.server.lower():
        return Problem(f"the header's source is {source or 'missing'}, not this server.",
                       "source names the server that answered: Concatenate(..., FQDN, ...) uses the "
                       "built-in variable FQDN (fe01.contoso.com here)")
    for message, what, hint in (
            (variant("im-nuriag", callee=BOARDROOM), "an IM to the boardroom",
             "only calls: test sipRequest.Method == \"INVITE\""),
            (variant("invite-jennyl"), "Terry's call to Jenny", "compare the callee with boardroom@contoso.com first"),
    ):
        problem = _untouched("7.1", fe, text, "BlockBoardroom", message, what, hint)
        if problem:
            return problem
    return Passed(f"Terry's client gets 403 Forbidden with ms-diagnostics: {diagnostics}; the IM and the "
                  "other calls, and every response on the way back, pass untouched.")


# --- 7.2 -------------------------------------------------------------------------------------

_GUARD = dict(methods="MESSAGE", reason_codes="NONE", proxy_by_default=False)


@exercise_check("7.2")
def check_internal_ims(text: Any) -> Problem | Passed:
    """7.2 (proxyByDefault false): IMs to Jenny from outside contoso.com get 403; every other IM goes on."""
    fe = register_answer("7.2", text, "ImGuard", **_GUARD)
    if isinstance(fe, Problem):
        return fe
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
        problem = app_critical_problem("7.2", trace, "ImGuard", text, what)
        if problem:
            if trace.outcome.kind == "dropped":
                problem = Problem(problem.message + " With proxyByDefault false a stopped script drops the IM.",
                                  problem.hint, problem.details)
            return problem
        hop = trace.hop("ImGuard")
        if deliver:
            if trace.outcome.kind == "dropped":
                return Problem(
                    f"{what} was dropped: your script took no action, and with proxyByDefault false that means "
                    f"the server drops it. Terry's client: {trace.outcome.client_experience}.",
                    "pass every IM you allow on explicitly with ProxyRequest(\"\"), then return;")
            if trace.outcome.decided_by == "ImGuard":
                return Problem(f"{what} was stopped by your script: {hop.action}.",
                               "only IMs to jennyl@contoso.com from a sender outside contoso.com are "
                               "refused; compare host names with EqualString(..., true)")
            if hop.effect != "passed":
                return Problem(f"your script changed {what}: {hop.action}.",
                               "hand it on unchanged: ProxyRequest(\"\")")
        else:
            if trace.outcome.decided_by != "ImGuard" or trace.outcome.kind != "responded":
                return Problem(f"{what} was not refused: {trace.outcome.summary()}.",
                               "when the callee is jennyl@contoso.com and GetHostName(sipMessage.From) "
                               "is not contoso.com, Respond(403, \"Forbidden\") and return;")
            if trace.outcome.status != 403:
                return Problem(f"{what} got {trace.outcome.status} {trace.outcome.reason}.",
                               "refuse it with 403 Forbidden")
    return Passed("Outside IMs to Jenny get 403; every other IM leaves your application through "
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


@exercise_check("7.3")
def check_response_path(answer: Any) -> Problem | Passed:
    """7.3: the watchers whose script runs for the 480 Terry's call to Kim gets, in the order they run."""
    names = [w[0] for w in WATCHERS]
    if not isinstance(answer, (list, tuple)) or not all(isinstance(a, str) for a in answer) or \
            [a for a in answer if a.strip() == "..."]:
        return Problem("give a list of watcher names, in the order their scripts run.",
                       f"choose from {', '.join(names)}")
    given = [a.strip() for a in answer]
    unknown = [a for a in given if a.lower() not in {n.lower() for n in names}]
    if unknown:
        return Problem(f"{', '.join(unknown)} is not one of the four watchers.",
                       f"choose from {', '.join(names)}")
    trace = _kim_trace()
    expected = [e.app for e in trace.log if e.app in names]
    by_name = {r.app.lower(): r for r in trace.responses}
    for a in given:
        hop = trace.hop(a)
        if not hop.ran:
            return Problem(f"{hop.app} never saw the INVITE ({hop.sentence}), so the 480 "
                           "does not pass through it.",
                           "a response retraces the request's path: only applications that saw "
                           "the request, above the one that answered, can see it")
        r = by_name.get(a.lower())
        if r is not None and not r.ran:
            return Problem(f"{r.app}'s script does not run for the 480: {r.sentence}.",
                           "the responseFilter decides which responses a script sees")
    missing = [e for e in expected if e.lower() not in [g.lower() for g in given]]
    if missing:
        return Problem(f"{len(missing)} watcher{'s' if len(missing) > 1 else ''} whose script runs "
                       "for the 480 is missing.",
                       "check each watcher: did it see the INVITE, and does its reasonCodes accept "
                       "a 4xx?")
    if [g.lower() for g in given] != [e.lower() for e in expected]:
        return Problem("the right watchers, in the wrong order.",
                       "responses travel back up the chain in reverse order: the last application "
                       "sees the response first (LCS 2005 SDK, cc165046)")
    return Passed("DefaultRouting answered; the 480 climbed back through the applications above it, "
                  "bottom first, and only the scripts whose reasonCodes accept a 4xx ran: "
                  + " then ".join(expected) + ".")


# --- 7.4 -------------------------------------------------------------------------------------

@exercise_check("7.4")
def check_reception_fork(text: Any) -> Problem | Passed:
    """7.4: INVITEs to the reception desk ring Jenny and Nuria at once (BeginFork/Fork/EndFork)."""
    fe = register_answer("7.4", text, "Reception", methods="INVITE", reason_codes="NONE")
    if isinstance(fe, Problem):
        return fe
    trace = fe.send(variant("invite-jennyl", callee=RECEPTION))
    problem = app_critical_problem("7.4", trace, "Reception", text, "Terry's call to the reception desk")
    if problem:
        return problem
    hop = trace.hop("Reception")
    rang = {b.target for b in trace.branches}
    if hop.effect == "proxied":
        return Problem(f"your script proxied the call to one place ({hop.action}).",
                       "one ProxyRequest sends one copy; to ring two people at once, fork: "
                       "BeginFork(false, 0); Fork(\"sip:jennyl@contoso.com\"); "
                       "Fork(\"sip:nuriag@contoso.com\"); EndFork();")
    if hop.effect == "retargeted":
        return Problem("RetargetRequest gives the call one new target user.",
                       "to ring two people at once, fork: BeginFork, a Fork per person, EndFork")
    if hop.effect != "forked":
        return Problem(f"the reception call was not forked: {trace.outcome.summary()}.",
                       "when the Request-URI's user@host is reception@contoso.com, "
                       "BeginFork(false, 0), Fork each person, EndFork()")
    for aor, who in (("jennyl@contoso.com", "Jenny"), ("nuriag@contoso.com", "Nuria")):
        if not endpoint_contacts(fe, aor) & rang:
            return Problem(f"{who}'s phone did not ring: the fork went to {', '.join(sorted(rang))}.",
                           f"Fork(\"sip:{aor}\"): a user's address reaches her signed-in endpoints")
    problem = _untouched("7.4", fe, text, "Reception", variant("invite-jennyl"), "Terry's call to Jenny",
                         "fork only calls for reception@contoso.com")
    if problem:
        return problem
    won = trace.outcome.destination
    return Passed(f"Jenny's and Nuria's endpoints rang at once; the first answer ({won}) won and the others "
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
