"""IncomingFederation and OutgoingFederation: who may talk to which external domain (Gg182575).

The organisation's federation settings (allowed and blocked domains, AllowFederatedUsers) live on
the Access Edge; the Front End side is modelled here, where a learner sees it in the chain
[inferred]: IncomingFederation checks requests from external domains, OutgoingFederation sends
allowed requests for external domains to the Edge (Set-CsSite -FederationRoute).
"""
from __future__ import annotations

from ..context import RequestContext
from ..decisions import Decision, PassOn
from .base import ALL_BUT_REGISTER, BuiltinApplication, ms_diagnostics, server_uri

__all__ = ["IncomingFederation", "OutgoingFederation"]


class IncomingFederation(BuiltinApplication):
    """Refuses requests from blocked or non-federated external domains."""

    name = "IncomingFederation"
    methods = ALL_BUT_REGISTER
    role = "tenant-level federation validation for incoming messages from external deployments"

    def on_request(self, ctx: RequestContext) -> Decision:
        domain = ctx.caller_domain()
        if not domain or ctx.lab.supports_domain(domain):
            return PassOn(sentence="the sender is not in an external deployment")
        fed = ctx.lab.federation
        ctx.note("inferred", "Gg182575 says only that IncomingFederation and OutgoingFederation enforce "
                             "tenant-level federation validation; the simulator checks the lab's federation "
                             "settings there and answers 403 for a refused domain (the status is not documented).",
                 "Gg182575")
        if fed.is_blocked(domain):
            return self.answer(403, "Forbidden", sentence=f"{domain} is on the blocked domain list (New-CsBlockedDomain)",
                               action=f"refused: {domain} is blocked")
        if not fed.allow_federated_users:
            return self.answer(403, "Forbidden", sentence="federation is off (AllowFederatedUsers $false)",
                               action="refused: federation is off")
        if fed.partner(domain) is None and not fed.enable_partner_discovery:
            return self.answer(403, "Forbidden",
                               sentence=f"{domain} is not an allowed domain and partner discovery is off",
                               action=f"refused: {domain} is not federated")
        target = ctx.target_user()
        if target is not None and not target.federation:
            return self.answer(403, "Forbidden",
                               sentence=f"{target.uri}'s external access policy does not allow federation",
                               action="refused: the callee may not talk to federated users")
        return PassOn(action=f"allowed federated sender from {domain}",
                      sentence=f"{domain} is an allowed federated partner")


class OutgoingFederation(BuiltinApplication):
    """Sends requests for federated partner domains to the Edge; refuses the others."""

    name = "OutgoingFederation"
    methods = ALL_BUT_REGISTER
    role = "tenant-level federation validation for messages going to an external deployment"
    exits = ("edge",)  # inferred: Gg182575 gives it no exit

    def on_request(self, ctx: RequestContext) -> Decision:
        domain = ctx.target_domain()
        lab = ctx.lab
        if not domain or lab.supports_domain(domain) or lab.is_this_server(domain) \
                or lab.gateway(domain) or lab.trusted_application_at(domain) or lab.other_pool(domain) \
                or (lab.acp and domain in lab.acp.domains) or ctx.target_number():
            return PassOn(sentence="the target is not in an external deployment")
        fed = lab.federation
        caller = ctx.caller
        if caller is not None and not caller.federation:
            return self.answer(403, "Forbidden",
                               ms_diagnostics(ctx, 1002, "From URI not authorized to communicate with federated partners", self.name),
                               sentence=f"{caller.uri}'s external access policy has EnableFederationAccess $false",
                               action="refused: the sender may not federate (1002)")
        cannot = ms_diagnostics(ctx, 1005, "Cannot route to destination domain", self.name)
        refused = None
        if fed.is_blocked(domain):
            refused = f"{domain} is on the blocked domain list"
        elif not fed.allow_federated_users:
            refused = "federation is off on the Edge (AllowFederatedUsers $false)"
        elif fed.partner(domain) is None and not fed.enable_partner_discovery:
            refused = f"{domain} is not on the allowed domain list and partner discovery is off"
        elif not lab.edge:
            refused = "the site has no federation route (Set-CsSite -FederationRoute)"
        if refused:
            ctx.note("inferred", "A request the Edge will not route is answered 504 with ms-diagnostics 1005 "
                                 "'Cannot route to destination domain' (the ID is documented, the status pairing is not).",
                     "MS-OCER SipStack")
            return self.answer(504, "Server time-out", cannot, sentence=refused, action=f"refused: {refused}")
        return self.route_to(ctx, uri=server_uri(lab.edge), kind="edge", label=f"{domain} via the Edge {lab.edge}",
                             party=fed.partner(domain), action=f"proxied to the Edge {lab.edge} for {domain}",
                             sentence=f"{domain} is an allowed federated partner; the site's federation route is "
                                      f"{lab.edge}")
