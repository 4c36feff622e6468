"""OutboundRouting: a call to a phone number goes to a gateway by voice policy, PSTN usage and route.

Route selection (Gg182575, Gg399027, Gg412757): the caller's voice policy's PSTN
usages top down; for each usage the routes carrying it whose NumberPattern matches the number,
by route priority; the call goes to the route's gateway, and to the next gateway or route when a
gateway cannot take it (5xx or no answer). No usage: 403 with 12001; no route: 12004.
"""
from __future__ import annotations

from ..context import RequestContext
from ..decisions import Answer, Decision, Failover, PassOn, Route, Target
from ..trace import Branch
from .base import BuiltinApplication, ms_diagnostics

__all__ = ["OutboundRouting"]


class OutboundRouting(BuiltinApplication):
    """Picks the gateway for a call to a phone number; reroutes when a gateway cannot take it."""

    name = "OutboundRouting"
    methods = frozenset({"INVITE"})
    role = "picks the gateway for a call by dialled number and the caller's voice policy"
    exits = ("gateway",)  # Gg182575
    order_guessed = True
    place_note = ("listed after DefaultRouting (Gg182575); that it gets the calls to phone numbers DefaultRouting "
                  "passes on is inferred (decision D10)")

    def _candidates(self, ctx: RequestContext, number: str) -> list[tuple[str, object, object]]:
        policy = ctx.lab.voice_policy(ctx.caller.voice_policy) if ctx.caller else None
        out = []
        for usage in policy.pstn_usages if policy else ():
            for route in ctx.lab.routes_for(number, usage):
                for gw_name in route.gateways:
                    gw = ctx.lab.gateway(gw_name)
                    if gw is not None and all(c[2] is not gw for c in out):
                        out.append((usage, route, gw))
        return out

    def _target(self, number: str, usage: str, route, gw) -> Target:
        return Target(uri=gw.address, kind="gateway", label=f"gateway {gw.fqdn} (route {route.name}, usage {usage})",
                      party=gw, request_uri=f"sip:{number}@{gw.fqdn};user=phone", number=number)

    def on_request(self, ctx: RequestContext) -> Decision:
        number = ctx.target_number()
        if number is None:
            return PassOn(sentence="the target is not a phone number")
        domain = ctx.target_domain()
        if domain and not (ctx.lab.supports_domain(domain) or ctx.lab.is_this_server(domain)):
            return PassOn(sentence=f"{domain} is not a supported domain: outbound routing does not process it")
        caller = ctx.caller
        if caller is None:
            return PassOn(sentence="the caller is not a user of this deployment (other routing logic applies)")
        if not number.startswith("+"):
            return self.answer(484, "Address Incomplete",
                               ms_diagnostics(ctx, 12002, "Phone number not valid or too large", self.name),
                               sentence=f"{number} is not E.164 (no normalization rule turned it into +...)",
                               action=f"refused {number}: not E.164 (12002)")
        policy = ctx.lab.voice_policy(caller.voice_policy)
        if policy is None or not policy.pstn_usages:
            ctx.note("documented", "A caller whose voice policy has no PSTN usage gets 403 Forbidden with "
                                   "ms-diagnostics 12001.", "Dn690131")
            return self.answer(403, "Forbidden",
                               ms_diagnostics(ctx, 12001, "User Policy does not contain phone route usage", self.name),
                               sentence=f"voice policy {caller.voice_policy} of {caller.uri} has no PSTN usage",
                               action="refused: the voice policy has no PSTN usage (12001)")
        candidates = self._candidates(ctx, number)
        if not candidates:
            ctx.note("inferred", "No matching route: ms-diagnostics 12004 'No route found' is documented; the status "
                                 "404 is the simulator's choice, not documented.", "MS-OCER")
            return self.answer(404, "Not Found", ms_diagnostics(ctx, 12004, "No route found", self.name),
                               sentence=f"no route for {number} in the usages {', '.join(policy.pstn_usages)} of "
                                        f"voice policy {policy.name}",
                               action=f"refused {number}: no route (12004)")
        ctx.scratch[self.name] = candidates[1:]
        usage, route, gw = candidates[0]
        if ctx.scratch.get("retargeted"):
            ctx.note("inferred", "A request an application retargeted to a phone number is routed here like a "
                                 "dialled call: Dn439100 says RetargetRequest forwards a request \"to a different "
                                 "user\", and no page says that OutboundRouting routes it.", "decision D5")
        ctx.note("documented", "Lync Server traverses the voice policy's PSTN usages top down; among the routes of a "
                               "usage whose pattern matches the number, route priority decides.", "Gg399027, test-csvoicepolicy")
        ctx.request.request_uri = f"sip:{number}@{gw.fqdn};user=phone"
        return Route(targets=(self._target(number, usage, route, gw),),
                     action=f"routed {number} to gateway {gw.fqdn} (route {route.name})",
                     sentence=f"voice policy {policy.name} -> usage {usage} -> route {route.name} "
                              f"({route.pattern}) -> {gw.fqdn}")

    def on_failure(self, ctx: RequestContext, branches: tuple[Branch, ...]) -> Failover | None:
        finals = [b.final for b in branches if b.final]
        # Busy or a number that does not exist is the PSTN's answer, not a gateway failure.
        if finals and all(s < 500 for s, _ in finals) and all(s != 408 for s, _ in finals):
            return None
        rest = ctx.scratch.get(self.name) or []
        number = ctx.target_number()
        if rest and number:
            usage, route, gw = rest[0]
            ctx.scratch[self.name] = rest[1:]
            ctx.note("documented", "When a gateway cannot take the call, outbound routing redirects it to the "
                                   "next-least-cost route.", "Gg412757")
            return Failover(by=self.name, then=Route(
                targets=(self._target(number, usage, route, gw),),
                action=f"rerouted {number} to gateway {gw.fqdn} (route {route.name})"),
                sentence="the gateway could not take the call")
        return Failover(by=self.name, then=Answer(
            status=503, reason="Service Unavailable",
            headers=(ms_diagnostics(ctx, 12000, "Routes available for this request but no available gateway at this point",
                                    self.name),),
            action="no other gateway: 503 (12000)",
            sentence="every gateway of the matching routes failed"), sentence="no gateway could take the call")
