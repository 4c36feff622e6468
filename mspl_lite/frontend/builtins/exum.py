"""ExumRouting: calls for UM-enabled users that nobody can answer go to Exchange UM (Gg182575).

Here: a UM-enabled user who is signed in nowhere. A call that rings out on her endpoints also
ends in voice mail: DefaultRouting hands the failed call to ExumRouting (decisions.Failover).
No page says how ExumRouting gets a call that DefaultRouting routed: decision D53.
"""
from __future__ import annotations

from ..context import RequestContext
from ..decisions import Decision, PassOn, Route
from ..lab import ExchangeUm
from .base import BuiltinApplication

__all__ = ["ExumRouting"]


class ExumRouting(BuiltinApplication):
    """Routes calls to Exchange UM: voice mail deposit for unanswered calls of UM-enabled users."""

    name = "ExumRouting"
    methods = frozenset({"INVITE"})
    role = "routing to Exchange UM (voice mail deposit, Auto Attendant, Subscriber Access)"
    exits = ("voicemail",)  # Gg182575
    order_guessed = True
    place_note = ("listed after DefaultRouting (Gg182575); that it takes the calls DefaultRouting passes on, "
                  "or could not get answered, is inferred (decisions D10, D53)")

    def on_request(self, ctx: RequestContext) -> Decision:
        user = ctx.target_user()
        um = ctx.lab.exchange_um
        if user is None or not ctx.lab.is_local(user):
            return PassOn(sentence="the callee is not a user of this pool")
        if not user.um_enabled or um is None:
            return PassOn(sentence=f"{user.uri} is not enabled for Exchange UM")
        ctx.note("documented", "ExumRouting chooses the Exchange UM server when a voice mail must be deposited "
                               "for a UM-enabled user.", "Gg182575")
        return self.voice_mail(ctx, um, action=f"sent the call to voice mail on {um.server}",
                               sentence=f"{user.name or user.uri} is not signed in and takes voice mail")

    @classmethod
    def voice_mail(cls, ctx: RequestContext, um: ExchangeUm, *, action: str, sentence: str) -> Route:
        """The call, its Request-URI unchanged, to the Exchange UM server (also DefaultRouting's failover)."""
        return cls.route_to(ctx, uri=um.address, kind="voicemail", label=f"Exchange UM {um.server}", party=um,
                            action=action, sentence=sentence)
