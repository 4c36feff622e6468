"""Exercises of notebook 09 (managed code): a Dispatch handler, and telling documented from inferred.

9.1 Write the handler behind HelpdeskRouter's Dispatch("OnInvite") so that the call reaches the
    Contoso Helpdesk ApplicationEndpoint of the HelpdeskBot UCMA application.
9.2 Sort five statements about "Retarget() to my ApplicationEndpoint, but nothing arrives" into
    documented and inferred (Dn466043, Dn439073, msip-request, decision D70).

The handler is a Python function ``handler(e)`` standing in for the managed method
``void OnInvite(object sender, RequestReceivedEventArgs e)`` (mspl_lite.frontend.managed): ``e.Request``
(Retarget, AllHeaders.Add(Header(...)), RequestUri, CreateResponse) and ``e.ServerTransaction``
(CreateBranch().SendRequest, SendResponse) keep the Microsoft.Rtc.Sip names.
"""
from __future__ import annotations

from typing import Any, Callable

from ..errors import MsplLiteError
from ..frontend.managed import Header
from .feedback import Passed, Problem, exercise_check

__all__ = ["HELPDESK", "helpdesk_trace", "pool_trace", "POOL_REQUESTS", "check_helpdesk_handler",
           "check_documented_or_inferred", "STATEMENTS", "HANDLER_VARIANTS", "EXERCISE_ROWS", "SOLUTION_ROWS",
           "lab_with_default_routing_endpoint"]

HELPDESK = "sip:helpdesk@contoso.com"
_NB09 = "09-managed-code"


def _instance_gruu(lab=None) -> str:
    from ..frontend import load_lab

    return (lab or load_lab()).trusted_applications[0].instance_gruu


def lab_with_default_routing_endpoint():
    """The shipped lab, with Contoso Helpdesk designated as HelpdeskBot's default routing endpoint."""
    from ..frontend import default_lab_text, parse_lab

    text = default_lab_text().replace("default_routing_endpoint = false", "default_routing_endpoint = true")
    return parse_lab(text, filename="lab.toml (default routing endpoint)")


#: The exceptions the Microsoft.Rtc.Sip stand-ins throw at a misuse (frontend/managed.py, decision D74).
_MANAGED_API_REFUSALS = ("ArgumentException", "ArgumentNullException", "InvalidOperationException", "UsageError")


def helpdesk_trace(handler: Callable, *, lab=None):
    """Nuria's call to Terry's helpdesk line through HelpdeskRouter (dispatch-helpdesk.am), handled by ``handler``.

    A misuse of the managed API is a fault of the handler in the trace (decision D74), not raised.
    """
    from ..frontend import FrontEnd, sample_path

    fe = FrontEnd(lab)
    fe.register(str(sample_path("apps/dispatch-helpdesk.am")))
    return fe.send(sample_path("messages/invite-helpdesk.sip").read_text(), filename="invite-helpdesk.sip",
                   dispatch_handlers={"OnInvite": handler})


def _request(method: str, uri: str, to: str, extra: str = "") -> str:
    return (f"{method} {uri} SIP/2.0\r\n"
            "Via: SIP/2.0/TLS 192.0.2.21:50230;branch=z9hG4bK-pool-1\r\nMax-Forwards: 70\r\n"
            "From: \"Nuria Gonzalez\" <sip:nuriag@contoso.com>;tag=1a2b3c4d\r\n"
            f"To: {to}\r\nCall-ID: pool-1\r\nCSeq: 2 {method}\r\n{extra}Content-Length: 0\r\n\r\n")


#: label -> what the request is; pool_trace(label) sends it (no custom application registered).
POOL_REQUESTS = {
    "call to the contact's phone number": "INVITE to tel:+14255550170, the Line URI of the helpdesk contact",
    "in-dialog BYE, conversation gone": "BYE in a dialog (To has a tag) to the instance GRUU, for conversation HD-0041",
    "MESSAGE for a hosted conversation": "MESSAGE to the instance GRUU with Ms-Conversation-ID HD-0042",
}


