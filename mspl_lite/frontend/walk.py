"""The request's way down the chain: one Hop per application, until one routes, answers or drops it.

Theory of operation (dn439114, cc165046, decisions D1-D5). The applications are asked in
priority order. One that is disabled, or whose filter does not match, is skipped and its Hop
says why. One that sees the request decides (decisions.py): a built-in application returns a
Decision; an MSPL script's final disposition (or a Python stand-in's) is turned into the same
values here:

    no action               proxyByDefault true: pass on; false: drop
    ProxyRequest("")        pass on to the next application (decision D2)
    ProxyRequest(uri)       route there; every later application is skipped (decision D1)
    RetargetRequest(uri)    new Request-URI, the To header stays; the later applications route it (D5)
    Respond(status, ...)    answer; the later applications are skipped
    BeginFork ... EndFork   route to every Fork() URI
    Dispatch(method)        managed code decides (dispatch.py)

The first Route, Answer or Drop ends the walk: every application below gets a Hop saying who
routed, answered or dropped the request.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Mapping

from ..errors import UsageError
from .chain import ServerApplication
from .context import RequestContext, changes as changes_between, shared
from .decisions import Answer, Drop, PassOn, Route
from .dispatch import dispatch
from .downstream import resolve
from .trace import Hop

if TYPE_CHECKING:
    from .simulate import FrontEnd

__all__ = ["Decided", "walk_down"]


@dataclass(frozen=True, slots=True)
class Decided:
    """The decision that ended the walk down, and the application that took it."""

    index: int                      # its priority (the chain's length for the Front End itself)
    app: str
    decision: Route | Answer | Drop


def walk_down(fe: FrontEnd, ctx: RequestContext,
              handlers: Mapping[str, Callable]) -> tuple[list[Hop], Decided | None]:
    """Every application's Hop, in priority order, and the decision that ended the walk (None: nobody's)."""
    hops: list[Hop] = []
    decided: Decided | None = None
    _placement_notes(fe, ctx)
    for i, app in enumerate(fe.chain.apps):
        if decided is not None:
            hops.append(_below_the_decision(i, app, decided))
            continue
        why, sentence = _skipped(fe, app, ctx)
        if why is not None:
            hops.append(shared(("skipped", i, app.name, app.is_builtin, app.uri, why, sentence),
                               lambda: Hop(app=app.name, priority=i, builtin=app.is_builtin, uri=app.uri, ran=False,
                                           why=why, action="", sentence=sentence)))
            continue
        if app.builtin is not None:
            hop, decision = _builtin_hop(i, app, ctx)
        else:
            hop, decision = _script_hop(fe, i, app, ctx, handlers)
        hops.append(hop)
        if decision is not None:
            decided = Decided(i, app.name, decision)
    return hops, decided


def _placement_notes(fe: FrontEnd, ctx: RequestContext) -> None:
    """A custom application below DefaultRouting: the trace quotes Dn439078 and says what to do."""
    warnings = fe.chain.placement_warnings(quote=False)
    if not warnings:
        return
    ctx.note("documented", "In any case, the application priority level must be set higher than the "
                           "DefaultRouting application.", "Dn439078")
    for warning in warnings:
        ctx.note("hint", warning)


def _below_the_decision(i: int, app: ServerApplication, decided: Decided) -> Hop:
    decision = decided.decision
    if isinstance(decision, Route):
        why, what = "routed", decision.action
    else:
        why, what = "not-reached", "answered" if isinstance(decision, Answer) else "dropped"
    return shared(("below", i, app.name, app.is_builtin, app.uri, decided.app, why, what),
                  lambda: _below_hop(i, app, decided.app, why, what))


def _below_hop(i: int, app: ServerApplication, decider: str, why: str, what: str) -> Hop:
    if why == "routed":
        sentence = f"{decider} already routed the request ({what})"
    else:
        sentence = f"never reached: {decider} {what} the request"
    return Hop(app=app.name, priority=i, builtin=app.is_builtin, uri=app.uri, ran=False, action="", why=why,
               sentence=sentence)


def _skipped(fe: FrontEnd, app: ServerApplication, ctx: RequestContext) -> tuple[str | None, str]:
    """(why, sentence) when ``app`` does not see the request; (None, "") when it does."""
    if not app.enabled:
        return "disabled", fe.why_disabled(app.name)
    reason = app.filter_reason(ctx)
    if reason is not None:
        return "filter", reason
    return None, ""


# ---------------------------------------------------------------------------------------------
# A built-in application


def _builtin_hop(i: int, app: ServerApplication, ctx: RequestContext) -> tuple[Hop, Route | Answer | Drop | None]:
    before = ctx.request.copy()
    decision = app.builtin.on_request(ctx)
    changes = changes_between(before, ctx.request)
    unchanged = changes.empty
    if isinstance(decision, PassOn):
        effect = "modified" if not unchanged else "passed"
    elif isinstance(decision, Route):
        effect = "forked" if decision.fork else "proxied"
    elif isinstance(decision, Answer):
        effect = "responded"
    else:
        effect = "dropped"
    action, sentence = decision.action, decision.sentence
    if unchanged:   # the same Hop for every request this application passes on as it came
        hop = shared(("builtin", i, app.name, app.uri, changes.request_uri_before, action, sentence, effect),
                     lambda: Hop(app=app.name, priority=i, builtin=True, uri=app.uri, ran=True, changes=changes,
                                 action=action, sentence=sentence, effect=effect))
    else:
        hop = Hop(app=app.name, priority=i, builtin=True, uri=app.uri, ran=True, changes=changes,
                  action=action, sentence=sentence, effect=effect)
    return hop, None if isinstance(decision, PassOn) else decision


# ---------------------------------------------------------------------------------------------
# An MSPL script (or its Python stand-in)


def _script_hop(fe: FrontEnd, i: int, app: ServerApplication, ctx: RequestContext,
                handlers: Mapping[str, Callable]) -> tuple[Hop, Route | Answer | Drop | None]:
    before = ctx.request.copy()
    ran = fe.run_script(app, ctx.request, ctx)
    run = ran.run
    final = run.final
    extra = []
    for d in run.dispositions:
        if d.kind == "dispatch_notification":
            extra.append(f"notified managed code ({d.describe()}), which does not change the route")
        elif d.kind == "respond" and not d.is_final:
            extra.append(f"sent a provisional {d.status} {d.reason}")
    decision: Route | Answer | Drop | None = None
    where = f" (line {final.line})" if final is not None and final.line else ""
    if final is None:
        aborted = " after a critical error stopped the script" if run.aborted else ""
        if app.proxy_by_default:
            action, sentence, effect = "passed on (proxyByDefault)", \
                f"no routing action{aborted}; proxyByDefault is true, so the request goes on", "passed"
            if run.aborted:
                ctx.note("inferred", "A script stopped by a critical error is treated like a script that took "
                                     "no action: proxyByDefault decides.")
        else:
            action, effect = "dropped (proxyByDefault false, no action)", "dropped"
            sentence = (f"no routing action{aborted} and proxyByDefault is false: the server drops the request;"
                        " no later application sees it and no response is sent")
            ctx.note("documented", "With proxyByDefault false, a request the script does not proxy, respond "
                                   "to or dispatch is dropped.", "dn439114")
            decision = Drop(action=action, sentence=sentence)
    elif final.kind == "proxy" and not final.uri:
        action, effect = 'ProxyRequest(""): passed on', "passed"
        sentence = f'ProxyRequest(""){where} hands the request to the next application'
    elif final.kind == "proxy":
        targets = resolve(final.uri, ctx)
        action, effect = f"proxied to {final.uri}", "proxied"
        sentence = (f"ProxyRequest(\"{final.uri}\"){where} sends the request straight there: every later "
                    "application, built-in ones included, is skipped")
        ctx.note("decision", "ProxyRequest(uri) marks the request routed to uri; every later application, "
                             "built-in ones included, is skipped.", "decision D1")
        decision = Route(targets=targets, action=action, sentence=sentence, fork=len(targets) > 1)
    elif final.kind == "retarget":
        _retarget(ctx, final.uri)
        action, effect = f"retargeted to {final.uri}", "retargeted"
        sentence = (f"RetargetRequest(\"{final.uri}\"){where}: a new target user; the To header keeps "
                    f"{ctx.request.get('To')}; the later applications route it")
        ctx.note("decision", "RetargetRequest sets a new logical target: the Request-URI follows it, the To "
                             "header keeps the original user, and the later applications still run and "
                             "route it.", "decision D5")
        ctx.note("documented", "RetargetRequest leaves the To header as the original user.", "Dn439073")
        _retarget_placement_notes(fe, i, app, ctx)
    elif final.kind == "respond":
        action, effect = f"responded {final.status} {final.reason}", "responded"
        sentence = f"Respond({final.status}, \"{final.reason}\"){where}: the later applications are skipped"
        decision = Answer(status=final.status, reason=final.reason or "", headers=final.headers, action=action,
                          sentence=sentence)
    elif final.kind == "fork":
        targets = tuple(t for uri in final.fork_uris for t in resolve(uri, ctx))
        action, effect = f"forked to {', '.join(final.fork_uris)}", "forked"
        sentence = f"EndFork(){where} sends a copy to each Fork() URI; later applications are skipped"
        decision = Route(targets=targets, action=action, sentence=sentence, fork=True)
    elif final.kind == "dispatch":
        action, sentence, decision = dispatch(final, ctx, handlers)
        effect = "dispatched"
    else:  # proxy_response on a request: the interpreter already logged a critical error
        action, effect, sentence = "passed on", "passed", f"{final.describe()} has no meaning for a request"
    if extra:
        sentence = sentence + "; " + "; ".join(extra)
    changes = changes_between(before, ctx.request)   # after Dispatch: the request managed code sent on
    if effect == "passed" and not changes.empty:
        effect = "modified"
    hop = Hop(app=app.name, priority=i, builtin=False, uri=app.uri, ran=True, action=action, sentence=sentence,
              effect=effect, changes=changes, log=ran.log, critical_errors=ran.critical_errors,
              disabled_after=ran.disabled)
    return hop, decision


def _retarget(ctx: RequestContext, uri: str) -> None:
    """RetargetRequest: the Request-URI follows the new target (the To header does not).

    The interpreter has set it already; a Python stand-in's api.retarget_request has not.
    """
    ctx.scratch["retargeted"] = uri     # OutboundRouting says when it routes a retargeted call (D5)
    if ctx.request.request_uri != uri:
        try:
            ctx.request.request_uri = uri
        except UsageError:
            pass    # a URI the SIP layer refuses (from a Python stand-in): the Request-URI stays


def _retarget_placement_notes(fe: FrontEnd, i: int, app: ServerApplication, ctx: RequestContext) -> None:
    """RetargetRequest from an application below UserServices: simulated, but the SDK wants it above.

    Dn439073 (the ForwardInvite sample): the application "must be registered with a priority
    higher (smaller number) than UserServices", which needs <allowRegistrationBeforeUserServices/>
    (dn439109). The reference says nothing of the kind for managed Request.Retarget, so a
    Dispatch handler's Retarget gets no such note.
    """
    try:
        us = fe.chain.index("UserServices")
    except KeyError:
        return
    if i <= us:
        return
    ctx.note("documented", "An application that calls RetargetRequest must be registered with a priority "
                           "higher (a smaller number) than UserServices, so its manifest must declare "
                           "<allowRegistrationBeforeUserServices/>.", "Dn439073")
    if app.kind == "python":
        declare = ("" if app.allow_registration_before_user_services else
                   "give the PythonApplication allow_registration_before_user_services=True and ")
    else:
        declare = ("" if app.allow_registration_before_user_services else
                   "add <r:allowRegistrationBeforeUserServices/> to its manifest (before <splScript>) and ")
    ctx.note("hint", f"{app.name} is at priority {i}, below UserServices (priority {us}): the simulator "
                     f"retargets here anyway, but a real server expects it above. To fix it, {declare}"
                     f"register it with a priority of {us} or less (New-CsServerApplication -Priority {us}; "
                     "in mspl-lite give no priority -- --app FILE.am without @PRIORITY, or FrontEnd.register(app) "
                     "-- and it goes just above UserServices).", "dn439109")
