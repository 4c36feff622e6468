"""The Front End: a message in, a Trace out.

Theory of operation (mspl.md 1.7, 3, 8; builtin-apps.md 0):

1. The request walks the chain top to bottom. Each application sees it only when it is enabled
   and its filter matches; otherwise its Hop says why not.
2. An application that sees it decides (decisions.py): pass it on (ProxyRequest(""), proxyByDefault
   true, RetargetRequest, a built-in with nothing to do), route it out of the server
   (ProxyRequest(uri), a fork, a built-in routing application -- every later application is
   skipped), answer it (Respond), drop it (no action with proxyByDefault false), or dispatch it to
   managed code (a Python handler, managed.py), which may answer it or send it on.
3. A routed request reaches the parties of the lab (downstream.py); their responses come back,
   and the best one goes up the chain in reverse order through the applications that saw the
   request and whose responseFilter accepts it. A response the sender never gets is said so.
4. Ten critical errors disable an application; the count lives on the FrontEnd across sends.

Nothing here reads a clock or a random source: the same message through the same chain gives
an equal Trace.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from ..errors import MsplLiteError, RegistrationRefused, UsageError
from .chain import Chain, PythonApplication, ServerApplication
from .context import RequestContext
from .decisions import Answer, PassOn, Route
from .downstream import best_response, deliver, forward_copy, resolve, ucma_match
from .lab import Lab, aor_of
from .labfile import load_lab
from .managed import RequestReceivedEventArgs
from .trace import Branch, Changes, CriticalNote, HeaderChange, Hop, LogLine, Outcome, ResponseHop, Trace

__all__ = ["FrontEnd", "CRITICAL_ERROR_LIMIT"]

#: "10 critical errors -> the application is disabled" (L10 hh347152, L13 dn439127).
CRITICAL_ERROR_LIMIT = 10

def _client_timeout(method: str) -> str:
    """What a client experiences when no final response ever comes (RFC 3261 17.1) [inferred]."""
    if method == "INVITE":
        return ("no final response reaches the caller: the server has usually answered 100 Trying already, so the "
                "client stops retransmitting and waits; its INVITE transaction (Timer B, 64*T1 = 32 s) or its own "
                "call timer gives up and the call fails locally as 408 Request Timeout [inferred from RFC 3261 17.1]")
    return ("no response reaches the client: it retransmits the request (Timer E: 0.5 s, 1 s, 2 s, then every 4 s) "
            "and after 32 s (Timer F, 64*T1) gives up and reports 408 Request Timeout itself "
            "[inferred from RFC 3261 17.1]")


# ---------------------------------------------------------------------------------------------
# Results of walking the chain


@dataclass(slots=True)
class _Routed:
    index: int
    app: str
    route: Route


@dataclass(slots=True)
class _Answered:
    index: int
    app: str
    answer: Answer | None = None
    response: Any = None        # a ready response (managed code's SendResponse)


@dataclass(slots=True)
class _Dropped:
    index: int
    app: str
    sentence: str


# ---------------------------------------------------------------------------------------------
# Diffing a request before and after an application


def _diff(before: Any, after: Any) -> Changes:
    b_headers = [(h[0], h[1]) for h in before.headers]
    a_headers = [(h[0], h[1]) for h in after.headers]
    changes: list[HeaderChange] = []
    if b_headers != a_headers:
        b_rest = list(b_headers)
        a_rest = list(a_headers)
        for h in b_headers:
            if h in a_rest:
                a_rest.remove(h)
                b_rest.remove(h)
        # Same name on both sides, once each: a changed value.
        for name, value in list(b_rest):
            same = [x for x in a_rest if x[0].lower() == name.lower()]
            if len(same) == 1 and sum(1 for x in b_rest if x[0].lower() == name.lower()) == 1:
                changes.append(HeaderChange(name=name, before=value, after=same[0][1]))
                a_rest.remove(same[0])
                b_rest.remove((name, value))
        changes += [HeaderChange(name=n, before=v, after=None) for n, v in b_rest]
        changes += [HeaderChange(name=n, before=None, after=v) for n, v in a_rest]
    b_body, a_body = before.content, after.content
    uri_b = getattr(before, "request_uri", None)
    uri_a = getattr(after, "request_uri", None)
    return Changes(request_uri_before=uri_b, request_uri_after=uri_a, headers=tuple(changes),
                   body_before=b_body if b_body != a_body else None,
                   body_after=a_body if b_body != a_body else None)


def _log_lines(app: str, run: Any) -> list[LogLine]:
    return [LogLine(app=app, level=e.level, text="\n".join(e.lines), line=e.line, column=e.column)
            for e in run.log]


# ---------------------------------------------------------------------------------------------
# The Front End


class FrontEnd:
    """A simulated Lync Server 2013 Front End: a lab, a chain, and ``send(message) -> Trace``.

    ``FrontEnd()`` uses the built-in contoso.com lab; ``FrontEnd("my-lab.toml")`` or
    ``FrontEnd(lab)`` another. Register applications with ``register``; ``apps`` lists the chain
    like Get-CsServerApplication.
    """

    def __init__(self, lab: Lab | str | Path | None = None, *,
                 dispatch_handlers: Mapping[str, Callable] | None = None):
        self.lab: Lab = lab if isinstance(lab, Lab) else load_lab(lab)
        self.chain = Chain.default(self.lab.pool)
        #: aor -> signed-in endpoints; a REGISTER through UserServices changes it.
        self.registrations: dict = {aor: tuple(eps) for aor, eps in self.lab.endpoints.items()}
        #: application name -> critical errors so far (10 disable the application).
        self.critical_errors: dict[str, int] = {}
        self.dispatch_handlers: dict[str, Callable] = dict(dispatch_handlers or {})

    def __repr__(self) -> str:
        return f"<FrontEnd {self.lab.server} ({self.lab.pool}): {len(self.chain)} applications>"

    # -- the chain --------------------------------------------------------------------------

    @property
    def apps(self) -> list[dict]:
        """The chain as Get-CsServerApplication rows, in priority order."""
        return self.chain.listing()

    def listing(self) -> str:
        """Get-CsServerApplication's text output."""
        return self.chain.listing_text()

    def default_priority(self, allow_before_user_services: bool) -> int:
        """Just above UserServices when the manifest allows it, otherwise just below (issue 3)."""
        us = self.chain.index("UserServices")
        return us if allow_before_user_services else us + 1

    def register(self, app: Any, priority: int | None = None, *, enabled: bool = True, critical: bool = False,
                 name: str | None = None) -> ServerApplication:
        """New-CsServerApplication: add an MSPL application (a .am path or ApplicationManifest) or a
        PythonApplication at ``priority`` (0 runs first; None: next to UserServices, see
        default_priority; past the end: last). Raises RegistrationRefused, ManifestError, ScriptError.
        """
        from ..manifest import ApplicationManifest, load_manifest

        if isinstance(app, PythonApplication):
            row = ServerApplication(name=name or app.name, uri=app.uri, kind="python", enabled=enabled,
                                    critical=critical, python=app)
            allow = app.allow_registration_before_user_services
        else:
            manifest = load_manifest(app) if isinstance(app, (str, Path)) else app
            if not isinstance(manifest, ApplicationManifest):
                raise UsageError("register() takes a .am path, an ApplicationManifest or a PythonApplication")
            if not manifest.runs_on(self.lab.role):
                raise RegistrationRefused(
                    f"Cannot register {manifest.name}: its <serverFilter roles=...> does not include this "
                    f"server's role ({self.lab.role}); the server denies the registration and logs an event "
                    "(bb679985). Add the role, or use roles=\"ALL\".")
            from ..language import compile_manifest

            script = compile_manifest(manifest)
            row = ServerApplication(name=name or manifest.name, uri=manifest.app_uri, kind="mspl", enabled=enabled,
                                    critical=critical, manifest=manifest, script=script,
                                    script_name=Path(manifest.filename).name if manifest.filename else None)
            allow = manifest.allow_registration_before_user_services
        if priority is None:
            priority = self.default_priority(allow)
        self.chain.insert(row, priority)
        self.critical_errors.pop(row.name, None)
        return row

    def remove(self, name: str) -> ServerApplication:
        """Remove-CsServerApplication."""
        return self.chain.remove(name)

    def set_enabled(self, name: str, enabled: bool = True) -> ServerApplication:
        """Set-CsServerApplication -Enabled; enabling again clears the critical error count."""
        if enabled:
            self.critical_errors.pop(name, None)
        return self.chain.replace(name, enabled=enabled)

    # -- one transaction --------------------------------------------------------------------

    def send(self, message: Any, *, dispatch_handlers: Mapping[str, Callable] | None = None,
             filename: str = "<message>") -> Trace:
        """Simulate one transaction: the message down the chain, out to the lab, the response back."""
        from ..sip import parse_message

        if isinstance(message, (str, bytes)):
            message = parse_message(message, filename=filename)
        handlers = dict(self.dispatch_handlers)
        handlers.update(dispatch_handlers or {})
        if not hasattr(message, "method"):
            return self._send_response(message)
        ctx = RequestContext(self.lab, self.registrations, message)
        hops: list[Hop | None] = [None] * len(self.chain)
        result = self._walk(ctx, hops, handlers)
        return self._finish(ctx, hops, result)

    # -- the walk down ------------------------------------------------------------------------

    def _walk(self, ctx: RequestContext, hops: list, handlers: Mapping[str, Callable]):
        result = None
        apps = self.chain.apps
        for i, app in enumerate(apps):
            base = dict(app=app.name, priority=i, builtin=app.is_builtin, uri=app.uri)
            if result is not None:
                if isinstance(result, _Routed):
                    hops[i] = Hop(ran=False, why="routed", action="",
                                  sentence=f"{result.app} already routed the request ({result.route.action})",
                                  **base)
                else:
                    what = "answered" if isinstance(result, _Answered) else "dropped"
                    hops[i] = Hop(ran=False, why="not-reached", action="",
                                  sentence=f"never reached: {result.app} {what} the request", **base)
                continue
            if not app.enabled:
                count = self.critical_errors.get(app.name, 0)
                why = (f"disabled after {count} critical errors" if count >= CRITICAL_ERROR_LIMIT
                       else "disabled (Enabled $false)")
                hops[i] = Hop(ran=False, why="disabled", action="", sentence=why, **base)
                continue
            reason = app.filter_reason(ctx)
            if reason is not None:
                hops[i] = Hop(ran=False, why="filter", action="", sentence=reason, **base)
                continue
            if app.builtin is not None:
                hops[i], result = self._run_builtin(i, app, ctx)
            else:
                hops[i], result = self._run_script(i, app, ctx, handlers)
        return result

    def _run_builtin(self, i: int, app: ServerApplication, ctx: RequestContext):
        before = ctx.request.copy()
        decision = app.builtin.on_request(ctx)
        changes = _diff(before, ctx.request)
        base = dict(app=app.name, priority=i, builtin=True, uri=app.uri, ran=True, changes=changes)
        if isinstance(decision, PassOn):
            effect = "modified" if not changes.empty else "passed"
            return Hop(action=decision.action, sentence=decision.sentence, effect=effect, **base), None
        if isinstance(decision, Route):
            return (Hop(action=decision.action, sentence=decision.sentence,
                        effect="forked" if decision.fork else "proxied", **base), _Routed(i, app.name, decision))
        if isinstance(decision, Answer):
            return Hop(action=decision.action, sentence=decision.sentence, effect="responded", **base), \
                _Answered(i, app.name, decision)
        return Hop(action=decision.action, sentence=decision.sentence, effect="dropped", **base), \
            _Dropped(i, app.name, decision.sentence)

    def _env(self, app: ServerApplication, ctx: RequestContext, transaction_request: Any = None):
        if app.kind != "mspl":
            return None
        from ..language import ScriptEnvironment

        return ScriptEnvironment(fqdn=self.lab.server, server_pool=self.lab.pool, role=self.lab.role,
                                 server=ctx.state, flat_files=app.manifest.files, app_uri=app.uri,
                                 transaction_request=transaction_request)

    def _count_critical(self, app: ServerApplication, run: Any) -> tuple[list[CriticalNote], bool]:
        notes = []
        if not run.critical_errors:
            return notes, False
        count = self.critical_errors.get(app.name, 0)
        for err in run.critical_errors:
            count += 1
            notes.append(CriticalNote(app=app.name, message=err.message, line=err.line, column=err.column,
                                      count=count))
        self.critical_errors[app.name] = count
        if count >= CRITICAL_ERROR_LIMIT and self.chain.get(app.name).enabled:
            self.chain.replace(app.name, enabled=False)
            return notes, True
        return notes, False

    def _run_script(self, i: int, app: ServerApplication, ctx: RequestContext, handlers):
        before = ctx.request.copy()
        run = app.runner().run(ctx.request, self._env(app, ctx))
        log = _log_lines(app.name, run)
        ctx.log.extend(log)
        criticals, disabled = self._count_critical(app, run)
        final = run.final
        extra = []
        for d in run.dispositions:
            if d.kind == "dispatch_notification":
                extra.append(f"notified managed code ({d.describe()}), which does not change the route")
            elif d.kind == "respond" and not d.is_final:
                extra.append(f"sent a provisional {d.status} {d.reason}")
        result = None
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
                                       "to or dispatch is dropped.", "mspl.md 1.7")
                result = _Dropped(i, app.name, sentence)
        elif final.kind == "proxy" and not final.uri:
            action, effect = 'ProxyRequest(""): passed on', "passed"
            sentence = f'ProxyRequest(""){where} hands the request to the next application'
        elif final.kind == "proxy":
            targets = resolve(final.uri, ctx)
            action, effect = f"proxied to {final.uri}", "proxied"
            sentence = (f"ProxyRequest(\"{final.uri}\"){where} sends the request straight there: every later "
                        "application, built-in ones included, is skipped")
            ctx.note("decision", "ProxyRequest(uri) marks the request routed to uri; every later application, "
                                 "built-in ones included, is skipped.", "mspl.md 8")
            result = _Routed(i, app.name, Route(targets=targets, action=action, sentence=sentence,
                                               fork=len(targets) > 1))
        elif final.kind == "retarget":
            if ctx.request.request_uri != final.uri:
                try:
                    ctx.request.request_uri = final.uri
                except UsageError:
                    pass
            ctx.retargeted_by = app.name
            action, effect = f"retargeted to {final.uri}", "retargeted"
            sentence = (f"RetargetRequest(\"{final.uri}\"){where}: a new target user; the To header keeps "
                        f"{ctx.request.get('To')}; the later applications route it")
            ctx.note("decision", "RetargetRequest sets a new logical target: the Request-URI follows it, the To "
                                 "header keeps the original user, and the later applications still run and "
                                 "route it.", "mspl.md 8")
            ctx.note("documented", "RetargetRequest leaves the To header as the original user.", "Dn439073")
            self._retarget_placement_notes(i, app, ctx)
        elif final.kind == "respond":
            action, effect = f"responded {final.status} {final.reason}", "responded"
            sentence = f"Respond({final.status}, \"{final.reason}\"){where}: the later applications are skipped"
            result = _Answered(i, app.name, Answer(status=final.status, reason=final.reason or "",
                                                   headers=final.headers, action=action, sentence=sentence))
        elif final.kind == "fork":
            targets = tuple(t for uri in final.fork_uris for t in resolve(uri, ctx))
            action, effect = f"forked to {', '.join(final.fork_uris)}", "forked"
            sentence = f"EndFork(){where} sends a copy to each Fork() URI; later applications are skipped"
            result = _Routed(i, app.name, Route(targets=targets, action=action, sentence=sentence, fork=True))
        elif final.kind == "dispatch":
            action, sentence, effect, result = self._dispatch(i, app, final, ctx, handlers)
        else:  # proxy_response on a request: the interpreter already logged a critical error
            action, effect, sentence = "passed on", "passed", f"{final.describe()} has no meaning for a request"
        if extra:
            sentence = sentence + "; " + "; ".join(extra)
        changes = _diff(before, ctx.request)
        if effect == "passed" and not changes.empty:
            effect = "modified"
        hop = Hop(app=app.name, priority=i, builtin=False, uri=app.uri, ran=True, action=action, sentence=sentence,
                  effect=effect, changes=changes, log=tuple(log), critical_errors=tuple(criticals),
                  disabled_after=disabled)
        return hop, result

    def _retarget_placement_notes(self, i: int, app: ServerApplication, ctx: RequestContext) -> None:
        """RetargetRequest from an application below UserServices: simulated, but the SDK wants it above.

        Dn439073 (the ForwardInvite sample): the application "must be registered with a priority
        higher (smaller number) than UserServices", which needs <allowRegistrationBeforeUserServices/>
        (dn439109). The reference says nothing of the kind for managed Request.Retarget, so a
        Dispatch handler's Retarget gets no such note.
        """
        try:
            us = self.chain.index("UserServices")
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

    # -- Dispatch -----------------------------------------------------------------------------

    def _dispatch(self, i: int, app: ServerApplication, final: Any, ctx: RequestContext, handlers):
        method = final.method or ""
        call = final.describe()
        handler = handlers.get(method)
        if handler is None:
            sentence = (f"{call}: no managed handler is registered for {method!r}, so nothing forwards or "
                        "answers the request")
            ctx.note("hint", f"Pass dispatch_handlers={{'{method}': handler}} to FrontEnd.send to stand in for "
                             "the managed application (handler(e) gets e.Request and e.ServerTransaction).")
            return f"dispatched to {method} (no handler)", sentence, "dispatched", _Dropped(i, app.name, sentence)
        e = RequestReceivedEventArgs(ctx.request, method, final.args)
        try:
            handler(e)
        except MsplLiteError:
            raise
        except Exception as exc:  # the learner's handler failed: say so in the trace, like a managed exception
            sentence = f"{call}: the handler raised {type(exc).__name__}: {exc}"
            ctx.note("inferred", "An exception in managed code leaves the transaction unanswered.")
            return f"dispatched to {method}: handler failed", sentence, "dispatched", _Dropped(i, app.name, sentence)
        st = e.ServerTransaction
        did = []
        if e.Request.retargeted_to:
            did.append(f"Request.Retarget(\"{e.Request.retargeted_to}\")")
            ctx.note("documented", "RetargetRequest leaves the To header as the original user.", "Dn439073")
            ctx.note("inferred", "Request.Retarget, its managed twin, is modelled the same way: the Request-URI "
                                 f"becomes {e.Request.retargeted_to}, To still names {e.Request.message.get('To')}.",
                     "mspl.md 4")
            ctx.note("documented", "Request.Retarget sets a new logical target user for the request; routing it is "
                                   "left to the server (the applications below and the registrar).",
                     "MSIP Request.xml")
        if st.responses:
            response = st.responses[-1]
            did.append(f"SendResponse({response.status_code} {response.reason})")
            sentence = f"{call} -> managed code: " + ", ".join(did)
            return (f"dispatched to {method}: answered {response.status_code}", sentence, "dispatched",
                    _Answered(i, app.name, response=response))
        sent = [b.sent for b in st.branches if b.sent is not None]
        if not sent:
            sentence = f"{call} -> managed code: " + (", ".join(did) or "did nothing") + \
                "; it neither sent the request on nor answered it"
            return f"dispatched to {method}: nothing sent", sentence, "dispatched", _Dropped(i, app.name, sentence)
        direct = [r for r in sent if r.destination]
        onward = [r for r in sent if not r.destination]
        if direct and not onward:
            targets = tuple(t for r in direct for t in resolve(r.destination, ctx))
            ctx.request = direct[0].message
            did.append("CreateBranch().SendRequest() to " + ", ".join(r.destination for r in direct))
            sentence = f"{call} -> managed code: " + ", ".join(did)
            return (f"dispatched to {method}: sent to {', '.join(r.destination for r in direct)}", sentence,
                    "dispatched", _Routed(i, app.name, Route(targets=targets, action="sent by managed code",
                                                            sentence=sentence, fork=len(targets) > 1)))
        # A request sent without a destination goes on down the chain from here [inferred].
        ctx.request = onward[0].message
        did.append("CreateBranch().SendRequest(e.Request)")
        if len(sent) > 1:
            ctx.note("inferred", "Only the first branch the handler sent is followed through the chain.")
        ctx.note("inferred", "A request managed code sends on without a destination continues down the chain "
                             "below the dispatching application, which routes it.", "mspl.md 4")
        sentence = f"{call} -> managed code: " + ", ".join(did) + "; the request goes on down the chain"
        return f"dispatched to {method}: sent on to {ctx.request.request_uri}", sentence, "dispatched", None

    # -- after the walk -----------------------------------------------------------------------

    def _finish(self, ctx: RequestContext, hops: list, result) -> Trace:
        branches: list[Branch] = []
        outcome: Outcome
        response = None
        path_from = -1
        if result is None:
            result = self._end_of_chain(ctx)
        if isinstance(result, _Routed):
            routed = result
            branches = self._deliver_all(ctx, routed.route, routed.app)
            decider, top = routed.app, routed.index
            answered_by_failover = None
            for _ in range(8):  # a few reroutes at most (gateways, voice mail)
                status, reason, why = best_response(branches)
                if 200 <= status < 300:
                    break
                app = self.chain.get(decider) if decider in [a.name for a in self.chain] else None
                failover = app.builtin.on_failure(ctx, tuple(branches)) if app and app.builtin else None
                if failover is None:
                    break
                index = self.chain.index(failover.by)
                if isinstance(failover.then, Answer):
                    answered_by_failover = (index, failover.by, failover.then)
                    hops[index] = _amend(hops[index], failover.then.action, failover.sentence)
                    break
                new = self._deliver_all(ctx, failover.then, failover.by)
                hops[index] = _amend(hops[index], failover.then.action, failover.then.sentence or failover.sentence)
                branches.extend(new)
                decider, top = failover.by, max(top, index)
            status, reason, why = best_response(branches)
            if answered_by_failover is not None:
                _, _, ans = answered_by_failover
                response = ctx.received.create_response(ans.status, ans.reason, ans.headers)
            else:
                response = ctx.received.create_response(status, reason)
            path_from = top
            winner = _winner(branches, status)
            kind_target = winner or (branches[0] if branches else None)
            self._scenario_notes(ctx, branches)
            responses, delivered = self._response_path(ctx, hops, response, path_from)
            final_status = response.status_code if delivered else None
            outcome = Outcome(
                kind="proxied", decided_by=routed.app,
                destination=kind_target.target if kind_target else None,
                destination_kind=kind_target.kind if kind_target else None,
                destinations=tuple(b.target for b in branches),
                status=final_status, reason=response.reason if delivered else None,
                response=str(response) if delivered else None,
                forwarded=kind_target.request if kind_target else None,
                client_experience=(f"gets {response.status_code} {response.reason} ({why})" if delivered
                                   else "the response was dropped on its way back up: " + _client_timeout(ctx.method)),
            )
        elif isinstance(result, _Answered):
            if result.response is not None:
                response = result.response
            else:
                a = result.answer
                response = ctx.request.create_response(a.status, a.reason, a.headers)
            responses, delivered = self._response_path(ctx, hops, response, result.index - 1)
            outcome = Outcome(
                kind="responded", decided_by=result.app,
                status=response.status_code if delivered else None,
                reason=response.reason if delivered else None,
                response=str(response) if delivered else None,
                client_experience=(f"gets {response.status_code} {response.reason} from {result.app}" if delivered
                                   else "the response was dropped on its way back up: " + _client_timeout(ctx.method)),
            )
        else:
            responses = []
            outcome = Outcome(kind="dropped", decided_by=result.app, client_experience=_client_timeout(ctx.method))
            ctx.note("inferred", "What the client experiences when a request is dropped follows from RFC 3261 "
                                 "transaction timers (Timer B/F = 64*T1 = 32 s), not from a Lync document.",
                     "RFC 3261 17.1")
        return Trace(message=str(ctx.received), method=ctx.received.method, request_uri=ctx.received.request_uri,
                     hops=tuple(hops), outcome=outcome, branches=tuple(branches), responses=tuple(responses),
                     log=tuple(ctx.log), notes=tuple(ctx.notes), server=self.lab.server, pool=self.lab.pool)

    def _end_of_chain(self, ctx: RequestContext):
        """Nobody routed or answered the request: the Front End answers it itself."""
        domain = ctx.target_domain() or ""
        if ctx.method == "OPTIONS" and (self.lab.is_this_server(domain) or not domain):
            return _Answered(len(self.chain), "Front End", Answer(status=200, reason="OK",
                                                                   action="answered its own OPTIONS"))
        ctx.note("inferred", "A request that no application routed or answered is answered 404 Not Found by the "
                             "Front End itself.")
        return _Answered(len(self.chain), "Front End",
                         Answer(status=404, reason="Not Found", action="no application routed it: 404"))

    def _deliver_all(self, ctx: RequestContext, route: Route, sent_by: str) -> list[Branch]:
        branches = [deliver(t, forward_copy(ctx.request, t, ctx), ctx, sent_by) for t in route.targets]
        if ctx.method == "INVITE" and any(b.final and 200 <= b.final[0] < 300 for b in branches):
            # The first 2xx wins; every branch still ringing gets CANCEL (MS-OCSPROT 2.5.11).
            won = False
            out = []
            for b in branches:
                ok = b.final is not None and 200 <= b.final[0] < 300
                if ok and not won:
                    won = True
                    out.append(b)
                elif b.cancelled or (ok and won):
                    rang = tuple(r for r in b.responses if r[0] < 200)
                    out.append(Branch(target=b.target, kind=b.kind, sent_by=b.sent_by, party=b.party,
                                      responses=rang + ((487, "Request Terminated"),), cancelled=True,
                                      note="another branch answered first: the server sent CANCEL",
                                      request=b.request))
                else:
                    out.append(b)
            branches = out
        return branches

    # -- the way up -----------------------------------------------------------------------------

    def _response_path(self, ctx: RequestContext, hops: list, response: Any, start: int):
        """The response through the applications from ``start`` up to priority 0, bottom first."""
        out: list[ResponseHop] = []
        delivered = True
        dropped_by = None
        status = response.status_code
        request = ctx.request
        for j in range(min(start, len(self.chain) - 1), -1, -1):
            app = self.chain[j]
            hop = hops[j]
            base = dict(app=app.name, priority=j, builtin=app.is_builtin, status=status, reason=response.reason)
            if dropped_by is not None:
                out.append(ResponseHop(ran=False, why="not-reached", sentence=f"{dropped_by} dropped the response",
                                       **base))
                continue
            if hop is None or not hop.ran:
                out.append(ResponseHop(ran=False, why="not-in-path",
                                       sentence="it did not see the request, so the response does not pass through "
                                                "it [inferred]", **base))
                continue
            if not app.enabled:
                out.append(ResponseHop(ran=False, why="disabled", sentence="disabled", **base))
                continue
            if not app.accepts_response(status):
                rf = app.response_filter
                out.append(ResponseHop(ran=False, why="response-filter",
                                       sentence=f"responseFilter reasonCodes={rf.reason_codes_text if rf else '?'} "
                                                f"does not accept {status}", **base))
                continue
            if app.builtin is not None:
                before = response.copy()
                action = app.builtin.on_response(ctx, response)
                out.append(ResponseHop(ran=True, action=action, changes=_diff(before, response),
                                       sentence="", **base))
                continue
            before = response.copy()
            run = app.runner().run(response, self._env(app, ctx, transaction_request=request))
            log = _log_lines(app.name, run)
            ctx.log.extend(log)
            criticals, _disabled = self._count_critical(app, run)
            final = run.final
            if final is not None and final.kind == "proxy_response":
                action, sentence = "ProxyResponse(): passed it on", ""
            elif final is None and not app.proxy_by_default:
                action = "dropped the response (proxyByDefault false, no ProxyResponse)"
                sentence = "the sender never gets this response"
                dropped_by = app.name
                delivered = False
            else:
                action, sentence = "passed it on", "no action; proxyByDefault passes it on" if final is None else ""
            out.append(ResponseHop(ran=True, action=action, sentence=sentence, changes=_diff(before, response),
                                   log=tuple(log), critical_errors=tuple(criticals), **base))
        if any(r.ran for r in out if not r.builtin):
            ctx.note("documented", "Responses pass through the applications in reverse order: the last application "
                                   "sees the response first.", "LCS05 cc165046")
        return out, delivered

    def _send_response(self, response: Any) -> Trace:
        """A response entering the server: it passes up the whole chain, bottom first."""
        from ..sip import Request

        stub = Request("OPTIONS", f"sip:{self.lab.pool}")
        for name in ("From", "To", "Call-ID", "CSeq"):
            if response.get(name):
                stub.add_header(name, response.get(name))
        ctx = RequestContext(self.lab, self.registrations, stub)
        hops = [Hop(app=a.name, priority=i, builtin=a.is_builtin, uri=a.uri, ran=True, action="in the path",
                    effect="passed") for i, a in enumerate(self.chain)]
        responses, delivered = self._response_path(ctx, hops, response, len(self.chain) - 1)
        via = response.get_all("Via")
        next_hop = via[1] if len(via) > 1 else (via[0] if via else None)
        ctx.note("inferred", "A response entering the server is shown passing every application of the chain, "
                             "bottom first, as if each had proxied its request.")
        outcome = Outcome(kind="proxied" if delivered else "dropped", decided_by="Front End",
                          destination=next_hop, destination_kind="uri", status=response.status_code,
                          reason=response.reason, response=str(response) if delivered else None,
                          forwarded=str(response) if delivered else None,
                          client_experience="the response goes on to the next Via" if delivered
                          else "an application dropped the response")
        return Trace(message=str(response), method="", request_uri="", hops=tuple(hops), outcome=outcome,
                     responses=tuple(responses), log=tuple(ctx.log), notes=tuple(ctx.notes),
                     server=self.lab.server, pool=self.lab.pool)

    # -- the "Retarget() but my ApplicationEndpoint receives nothing" story ------------------------

    def _scenario_notes(self, ctx: RequestContext, branches: list[Branch]) -> None:
        for b in branches:
            if b.kind != "application":
                continue
            app = ctx.lab.trusted_application_at(b.target.split(":", 1)[1].split(":", 1)[0].split(";", 1)[0]) \
                if b.target.startswith("sip:") else None
            if app is None:
                for t in ctx.lab.trusted_applications:
                    if t.name in b.party:
                        app = t
            if app is None:
                continue
            from ..sip import parse_message

            sent = parse_message(b.request) if b.request else ctx.request
            endpoint, why = ucma_match(app, sent)
            if endpoint is not None:
                continue
            # The Request-URI names the user when the request was retargeted; after SetDestination it
            # names the application's own address, so fall back to the endpoints it hosts.
            wanted = aor_of(sent.request_uri) or " / ".join(e.aor for e in app.endpoints) or "its endpoints"
            ctx.note("documented", "A UCMA application matches an incoming request to an ApplicationEndpoint by the "
                                   "To URI, then by Conversation ID, then by the ms-application-aor header; otherwise "
                                   "its default routing endpoint (if any) gets it.",
                     "Greenlee, blog.greenl.ee/2014/01/08/rerouted-messages-ucma-endpoint")
            ctx.note("inferred", f"The request reached {app.name} on {app.fqdn} with Request-URI {sent.request_uri} "
                                 f"but To {sent.get('To')}: no ApplicationEndpoint matches, so the endpoint for "
                                 f"{wanted} receives nothing. ({why}.)", "mspl.md 4 (UNCERTAIN)")
            ctx.note("hint", f"To reach the ApplicationEndpoint: ProxyRequest (or SetDestination) to the application's "
                             f"address ({app.address}) with an ms-application-aor header naming the endpoint, "
                             "or rewrite To, or give the UCMA application a default routing endpoint.",
                     "Greenlee, blog.greenl.ee/2011/09/04/rerouting-requests-ucma-application-mspl")


def _winner(branches: list[Branch], status: int) -> Branch | None:
    for b in branches:
        if b.final and b.final[0] == status and not b.cancelled:
            return b
    for b in branches:
        if b.final and b.final[0] == status:
            return b
    return None


def _amend(hop: Hop | None, action: str, sentence: str) -> Hop | None:
    """A later step by an application that was skipped (or ran) on the way down: it acts now."""
    if hop is None:
        return None
    from dataclasses import replace

    if hop.ran:
        return replace(hop, action=f"{hop.action}; then {action}", sentence=f"{hop.sentence}; then {sentence}".strip("; "))
    return replace(hop, ran=True, why=None, effect="proxied", action=action,
                   sentence=f"{sentence}: the call comes back to {hop.app} after the routing above failed")
