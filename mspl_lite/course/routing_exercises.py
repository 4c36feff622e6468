"""Exercises of notebooks 05 and 06: ProxyRequest and RetargetRequest, checked on the simulated Front End.

5.1 Route calls for a meeting room straight to the room system with ProxyRequest(uri).
5.2 Which applications run when an application above them calls ProxyRequest(uri)?
6.1 Forward Jenny's IMs to Nuria so that the Intelligent IM Filter still acts on them: the INVITE
    that starts an IM session, and a stand-alone MESSAGE (the simplification of decision D16).
6.2 Send calls for a retired number to the new one through OutboundRouting.
"""
from __future__ import annotations

from typing import Any

from ..language import Script
from .feedback import Passed, Problem, exercise_check
from .harness import (app_critical_problem, critical_problem, describe_run, endpoint_contacts, register_answer,
                      run_script, script_check, warning_lines)
from .messages import course_message

__all__ = ["check_room_route", "check_ran_after_proxy", "check_im_forward", "check_old_number", "ROOM_SYSTEM"]

ROOM_SYSTEM = "sip:room1@rooms.contoso.com"


# --- 5.1 -------------------------------------------------------------------------------------

@script_check("5.1")
def check_room_route(script: Script) -> Problem | Passed:
    """5.1: ProxyRequest("sip:room1@rooms.contoso.com") for INVITEs to room1@contoso.com; nothing else."""
    room = run_script(script, "invite-room1")
    problem = critical_problem(room, "the call to Room 1")
    if problem:
        return problem
    kinds = [d.kind for d in room.run.dispositions]
    uris = [d.uri for d in room.run.dispositions if d.kind == "proxy"]
    if "retarget" in kinds:
        return Problem("the script retargets the call.",
                       "RetargetRequest gives the request a new *user* for the chain to route; "
                       "rooms.contoso.com is no Lync user: send it there yourself with "
                       f"ProxyRequest(\"{ROOM_SYSTEM}\")")
    if "respond" in kinds:
        return Problem("the script answers the call (" + describe_run(room) + ").",
                       "the caller should not be redirected: route the INVITE with ProxyRequest")
    if uris == [""]:
        return Problem("ProxyRequest(\"\") hands the request on unchanged: DefaultRouting then "
                       "answers 404, room1 is no Lync user.", f"give the URI: ProxyRequest(\"{ROOM_SYSTEM}\")")
    if uris != [ROOM_SYSTEM]:
        return Problem(f"the call to Room 1 went to {uris or 'nowhere'} ({describe_run(room)}).",
                       f"ProxyRequest(\"{ROOM_SYSTEM}\")")
    for name, what in (("invite-jennyl", "Terry's call to Jenny"), ("im-nuriag", "Terry's IM to Nuria"),
                       ("ok-jennyl", "Jenny's 200 OK")):
        other = run_script(script, name)
        problem = critical_problem(other, what)
        if problem:
            if name == "ok-jennyl":
                problem = Problem(problem.message, "ProxyRequest is for requests: wrap the script in "
                                                   "if (sipRequest) { ... }", problem.details)
            return problem
        if other.actions:
            return Problem(f"the script also acted on {what}: {describe_run(other)}.",
                           "compare the Request-URI's user@host with room1@contoso.com first")
    notes = warning_lines(script)
    return Passed("Calls for Room 1 leave the server straight for the room system; everything else "
                  "goes down the chain as before."
                  + (" The checker's warning below is the point of notebook 05: here skipping the rest of "
                     "the chain is what you want." if notes else ""), notes)


# --- 5.2 -------------------------------------------------------------------------------------

def _proxy_im_trace():
    from ..frontend import FrontEnd, sample_path

    fe = FrontEnd()
    fe.register(str(sample_path("apps/redirect-im-proxy.am")))
    return fe.send(course_message("im-link-jennyl"))


@exercise_check("5.2")
def check_ran_after_proxy(answer: Any) -> Problem | Passed:
    """5.2: the names of the applications that run for Terry's IM when RedirectImProxy proxies it."""
    if not isinstance(answer, (list, tuple)) or not all(isinstance(a, str) for a in answer) or not answer:
        return Problem("give a list of application names, in priority order.",
                       'e.g. ["TranslationService", "IncomingFederation", ...]')
    trace = _proxy_im_trace()
    expected = list(trace.ran)
    given = [a.strip() for a in answer]
    lower = [a.lower() for a in given]
    after = {h.app.lower() for h in trace.hops if h.why == "routed"}
    late = [a for a in given if a.lower() in after]
    if late:
        return Problem(f"{', '.join(late)} never run{'s' if len(late) == 1 else ''}: "
                       "RedirectImProxy already routed the IM.",
                       "ProxyRequest(uri) marks the request routed, and every later application, "
                       "built-in ones included, is skipped in the simulator (decision D1: dn439171, greenlee-2012; "
                       "notebook 05 shows the evidence against it)")
    missing = [a for a in expected if a.lower() not in lower]
    if missing:
        return Problem(f"{len(missing)} application{'s' if len(missing) > 1 else ''} that run "
                       f"{'are' if len(missing) > 1 else 'is'} missing from your list.",
                       "the applications above RedirectImProxy whose filters accept a MESSAGE run "
                       "before it (the chain diagram says what each handles)")
    extra = [a for a in given if a.lower() not in {e.lower() for e in expected}]
    if extra:
        return Problem(f"{', '.join(extra)} do{'es' if len(extra) == 1 else ''} not run.",
                       "look at what each application handles: ClientVersionFilter only REGISTER")
    if lower != [e.lower() for e in expected]:
        return Problem("the right applications, in the wrong order.", "list them in priority order")
    return Passed("Only the applications above it ran; IIMFilter never saw the IM, so its link arrives "
                  "clickable. That is the price of ProxyRequest(uri).")