def pool_trace(label: str, *, lab=None):
    """A request that reaches HelpdeskBot without any custom application (POOL_REQUESTS)."""
    from ..frontend import FrontEnd

    gruu = _instance_gruu(lab)
    if label == "call to the contact's phone number":
        text = _request("INVITE", "tel:+14255550170", "<tel:+14255550170>")
    elif label == "in-dialog BYE, conversation gone":
        text = _request("BYE", gruu, "<sip:helpdesk@contoso.com>;tag=9f8e7d", "Ms-Conversation-ID: HD-0041\r\n")
        text = text.replace("To: <sip:helpdesk@contoso.com>;tag=9f8e7d", "To: \"Terry Adams\" <sip:terrya@contoso.com>;tag=9f8e7d")
    elif label == "MESSAGE for a hosted conversation":
        text = _request("MESSAGE", gruu, "<sip:terrya@contoso.com>", "Ms-Conversation-ID: HD-0042\r\n")
    else:
        raise KeyError(f"{label!r}: one of {', '.join(POOL_REQUESTS)}")
    return FrontEnd(lab).send(text, filename=label)


# --- the handlers of the notebook's lab (and of the solution) -------------------------------------

def _retarget(e) -> None:
    e.Request.Retarget(HELPDESK)
    e.ServerTransaction.CreateBranch().SendRequest(e.Request)


def _retarget_with_aor(e) -> None:
    e.Request.Retarget(HELPDESK)
    e.Request.AllHeaders.Add(Header("ms-application-aor", f"<{HELPDESK}>"))
    e.ServerTransaction.CreateBranch().SendRequest(e.Request)


def _to_instance(e) -> None:
    e.Request.RequestUri = _instance_gruu()
    e.ServerTransaction.CreateBranch().SendRequest(e.Request)


def _to_instance_with_aor(e) -> None:
    e.Request.AllHeaders.Add(Header("ms-application-aor", f"<{HELPDESK}>"))
    e.Request.RequestUri = _instance_gruu()
    e.ServerTransaction.CreateBranch().SendRequest(e.Request)


def _busy(e) -> None:
    e.ServerTransaction.SendResponse(e.Request.CreateResponse(486))


_AOR_CS = 'e.Request.AllHeaders.Add(new Header("ms-application-aor", "<sip:helpdesk@contoso.com>"));\n'
_GRUU_CS = 'e.Request.RequestUri = helpdeskBotInstanceGruu;   // sip:app01.contoso.com@contoso.com;gruu;opaque=srvr:HelpdeskBot:...\n'
_SEND_CS = "e.ServerTransaction.CreateBranch().SendRequest(e.Request);"

#: label -> (handler, its C# shape), offered by the notebook's DispatchLab.
HANDLER_VARIANTS: dict[str, tuple[Callable, str]] = {
    "Retarget, send on": (_retarget, 'e.Request.Retarget("sip:helpdesk@contoso.com");\n' + _SEND_CS),
    "Retarget + ms-application-aor": (_retarget_with_aor,
                                      'e.Request.Retarget("sip:helpdesk@contoso.com");\n' + _AOR_CS + _SEND_CS),
    "RequestUri = the instance GRUU": (_to_instance, _GRUU_CS + _SEND_CS),
    "RequestUri = the instance GRUU + ms-application-aor": (_to_instance_with_aor, _AOR_CS + _GRUU_CS + _SEND_CS),
    "Answer 486 from managed code": (_busy, "e.ServerTransaction.SendResponse(e.Request.CreateResponse(486));"),
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
                       "use the members of Microsoft.Rtc.Sip: e.Request.Retarget(uri) takes a SIP URI; "
                       "e.Request.AllHeaders.Add(Header(name, value)); one CreateBranch() per request sent")
    hop = trace.hop("HelpdeskRouter")
    raised = hop.sentence.split("the handler raised ", 1)[1] if "the handler raised " in hop.sentence else ""
    if raised.split(":", 1)[0] in _MANAGED_API_REFUSALS:   # what the stand-ins throw at a misuse (D74)
        return Problem(f"the managed API refused a call of your handler: {raised}",
                       "use the members of Microsoft.Rtc.Sip: e.Request.Retarget(uri) takes a SIP URI; "
                       "e.Request.AllHeaders.Add(Header(name, value)); one CreateBranch() per request sent")
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
        if "ms-application-aor" in (branch.request or "").lower():
            hint = f"the ms-application-aor header must name the endpoint's owner URI: <{HELPDESK}>"
        else:
            hint = ("the platform matches the ms-application-aor header, else the To URI (Dn466043), and To still "
                    "names Terry (Retarget leaves it, Dn439073): add "
                    f"e.Request.AllHeaders.Add(Header(\"ms-application-aor\", \"<{HELPDESK}>\")) before sending")
        return Problem(f"HelpdeskBot received the call but no ApplicationEndpoint took it "
                       f"({trace.outcome.status} {trace.outcome.reason}): {branch.note}.", hint)
    if "(To)" in branch.note:
        return Passed("The helpdesk endpoint took the call, matched on the To header you rewrote. It works in "
                      "the lab; the ms-application-aor header does the same without changing what the caller "
                      "wrote in To.")
    if "Request.Retarget" in hop.sentence:
        how = ("Retarget gave the request its new target and DefaultRouting sent it to HelpdeskBot's pool; the "
               "header told the UCMA platform which endpoint it is for (Dn466043).")
    else:
        how = ("You sent it straight to the application, so nothing below HelpdeskRouter ran; the header told the "
               "UCMA platform which endpoint it is for (Dn466043).")
    return Passed(f"The helpdesk endpoint took the call: {branch.note}. {how}")


