"""The "predict the trace" self-checks of notebooks 01-10, and the final quiz of notebook 10.

    self_check("5.a")        # the question, its choices and a Check button; the answer shows in place

Each check is a row of ``SELF_CHECKS``: the question, the choices, the right one, and why (citing
the page id or decision the notebook uses). A check about what the simulator does also holds
``observe``, a function that runs the simulator and returns the choice that is true today:
tests/test_progress.py asserts ``observe() == answer`` for every such row, so an answer cannot drift
from the library. A "documented or inferred?" check has no ``observe``; its ``why`` names the page
(documented) or the decision (inferred or decided), and tests/test_sources.py checks that it exists.

The widget only sets ``HTML.value`` (never prints into an Output widget: strict nbval), and its
plain-text form, what a stored notebook shows without a kernel, is the question and its choices.
A right answer is recorded for ``progress()`` (mspl_lite.course.progress).
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Callable

import ipywidgets as w

from ..errors import UsageError
from ..view.widgets.common import WidgetBox, shielded

__all__ = ["SelfCheck", "SELF_CHECKS", "self_check", "SelfCheckWidget", "verdict_html"]


@dataclass(frozen=True, slots=True)
class SelfCheck:
    """One question: asked before the cell that shows the answer, answered in place."""

    id: str                     # "5.a": notebook 05, first check
    notebook: str               # "05-routing-with-proxyrequest"
    question: str
    choices: tuple[str, ...]
    answer: str                 # one of choices
    why: str                    # the explanation, citing a page id or a decision
    observe: Callable[[], str] | None = None   # runs the simulator: the choice that is true

    def __repr__(self) -> str:
        return f"<SelfCheck {self.id} ({self.notebook}): {self.question}>"


# ---------------------------------------------------------------------------------------------
# What the simulator does (each returns one of its check's choices)


def _send(message: str, *apps):
    from .lab_apps import front_end_with
    from .messages import course_message

    return front_end_with(*apps).send(course_message(message))


def _sample(name: str) -> str:
    from ..frontend import sample_path

    return str(sample_path(f"apps/{name}.am"))


def _jenny_invites() -> str:
    trace = _send("invite-jennyl")
    first = [b for b in trace.branches if b.kind == "endpoint" and b.attempt == trace.branches[0].attempt]
    return {1: "one, to the endpoint she used last", 2: "two, one to each endpoint (a fork)"}.get(
        len(first), f"{len(first)}")


def _ringing_branch_answers() -> str:
    trace = _send("invite-jennyl")
    cancelled = [b for b in trace.branches if b.cancelled]
    return {487: "487 Request Terminated, after the server's CANCEL", 200: "200 OK as well",
            486: "486 Busy Here"}.get(cancelled[0].final[0] if cancelled and cancelled[0].final else 0, "nothing")


def _watch_im_logs() -> str:
    from .chain_exercises import watch_im_manifest

    logged = [p for p in (9, 5) if any(line.app == "WatchIm" for line in _send("im-link-jennyl",
                                                                              (watch_im_manifest(), p)).log)]
    return {(9, 5): "both", (5,): "only the one at priority 5", (9,): "only the one at priority 9"}.get(
        tuple(logged), "neither")


def _response_order() -> str:
    from .chain_exercises import watch_im_manifest

    trace = _send("im-link-jennyl", (watch_im_manifest(), 5))
    down = list(trace.ran)
    up = [r.app for r in trace.responses if r.ran]
    if len(up) > 1 and up == [a for a in reversed(down) if a in up]:
        return "bottom to top: the last application sees it first"
    return "top to bottom, like the request"


def _call_watch_kim():
    from ..frontend import FrontEnd, sample_path
    from ..manifest import parse_manifest

    fe = FrontEnd()
    fe.register(parse_manifest(_CALL_WATCH, filename="CallWatch.am"))
    return fe.send(sample_path("messages/invite-kima.sip").read_text())


def _kim_answered_by() -> str:
    outcome = _call_watch_kim().outcome
    return f"{outcome.decided_by}, {outcome.status} {outcome.reason}"


def _call_watch_sees_480() -> str:
    trace = _call_watch_kim()
    seen = any(r.app == "CallWatch" and r.ran for r in trace.responses)
    events = any(line.app == "CallWatch" and line.level == "Event" for line in trace.log)
    return {(True, True): "yes: the 480 climbs back through it, and its script runs a second time",
            (False, False): "no: DefaultRouting answered, so CallWatch is out of the picture"}.get(
        (seen, events), "it sees the 480 but writes nothing")


def _run(source: str, message: str = "invite-jennyl"):
    from ..language import compile_script
    from .messages import course_message

    return compile_script(source, filename="snippet.mspl").run(course_message(message))


def _endless_while() -> str:
    run = _run("i = 0;\nwhile (true) {\n    i = i + 1;\n}\nLog(\"Debugr\", false, \"never reached\");")
    if run.critical_errors and not run.log:
        return "the 501st iteration is a critical error: the script stops there"
    return "the loop stops after 500 iterations and the script goes on"


def _null_to_concatenate() -> str:
    run = _run('user = GetUserName(sipRequest.RequestUri);\nLog("Debugr", false, Concatenate("user: ", user));',
               "register-adamb")
    if run.critical_errors:
        return "a critical error: null passed where a string is expected stops the script"
    return "it logs \"user: \""


def _redirect_im_proxy():
    return _send("im-link-jennyl", _sample("redirect-im-proxy"))


def _after_proxy() -> str:
    trace = _redirect_im_proxy()
    after = trace.ran[trace.ran.index("RedirectImProxy") + 1:]
    return "none of them" if not after else ", ".join(after)


def _link_at_nuria() -> str:
    body = _redirect_im_proxy().outcome.forwarded.split("\r\n\r\n", 1)[1]
    return "neutralised: _http://..." if "_http" in body else "as Terry typed it: http://..."


def _retargeted_to_header() -> str:
    trace = _send("im-link-jennyl", _sample("redirect-im-retarget"))
    to = [line for line in trace.outcome.forwarded.split("\r\n") if line.startswith("To:")][0]
    return "Jenny" if "jennyl@" in to else "Nuria" if "nuriag@" in to else to


def _retarget_below_default_routing() -> str:
    trace = _send("im-link-jennyl", (_sample("redirect-im-retarget"), 99))
    return "it runs and retargets the IM" if trace.hop("RedirectImRetarget").ran else \
        "it never runs: DefaultRouting has routed the IM already"


def _block_word() -> str:
    trace = _send("im-password", _sample("block-word"))
    ran = trace.hop("DefaultRouting").ran
    return "no: BlockWord answered, nothing below it sees the IM" if not ran else "yes: it still routes the IM"


def _kim_covers() -> str:
    from ..frontend import sample_path
    from .lab_apps import front_end_with, lab_app

    fe = front_end_with(lab_app("KimCovers", _KIM_COVERS, methods="INVITE"))
    outcome = fe.send(sample_path("messages/invite-kima.sip").read_text()).outcome
    return {200: "200 OK from Nuria, at once", 486: "486 Busy Here from Ben"}.get(outcome.status, str(outcome.status))


def _adam_routed_by() -> str:
    return _send("invite-adamb").outcome.decided_by


def _eleventh_call() -> str:
    from ..frontend import FrontEnd
    from .debugging_exercises import default_routing_app
    from .messages import course_message

    fe = FrontEnd()
    fe.register(default_routing_app())
    for _ in range(11):
        trace = fe.send(course_message("invite-jennyl"))
    if trace.outcome.status == 200 and not trace.hop("DefaultRoutingScript").ran:
        return "nothing: the call rings Jenny as usual"
    return f"{trace.outcome.status} {trace.outcome.reason}"


def _pass_on_routed_by() -> str:
    from ..frontend import FrontEnd, sample_path

    fe = FrontEnd()
    fe.register(_sample("dispatch-helpdesk"))
    trace = fe.send(sample_path("messages/invite-helpdesk.sip").read_text(),
                    dispatch_handlers={"OnInvite": lambda e: e.ServerTransaction.CreateBranch().SendRequest(e.Request)})
    return {"DefaultRouting": "DefaultRouting, below HelpdeskRouter"}.get(trace.outcome.decided_by,
                                                                          trace.outcome.decided_by)


def _retarget_to_bot_arrives() -> str:
    from .managed_exercises import helpdesk_trace

    def to_helpdesk(e):
        e.Request.Retarget("sip:helpdesk@contoso.com")
        e.ServerTransaction.CreateBranch().SendRequest(e.Request)

    trace = helpdesk_trace(to_helpdesk)
    arrived = any(b.kind == "application" and b.final and b.final[0] < 300 for b in trace.branches)
    return "yes" if arrived else "no: the call never reaches the bot's endpoint"


def _capitals_found() -> str:
    from ..manifest.flat_file import parse_flat_file

    exceptions = parse_flat_file("terrya@contoso.com,CEO\n", name="exceptions", columns=("caller", "reason"),
                                key_column="caller", ignore_case=True)
    return "yes, with ignoreCase=\"true\"" if exceptions.lookup("TerryA@CONTOSO.COM") else "no, never"


def _pstn_caller() -> str:
    from ..sip import get_user_at_host

    value = get_user_at_host("<tel:+14255550123>")
    return "null" if value is None else f'"{value}"'


#: CallWatch as notebook 03 writes it (tests/test_progress.py compares the two).
_CALL_WATCH = r"""<?xml version="1.0"?>
<r:applicationManifest r:appUri="http://www.contoso.com/CallWatch"
                       xmlns:r="http://schemas.microsoft.com/lcs/2006/05">
  <r:serverFilter roles="ALL"/>
  <r:requestFilter methodNames="INVITE" strictRoute="false" registrarGenerated="false"/>
  <r:responseFilter reasonCodes="4XX,5XX,6XX"/>
  <r:proxyByDefault action="true"/>
  <r:scriptOnly/>
  <r:splScript><![CDATA[
if (sipRequest) {
    Log("Debugr", false, "call to ", sipRequest.RequestUri);
}
if (sipResponse) {
    Log("Event", false, "call failed: ", sipResponse.StatusCode, sipResponse.StatusReasonPhrase);
}
]]></r:splScript>
</r:applicationManifest>
"""

_KIM_COVERS = """
if (sipRequest) {
    if (EqualString(GetUserAtHost(sipRequest.RequestUri), "kima@contoso.com", true)) {
        BeginFork(false, 0);
        Fork("sip:nuriag@contoso.com");
        Fork("sip:bens@contoso.com");
        EndFork();
        return;
    }
}
"""


def _retarget_app():
    from .lab_apps import lab_app

    return lab_app("ToNuria", 'if (sipRequest) { RetargetRequest("sip:nuriag@contoso.com"); }', methods="INVITE",
                   above_user_services=True)


def _retarget_routed_by() -> str:
    outcome = _send("invite-jennyl", _retarget_app()).outcome
    return {"DefaultRouting": "DefaultRouting, which still runs below it"}.get(outcome.decided_by, outcome.decided_by)


# ---------------------------------------------------------------------------------------------
# The checks

_NB = {1: "01-sip-in-fifteen-minutes", 2: "02-the-front-end-application-chain", 3: "03-your-first-mspl-application",
       4: "04-the-language", 5: "05-routing-with-proxyrequest", 6: "06-retargetrequest",
       7: "07-answering-blocking-and-filtering", 8: "08-logging-monitoring-and-debugging", 9: "09-managed-code",
       10: "10-workshop-capstone"}
_DOCUMENTED_OR_INFERRED = ("documented: a page says so", "decided or inferred: a decision of the series")


def _row(id, question, choices, answer, why, observe=None):
    return SelfCheck(id, _NB[int(id.split(".")[0])], question, tuple(choices), answer, why, observe)


SELF_CHECKS: dict[str, SelfCheck] = {c.id: c for c in (
    _row("1.a", "Jenny is signed in on two endpoints. How many INVITEs leave the Front End for her?",
         ["one, to the endpoint she used last", "two, one to each endpoint (a fork)"],
         "two, one to each endpoint (a fork)",
         "DefaultRouting forks the INVITE to every endpoint where the callee is signed in, as the SDK's own "
         "routing script does with QueryEndpoints and Fork (Dn439065).", _jenny_invites),
    _row("1.b", "Her PC answers first. What does her phone, still ringing, answer to the INVITE?",
         ["200 OK as well", "487 Request Terminated, after the server's CANCEL", "486 Busy Here"],
         "487 Request Terminated, after the server's CANCEL",
         "The server passes the first 200 OK to Terry and cancels the other branch, which ends the INVITE with "
         "487 (RFC 3261 sections 9.2 and 16.7): Terry gets one 200 OK.", _ringing_branch_answers),
    _row("2.a", "WatchIm at priority 9 (below DefaultRouting) and at priority 5: which one logs Terry's IM?",
         ["both", "only the one at priority 5", "only the one at priority 9", "neither"],
         "only the one at priority 5",
         "DefaultRouting routes the IM and nothing below it runs (decisions D1, D52); Dn439078: \"the application "
         "priority level must be set higher than the DefaultRouting application.\"", _watch_im_logs),
    _row("2.b", "The 200 OK that answers the IM: in which order do the applications see it?",
         ["top to bottom, like the request", "bottom to top: the last application sees it first"],
         "bottom to top: the last application sees it first",
         "Responses come back through the applications the request passed, in reverse order (cc165046, cc165054).",
         _response_order),
    _row("3.a", "Kim is signed in nowhere. Terry calls her: who answers, and with what?",
         ["CallWatch, 404 Not Found", "UserServices, 404 Not Found", "DefaultRouting, 480 Temporarily Unavailable",
          "nobody: the call times out"],
         "DefaultRouting, 480 Temporarily Unavailable",
         "DefaultRouting finds no endpoint and answers 480, as the SDK's routing script does (Dn439065; the codes "
         "of the built-in application are decision D54).", _kim_answered_by),
    _row("3.b", "Does CallWatch (responseFilter 4XX) write its \"Event\" warning for that call?",
         ["yes: the 480 climbs back through it, and its script runs a second time",
          "no: DefaultRouting answered, so CallWatch is out of the picture", "it sees the 480 but writes nothing"],
         "yes: the 480 climbs back through it, and its script runs a second time",
         "Responses retrace the request's path (cc165046); CallWatch saw the INVITE, so it sees the 480.",
         _call_watch_sees_480),
    _row("4.b", "while (true) { i = i + 1; } and then a Log line: what happens?",
         ["the loop stops after 500 iterations and the script goes on",
          "the 501st iteration is a critical error: the script stops there"],
         "the 501st iteration is a critical error: the script stops there",
         "\"A single while loop cannot exceed 500 iterations.\" (Dn439066); what happens then is decision D34.",
         _endless_while),
    _row("4.a", "On a REGISTER, GetUserName(sipRequest.RequestUri) is null. What does "
                "Log(\"Debugr\", false, Concatenate(\"user: \", user)) do?",
         ["it logs \"user: \"", "a critical error: null passed where a string is expected stops the script"],
         "a critical error: null passed where a string is expected stops the script",
         "Passing null where a string is expected is a script error that stops the script (Dn439066).",
         _null_to_concatenate),
    _row("5.a", "RedirectImProxy proxies Terry's IM to Nuria. Which applications run after it?",
         ["UserServices, IIMFilter, DefaultRouting", "IIMFilter, DefaultRouting", "none of them"], "none of them",
         "ProxyRequest(uri) routes the request out; later applications do not run (dn439171, decision D1).",
         _after_proxy),
    _row("5.b", "How does the link in the IM look when it reaches Nuria?",
         ["neutralised: _http://...", "as Terry typed it: http://..."], "as Terry typed it: http://...",
         "IIMFilter never ran, so nothing neutralised the link (decision D1).", _link_at_nuria),
    _row("6.a", "RedirectImRetarget sends Jenny's IM to Nuria. Whom does the To header of what Nuria gets name?",
         ["Jenny", "Nuria"], "Jenny",
         "RetargetRequest changes the Request-URI and keeps the To header (Dn439073; decision D5).",
         _retargeted_to_header),
    _row("6.b", "RedirectImRetarget registered last, below DefaultRouting: what does it do with Jenny's IMs?",
         ["it runs and retargets the IM", "it never runs: DefaultRouting has routed the IM already"],
         "it never runs: DefaultRouting has routed the IM already",
         "An application that retargets must sit above UserServices (Dn439073), and every application above "
         "DefaultRouting (Dn439078); mspl-lite accepts the place only to show why (decision D52).",
         _retarget_below_default_routing),
    _row("7.a", "BlockWord answers Terry's IM about a password with 403. Does DefaultRouting see the IM?",
         ["yes: it still routes the IM", "no: BlockWord answered, nothing below it sees the IM"],
         "no: BlockWord answered, nothing below it sees the IM",
         "Respond answers the request (dn439187): it is handled, and the applications below never see it.",
         _block_word),
    _row("7.b", "KimCovers forks Kim's call to Nuria (who answers) and Ben (busy, 486). What does Terry get?",
         ["486 Busy Here from Ben", "200 OK from Nuria, at once"], "200 OK from Nuria, at once",
         "A proxy forwards a 2xx the moment it arrives (RFC 3261 16.7 step 5); the order between branches is "
         "decision D66.", _kim_covers),
    _row("8.a", "Adam's desk phone rings out; he has Exchange UM voice mail. Which application routes the call "
                "in the end?", ["DefaultRouting", "ExumRouting", "UserServices"], "ExumRouting",
         "DefaultRouting routed it first; after the failure ExumRouting sends it to voice mail (Gg182575; "
         "decision D53).", _adam_routed_by),
    _row("8.b", "The SDK's DefaultRouting sample stops with a critical error on every call. What does Terry "
                "notice on the eleventh call?",
         ["nothing: the call rings Jenny as usual", "480 Temporarily Unavailable", "500 Server Internal Error"],
         "nothing: the call rings Jenny as usual",
         "proxyByDefault hands the call on each time; after ten critical errors the application is disabled "
         "(Dn439080), and the built-in DefaultRouting routes every call.", _eleventh_call),
    _row("9.a", "The handler sends the call on without a destination "
                "(e.ServerTransaction.CreateBranch().SendRequest(e.Request)). Who routes it?",
         ["DefaultRouting, below HelpdeskRouter", "nobody: it is dropped", "HelpdeskRouter's script, again"],
         "DefaultRouting, below HelpdeskRouter",
         "A request managed code sends on without a destination goes on down the chain (decision D73).",
         _pass_on_routed_by),
    _row("9.b", "The handler calls e.Request.Retarget(\"sip:helpdesk@contoso.com\"), the bot's own URI. Does the "
                "call reach HelpdeskBot's endpoint?",
         ["yes", "no: the call never reaches the bot's endpoint"], "no: the call never reaches the bot's endpoint",
         "The platform matches the To URI or ms-application-aor (Dn466043); that Lync adds no header for a "
         "direct target is inferred (decision D70).", _retarget_to_bot_arrives),
    _row("10.a", "The exception list holds terrya@contoso.com; the caller is TerryA@CONTOSO.COM. Does "
                 "exceptions[caller] find the row?",
         ["yes, with ignoreCase=\"true\"", "no, never"], "yes, with ignoreCase=\"true\"",
         "ignoreCase on the file element: \"Specifies whether case should be ignored when referencing the keys "
         "of the in-memory hash table\" (dn439112).", _capitals_found),
    _row("10.b", "A call from the PSTN has From: <tel:+14255550123>. What does GetUserAtHost(sipMessage.From) "
                 "return?", ['"+14255550123"', '"tel:+14255550123"', "null"], "null",
         "A tel: URI has no user@host: the address functions return null when the part is not there (dn439166; "
         "Dn439066 for null).", _pstn_caller),
    # The final quiz of notebook 10: mixed.
    _row("10.q1", "An application above UserServices calls RetargetRequest(\"sip:nuriag@contoso.com\") on Terry's "
                  "INVITE to Jenny. Who routes the call to Nuria's endpoint?",
         ["the application itself", "DefaultRouting, which still runs below it", "nobody: it is dropped"],
         "DefaultRouting, which still runs below it",
         "RetargetRequest changes the target user and leaves the routing to the chain (Dn439073; decision D5).",
         _retarget_routed_by),
    _row("10.q2", "Documented or inferred? \"A single while loop cannot exceed 500 iterations.\"",
         _DOCUMENTED_OR_INFERRED, _DOCUMENTED_OR_INFERRED[0], "Documented: Dn439066 says it in these words."),
    _row("10.q3", "Documented or inferred? \"The 501st iteration of a while loop is a critical error.\"",
         _DOCUMENTED_OR_INFERRED, _DOCUMENTED_OR_INFERRED[1],
         "A decision: no page says what happens then; the series decides it (decision D34)."),
    _row("10.q4", "Documented or inferred? \"After ProxyRequest(uri), no later application of the chain runs.\"",
         _DOCUMENTED_OR_INFERRED, _DOCUMENTED_OR_INFERRED[1],
         "A decision: dn439171 says where the request goes, not whether later applications run (decision D1; "
         "notebook 05 shows how to test it on a real pool)."),
    _row("10.q5", "Documented or inferred? \"An application that retargets must be registered above UserServices.\"",
         _DOCUMENTED_OR_INFERRED, _DOCUMENTED_OR_INFERRED[0], "Documented: the SDK's ForwardInvite sample (Dn439073)."),
    _row("10.q6", "Documented or inferred? \"In MSPL, null == \\\"\\\" is false.\"",
         _DOCUMENTED_OR_INFERRED, _DOCUMENTED_OR_INFERRED[1],
         "A decision: no page says how == compares null with a string (decision D14)."),
)}


# -- notebook 14, replay your traffic (appended) -------------------------------------------------

_NB[14] = "14-replay-your-traffic"


def _replay_session():
    from ..capture import read_capture
    from ..frontend import sample_path
    from ..replay import replay

    return replay(read_capture(sample_path("captures/frontend-session-sipstack.log")), [], jobs=1)


def _helpdesk_predicted() -> str:
    invite = next(m for m in _replay_session().messages if m.first_line == "INVITE sip:helpdesk@contoso.com")
    if "200 OK" in invite.outcome and "apppool01" in invite.outcome:
        return "a 200 OK: the lab's application pool answers the call"
    if (invite.answer or "").startswith("captured 500") and invite.outcome.endswith("500 Internal Server Error"):
        return "500: the pool's real 500 answers the replayed INVITE"
    return "404 from DefaultRouting"


def _ok_from_jenny() -> str:
    ok = next(m for m in _replay_session().messages if m.first_line.startswith("SIP/2.0 200"))
    if ok.role == "answer" and ok.matched is not None:
        return _ANSWERS_THE_INVITE
    if ok.role == "replayed" and ok.matched is not None:
        return "it is matched to the INVITE and climbs, on its own, the applications that saw the INVITE"
    return "it is skipped as a retransmission" if ok.role == "retransmission" else "it is replayed as a request of its own"


_ANSWERS_THE_INVITE = "it answers the INVITE's replay: the response path runs on it there, once"


SELF_CHECKS.update({c.id: c for c in (
    _row("14.a", "The log shows the application pool answering the helpdesk INVITE with 500. What does the "
                 "replay predict the caller gets?",
         ["500: the pool's real 500 answers the replayed INVITE", "a 200 OK: the lab's application pool answers "
          "the call", "404 from DefaultRouting"],
         "500: the pool's real 500 answers the replayed INVITE",
         "The log holds the 500 coming back to the Front End, so it answers the replay instead of the lab's pool "
         "(which would say 200) and climbs the applications once (decision D108); the Front End's 500 to the "
         "caller then agrees with the prediction (decision D107).", _helpdesk_predicted),
    _row("14.b", "Jenny's 200 OK comes back to the Front End (its Via on top). What does the replay do with it?",
         ["it is replayed as a request of its own",
          _ANSWERS_THE_INVITE,
          "it is skipped as a retransmission"],
         _ANSWERS_THE_INVITE,
         "The replay looks ahead before the INVITE runs and finds the 200 coming back on the Front End's copy to "
         "Jenny's desktop (the branch under the Front End's own Via, RFC 3261 section 16.7): it answers that "
         "copy, so the response path runs once, on the real 200, inside the INVITE's replay, and its own row is "
         "an answer pointing back to the INVITE (decisions D108, D121).", _ok_from_jenny),
)})


# -- notebook 13, real SIP on the wire (appended) ------------------------------------------------

_NB[13] = "13-real-sip-on-the-wire"


def _wire_call(app: str) -> tuple[list[str], str]:
    """Terry calls Jenny over real UDP on 127.0.0.1 through a Front End with the sample ``app``;
    Jenny and Nuria are loopback user agents bound to the lab users: (who got the INVITE, the ladder)."""
    import time

    from ..frontend import FrontEnd
    from ..wire import Server, Timing
    from ..wire.agent import UserAgent

    calm = Timing(t1=2.0)   # as notebook 13: a slow answer is waited for, not retransmitted
    fe = FrontEnd()
    fe.register(_sample(app))
    with UserAgent("sip:terrya@contoso.com", timing=calm) as terry, \
            UserAgent("sip:jennyl@contoso.com", timing=calm) as jenny, \
            UserAgent("sip:nuriag@contoso.com", timing=calm) as nuria:
        phones = {"Jenny": jenny, "Nuria": nuria}
        with Server(fe, contacts={a.user: f"127.0.0.1:{a.port}" for a in phones.values()}, timing=calm) as server:
            call = terry.invite("sip:jennyl@contoso.com", server.address)
            if call.status == 200:
                terry.bye(call, server.address)
            deadline = time.monotonic() + 5
            while len(server.exchanges) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            names = {f"127.0.0.1:{a.port}": n for n, a in {"Terry": terry, **phones}.items()}
            rang = [n for n, a in phones.items() if any(r.method == "INVITE" for r in a.received)]
            return rang, server.ladder_text(names)


def _wire_retarget_rings() -> str:
    rang, _ = _wire_call("redirect-im-retarget")
    return {("Jenny",): "Jenny's", ("Nuria",): "Nuria's"}.get(tuple(rang), "both: the call forks")


def _wire_proxy_differs() -> str:
    rang, ladder = _wire_call("redirect-im-proxy")
    if rang == ["Jenny"]:
        return "the INVITE goes to Jenny's phone instead"
    if not rang:
        return "the server answers Terry itself"
    same = rang == ["Nuria"] and ladder == _wire_call("redirect-im-retarget")[1]
    return "nothing on the wire: the same phone rings, with the same messages" if same else \
        "the INVITE goes to Jenny's phone instead"


SELF_CHECKS.update({c.id: c for c in (
    _row("13.a", "Through RedirectImRetarget, Terry calls Jenny; Jenny and Nuria are real user agents on "
                 "127.0.0.1. Whose phone gets the INVITE?",
         ["Jenny's", "Nuria's", "both: the call forks"], "Nuria's",
         "RetargetRequest changes the target user, and DefaultRouting routes the call to Nuria's endpoint, here "
         "the user agent bound to her (Dn439073; decision D5).", _wire_retarget_rings),
    _row("13.b", "Now RedirectImProxy, which calls ProxyRequest with the same URI. What changes in the messages "
                 "that cross the wire?",
         ["the INVITE goes to Jenny's phone instead",
          "nothing on the wire: the same phone rings, with the same messages", "the server answers Terry itself"],
         "nothing on the wire: the same phone rings, with the same messages",
         "ProxyRequest(uri) routes the request itself and the later applications do not run (dn439171, decision "
         "D1); RetargetRequest lets DefaultRouting route it (D5). Both end at Nuria's one contact: only the "
         "trace shows who routed.", _wire_proxy_differs),
)})


# ---------------------------------------------------------------------------------------------
# The widget


def verdict_html(check: SelfCheck, picked: str | None) -> str:
    """What the Check button shows: right or not yet (in words; colour only repeats it), and why."""
    if picked is None:
        return "<p>Pick an answer, then press <b>Check</b>.</p>"
    right = picked == check.answer
    colour = "#2e7d32" if right else "#b26a00"
    head = "&#10004; Right." if right else f"&#9998; Not quite: the answer is <i>{html.escape(check.answer)}</i>."
    return (f'<div style="border-left:6px solid {colour};padding:6px 10px;margin:4px 0"><b>{head}</b> '
            f"{html.escape(check.why)}</div>")


class SelfCheckWidget(WidgetBox):
    """A question, its choices as radio buttons, and a Check button; the verdict is an HTML value."""

    label = "self-check"

    def __init__(self, check: SelfCheck):
        self.check = check
        self.choices = w.RadioButtons(options=list(check.choices), value=None, layout=w.Layout(width="max-content"))
        self.button = w.Button(description="Check", button_style="primary")
        self.result = w.HTML(value="")
        self.button.on_click(self._on_check)
        title = w.HTML(f"<b>Self-check {html.escape(check.id)}:</b> {html.escape(check.question)}")
        super().__init__([title, self.choices, self.button, self.result])

    @shielded()
    def _on_check(self, _button=None) -> None:
        picked = self.choices.value
        self.result.value = verdict_html(self.check, picked)
        if picked == self.check.answer:
            from .progress import record_pass

            record_pass("self_checks", self.check.id)

    def __repr__(self) -> str:
        options = "\n".join(f"  ( ) {c}" for c in self.check.choices)
        return (f"Self-check {self.check.id}: {self.check.question}\n{options}\n"
                "(run this cell to pick an answer and check it: widgets need a live kernel)")


def self_check(check_id: str) -> SelfCheckWidget:
    """The self-check ``check_id`` ("5.a") as a widget: pick an answer, press Check, read why."""
    try:
        check = SELF_CHECKS[str(check_id)]
    except KeyError:
        raise UsageError(f"no self-check {check_id!r}; known: {', '.join(SELF_CHECKS)}") from None
    return SelfCheckWidget(check)
