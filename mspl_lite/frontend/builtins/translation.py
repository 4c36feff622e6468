"""TranslationService: normalises a dialled number to E.164 with the dial plan's rules (Gg182575, Gg413082)."""
from __future__ import annotations

import re

from ..context import RequestContext
from ..decisions import Decision, PassOn
from .base import BuiltinApplication

__all__ = ["TranslationService"]


def phone_context(uri: str) -> str | None:
    """The phone-context parameter of a tel: or user=phone URI (the client's location profile)."""
    m = re.search(r";phone-context=([^;>?]+)", uri, re.IGNORECASE)
    return m.group(1) if m else None


class TranslationService(BuiltinApplication):
    """Rewrites a non-E.164 dialled number in the Request-URI to E.164 (the first matching rule, inferred: Gg413082 does not say)."""

    name = "TranslationService"
    methods = frozenset({"INVITE", "MESSAGE", "REFER", "OPTIONS"})
    role = "translates a dialled number to E.164 using admin normalization rules"

    def on_request(self, ctx: RequestContext) -> Decision:
        number = ctx.target_number()
        if number is None:
            return PassOn(sentence="the Request-URI is not a phone number")
        if number.startswith("+"):
            return PassOn(sentence=f"{number} is already E.164")
        context = phone_context(ctx.request_uri)
        plan = ctx.lab.dial_plan_for(ctx.caller, context)
        if plan is None:
            return PassOn(sentence=f"no dial plan applies to {number}")
        result = plan.normalize(number)
        if result is None:
            return PassOn(action=f"left {number} as dialled",
                          sentence=f"no normalization rule of dial plan {plan.name} matches {number}")
        e164, rule = result
        old = ctx.request.request_uri
        if old.lower().startswith("tel:"):
            new = "tel:" + e164
        else:
            host = old.split("@", 1)[1].split(";", 1)[0].split(">", 1)[0]
            new = f"sip:{e164}@{host};user=phone"
        ctx.request.request_uri = new
        ctx.note("documented", "TranslationService normalises the dialled number to E.164 with the "
                               "normalization rules of the caller's dial plan.", "Gg413082")
        ctx.note("inferred", "The first rule of the dial plan whose pattern matches is the one applied: "
                             "Gg413082 does not say which rule wins when several match.", "Gg413082")
        return PassOn(action=f"normalised {number} -> {e164}",
                      sentence=f"dial plan {plan.name}, rule '{rule.name}' ({rule.pattern} -> {rule.translation})")
