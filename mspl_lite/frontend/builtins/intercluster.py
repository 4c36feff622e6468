"""InterClusterRouting: calls for users homed on another pool go to that pool (Gg425812).

Primary Registrar pool; if it is down, the backup Registrar pool; if both are unreachable,
over the PSTN to the user's number when the caller's voice policy allows PSTN rerouting.
"""
from __future__ import annotations

from ..context import RequestContext
from ..decisions import Decision, PassOn
from .base import ALL_BUT_REGISTER, BuiltinApplication, server_uri

__all__ = ["InterClusterRouting"]


class InterClusterRouting(BuiltinApplication):
    """Routes requests for users of other pools to their primary (or backup) Registrar pool."""

    name = "InterClusterRouting"
    methods = ALL_BUT_REGISTER
    role = "routes calls to the callee's primary Registrar pool (backup pool, then PSTN)"
    exits = ("pool",)  # Gg425812

    def on_request(self, ctx: RequestContext) -> Decision:
        user = ctx.target_user()
        if user is None or ctx.lab.is_local(user):
            return PassOn(sentence="the target is not homed on another pool")
        home = ctx.lab.home_pool(user)
        pool = ctx.lab.other_pool(home)
        ctx.note("documented", "InterClusterRouting routes calls to the callee's primary Registrar pool; if it is "
                               "unavailable, to the backup pool; if both are unreachable, over the PSTN.", "Gg425812")
        if pool is not None and pool.available:
            return self.route_to(ctx, uri=server_uri(pool.fqdn), kind="pool",
                                 label=f"{user.uri}'s home pool {pool.fqdn}", party=(pool, user),
                                 action=f"proxied to {user.uri}'s home pool {pool.fqdn}",
                                 sentence=f"{user.uri} is homed on {pool.fqdn}")
        backup = ctx.lab.other_pool(pool.backup) if pool and pool.backup else None
        if pool is not None and pool.backup and (backup is None or backup.available) \
                and pool.backup.lower() != ctx.lab.pool.lower():
            return self.route_to(ctx, uri=server_uri(pool.backup), kind="pool",
                                 label=f"backup pool {pool.backup}", party=(backup, user),
                                 action=f"proxied to the backup pool {pool.backup}",
                                 sentence=f"{home} is unavailable; {pool.backup} is its backup Registrar pool")
        policy = ctx.lab.voice_policy(ctx.caller.voice_policy) if ctx.caller else None
        if ctx.method == "INVITE" and user.number and policy is not None and policy.allow_pstn_rerouting:
            ctx.request.request_uri = f"sip:{user.number}@{ctx.lab.domains[0]};user=phone"
            return PassOn(action=f"rerouted over the PSTN to {user.number}",
                          sentence=f"{home} and its backup are unavailable; AllowPSTNReRouting sends the call to "
                                   f"{user.name or user.uri}'s number")
        return self.answer(503, "Service Unavailable", sentence=f"{home} and its backup pool are unavailable",
                           action=f"{home} is unavailable: 503")
