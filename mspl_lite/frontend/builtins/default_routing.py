"""DefaultRouting: sends a request for a user of this pool to every endpoint the user is signed in on.

Model (builtin-apps.md 8, [inferred] from MS-OCSPROT 2.5.11): fork to every registered endpoint
that supports the method; the first 2xx wins and the others are cancelled. A known user with no
endpoint gets 480 Temporarily Unavailable (RFC 3261 21.4.18), unless she takes voice mail
(ExumRouting). An unknown user of a local domain gets 404 with ms-diagnostics 4005. Requests for
other domains and phone numbers are left to the later applications.
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
    exits = ("endpoint", "application")  # builtin-apps.md 8
    order_guessed = True

    def on_request(self, ctx: RequestContext) -> Decision:
        lab = ctx.lab
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
        app = lab.application_endpoint(ctx.request_uri)
        if app is not None:
            trusted, endpoint = app
            ctx.note("inferred", "A request for an application endpoint (contact object) goes to the trusted "
                                 "application pool that hosts it.", "mspl.md 4")
            return self.route_to(ctx, uri=trusted.address, kind="application",
                                 label=f"{trusted.name} on {trusted.fqdn}:{trusted.port}", party=trusted,
                                 action=f"proxied to the trusted application {trusted.name} "
                                        f"({trusted.fqdn}:{trusted.port})",
                                 sentence=f"{endpoint.uri} is an application endpoint of {trusted.name}")
        user = ctx.target_user()
        if user is None:
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
                                 "(RFC 3261 21.4.18); the Lync ms-diagnostics ID for it was not found.",
                     "builtin-apps.md 8")
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

    def on_failure(self, ctx: RequestContext, branches: tuple[Branch, ...]) -> Failover | None:
        user = ctx.target_user()
        um = ctx.lab.exchange_um
        if user is None or not user.um_enabled or um is None or ctx.method != "INVITE":
            return None
        ctx.note("documented", "ExumRouting routes unanswered calls of UM-enabled users to Exchange UM "
                               "(call answering, voice mail deposit).", "Gg182575")
        return Failover(by=ExumRouting.name, then=ExumRouting.voice_mail(
            ctx, um, action=f"sent the unanswered call to voice mail on {um.server}",
            sentence=f"{user.uri} did not answer; {user.name or user.uri} is enabled for Exchange UM"),
            sentence="the call was not answered")
