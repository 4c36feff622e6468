"""Exercises of notebook 09 (managed code): a Dispatch handler, and telling documented from inferred.

9.1 Write the handler behind HelpdeskRouter's Dispatch("OnInvite") so that the call reaches the
    Contoso Helpdesk ApplicationEndpoint of the HelpdeskBot UCMA application.
9.2 Sort five statements about "Retarget() to my ApplicationEndpoint, but it receives nothing" into
    documented and inferred (mspl.md 4).

The handler is a Python function ``handler(e)`` standing in for the managed method
``void OnInvite(object sender, RequestReceivedEventArgs e)`` (mspl_lite.frontend.managed): ``e.Request``
(Retarget, AddHeader, SetDestination, ...) and ``e.ServerTransaction`` (CreateBranch().SendRequest,
SendResponse) keep the Microsoft.Rtc.Sip names.
"""
from __future__ import annotations

from typing import Any, Callable

from ..errors import MsplLiteError
from .feedback import Passed, Problem, exercise_check

__all__ = ["HELPDESK", "helpdesk_trace", "check_helpdesk_handler", "check_documented_or_inferred", "STATEMENTS",
           "HANDLER_VARIANTS", "EXERCISE_ROWS", "SOLUTION_ROWS"]

HELPDESK = "sip:helpdesk@contoso.com"
_NB09 = "09-managed-code"


def helpdesk_trace(handler: Callable, *, lab=None):
    """Nuria's call to Terry's helpdesk line through HelpdeskRouter (dispatch-helpdesk.am), handled by ``handler``.

    Raises what the simulator raises for a misuse of the managed API (UsageError).
    """
    from ..frontend import FrontEnd, sample_path

    fe = FrontEnd(lab)
    fe.register(str(sample_path("apps/dispatch-helpdesk.am")))
    return fe.send(sample_path("messages/invite-helpdesk.sip").read_text(), filename="invite-helpdesk.sip",
                   dispatch_handlers={"OnInvite": handler})


# --- the handlers of the notebook's lab (and of the solution) -------------------------------------

def _retarget(e) -> None:
    e.Request.Retarget(HELPDESK)
    e.ServerTransaction.CreateBranch().SendRequest(e.Request)


def _retarget_with_aor(e) -> None:
    e.Request.Retarget(HELPDESK)
    e.Request.AddHeader("ms-application-aor", f"<{HELPDESK}>")
    e.ServerTransaction.CreateBranch().SendRequest(e.Request)


def _destination(e) -> None:
    e.Request.SetDestination("sip:app01.contoso.com:6001;transport=tls")
    e.ServerTransaction.CreateBranch().SendRequest(e.Request)


def _destination_with_aor(e) -> None:
    e.Request.AddHeader("ms-application-aor", f"<{HELPDESK}>")
    e.Request.SetDestination("sip:app01.contoso.com:6001;transport=tls")
    e.ServerTransaction.CreateBranch().SendRequest(e.Request)


def _busy(e) -> None:
    e.ServerTransaction.SendResponse(486, "Busy Here")


#: label -> (handler, its C# shape), offered by the notebook's DispatchLab.
HANDLER_VARIANTS: dict[str, tuple[Callable, str]] = {
    "Retarget, send on": (_retarget, 'e.Request.Retarget("sip:helpdesk@contoso.com");\n'
                                     "e.ServerTransaction.CreateBranch().SendRequest(e.Request);"),
    "Retarget + ms-application-aor": (_retarget_with_aor,
                                      'e.Request.Retarget("sip:helpdesk@contoso.com");\n'
                                      'e.Request.AllHeaders.Add(new Header("ms-application-aor", '
                                      '"<sip:helpdesk@contoso.com>"));\n'
                                      "e.ServerTransaction.CreateBranch().SendRequest(e.Request);"),
    "SetDestination to the application": (_destination,
                                          "e.Request.SetDestination(/* app01.contoso.com:6001 */);\n"
                                          "e.ServerTransaction.CreateBranch().SendRequest(e.Request);"),
    "SetDestination + ms-application-aor": (_destination_with_aor,
                                            'e.Request.AllHeaders.Add(new Header("ms-application-aor", '
                                            '"<sip:helpdesk@contoso.com>"));\n'
                                            "e.Request.SetDestination(/* app01.contoso.com:6001 */);\n"
                                            "e.ServerTransaction.CreateBranch().SendRequest(e.Request);"),
    "Answer 486 from managed code": (_busy, "e.ServerTransaction.SendResponse(486 /* Busy Here */);"),
}


# --- 9.1 -------------------------------------------------------------------------------------

