"""The parties outside the server: who is at a URI, and how they answer a request.

``resolve(uri, ctx)`` says who a URI given to ProxyRequest, Fork or a managed SetDestination
reaches. ``deliver(target, request, ctx)`` simulates one branch: the copy of the request sent
there and the responses that come back, as the lab says (an endpoint answers, rings out, is
busy; a gateway connects or fails; a UCMA application finds the endpoint the request is for,
or does not). ``deliver_route`` sends a Route's copies and cancels the losers of a fork;
``ucma_notes`` explains a UCMA application that got the request but gave it to no endpoint.
``best_response`` picks what the caller gets from several branches (RFC 3261 16.7, simply
modelled). Nothing here has a clock: "rings 20 s" is a sentence, not a wait.
"""
from __future__ import annotations

from typing import Any, Iterable

from ..errors import UsageError
from ..sip import parse_message
from .context import RequestContext
from .decisions import Route, Target, endpoint_target
from .lab import (Acp, Endpoint, ExchangeUm, Gateway, Partner, Pool, TrustedApplication, User, aor_of,
                  phone_number_of, stable_id)
from .trace import Branch

__all__ = ["REASONS", "resolve", "deliver", "deliver_route", "forward_copy", "best_response", "ucma_match",
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

    ProxyRequest(uri) skips every later application (mspl.md 8), so nothing but this address
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
        if host == app.fqdn or low == app.gruu.lower():
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
                                 "involved.", "mspl.md 8")
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
    """The request as the Front End sends it on this branch: Request-URI, a Via, Max-Forwards - 1."""
    out = request.copy()
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
    for h in headers:
        out.add_header(h[0], h[1])
    mf = out.get("Max-Forwards")
    if mf is not None and mf.strip().isdigit():
        out.set_header("Max-Forwards", str(max(int(mf) - 1, 0)))
    return out


# ---------------------------------------------------------------------------------------------
# How they answer


def ucma_match(app: TrustedApplication, request: Any) -> tuple[str | None, str]:
    """Which ApplicationEndpoint a UCMA application gives an incoming request, and why.

    Order (Greenlee, 2014): the To URI; then the Conversation ID of an existing conversation
    (not modelled: every request here starts a new one); then the ms-application-aor header;
    then the default routing endpoint, if the application has one.
    """
    to_aor = aor_of(request.get("To"))
    for ep in app.endpoints:
        if ep.aor == to_aor:
            return ep.uri, f"its To header names {ep.uri}"
    aor_header = request.get("ms-application-aor")
    if aor_header:
        wanted = aor_of(aor_header)
        for ep in app.endpoints:
            if ep.aor == wanted:
                return ep.uri, f"its ms-application-aor header names {ep.uri}"
    if app.default_routing_endpoint:
        return "default routing endpoint", "no endpoint matched, so the default routing endpoint gets it"
    names = ", ".join(ep.uri for ep in app.endpoints) or "(none)"
    return None, (f"its To header names {request.get('To')}, not one of the application's endpoints ({names}); "
                  "there is no ms-application-aor header and no default routing endpoint")


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
        endpoint, why = ucma_match(party, request)
        if endpoint is not None:
            responses = _r(180, 200) if method == "INVITE" else _r(200)
            return Branch(responses=responses, note=f"{party.name} gives it to {endpoint}: {why}", **kw)
        return Branch(responses=_r(404), note=f"{party.name} receives the request, but no ApplicationEndpoint "
                                              f"takes it: {why} [inferred; the real status is not documented]", **kw)
    if target.kind == "uri" and isinstance(party, User):
        return Branch(responses=_r(480), note=f"{party.uri} is not signed in", **kw)
    return Branch(responses=(), note="nobody in the lab answers at this address: the transaction times out", **kw)


def deliver_route(route: Route, ctx: RequestContext, sent_by: str) -> list[Branch]:
    """Send ``ctx.request`` to every target of ``route``: one Branch each, the losers of an INVITE fork cancelled."""
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


def ucma_notes(ctx: RequestContext, branches: Iterable[Branch]) -> None:
    """The "Retarget() but my ApplicationEndpoint receives nothing" story, told in notes.

    For every branch that reached a UCMA application which gives the request to none of its
    ApplicationEndpoints: how UCMA matches a request to an endpoint, why this one did not
    match, and what to change.
    """
    for b in branches:
        if b.kind != "application":
            continue
        app = ctx.lab.trusted_application_at(_host(b.target)) if b.target.startswith("sip:") else None
        if app is None:
            for t in ctx.lab.trusted_applications:
                if t.name in b.party:
                    app = t
        if app is None:
            continue
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


# ---------------------------------------------------------------------------------------------
# What the caller gets


def best_response(branches: Iterable[Branch]) -> tuple[int, str, str]:
    """(status, reason, why) the proxy returns from its branches (RFC 3261 16.7, simply modelled).

    A 2xx wins at once; else a 6xx; else the lowest class among the 3xx-5xx answers (a 503 is
    returned as 500, RFC 3261 16.7 step 6), leaving aside the 487s of branches the server cancelled
    itself. When every branch rang out, the caller gets 480 Temporarily Unavailable [inferred];
    when no branch answered at all, 408 Request Timeout (Timer B/F, RFC 3261 16.7 step 4 and 17.1).
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
            return s, r, "a branch answered"
    for s, r in finals:
        if s >= 600:
            return s, r, "a 6xx ends the search (RFC 3261 16.7)"
    if finals:
        s, r = min(finals, key=lambda f: f[0] // 100)
        if s == 503:
            return 500, "Server Internal Error", "a 503 from downstream is returned as 500 (RFC 3261 16.7)"
        return s, r, "the lowest class among the final responses (RFC 3261 16.7)"
    if rang_out:
        return 480, "Temporarily Unavailable", "every endpoint rang out [inferred]"
    return 408, "Request Timeout", "no final response came back: the server's transaction timer fired (Timer B/F)"
