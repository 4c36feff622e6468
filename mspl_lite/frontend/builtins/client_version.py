"""ClientVersionFilter: blocks, warns or allows a sign-in by the client's User-Agent (Gg182575; the
responses are [MS-SIPREGE] 3.4.2.5's). It checks REGISTER only: decision D51 (gg398812 says more)."""
from __future__ import annotations

import re
from typing import Any

from ..context import RequestContext
from ..decisions import Decision, PassOn
from ..lab import ClientVersionRule
from .base import BuiltinApplication, ms_diagnostics

__all__ = ["ClientVersionFilter", "user_agent_tokens"]

_TOKEN = re.compile(r"([A-Za-z][\w\-]*)/(\d+(?:\.\d+){0,3})")

# MS-SIPREGE 3.4.2.5.x: the Warning each action puts on the REGISTER response.
_WARN_310 = '310 lcs.microsoft.com "You are currently not using the recommended version of the client"'
_WARN_314 = '314 lcs.microsoft.com "Check Microsoft Update for the newest version."'


def user_agent_tokens(user_agent: str) -> list[tuple[str, tuple[int, int, int, int]]]:
    """``UCCAPI/15.0.4481.1000 OC/15.0.4481.1000 (...)`` -> [("UCCAPI", (15,0,4481,1000)), ("OC", ...)]."""
    out = []
    for name, version in _TOKEN.findall(user_agent or ""):
        parts = [int(p) for p in version.split(".")] + [0, 0, 0]
        out.append((name, tuple(parts[:4])))
    return out


class ClientVersionFilter(BuiltinApplication):
    """Checks the client version on sign-in (REGISTER) against the client version policy rules."""

    name = "ClientVersionFilter"
    methods = frozenset({"REGISTER"})
    role = "checks the client version; can block log-on, warn, or show a download URL"

    def methods_basis(self) -> str:
        return ("decision D51: the Lync 2010 planning page gg398812 also checks a client that "
                "\"is invited to a session\"")

    def _rule_for(self, ctx: RequestContext, user_agent: str) -> tuple[str, ClientVersionRule | None, str]:
        config = ctx.lab.client_version
        for name, version in user_agent_tokens(user_agent):
            for rule in config.rules:
                if rule.matches(name, version):
                    v = ".".join(map(str, version))
                    r = ".".join(map(str, rule.version))
                    return rule.action, rule, f"{name}/{v} matches the rule {rule.user_agent} {rule.compare} {r}"
        return config.default_action, None, "no rule matches: the configuration's DefaultAction applies"

    def on_request(self, ctx: RequestContext) -> Decision:
        config = ctx.lab.client_version
        if not config.enabled:
            return PassOn(sentence="client version filtering is off (Enabled $false)")
        domain = ctx.caller_domain()
        if domain and not ctx.lab.supports_domain(domain):
            return PassOn(sentence="does not apply to federated users: their own organisation's policy does")
        user_agent = ctx.request.get("User-Agent") or ""
        action, rule, why = self._rule_for(ctx, user_agent)
        url = (rule.url if rule else None) or config.default_url
        ctx.scratch[self.name] = (action, url)
        if action == "Allow":
            return PassOn(action="allowed the client", sentence=f"{why}: Allow")
        if action == "AllowWithUrl":
            return PassOn(action=f"allowed the client, with URL {url}",
                          sentence=f"{why}: AllowWithUrl -- the 200 OK will carry Warning 313 with the URL")
        if action == "AllowAndUpgrade":
            ctx.note("inferred", "AllowAndUpgrade lets the client sign in; its Warning code was not retrieved, "
                                 "so the simulator adds none.", "MS-SIPREGE")
            return PassOn(action="allowed the client (upgrade via Microsoft Update)", sentence=f"{why}: AllowAndUpgrade")
        # The Block family: 403 Forbidden on the REGISTER (MS-SIPREGE 3.4.2.5.3/.6).
        headers: list[tuple[str, str]] = []
        if action == "BlockAndUpgrade":
            headers.append(("Warning", _WARN_314))
        elif action == "Block":
            headers.append(("Warning", _WARN_310))
        if action == "BlockWithUrl":
            headers.append(ms_diagnostics(ctx, 17003, "Declined with URL", self.name))
            ctx.note("inferred", "BlockWithUrl: 403 with ms-diagnostics 17003 'Declined with URL'; the Warning code of "
                                 "this action was not found.", "MS-SIPREGE")
        else:
            headers.append(ms_diagnostics(ctx, 17002, "Invalid protocol client version", self.name))
        ctx.note("documented", f"{action}: the client version filter answers the REGISTER with 403 Forbidden "
                               "and a Warning header telling the user what to do.", "MS-SIPREGE 3.4.2.5")
        return self.answer(403, "Forbidden", *headers, sentence=f"{why}: {action}",
                           action=f"blocked the sign-in ({action}): 403 Forbidden")

    def on_response(self, ctx: RequestContext, response: Any) -> str:
        action, url = ctx.scratch.get(self.name, (None, None))
        if action == "AllowWithUrl" and 200 <= response.status_code < 300 and url:
            # MS-SIPREGE 3.4.2.5.5: 200 OK with Warning: 313 lcs.microsoft.com <url>; MS-OCER 17004.
            response.add_header("Warning", f"313 lcs.microsoft.com {url}")
            response.add_header(*ms_diagnostics(ctx, 17004, "Allowed with URL", self.name))
            return "added Warning: 313 with the download URL"
        return "passed it on"