# --- 6.1 / 6.2 -------------------------------------------------------------------------------

def _retargeter(exercise: str, text: Any, methods: str, name: str):
    """A Front End with the learner's application just above UserServices, where the SDK puts an
    application that calls RetargetRequest (Dn439073); or the Problem that prevents it."""
    return register_answer(exercise, text, name, methods=methods, above_user_services=True)


@exercise_check("6.1")
def check_im_forward(text: Any) -> Problem | Passed:
    """6.1: Jenny's IMs reach Nuria's endpoint, and the IM filter still neutralises their links.

    Registered with methodNames="INVITE,MESSAGE" and strictRoute="false": a stand-alone MESSAGE,
    then an IM session (INVITE, then a MESSAGE in its dialog, which the application never sees).
    """
    fe = _retargeter("6.1", text, "INVITE,MESSAGE", "ForwardIm")
    if isinstance(fe, Problem):
        return fe
    trace = fe.send(course_message("im-link-jennyl"))
    problem = app_critical_problem("6.1", trace, "ForwardIm", text, "Terry's IM")
    if problem:
        return problem
    iim = trace.hop("IIMFilter")
    if trace.outcome.decided_by == "ForwardIm":
        if trace.outcome.kind == "proxied":
            return Problem("ForwardIm proxied the IM straight to Nuria: IIMFilter never ran, and "
                           "the link reached her still clickable.",
                           "RetargetRequest(\"sip:nuriag@contoso.com\") sets a new target user "
                           "and lets the rest of the chain (IIMFilter, DefaultRouting) do its job")
        return Problem(f"ForwardIm {trace.outcome.kind} the IM ({trace.outcome.summary()}).",
                       "forward it: RetargetRequest(\"sip:nuriag@contoso.com\")")
    destination = trace.outcome.destination or ""
    if destination not in endpoint_contacts(fe, "nuriag@contoso.com"):
        return Problem(f"the IM went to {trace.outcome.summary()}, not to Nuria.",
                       "RetargetRequest(\"sip:nuriag@contoso.com\") when the Request-URI's "
                       "user@host is jennyl@contoso.com")
    if not (iim.ran and iim.changes is not None and iim.changes.body_changed):
        return Problem("the IM reached Nuria, but IIMFilter did not act on its link.",
                       "keep the application above IIMFilter and let the chain route it")
    other = fe.send(course_message("im-nuriag"))
    if other.hop("ForwardIm").changes is not None and other.hop("ForwardIm").changes.request_uri_changed:
        return Problem("ForwardIm also changed Terry's IM to Nuria.",
                       "retarget only IMs whose Request-URI names jennyl@contoso.com")
    session = fe.send_session(course_message("im-invite-jennyl"),
                              "Have a look at http://www.fabrikam.com/offer before Friday!")
    problem = app_critical_problem("6.1", session.invite, "ForwardIm", text, "Terry's IM invitation")
    if problem:
        return problem
    invited = session.invite.outcome
    if invited.decided_by == "ForwardIm" or (invited.destination or "") not in endpoint_contacts(fe, "nuriag@contoso.com"):
        return Problem(f"Terry's IM invitation (the INVITE that starts a Lync IM session) went: "
                       f"{invited.summary()}; it should reach Nuria through the chain.",
                       "retarget the INVITE too, as the SDK's ForwardInvite sample does (Dn439073): the "
                       "same test on the Request-URI works for both methods")
    return Passed("The IM reached Nuria's endpoint through DefaultRouting, and IIMFilter made its link "
                  "inactive on the way: RetargetRequest changed the target, not the route. In the IM "
                  "session it was the INVITE that ForwardIm retargeted; the MESSAGE that followed in "
                  "the dialog carried a Route header, so ForwardIm never saw it (dn439115).")


@exercise_check("6.2")
def check_old_number(text: Any) -> Problem | Passed:
    """6.2: calls for +14255550199 go to +12065550123 through OutboundRouting and the gateway."""
    fe = _retargeter("6.2", text, "INVITE", "OldNumber")
    if isinstance(fe, Problem):
        return fe
    trace = fe.send(course_message("invite-old-number"))
    problem = app_critical_problem("6.2", trace, "OldNumber", text, "the call")
    if problem:
        return problem
    forwarded = trace.outcome.forwarded or ""
    first_line = forwarded.split("\r\n", 1)[0]
    if trace.outcome.decided_by == "OldNumber":
        return Problem(f"OldNumber sent the call out itself ({trace.outcome.summary()}): "
                       "OutboundRouting never ran, so no voice policy, no route, no gateway.",
                       "RetargetRequest(\"sip:+12065550123@contoso.com;user=phone\") and let "
                       "OutboundRouting pick the gateway")
    if "+12065550123" not in first_line:
        return Problem(f"the call left as {first_line or trace.outcome.summary()!r}: still the "
                       "retired number.", "retarget calls whose Request-URI contains +14255550199")
    if trace.outcome.decided_by != "OutboundRouting":
        return Problem(f"{trace.outcome.summary()}.", "let OutboundRouting route it")
    jenny = fe.send(course_message("invite-jennyl"))
    if jenny.hop("OldNumber").changes is not None and jenny.hop("OldNumber").changes.request_uri_changed:
        return Problem("OldNumber also changed Terry's call to Jenny.",
                       "retarget only calls for +14255550199")
    return Passed("OutboundRouting routed the new number through the caller's voice policy to the "
                  "gateway: " + trace.outcome.summary() + ".")
