"""The Front End: a message in, a Trace out.

Theory of operation (requests down the chain, responses back up in reverse order: cc165046;
the sides taken where the pages are silent: decisions D1-D5 in docs/ARCHITECTURE.md):

1. The request walks the chain top to bottom (walk.py): each application sees it only when it
   is enabled and its filter matches (dn439115); otherwise its Hop says why not. An application
   that sees it passes it on, routes it out of the server (every later application is skipped,
   decision D1), answers it, drops it (dn439114), or dispatches it to managed code (dispatch.py).
   When nobody routes or answers it, the Front End answers it itself.
2. A routed request reaches the parties of the lab (downstream.py); their responses come back.
   A 2xx goes to the caller at once (RFC 3261 16.7 step 5). When every branch failed, the
   routing application may try again (Failover: the next gateway, voice mail); only then is the
   best final response chosen (16.7 step 6). The response goes up the chain in reverse order
   through the applications that saw the request and whose responseFilter accepts it
   (response_path.py). A response the sender never gets is said so, with what the client then
   experiences.
3. Ten critical errors disable an application (hh347152, dn439127); the count lives on the
   FrontEnd across sends.
4. ``send_session`` plays an IM as Lync carries it: an INVITE that sets up a session, then
   MESSAGEs inside its dialog (Dn466023, Dn439073; decision D16). Each is its own transaction.

Nothing here reads a clock or a random source: the same message through the same chain gives
an equal Trace.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Mapping, NamedTuple

from ..errors import RegistrationRefused, UsageError
from ..language import ScriptEnvironment, compile_manifest
from ..manifest import ApplicationManifest, load_manifest
from ..sip import Request, Response, parse_message
from ..sip._grammar import TOKEN_RE
from .chain import Chain, PythonApplication, ServerApplication
from .context import RequestContext
from .decisions import Answer, Failover, Route
from .downstream import Downstream, best_response, deliver_route, ucma_notes
from .lab import Lab, stable_id
from .labfile import load_lab
from .response_path import response_path
from .trace import Branch, CriticalNote, Hop, LogLine, Note, Outcome, Trace
from .walk import Decided, walk_down

__all__ = ["FrontEnd", "CRITICAL_ERROR_LIMIT", "AppRun", "Session", "in_dialog_request"]

#: "10 critical errors -> the application is disabled" (L10 hh347152, L13 dn439127).
CRITICAL_ERROR_LIMIT = 10

#: How many times a failed route may be tried again (the next gateway, then voice mail, ...).
_MAX_FAILOVERS = 8


class AppRun(NamedTuple):
    """One run of an application's script on a message, as the Front End records it."""

    run: Any                                    # the ScriptRun
    log: tuple[LogLine, ...]
    critical_errors: tuple[CriticalNote, ...]   # with the application's running count
    disabled: bool                              # this run's critical errors disabled the application


class Session(NamedTuple):
    """An IM as Lync carries it: the INVITE that sets up the session, then each MESSAGE of its dialog.

    Every one is a transaction of its own with its own Trace; ``messages`` is empty when the
    INVITE got no 2xx (no dialog, RFC 3261 12.1). The ACK and the closing BYE are not simulated.
    """

    invite: Trace
    messages: tuple[Trace, ...]

    @property
    def established(self) -> bool:
        """True when the INVITE was answered 2xx, so that a dialog exists."""
        return self.invite.outcome.status is not None and 200 <= self.invite.outcome.status < 300

    @property
    def traces(self) -> tuple[Trace, ...]:
        """The INVITE's trace, then each MESSAGE's."""
        return (self.invite, *self.messages)