@exercise_check("9.1")
def check_helpdesk_handler(handler: Any) -> Problem | Passed:
    """9.1: the handler gets Nuria's call to the Contoso Helpdesk ApplicationEndpoint (200 from HelpdeskBot)."""
    if not callable(handler):
        return Problem("the answer should be your handler function (on_invite), not "
                       f"{type(handler).__name__}.",
                       'def on_invite(e): ... then check_exercise("9.1", on_invite)')
    try:
        trace = helpdesk_trace(handler)
    except MsplLiteError as err:
        return Problem(f"the managed API refused a call of your handler: {err}",
                       "e.Request.Retarget(uri) takes a SIP URI; one CreateBranch() per request sent")
    hop = trace.hop("HelpdeskRouter")
    if "the handler raised" in hop.sentence:
        return Problem(f"your handler raised an exception: {hop.sentence.split('raised ', 1)[1]}. "
                       "In managed code the transaction is then left unanswered.",
                       "use the managed names: e.Request, e.ServerTransaction")
    if trace.outcome.kind == "dropped":
        return Problem("your handler neither sent the request on nor answered it: "
                       f"Nuria's client: {trace.outcome.client_experience}.",
                       "send it on: e.ServerTransaction.CreateBranch().SendRequest(e.Request)")
    if trace.outcome.kind == "responded":
        return Problem(f"the call was answered {trace.outcome.status} {trace.outcome.reason} by "
                       f"{trace.outcome.decided_by}; it should reach the helpdesk.",
                       "send the request on instead of answering it")
    app_branches = [b for b in trace.branches if b.kind == "application"]
    if not app_branches:
        return Problem(f"the call never reached HelpdeskBot: {trace.outcome.summary()}.",
                       f"give the request its new target: e.Request.Retarget(\"{HELPDESK}\")")
    branch = app_branches[0]
    if trace.outcome.status != 200:
        if "ms-application-aor header names" in branch.note or "ms-application-aor" in (branch.request or "").lower():
            hint = f"the ms-application-aor header must name the endpoint: <{HELPDESK}>"
        else:
            hint = ("HelpdeskBot matches an ApplicationEndpoint by the To URI, then the Conversation ID, then the "
                    "ms-application-aor header (Greenlee 2014), and To still names Terry (Retarget leaves it, "
                    f"Dn439073): add e.Request.AddHeader(\"ms-application-aor\", \"<{HELPDESK}>\") before sending")
        return Problem(f"HelpdeskBot received the call but no ApplicationEndpoint took it "
                       f"({trace.outcome.status} {trace.outcome.reason}): {branch.note}.", hint)
    if "To header names" in branch.note:
        return Passed("The helpdesk endpoint took the call, matched on the To header you rewrote. It works in "
                      "the lab; the ms-application-aor header does the same without changing what the caller "
                      "wrote in To.")
    if "Request.Retarget" in hop.sentence:
        how = ("Retarget gave the request its new target and the chain below routed it to HelpdeskBot; the header "
               "told the UCMA application which endpoint it is for.")
    else:
        how = ("You sent it straight to the application, so nothing below HelpdeskRouter ran; the header told the "
               "UCMA application which endpoint it is for.")
    return Passed(f"The helpdesk endpoint took the call: {branch.note}. {how}")


# --- 9.2 -------------------------------------------------------------------------------------

#: key -> (statement, "documented" | "inferred", why).
STATEMENTS: dict[str, tuple[str, str, str]] = {
    "a": ("RetargetRequest leaves the To header naming the original user.", "documented",
          "the SDK's ForwardInvite sample shows it (Dn439073)"),
    "b": ("Request.Retarget sets a new logical target user and leaves the route to other applications and servers.",
          "documented", "the Microsoft.Rtc.Sip reference says so (MSIP Request.xml)"),
    "c": ("A UCMA application gives an incoming request to an ApplicationEndpoint by its To URI, then the "
          "Conversation ID, then the ms-application-aor header.", "documented",
          "Greenlee (2014) describes UCMA's matching; a blog, not Microsoft documentation, but a source"),
    "d": ("After Retarget, HelpdeskBot receives the INVITE but no ApplicationEndpoint takes it, because To still "
          "names Terry.", "inferred", "no source states it: it follows from a, b and c (mspl.md 4, UNCERTAIN)"),
    "e": ("Nuria's client then receives 404 Not Found.", "inferred",
          "the status a UCMA application answers with is not in our sources: the simulator picked 404"),
}


@exercise_check("9.2")
def check_documented_or_inferred(answer: Any) -> Problem | Passed:
    """9.2: each statement marked "documented" or "inferred"."""
    if not isinstance(answer, dict) or set(answer) != set(STATEMENTS):
        return Problem("the answer should be the dict of the starter cell: one entry per statement.",
                       f"keys: {', '.join(STATEMENTS)}")
    for key, (statement, truth, why) in STATEMENTS.items():
        value = answer[key]
        if not isinstance(value, str) or value.strip().lower() not in ("documented", "inferred"):
            return Problem(f"{key}: {value!r} is neither \"documented\" nor \"inferred\".",
                           "write one of the two words")
        if value.strip().lower() != truth:
            return Problem(f"{key} ({statement}) is {truth}, not {value.strip().lower()}.",
                           f"{why}")
    return Passed("Three sourced facts, two inferences drawn from them: the trace marks them [documented] "
                  "and [inferred] the same way, so you always know which part to verify on a real pool.")


# --- the registry rows and the solutions ---------------------------------------------------------

EXERCISE_ROWS = (
    ("9.1", _NB09, "Get the call to the helpdesk endpoint", "python function", check_helpdesk_handler),
    ("9.2", _NB09, "Documented or inferred?", "python dict", check_documented_or_inferred),
)

SOLUTION_ROWS = (
    ("9.1", "python", '''
def on_invite(e):
    e.Request.Retarget("sip:helpdesk@contoso.com")
    e.Request.AddHeader("ms-application-aor", "<sip:helpdesk@contoso.com>")
    e.ServerTransaction.CreateBranch().SendRequest(e.Request)
''', "Retarget gives the request its new logical target, and the chain below routes it to HelpdeskBot's pool; "
     "To still names Terry, so the UCMA application needs the ms-application-aor header to find the endpoint "
     "(Greenlee 2014). Giving the application a default routing endpoint would also catch it, for every "
     "unmatched request."),
    ("9.2", "python", '''
answer_9_2 = {"a": "documented", "b": "documented", "c": "documented", "d": "inferred", "e": "inferred"}
''', "a: Dn439073; b: MSIP Request.xml; c: Greenlee 2014 (a blog). d and e are nowhere in the sources: d is the "
     "inference of mspl.md 4, e the simulator's choice of a status."),
)
