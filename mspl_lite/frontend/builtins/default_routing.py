"""DefaultRouting: sends a request for a user of this pool to every endpoint the user is signed in on.

Model (Gg182575 names its job only; [inferred] from MS-OCSPROT 2.5.11): fork to every registered endpoint
that supports the method; the first 2xx wins and the others are cancelled. A known user with no
endpoint gets 480 Temporarily Unavailable (RFC 3261 21.4.18), unless she takes voice mail
(ExumRouting). An unknown user of a local domain gets 404 with ms-diagnostics 4005 (its reason is
[MS-OCER]'s; both status codes are decision D54). Requests for other domains and phone numbers are
left to the later applications (decision D10). It is critical, and that cannot be changed (Gg182598).
A request for a contact object's owner URI or phone URI, or for an application's GRUU, goes to the
trusted application pool (Dn466043, Dn466053); only the phone URI gets an ms-application-aor header
(decision D70). The pool's UCMA platform is application_pool.py.
"""
from __future__ import annotations

from ..context import RequestContext
from ..decisions import Decision, Failover, PassOn, Route, endpoint_target
from ..trace import Branch
from .base import ALL_BUT_REGISTER, NOT_ENABLED_FOR_SIP, BuiltinApplication, ms_diagnostics
from .exum import ExumRouting

__all__ = ["DefaultRouting"]


