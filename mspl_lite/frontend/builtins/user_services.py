"""UserServices: the Registrar, presence, and reverse number lookup (Gg182575, Gg425812).

* REGISTER: records the endpoint (EPID, contact, User-Agent) and answers 200 OK with its GRUU;
  Expires: 0 signs it out. Authentication (the NTLM/Kerberos challenge) is not simulated.
* SUBSCRIBE for presence of a user of this pool: answered here [inferred].
* A call to a phone number: reverse number lookup maps it to the user who owns the number
  (Gg425812: "User Services perform reverse number lookup ... and match that number to the
  SIP URI of the destination user").
"""
from __future__ import annotations

import re

from ..context import RequestContext
from ..decisions import Decision, PassOn
from ..lab import Endpoint, aor_of, stable_id
from .base import NOT_ENABLED_FOR_SIP, BuiltinApplication, ms_diagnostics

__all__ = ["UserServices"]

def _param(header: str | None, name: str) -> str | None:
    if not header:
        return None
    m = re.search(rf";\s*{re.escape(name)}=(\"[^\"]*\"|[^;,\s>]+)", header, re.IGNORECASE)
    return m.group(1).strip('"') if m else None


class UserServices(BuiltinApplication):
    """Registrar, presence, conferencing; reverse number lookup for calls to phone numbers."""

    name = "UserServices"
    role = "SIP Registrar, presence and conferencing component"

    def on_request(self, ctx: RequestContext) -> Decision:
        if ctx.method == "REGISTER":
            return self._register(ctx)
        if ctx.method == "SUBSCRIBE" and (ctx.request.get("Event") or "").lower().startswith("presence"):
            user = ctx.target_user()
            if user is not None and ctx.lab.is_local(user):
                ctx.note("inferred", "Presence subscriptions for users of this pool are answered by UserServices.",
                         "Gg182575")
                return self.answer(200, "OK", ("Expires", "28800"),
                                   sentence=f"presence of {user.uri} is served by this pool",
                                   action=f"accepted the presence subscription for {user.uri}")
            return PassOn(sentence="presence of a user this pool does not host")
        number = ctx.target_number()
        if number is not None and number.startswith("+"):
            owner = ctx.lab.user_by_number(number)
            if owner is None:
                return PassOn(sentence=f"reverse number lookup: no user has {number}; left to outbound routing")
            ctx.request.request_uri = owner.uri
            ctx.note("documented", "Reverse number lookup: User Services match the dialled number to the SIP URI "
                                   "of the user who owns it; the call then goes to that user's endpoints.", "Gg425812")
            return PassOn(action=f"reverse number lookup: {number} is {owner.uri}",
                          sentence=f"{number} is the Line URI of {owner.name or owner.uri}")
        return PassOn(sentence="not a registration, presence subscription or phone number")

    # -- the Registrar ----------------------------------------------------------------------

    def _register(self, ctx: RequestContext) -> Decision:
        lab = ctx.lab
        to = ctx.request.get("To")
        aor = aor_of(to)
        user = lab.user("sip:" + aor) if aor else None
        ctx.note("inferred", "The REGISTER is treated as already authenticated: the server's NTLM/Kerberos "
                             "challenge (401) is not simulated.", "new-csregistrarconfiguration")
        if user is None:
            return self.answer(404, "Not Found", ms_diagnostics(ctx, 4005, NOT_ENABLED_FOR_SIP, self.name),
                               sentence=f"{to} is not a user enabled for Lync in this deployment",
                               action="refused the sign-in: no such user (4005)")
        if not lab.is_local(user):
            home = lab.home_pool(user)
            ctx.note("inferred", "A user homed on another pool is redirected there (301) to sign in.")
            return self.answer(301, "Redirect request to Home Server", ("Contact", f"<sip:{home};transport=tls>"),
                               sentence=f"{user.uri} is homed on {home}",
                               action=f"redirected the sign-in to the home pool {home}")
        contact = ctx.request.get("Contact") or ""
        expires_text = _param(contact, "expires") or ctx.request.get("Expires")
        try:
            expires = int(expires_text) if expires_text is not None else lab.default_expires
        except ValueError:
            expires = lab.default_expires
        epid = _param(ctx.request.get("From"), "epid") or _param(contact, "epid")
        current = list(ctx.registrations.get(user.aor, ()))
        if expires == 0:
            kept = [e for e in current if epid is None or e.epid != epid]
            ctx.registrations[user.aor] = tuple(kept)
            gone = len(current) - len(kept)
            return self.answer(200, "OK", ("Expires", "0"),
                               sentence=f"Expires: 0 -- {gone} endpoint(s) of {user.uri} signed out",
                               action=f"signed out {user.uri}")
        expires = min(expires, lab.max_expires)
        m = re.search(r"sips?:(?:[^@>;]*@)?([^;>]+)", contact)
        address = m.group(1) if m else "192.0.2.250:5061"
        if epid is None:
            epid = stable_id(user.aor + address, 10)
        others = [e for e in current if e.epid != epid]
        if len(others) >= lab.max_endpoints_per_user:
            ctx.note("inferred", "Past MaxEndpointsPerUser the extra endpoint is refused; the real response is not "
                                 "documented.", "new-csregistrarconfiguration")
            return self.answer(403, "Forbidden", sentence=f"{user.uri} already has {len(others)} endpoints "
                               f"(MaxEndpointsPerUser {lab.max_endpoints_per_user})",
                               action="refused the sign-in: too many endpoints")
        endpoint = Endpoint(epid=epid, aor=user.aor, user_agent=ctx.request.get("User-Agent") or "",
                            address=address, answers="answer")
        ctx.registrations[user.aor] = tuple(others + [endpoint])
        ctx.note("documented", "On REGISTER the Registrar stores the endpoint in the registration database; it "
                               "helps route messages to the user from then on.", "new-csregistrarconfiguration")
        return self.answer(200, "OK",
                           ("Contact", f"<{endpoint.contact}>;expires={expires};gruu=\"{endpoint.gruu}\""),
                           ("Expires", str(expires)),
                           sentence=f"{user.uri} signed in from {address} (epid {epid}); GRUU {endpoint.gruu}",
                           action=f"registered {user.uri} (epid {epid}) for {expires} s")