# --- 9.2 -------------------------------------------------------------------------------------

#: key -> (statement, "documented" | "inferred", why).
STATEMENTS: dict[str, tuple[str, str, str]] = {
    "a": ("RetargetRequest leaves the To header naming the original user.", "documented",
          "the SDK's ForwardInvite sample says so (Dn439073)"),
    "b": ("Request.Retarget sets a new logical target user and leaves the route to other applications and servers.",
          "documented", "the Microsoft.Rtc.Sip reference, Request.Retarget (msip-request)"),
    "c": ("The UCMA platform matches an incoming message to an endpoint by its ms-application-aor header, which "
          "overrides the To URI; with no match and no default routing endpoint it rejects the message with 481 "
          "in a dialog, else 500.", "documented", "UCMA, Incoming message dispatching (Dn466043)"),
    "d": ("After Retarget to the contact's URI, Lync adds no ms-application-aor header, so the platform matches "
          "To (Terry) and no endpoint takes the call.", "inferred",
          "no page says when Lync leaves the header out, nor that the Request-URI is not matched (decision D70)"),
    "e": ("Nuria's client then receives 500 Server Internal Error.", "inferred",
          "Dn466043 gives the platform's 500; that the Front End passes it to Nuria unchanged is RFC 3261's proxy "
          "rule, not a Lync page (decision D70)"),
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
    return Passed("Three documented facts, two inferences drawn from them: the trace marks them [documented] "
                  "and [inferred] the same way, so you always know which part to verify on a real pool.")


# --- the registry rows and the solutions ---------------------------------------------------------

EXERCISE_ROWS = (
    ("9.1", _NB09, "Get the call to the helpdesk endpoint", "python function", check_helpdesk_handler),
    ("9.2", _NB09, "Documented or inferred?", "python dict", check_documented_or_inferred),
)

SOLUTION_ROWS = (
    ("9.1", "python", '''
def on_invite(e):
    from mspl_lite.frontend.managed import Header   # Microsoft.Rtc.Sip.Header

    e.Request.Retarget("sip:helpdesk@contoso.com")
    e.Request.AllHeaders.Add(Header("ms-application-aor", "<sip:helpdesk@contoso.com>"))
    e.ServerTransaction.CreateBranch().SendRequest(e.Request)
''', "Retarget gives the request its new logical target (msip-request), and DefaultRouting sends it to HelpdeskBot's "
     "pool; To still names Terry (Dn439073), and the platform matches the ms-application-aor header, which overrides "
     "To (Dn466043). In C#: e.Request.AllHeaders.Add(new Header(\"ms-application-aor\", "
     "\"<sip:helpdesk@contoso.com>\")). A default routing endpoint (ApplicationEndpointSettings.IsDefaultRoutingEndpoint, "
     "hh382661) would also catch it, with every other unmatched request."),
    ("9.2", "python", '''
answer_9_2 = {"a": "documented", "b": "documented", "c": "documented", "d": "inferred", "e": "inferred"}
''', "a: Dn439073; b: msip-request; c: Dn466043. d and e follow from them but no page states them: decision D70."),
)