class DefaultRouting(BuiltinApplication):
    """Routes requests for users (and application endpoints) of this deployment."""

    name = "DefaultRouting"
    methods = ALL_BUT_REGISTER
    role = "the default routing application"
    #: Its voice-mail failover is ExumRouting's exit (Failover(by="ExumRouting")).
    exits = ("endpoint", "application")  # MS-OCSPROT 2.5.11 (endpoints); applications: inferred
    order_guessed = True
    place_note = ("listed before ExumRouting and OutboundRouting (Gg182575), which handle calls it does not "
                  "route; that it runs before them and passes those calls on is inferred (decision D10)")
    critical = True
    critical_source = "Gg182598"
    critical_fixed = "Gg182598"

    def on_request(self, ctx: RequestContext) -> Decision:
        lab = ctx.lab
        contact = lab.application_endpoint_by_number(ctx.target_number())
        if contact is not None:
            return self._to_contact_number(ctx, *contact)
        if ctx.target_number() is not None:
            return PassOn(sentence="a phone number that reverse number lookup did not map to a user: "
                                   "left to OutboundRouting")
        domain = ctx.target_domain()
        if domain is None:
            return PassOn(sentence="the Request-URI names no user")
        if lab.is_this_server(domain):
            return PassOn(sentence="the request is for this server itself")
        if not lab.supports_domain(domain):
            return PassOn(sentence=f"{domain} is not a domain of this pool: left to the later applications")
        for trusted in lab.trusted_applications:
            if ";gruu" in ctx.request_uri.lower() and trusted.reached_by(ctx.request_uri):
                return self._to_application_gruu(ctx, trusted)
        app = lab.application_endpoint(ctx.request_uri)
        if app is not None:
            trusted, endpoint = app
            ctx.note("documented", "When a message targets an application's owner URI or application pool GRUU, "
                                   "maps the owner URI or application pool GRUU to a pool FQDN and port, and routes "
                                   "the message.", "Dn466043")
            ctx.note("inferred", "The Request-URI is the contact's owner URI, so the request targets it directly: "
                                 "no page says that Lync then adds ms-application-aor, and the simulator does not "
                                 f"(decision D70). To is unchanged: {ctx.request.get('To')}.")
            return self.route_to(ctx, uri=trusted.address, kind="application",
                                 label=f"{trusted.name} on {trusted.fqdn}:{trusted.port}", party=trusted,
                                 action=f"proxied to the trusted application pool of {trusted.name} "
                                        f"({trusted.fqdn}:{trusted.port})",
                                 sentence=f"{endpoint.uri} is the owner URI of a contact object of {trusted.name}")
        user = ctx.target_user()
        if user is None:
            ctx.note("inferred", "An unknown user of a domain of this pool gets 404 Not Found with "
                                 "ms-diagnostics 4005; the reason text is documented ([MS-OCER]), the status "
                                 "code is the simulator's choice (decision D54).", "MS-OCER")
            return self.answer(404, "Not Found",
                               ms_diagnostics(ctx, 4005, NOT_ENABLED_FOR_SIP, self.name),
                               sentence=f"nobody is {ctx.target_aor()} in {domain}",
                               action="responded 404: no such user (4005)")
        if not lab.is_local(user):
            return PassOn(sentence=f"{user.uri} is homed on {lab.home_pool(user)}")
        endpoints = ctx.endpoints_of(user)
        usable = [e for e in endpoints if e.supports(ctx.method)]
        ruri = ctx.request_uri.lower()
        if ";gruu" in ruri:
            # A GRUU names one endpoint: the request goes to that endpoint only (RFC 5627).
            usable = [e for e in usable if f"epid:{e.epid}".lower() in ruri]
        if not usable:
            if user.um_enabled and ctx.method == "INVITE" and lab.exchange_um is not None:
                return PassOn(sentence=f"{user.uri} is not signed in; unanswered calls of UM-enabled users "
                                       "are left to ExumRouting (voice mail)")
            why = "is not signed in anywhere" if not endpoints else f"has no endpoint that accepts {ctx.method}"
            ctx.note("inferred", "A known user with no registered endpoint gets 480 Temporarily Unavailable "
                                 "(RFC 3261 21.4.18); no page gives Lync's status or ms-diagnostics ID for it "
                                 "(decision D54).", "RFC 3261")
            return self.answer(480, "Temporarily Unavailable", sentence=f"{user.uri} {why}",
                               action=f"responded 480: {user.uri} {why}")
        targets = tuple(endpoint_target(e, user.name or user.uri) for e in usable)
        if len(targets) > 1:
            ctx.note("documented", "When the callee is signed in on several endpoints the server forks the request to "
                                   "all of them; the first to answer wins and the others get CANCEL.",
                     "MS-OCSPROT 2.5.11")
        return Route(targets=targets, fork=len(targets) > 1,
                     action=(f"forked to {len(targets)} endpoints of {user.uri}" if len(targets) > 1
                             else f"proxied to {user.uri}'s endpoint {usable[0].contact}"),
                     sentence=f"{user.name or user.uri} is signed in on {len(endpoints)} endpoint(s)")

    def _to_application_gruu(self, ctx: RequestContext, trusted) -> Decision:
        """A request for an application's pool or instance GRUU: to that pool or instance (Dn466043)."""
        instance = trusted.targets_instance(ctx.request_uri)
        if instance:
            ctx.note("documented", "When a message targets this GRUU, Lync Server 2013 maps the GRUU to the FQDN "
                                   "and port for the application, and routes the message to this application "
                                   "instance.", "Dn466043")
        host = trusted.instances[0] if instance else trusted.fqdn
        what = "application instance GRUU" if instance else "application pool GRUU"
        return self.route_to(ctx, uri=f"sip:{host}:{trusted.port};transport=tls", kind="application",
                             label=f"{trusted.name} on {host}:{trusted.port}", party=trusted,
                             action=f"proxied to {trusted.name} on {host}:{trusted.port} ({what})",
                             sentence=f"the Request-URI is {trusted.name}'s {what}")

    def _to_contact_number(self, ctx: RequestContext, trusted, endpoint) -> Decision:
        """A call to a contact object's phone URI: to the application pool, with ms-application-aor (D70)."""
        ctx.note("documented", "When a message arrives, targeting the URI or phone URI of a Contact object, the "
                               "Lync Server 2013 routing logic can look up the FQDN of the pool of servers on which "
                               "the application is deployed.", "Dn466053")
        ctx.note("documented", "A message that does not directly target an owner URI of an application can still "
                               "reach the application by the use routing rules. When Lync Server 2013 does this, it "
                               "adds a special header (ms-application-aor) that indicates the owner URI being "
                               "targeted.", "Dn466043")
        ctx.note("inferred", f"That a call to the contact's phone URI ({endpoint.line_uri}) is such a routing rule, "
                             "and that the header's value is the owner URI in angle brackets, is the simulator's "
                             "reading (decision D70).")
        ctx.request.set_header("ms-application-aor", f"<{endpoint.uri}>")
        return self.route_to(ctx, uri=trusted.address, kind="application",
                             label=f"{trusted.name} on {trusted.fqdn}:{trusted.port}", party=trusted,
                             action=f"proxied to the trusted application pool of {trusted.name} "
                                    f"({trusted.fqdn}:{trusted.port}), adding ms-application-aor: <{endpoint.uri}>",
                             sentence=f"{endpoint.line_uri} is the phone URI of {endpoint.uri}, a contact object "
                                      f"of {trusted.name}")

    def on_failure(self, ctx: RequestContext, branches: tuple[Branch, ...]) -> Failover | None:
        user = ctx.target_user()
        um = ctx.lab.exchange_um
        if user is None or not user.um_enabled or um is None or ctx.method != "INVITE":
            return None
        ctx.note("inferred", "The unanswered call is handed to ExumRouting after DefaultRouting's branches "
                             "failed: no page says how ExumRouting gets a call DefaultRouting routed "
                             "(decision D53).")
        ctx.note("documented", "ExumRouting routes unanswered calls of UM-enabled users to Exchange UM "
                               "(call answering, voice mail deposit).", "Gg182575")
        return Failover(by=ExumRouting.name, then=ExumRouting.voice_mail(
            ctx, um, action=f"sent the unanswered call to voice mail on {um.server}",
            sentence=f"{user.uri} did not answer; {user.name or user.uri} is enabled for Exchange UM"),
            sentence="the call was not answered")
