"""The small service applications: QoEAgent, UserPinService, AcpRouting (Gg182575)."""
from __future__ import annotations

import re

from ..context import RequestContext
from ..decisions import Decision, PassOn
from .base import BuiltinApplication

__all__ = ["QoEAgent", "UserPinService", "AcpRouting", "PIN_CONTENT_TYPE"]

#: UserPinService's request format is not documented; this is the simulator's own (see the class).
PIN_CONTENT_TYPE = "application/x-mspl-lite-pin+xml"


class QoEAgent(BuiltinApplication):
    """Takes Quality of Experience reports (SIP SERVICE) and hands them to the Monitoring Server."""

    name = "QoEAgent"
    methods = frozenset({"SERVICE"})
    methods_source = "Gg182575"
    role = "receives QoE reports in SIP SERVICE requests and forwards them to Monitoring"

    def on_request(self, ctx: RequestContext) -> Decision:
        content_type = ctx.content_type
        if content_type != "application/vq-rtcpxr+xml":
            return PassOn(sentence=f"not a QoE report ({content_type or 'no body'})")
        qoe = ctx.lab.qoe
        ctx.note("inferred", "QoEAgent answers the SERVICE with 200 OK and queues the report for the Monitoring "
                             "Server (the body type application/vq-rtcpxr+xml is general knowledge).", "Gg182575")
        where = qoe.monitoring_server if qoe.enabled and qoe.monitoring_server else None
        return self.answer(200, "OK",
                           sentence=(f"report queued for the Monitoring Server {where}" if where
                                     else "QoE collection is off (EnableQoE $false): the report is discarded"),
                           action="accepted the QoE report" + (f" for {where}" if where else " (discarded)"))


class UserPinService(BuiltinApplication):
    """Verifies dial-in conferencing PINs.

    The wire format of a PIN check is not documented; the simulator uses a SERVICE request with
    ``Content-Type: application/x-mspl-lite-pin+xml`` and a body ``<pin user="sip:..." value="12345"/>``.
    """

    name = "UserPinService"
    methods = frozenset({"SERVICE"})
    role = "verifies user PINs for dial-in conferencing"

    def on_request(self, ctx: RequestContext) -> Decision:
        if ctx.content_type != PIN_CONTENT_TYPE:
            return PassOn(sentence="not a PIN verification")
        ctx.note("inferred", f"UserPinService's request format is not documented; the simulator's own is a SERVICE "
                             f"with {PIN_CONTENT_TYPE}.", "Gg182575")
        body = ctx.request.content
        user_m = re.search(r'user="([^"]+)"', body)
        pin_m = re.search(r'value="([^"]*)"', body)
        user = ctx.lab.user(user_m.group(1)) if user_m else None
        pin = pin_m.group(1) if pin_m else ""
        if user is None or user.pin is None:
            return self.answer(403, "Forbidden", sentence="no PIN is set for that user", action="PIN refused: no PIN set")
        if len(pin) < ctx.lab.pin_min_length or pin != user.pin:
            return self.answer(403, "Forbidden", sentence=f"the PIN for {user.uri} does not match",
                               action="PIN refused")
        return self.answer(200, "OK", sentence=f"the PIN of {user.uri} matches", action="PIN verified")


class AcpRouting(BuiltinApplication):
    """Proxies INVITEs for the audio conferencing provider to the ACP gateway."""

    name = "AcpRouting"
    methods = frozenset({"INVITE"})
    methods_source = "Gg182575"
    role = "proxies INVITEs destined for the audio conferencing provider to the ACP gateway"
    exits = ("acp",)  # Gg182575

    def on_request(self, ctx: RequestContext) -> Decision:
        acp = ctx.lab.acp
        domain = ctx.target_domain()
        if acp is None or domain is None or domain not in acp.domains:
            return PassOn(sentence="not a call to the audio conferencing provider")
        return self.route_to(ctx, uri=f"sip:{acp.gateway}:5061;transport=tls", kind="acp",
                             label=f"{acp.provider} gateway {acp.gateway}", party=acp,
                             action=f"proxied to the ACP gateway {acp.gateway}",
                             sentence=f"{domain} belongs to {acp.provider}")