def in_dialog_request(method: str, invite: Any, remote_target: str, to_tag: str, cseq: int, route: str,
                      body: str = "", content_type: str = "text/plain; charset=UTF-8") -> Request:
    """A request the caller sends inside the dialog ``invite`` set up (RFC 3261 12.2.1.1).

    Request-URI: the remote target (the Contact of the answer); Route: the route set (the Front
    End that record-routed the INVITE); From, Call-ID and the caller's From tag as in the INVITE;
    To with the callee's tag; a CSeq above the INVITE's.
    """
    request = Request(method, remote_target)
    via = invite.get("Via") or ""
    branch = "z9hG4bK-" + stable_id(f"{invite.get('Call-ID')}|{cseq}|{method}", 12)
    request.add_header("Via", via.split(";branch=", 1)[0] + f";branch={branch}" if via else
                       f"SIP/2.0/TLS 192.0.2.1:5061;branch={branch}")
    request.add_header("Max-Forwards", "70")
    request.add_header("Route", route)
    for name in ("From",):
        if invite.get(name):
            request.add_header(name, invite.get(name))
    to = invite.get("To") or f"<{remote_target}>"
    request.add_header("To", to if ";tag=" in to else f"{to};tag={to_tag}")
    request.add_header("Call-ID", invite.get("Call-ID") or "")
    request.add_header("CSeq", f"{cseq} {method}")
    for name in ("User-Agent", "Ms-Conversation-ID"):
        if invite.get(name):
            request.add_header(name, invite.get(name))
    if body:
        request.set_body(body.encode("utf-8"), content_type)
    return request


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
        default_priority; past the end: last). Raises RegistrationRefused, ManifestError, ScriptError;
        UsageError for a priority that is not a whole number (``"3"``, ``1.5``, ``True``).
        """
        _check_priority(priority)
        if isinstance(app, PythonApplication):
            row = ServerApplication(name=name or app.name, uri=app.uri, kind="python", enabled=enabled,
                                    critical=critical, python=app)
        else:
            manifest = load_manifest(app) if isinstance(app, (str, Path)) else app
            if not isinstance(manifest, ApplicationManifest):
                raise UsageError("register() takes a .am path, an ApplicationManifest or a PythonApplication")
            if not manifest.runs_on(self.lab.role):
                raise RegistrationRefused(
                    f"Cannot register {manifest.name}: its <serverFilter roles=...> does not include this "
                    f"server's role ({self.lab.role}); the server denies the registration and logs an event "
                    "(bb679985). Add the role, or use roles=\"ALL\".")
            row = ServerApplication(name=name or manifest.name, uri=manifest.app_uri, kind="mspl", enabled=enabled,
                                    critical=critical, manifest=manifest, script=compile_manifest(manifest),
                                    script_name=Path(manifest.filename).name if manifest.filename else None)
        if priority is None:
            priority = self.default_priority(row.allow_registration_before_user_services)
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

    def why_disabled(self, name: str) -> str:
        """Why the application ``name`` is disabled: its critical errors, or the admin."""
        count = self.critical_errors.get(name, 0)
        if count >= CRITICAL_ERROR_LIMIT:
            return f"disabled after {count} critical errors"
        return "disabled (Enabled $false)"

    # -- running a script -------------------------------------------------------------------

    def run_script(self, app: ServerApplication, message: Any, ctx: RequestContext, *,
                   transaction_request: Any = None) -> AppRun:
        """Run ``app``'s script (or Python stand-in) on ``message``, changing it in place; log the
        run in ``ctx`` and count its critical errors (the tenth disables the application)."""
        env = None
        if app.kind == "mspl":
            env = ScriptEnvironment(fqdn=self.lab.server, server_pool=self.lab.pool, role=self.lab.role,
                                    server=ctx.state, flat_files=app.manifest.files, app_uri=app.uri,
                                    transaction_request=transaction_request)
        run = app.runner().run(message, env)
        log = tuple(LogLine(app=app.name, level=e.level, text="\n".join(e.lines), line=e.line, column=e.column)
                    for e in run.log)
        ctx.log.extend(log)
        criticals, disabled = self._count_critical(app, run)
        return AppRun(run=run, log=log, critical_errors=criticals, disabled=disabled)

    def _count_critical(self, app: ServerApplication, run: Any) -> tuple[tuple[CriticalNote, ...], bool]:
        if not run.critical_errors:
            return (), False
        count = self.critical_errors.get(app.name, 0)
        notes = []
        for err in run.critical_errors:
            count += 1
            notes.append(CriticalNote(app=app.name, message=err.message, line=err.line, column=err.column,
                                      count=count))
        self.critical_errors[app.name] = count
        if count >= CRITICAL_ERROR_LIMIT and self.chain.get(app.name).enabled:
            self.chain.replace(app.name, enabled=False)
            return tuple(notes), True
        return tuple(notes), False

    # -- one transaction --------------------------------------------------------------------

    def send(self, message: Any, *, dispatch_handlers: Mapping[str, Callable] | None = None,
             filename: str = "<message>", downstream: Downstream | None = None) -> Trace:
        """Simulate one transaction: the message down the chain, out to the lab, the response back.

        ``downstream`` (mspl_lite.wire) delivers the copies meant for real parties over the wire;
        their real final response (tags, Contact, body) climbs the chain instead of a made-up one.
        """
        if isinstance(message, (str, bytes)):
            message = parse_message(message, filename=filename)
        if not isinstance(message, (Request, Response)):
            raise UsageError(f"send() takes a SIP message (text, bytes, or a Request or Response), not "
                             f"{type(message).__name__}")
        if dispatch_handlers is not None and not isinstance(dispatch_handlers, Mapping):
            raise UsageError("dispatch_handlers is a mapping of method name to handler, e.g. "
                             "{'OnInvite': on_invite}")
        if isinstance(message, Response):
            return self._send_response(message)
        handlers = {**self.dispatch_handlers, **(dispatch_handlers or {})}
        ctx = RequestContext(self.lab, self.registrations, message)
        hops, decided = walk_down(self, ctx, handlers)
        if decided is None:
            decided = self._end_of_chain(ctx)
        branches: list[Branch] = []
        if isinstance(decided.decision, Route):
            branches, responses, outcome = self._route_out(ctx, hops, decided, downstream)
        elif isinstance(decided.decision, Answer):
            responses, outcome = self._answer(ctx, hops, decided)
        else:
            responses = []
            outcome = Outcome(kind="dropped", decided_by=decided.app,
                              client_experience=_client_timeout(ctx.method, ctx.request.get("Via")))
            ctx.note("inferred", "What the client experiences when a request is dropped follows from RFC 3261 "
                                 "transaction timers (Timer B/F = 64*T1 = 32 s), not from a Lync document.",
                     "RFC 3261 17.1")
        return Trace(message=str(ctx.received), method=ctx.received.method, request_uri=ctx.received.request_uri,
                     hops=tuple(hops), outcome=outcome, branches=tuple(branches), responses=tuple(responses),
                     log=tuple(ctx.log), notes=tuple(ctx.notes), server=self.lab.server, pool=self.lab.pool)

    def send_session(self, invite: Any, *texts: str, filename: str = "<invite>") -> Session:
        """An IM session: ``invite`` through the chain, then one MESSAGE per text in its dialog.

        Lync starts an IM conversation with an INVITE (an InstantMessagingCall "represents an
        SDP-based instant messaging (IM) session", Dn466023), and the text travels in MESSAGEs
        inside the dialog it sets up (Dn466043). Each MESSAGE goes to the answering endpoint
        (the remote target) with a Route naming this Front End, so requestFilter strictRoute
        decides which applications see it (dn439115); the retargeting application of Dn439073
        never does. Where the answer comes from and the Route's form are decision D16.
        """
        if isinstance(invite, (str, bytes)):
            invite = parse_message(invite, filename=filename)
        if getattr(invite, "method", None) != "INVITE":
            raise UsageError("send_session() starts with an INVITE; send a stand-alone MESSAGE with send()")
        first = self.send(invite.copy())
        session = Session(invite=first, messages=())
        if not session.established:
            return session
        remote = self._remote_target(first)
        to_tag = stable_id(f"{invite.get('Call-ID')}|{remote}", 8)
        route = f"<sip:{self.lab.server}:5061;transport=tls;lr>"
        sent = []
        for i, text in enumerate(texts):
            request = in_dialog_request("MESSAGE", invite, remote, to_tag, cseq=_cseq(invite) + 1 + i,
                                        route=route, body=text)
            trace = self.send(request)
            notes = (
                Note(kind="documented", text="This MESSAGE belongs to the dialog the INVITE set up: \"After "
                     "a dialog is established, messages can be exchanged inside the dialog for the lifetime "
                     "of the dialog.\"", source="Dn466043"),
                Note(kind="documented", text="It arrives with a Route header pointing to this server, so it "
                     "is treated as a strict route: an MSPL application whose requestFilter has "
                     "strictRoute=\"false\" (the default) does not see it.", source="dn439115"),
                Note(kind="inferred", text="The built-in applications (IIMFilter, DefaultRouting, ...) are "
                     "shown acting on this MESSAGE as on any other; no page says which of them see requests "
                     "inside a dialog.", source="decision D16"),
                Note(kind="decision", text=f"Its Request-URI is the answering endpoint ({remote}) and its "
                     f"Route names this Front End ({route}), as if the Front End had record-routed the "
                     "INVITE; the 200's Contact, the ACK and the Record-Route are not simulated.",
                     source="decision D16"),
            )
            sent.append(replace(trace, notes=trace.notes + tuple(n for n in notes if n not in trace.notes)))
        return session._replace(messages=tuple(sent))

    def _remote_target(self, trace: Trace) -> str:
        """Where in-dialog requests go: the answering endpoint's GRUU, else the branch's address."""
        destination = trace.outcome.destination or trace.request_uri
        for endpoints in self.registrations.values():
            for e in endpoints:
                if destination in (e.contact, e.gruu):
                    return e.gruu
        return destination

    def _end_of_chain(self, ctx: RequestContext) -> Decided:
        """Nobody routed or answered the request: the Front End answers it itself."""
        domain = ctx.target_domain() or ""
        if ctx.method == "OPTIONS" and (self.lab.is_this_server(domain) or not domain):
            return Decided(len(self.chain), "Front End", Answer(status=200, reason="OK",
                                                                 action="answered its own OPTIONS"))
        ctx.note("inferred", "A request that no application routed or answered is answered 404 Not Found by the "
                             "Front End itself.")
        return Decided(len(self.chain), "Front End",
                       Answer(status=404, reason="Not Found", action="no application routed it: 404"))

    def _answer(self, ctx: RequestContext, hops: list[Hop], decided: Decided) -> tuple[list, Outcome]:
        """An application (or the Front End) answered: the response climbs from just above it."""
        response = decided.decision.response_to(ctx.request)
        responses, delivered = response_path(self, ctx, hops, response, decided.index - 1)
        outcome = Outcome(
            kind="responded", decided_by=decided.app,
            status=response.status_code if delivered else None,
            reason=response.reason if delivered else None,
            response=str(response) if delivered else None,
            client_experience=(f"gets {response.status_code} {response.reason} from {decided.app}" if delivered
                               else "the response was dropped on its way back up: "
                               + _client_timeout(ctx.method, ctx.request.get("Via"))),
        )
        return responses, outcome

    def _route_out(self, ctx: RequestContext, hops: list[Hop], decided: Decided,
                   downstream: Downstream | None = None) -> tuple[list[Branch], list, Outcome]:
        """The request leaves the server; failed routes are tried again; the best response climbs."""
        branches = deliver_route(decided.decision, ctx, decided.app, downstream=downstream)
        decider, top = decided.app, decided.index
        answered: Failover | None = None     # a failover that ended in an answer of its own
        for _ in range(_MAX_FAILOVERS):
            status, reason, why = best_response(branches)
            if 200 <= status < 300:
                break
            failover = self._failover(ctx, decider, branches)
            if failover is None:
                break
            index = self.chain.index(failover.by)
            if isinstance(failover.then, Answer):
                answered = failover
                hops[index] = _amend(hops[index], failover.then.action, failover.sentence)
                break
            attempt = max(b.attempt for b in branches) + 1 if branches else 0
            branches.extend(deliver_route(failover.then, ctx, failover.by, attempt, downstream))
            hops[index] = _amend(hops[index], failover.then.action, failover.then.sentence or failover.sentence)
            decider, top = failover.by, max(top, index)
        status, reason, why = best_response(branches)
        if answered is not None:
            response = answered.then.response_to(ctx.received)
            why = f"from {answered.by}: {answered.sentence}"
        else:
            response = _real_response(_winner(branches, status), status) or ctx.received.create_response(status,
                                                                                                         reason)
        target = _winner(branches, status) or (branches[0] if branches else None)
        ucma_notes(ctx, branches)
        responses, delivered = response_path(self, ctx, hops, response, top)
        outcome = Outcome(
            kind="proxied", decided_by=answered.by if answered is not None else decider,
            first_routed_by=decided.app,
            destination=target.target if target else None,
            destination_kind=target.kind if target else None,
            destinations=tuple(b.target for b in branches),
            status=response.status_code if delivered else None, reason=response.reason if delivered else None,
            response=str(response) if delivered else None,
            forwarded=target.request if target else None,
            client_experience=(f"gets {response.status_code} {response.reason} ({why})" if delivered
                               else "the response was dropped on its way back up: "
                               + _client_timeout(ctx.method, ctx.request.get("Via"))),
        )
        return branches, responses, outcome

    def _failover(self, ctx: RequestContext, decider: str, branches: list[Branch]) -> Failover | None:
        """What the application that routed the request does now that every branch failed (None: nothing).

        The application a Failover names must be in the chain and enabled: a disabled ExumRouting
        takes no voice mail. What the routing application noted for a failover that cannot
        happen is taken back.
        """
        app = self.chain.get(decider)
        if app.builtin is None:
            return None
        noted = len(ctx.notes)
        failover = app.builtin.on_failure(ctx, tuple(branches))
        if failover is None:
            return None
        try:
            available = self.chain.get(failover.by).enabled
        except KeyError:
            available = False
        if not available:
            del ctx.notes[noted:]
            return None
        return failover

    def _send_response(self, response: Any) -> Trace:
        """A response entering the server: it passes up the whole chain, bottom first."""
        # the method of the request it answers (its CSeq's): a request's CSeq names its method (D80)
        method = ((response.get("CSeq") or "").split() or ["OPTIONS"])[-1]
        stub = Request(method if TOKEN_RE.fullmatch(method) else "OPTIONS", f"sip:{self.lab.pool}")
        for name in ("From", "To", "Call-ID", "CSeq"):
            if response.get(name):
                stub.add_header(name, response.get(name))
        ctx = RequestContext(self.lab, self.registrations, stub)
        hops = [Hop(app=a.name, priority=i, builtin=a.is_builtin, uri=a.uri, ran=True, action="in the path",
                    effect="passed") for i, a in enumerate(self.chain)]
        responses, delivered = response_path(self, ctx, hops, response, len(self.chain) - 1)
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


def _check_priority(priority: Any) -> None:
    """A priority is None or a whole number (a negative one: Chain.insert refuses it as the server does;
    one past the end places the application last); anything else is a UsageError."""
    if priority is None:
        return
    if isinstance(priority, bool) or not isinstance(priority, int):
        shown_value = repr(priority) if len(repr(priority)) <= 40 else repr(priority)[:40] + "..."
        raise UsageError(f"register(priority=...) takes a whole number (0 runs first) or None, not "
                         f"{type(priority).__name__} {shown_value}: e.g. fe.register(app, priority=3)")


# ---------------------------------------------------------------------------------------------
# Helpers of the outcome


def _client_timeout(method: str, via: str | None) -> str:
    """What a client experiences when no final response ever comes (RFC 3261 17.1) [inferred].

    ``via`` is the sender's Via: retransmissions (Timers A and E) happen only over an unreliable
    transport such as UDP (17.1.1.2, 17.1.2.2); Lync clients use TLS.
    """
    transport = (via or "").split(None, 1)[0].rsplit("/", 1)[-1].upper() if via else ""
    unreliable = transport == "UDP"
    if method == "INVITE":
        return ("no final response reaches the caller: the server has usually answered 100 Trying already, so the "
                "client stops retransmitting and waits; its INVITE transaction (Timer B, 64*T1 = 32 s) or its own "
                "call timer gives up and the call fails locally as 408 Request Timeout [inferred from RFC 3261 17.1]")
    if unreliable:
        return ("no response reaches the client: it retransmits the request over UDP (Timer E: 0.5 s, 1 s, 2 s, "
                "then every 4 s) and after 32 s (Timer F, 64*T1) gives up and reports 408 Request Timeout itself "
                "[inferred from RFC 3261 17.1.2.2]")
    return (f"no response reaches the client: over {transport or 'a reliable transport'} it does not retransmit; "
            "after 32 s (Timer F, 64*T1) it gives up and reports 408 Request Timeout itself "
            "[inferred from RFC 3261 17.1.2.2]")


def _cseq(request: Any) -> int:
    """The CSeq number of ``request`` (1 when it has none that parses)."""
    number = (request.get("CSeq") or "1").split(None, 1)[0]
    return int(number) if number.isdigit() else 1


def _winner(branches: list[Branch], status: int) -> Branch | None:
    """The branch whose final response the caller gets (one not cancelled, if there is one)."""
    for b in branches:
        if b.final and b.final[0] == status and not b.cancelled:
            return b
    for b in branches:
        if b.final and b.final[0] == status:
            return b
    return None


def _real_response(branch: Branch | None, status: int) -> Response | None:
    """The final response a real party sent on ``branch`` (its To tag, Contact, body), without the
    Via the server added (RFC 3261 16.7 step 3); None when the branch was simulated or the status
    the caller gets is not the one it sent (a 503 goes on as 500, 16.7 step 6)."""
    if branch is None or not branch.response:
        return None
    response = parse_message(branch.response)
    if response.status_code != status:
        return None
    vias = response.get_all("Via")
    response.remove_header("Via")
    headers = list(response.headers)
    response.headers = []
    for via in vias[1:]:
        response.add_header("Via", via)
    response.headers.extend(headers)
    return response


def _amend(hop: Hop, action: str, sentence: str) -> Hop:
    """A later step by an application that was skipped (or ran) on the way down: it acts now."""
    if hop.ran:
        return replace(hop, action=f"{hop.action}; then {action}",
                       sentence=f"{hop.sentence}; then {sentence}".strip("; "))
    return replace(hop, ran=True, why=None, effect="proxied", action=action,
                   sentence=f"{sentence}: the call comes back to {hop.app} after the routing above failed")
