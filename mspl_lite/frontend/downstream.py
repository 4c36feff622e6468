"""The parties outside the server: who is at a URI, and how they answer a request.

``resolve(uri, ctx)`` says who a URI given to ProxyRequest, Fork or a managed SetDestination
reaches. ``deliver(target, request, ctx)`` simulates one branch: the copy of the request sent
there and the responses that come back, as the lab says (an endpoint answers, rings out, is
busy; a gateway connects or fails; a UCMA application finds the endpoint the request is for,
or does not). ``deliver_route`` sends a Route's copies and cancels the losers of a fork;
``ucma_notes`` explains a UCMA application that got the request but gave it to no endpoint.
``best_response`` says what the caller gets from several branches (RFC 3261 16.7: a 2xx is
forwarded at once; only without one does the proxy choose the best final response). Nothing
here has a clock: "rings 20 s" is a sentence, not a wait, and the order of events between
branches is the one decision D66 states.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Iterable, Protocol, Sequence

from ..errors import UsageError
from ..sip import parse_message
from ..sip.message import Header
from .context import RequestContext
from .decisions import Route, Target, endpoint_target
from .lab import (Acp, Endpoint, ExchangeUm, Gateway, Partner, Pool, TrustedApplication, User, aor_of,
                  phone_number_of, stable_id)
from .trace import Branch
from .application_pool import deliver_to_application, explain_rejections, platform_match

__all__ = ["REASONS", "Downstream", "resolve", "deliver", "deliver_route", "forward_copy", "best_response", "ucma_match",
           "ucma_notes"]

#: The reason phrases of the statuses the lab's parties answer with (RFC 3261 21).
REASONS: dict[int, str] = {
    100: "Trying", 180: "Ringing", 183: "Session Progress", 200: "OK", 404: "Not Found", 408: "Request Timeout",
    480: "Temporarily Unavailable", 486: "Busy Here", 487: "Request Terminated", 500: "Server Internal Error",
    503: "Service Unavailable", 504: "Server time-out", 603: "Decline",
}


def _r(*codes: int) -> tuple[tuple[int, str], ...]:
    return tuple((c, REASONS[c]) for c in codes)


def _host(uri: str) -> str:
    text = uri.split(":", 1)[1] if ":" in uri else uri
    text = text.split("@", 1)[-1]
    return text.split(";", 1)[0].split(":", 1)[0].split(">", 1)[0].lower()


# ---------------------------------------------------------------------------------------------
# Who is at a URI


def resolve(uri: str, ctx: RequestContext) -> tuple[Target, ...]:
    """The destinations a URI reaches when a script sends the request straight there.

    ProxyRequest(uri) skips every later application (decision D1), so nothing but this address
    decides: a registered endpoint's GRUU or contact, a gateway, a trusted application, a user's
    address (delivered to her endpoints [inferred]), a federated domain (via the Edge), or nobody.
    """
    lab = ctx.lab
    low = uri.lower()
    for aor, endpoints in ctx.registrations.items():
        for e in endpoints:
            if low == e.gruu.lower() or low == e.contact.lower() or (
                    ";gruu" in low and f"epid:{e.epid}".lower() in low):
                return (endpoint_target(e, aor),)
    host = _host(uri)
    gw = lab.gateway(host)
    if gw is not None:
        number = phone_number_of(uri) or (aor_of(uri) or "").split("@", 1)[0]
        return (Target(uri=gw.address, kind="gateway", label=f"gateway {gw.fqdn}", party=gw, request_uri=uri,
                       number=number),)
    for app in lab.trusted_applications:
        if app.reached_by(uri):  # its pool, a computer, or a GRUU (application_pool.py)
            return (Target(uri=uri, kind="application", label=f"{app.name} on {app.fqdn}:{app.port}", party=app,
                           request_uri=uri),)
    if lab.exchange_um and host == lab.exchange_um.server:
        return (Target(uri=uri, kind="voicemail", label=f"Exchange UM {host}", party=lab.exchange_um,
                       request_uri=uri),)
    if lab.acp and (host == lab.acp.gateway or host in lab.acp.domains):
        return (Target(uri=uri, kind="acp", label=f"{lab.acp.provider}", party=lab.acp, request_uri=uri),)
    pool = lab.other_pool(host)
    if pool is not None:
        return (Target(uri=uri, kind="pool", label=f"pool {pool.fqdn}", party=(pool, None), request_uri=uri),)
    if phone_number_of(uri) is None:
        app_ep = lab.application_endpoint(uri)
        if app_ep is not None:
            app, ep = app_ep
            return (Target(uri=uri, kind="application", label=f"{app.name} on {app.fqdn}:{app.port}", party=app,
                           request_uri=uri),)
        user = lab.user(uri)
        if user is not None and lab.is_local(user):
            eps = [e for e in ctx.registrations.get(user.aor, ()) if e.supports(ctx.method)]
            ctx.note("inferred", f"ProxyRequest to a user's address ({user.uri}): the simulator delivers it to that "
                                 "user's registered endpoints, with no later application (routing, filtering) "
                                 "involved.", "decision D1")
            if eps:
                return tuple(endpoint_target(e, user.name or user.uri) for e in eps)
            return (Target(uri=uri, kind="uri", label=f"{user.uri} (not signed in)", party=user, request_uri=uri),)
        if user is not None:
            return (Target(uri=uri, kind="pool", label=f"{user.uri}'s home pool {lab.home_pool(user)}",
                           party=(lab.other_pool(lab.home_pool(user)), user), request_uri=uri),)
    if host and not (lab.supports_domain(host) or lab.is_this_server(host)) and "." in host \
            and not host.replace(".", "").isdigit():
        partner = lab.federation.partner(host)
        if partner is not None and lab.edge:
            return (Target(uri=uri, kind="edge", label=f"{host} via the Edge {lab.edge}", party=partner,
                           request_uri=uri),)
    return (Target(uri=uri, kind="uri", label="an address nobody in the lab answers", party=None, request_uri=uri),)


# ---------------------------------------------------------------------------------------------
# The request as it leaves


def forward_copy(request: Any, target: Target, ctx: RequestContext) -> Any:
    """The request as the Front End sends it on this branch: Request-URI, a Via, Max-Forwards - 1,
    and without the Route value that names this server (RFC 3261 16.4)."""
    # Linear in the number of headers (a generated request may carry 10,000 Via or Route
    # headers): one pass over the Route values, one rebuild of the header list, and the headers
    # of the copy -- which the message already accepted -- are put back as they are, not re-added
    # one by one (each add_header looks up the headers before it).
    out = request.copy()
    routes = out.get_all("Route")
    rest = [r for r in routes if not ctx.lab.is_this_server(_host(r.strip().lstrip("<")))]
    if len(rest) != len(routes):
        out.remove_header("Route")
        if rest:
            out.add_header("Route", rest[0])
            out.headers.extend(Header("Route", r) for r in rest[1:])
    if target.request_uri:
        try:
            out.request_uri = target.request_uri
        except UsageError:  # a URI the SIP layer refuses: keep the request's own
            pass
    branch = "z9hG4bK" + stable_id(f"{ctx.received.get('Call-ID')}|{ctx.received.get('CSeq')}|{target.uri}", 16)
    via = f"SIP/2.0/TLS {ctx.lab.server}:5061;branch={branch}"
    headers = list(out.headers)
    out.headers = []
    out.add_header("Via", via)
    out.headers.extend(headers)
    mf = out.get("Max-Forwards")
    if mf is not None and mf.strip().isdigit():
        out.set_header("Max-Forwards", str(max(int(mf) - 1, 0)))
    return out


# ---------------------------------------------------------------------------------------------
# How they answer


def ucma_match(app: TrustedApplication, request: Any) -> tuple[str | None, str]:
    """Which ApplicationEndpoint a UCMA application gives an incoming request, and why (Dn466043;
    the model is application_pool.platform_match)."""
    match = platform_match(app, request)
    return (match.endpoint.uri if match.endpoint else None), "; ".join(match.steps)


def _answers_call(answers: str, method: str) -> tuple[tuple[tuple[int, str], ...], bool, str]:
    """(responses, cancelled, note) for a user agent that ``answers`` a request."""
    if method != "INVITE":
        if answers == "unknown-user":
            return _r(404), False, ""
        return _r(200), False, "accepted"
    if answers == "answer":
        return _r(180, 200), False, "rang, then answered"
    if answers == "ring":
        return _r(180, 487), True, "rang, nobody answered: the server sent CANCEL"
    if answers == "busy":
        return _r(486), False, "busy"
    if answers == "decline":
        return _r(603), False, "declined"
    if answers == "unknown-user":
        return _r(404), False, "no such user there"
    return _r(200), False, ""


def deliver(target: Target, request: Any, ctx: RequestContext, sent_by: str) -> Branch:
    """Send the request to one target and collect what comes back (one Branch)."""
    method = ctx.method
    party = target.party
    text = str(request)
    kw = dict(target=target.uri, kind=target.kind, sent_by=sent_by, party=target.label, request=text)
    if target.kind == "endpoint" and isinstance(party, Endpoint):
        responses, cancelled, note = _answers_call(party.answers, method)
        if cancelled:
            note = f"rang {ctx.lab.ring_seconds} s, nobody answered: the server sent CANCEL [inferred ring time]"
        return Branch(responses=responses, cancelled=cancelled, note=note, **kw)
    if target.kind == "gateway" and isinstance(party, Gateway):
        number = target.number or phone_number_of(request.request_uri) or ""
        answer = party.answer_for(number)
        if answer == "connect":
            return Branch(responses=_r(100, 183, 200), note=f"the PSTN connected {number}", **kw)
        if answer == "busy":
            return Branch(responses=_r(100, 486), note=f"{number} is busy", **kw)
        if answer == "fail":
            return Branch(responses=_r(503), note="the gateway cannot take the call (all lines busy)", **kw)
        return Branch(responses=_r(100), cancelled=True,
                      note="no answer from the gateway within 10 s (EnableFastFailoverTimer): cancelled", **kw)
    if target.kind == "edge":
        answers = party.answers if isinstance(party, Partner) else "answer"
        responses, cancelled, note = _answers_call(answers, method)
        return Branch(responses=responses, cancelled=cancelled, note=f"the federated party {note}".strip(), **kw)
    if target.kind == "voicemail" and isinstance(party, ExchangeUm):
        return Branch(responses=_r(200), note="Exchange UM answers and records a voice mail", **kw)
    if target.kind == "acp" and isinstance(party, Acp):
        return Branch(responses=_r(200), note=f"{party.provider} answers the conference call", **kw)
    if target.kind == "pool":
        pool, user = party if isinstance(party, tuple) else (party, None)
        if isinstance(pool, Pool) and not pool.available:
            return Branch(responses=(), note=f"{pool.fqdn} does not answer", **kw)
        if isinstance(user, User):
            if user.signed_in_elsewhere:
                responses, cancelled, note = _answers_call("answer", method)
                return Branch(responses=responses, note=f"{user.name or user.uri} {note} on {user.pool}", **kw)
            return Branch(responses=_r(480), note=f"{user.uri} is not signed in on {user.pool}", **kw)
        return Branch(responses=_r(200), note="the pool accepted it", **kw)
    if target.kind == "application" and isinstance(party, TrustedApplication):
        return deliver_to_application(party, request, method, **kw)  # the UCMA platform (Dn466043)
    if target.kind == "uri" and isinstance(party, User):
        return Branch(responses=_r(480), note=f"{party.uri} is not signed in", **kw)
    return Branch(responses=(), note="nobody in the lab answers at this address: the transaction times out", **kw)


class Downstream(Protocol):
    """Real parties beside the simulated ones (mspl_lite.wire): ``deliver`` gets every copy of one
    attempt at once (a fork rings in parallel) and returns, per copy, the Branch of what really came
    back, or None for a target it leaves to the simulation (the lab's 192.0.2.x parties).

    A downstream that answers some simulated copies itself (the wire does, to know whether one
    answers before the real parties: decision D100) also has ``is_real(target)``; without it,
    every Branch it returns is taken as a real party's."""

    def deliver(self, copies: Sequence[tuple[Target, Any]], ctx: RequestContext,
                sent_by: str) -> Sequence[Branch | None]: ...


def deliver_route(route: Route, ctx: RequestContext, sent_by: str, attempt: int = 0,
                  downstream: Downstream | None = None) -> list[Branch]:
    """Send ``ctx.request`` to every target of ``route`` at once: one Branch each (its ``attempt``),
    the losers of an INVITE fork cancelled. ``downstream``, when given, delivers to the real
    parties among the targets; without it every party is simulated.

    A 2xx is forwarded to the caller at once and every branch still ringing gets CANCEL
    (RFC 3261 16.7 steps 5 and 10; MS-OCSPROT 2.5.11); so does every ringing branch when another
    declines with a 6xx (16.7 step 5). Which of two answering endpoints answers first is decision
    D66: the one listed first. A simulated loser answers the CANCEL at once and its INVITE ends 487;
    a real one's Branch stays as the wire left it when the chain took it (decision D100): its
    responses so far and "CANCEL sent", never a 487 it has not sent yet.
    """
    copies = [(t, forward_copy(ctx.request, t, ctx)) for t in route.targets]
    real = list(downstream.deliver(copies, ctx, sent_by)) if downstream is not None else [None] * len(copies)
    branches = [r if r is not None else deliver(t, c, ctx, sent_by) for (t, c), r in zip(copies, real)]
    is_real = getattr(downstream, "is_real", None)
    on_wire = [r is not None and (is_real is None or is_real(t)) for (t, _), r in zip(copies, real)]
    if attempt:
        branches = [replace(b, attempt=attempt) for b in branches]
    if ctx.method == "INVITE" and not any(b.final and 200 <= b.final[0] < 300 for b in branches) \
            and any(b.final and b.final[0] >= 600 for b in branches):
        branches = [replace(b, note="another branch declined with a 6xx: the server sent CANCEL "
                                    "(RFC 3261 16.7 step 5)")
                    if b.cancelled and b.final == (487, REASONS[487]) and not wire else b
                    for b, wire in zip(branches, on_wire)]
    if ctx.method == "INVITE" and any(b.final and 200 <= b.final[0] < 300 for b in branches):
        # The first 2xx wins; every branch still ringing gets CANCEL (MS-OCSPROT 2.5.11).
        won = False
        out = []
        for b, wire in zip(branches, on_wire):
            ok = b.final is not None and 200 <= b.final[0] < 300
            if ok and not won:
                won = True
                out.append(b)
            elif wire:
                # A real party: only what it had answered when the caller's response went up (CANCEL
                # sent, or its late 2xx ended by the server); its end is the server's to record (D100).
                out.append(b)
            elif b.cancelled or (ok and won):
                rang = tuple(r for r in b.responses if r[0] < 200)
                out.append(Branch(target=b.target, kind=b.kind, sent_by=b.sent_by, party=b.party,
                                  responses=rang + ((487, "Request Terminated"),), cancelled=True,
                                  note="another branch answered first: the server sent CANCEL, which this "
                                       "endpoint answered 200 OK, and the INVITE ended 487 (RFC 3261 9.2)",
                                  request=b.request, attempt=b.attempt))
            else:
                out.append(b)
        branches = out
    return branches


def ucma_notes(ctx: RequestContext, branches: Iterable[Branch]) -> None:
    """The "Retarget() but my ApplicationEndpoint receives nothing" story, told in notes
    (application_pool.explain_rejections, from Dn466043)."""
    reached = []
    for b in branches:
        if b.kind != "application":
            continue
        app = ctx.lab.trusted_application_at(_host(b.target)) if b.target.startswith("sip:") else None
        if app is None:
            app = next((t for t in ctx.lab.trusted_applications if t.reached_by(b.target) or t.name in b.party), None)
        if app is not None:
            reached.append((app, parse_message(b.request) if b.request else ctx.request))
    explain_rejections(ctx, reached)


# ---------------------------------------------------------------------------------------------
# What the caller gets


def best_response(branches: Iterable[Branch]) -> tuple[int, str, str]:
    """(status, reason, why): the final response the caller gets from the branches (RFC 3261 16.7).

    A 2xx is not chosen: the proxy forwards it the moment it arrives (16.7 step 5), and cancels
    the branches still pending (step 10). Only when no branch answered 2xx does the proxy choose
    the "best" of the final responses it stored (step 6): a 6xx if there is one, else one of the
    lowest class, a 503 sent on as 500, leaving aside the 487s of branches the server cancelled
    itself. When every branch rang out, the caller gets 480 Temporarily Unavailable [inferred];
    when no final response came at all, 408 Request Timeout (step 6; Timer B/F, 17.1).
    """
    finals = []
    rang_out = False
    for b in branches:
        f = b.final
        if f is None:
            continue
        if b.cancelled and f[0] == 487:
            rang_out = True
            continue
        finals.append(f)
    for s, r in finals:
        if 200 <= s < 300:
            return s, r, "a branch answered; its 2xx is forwarded at once, RFC 3261 16.7 step 5"
    for s, r in finals:
        if s >= 600:
            return s, r, "no branch answered 2xx, and a 6xx is chosen first, RFC 3261 16.7 step 6"
    if finals:
        s, r = min(finals, key=lambda f: f[0] // 100)
        if s == 503:
            return 500, "Server Internal Error", "a 503 from downstream is returned as 500, RFC 3261 16.7 step 6"
        return s, r, "no branch answered 2xx: the lowest class among the final responses, RFC 3261 16.7 step 6"
    if rang_out:
        return 480, "Temporarily Unavailable", "every endpoint rang out [inferred]"
    return 408, "Request Timeout", "no final response came back: the server's transaction timer fired (Timer B/F)"
