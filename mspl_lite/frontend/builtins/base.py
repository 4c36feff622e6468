"""What every built-in application of the Front End has: a name, a URI, the methods it sees.

A built-in application is a small class. Its class attributes are data: ``name``, ``role``,
``critical`` and ``order_guessed`` are what the chain listing and diagram show (each with the
page it comes from, or the decision that stands in for one), ``methods`` what it sees,
``exits`` where it may send a request out of the server (the ``Branch.kind`` of every branch it
routes: the chain diagram's green boxes). ``filter_reason`` says why it would not see
a request (None = it sees it); ``on_request`` returns a Decision (``PassOn``, ``self.answer``,
``self.route_to``, or a ``Route`` to several targets) and says with ``ctx.note`` which part is
documented and which inferred; ``on_response`` may touch the final response on its way back
up; ``on_failure`` may route again when every branch it sent failed. What it must remember
between those steps goes in ``ctx.scratch[self.name]``.
"""
from __future__ import annotations

from typing import Any, ClassVar

from ..context import RequestContext
from ..decisions import Answer, Decision, Failover, PassOn, Route, Target
from ..trace import Branch

__all__ = ["BuiltinApplication", "ms_diagnostics", "server_uri", "ALL_BUT_REGISTER", "NOT_ENABLED_FOR_SIP"]

#: The methods a routing application sees: everything a client sends to another party.
ALL_BUT_REGISTER = frozenset({"INVITE", "MESSAGE", "SUBSCRIBE", "NOTIFY", "BENOTIFY", "INFO", "OPTIONS",
                              "REFER", "BYE", "ACK", "CANCEL", "PRACK", "UPDATE", "PUBLISH"})


#: The reason of ms-diagnostics 4005, the Front End's "no such user" (MS-OCER).
NOT_ENABLED_FOR_SIP = "Destination URI either not enabled for SIP or does not exist"


def ms_diagnostics(ctx: RequestContext, error_id: int, reason: str, app: str) -> tuple[str, str]:
    """An ms-diagnostics header as the Front End writes it (Diag-hdr; MS-SIPREGE 4.3.6 shows appName)."""
    return ("ms-diagnostics", f'{error_id};reason="{reason}";source="{ctx.lab.server}";appName="{app}"')


def server_uri(fqdn: str) -> str:
    """The URI a Front End proxies to when it hands a request to another Lync server (a pool,
    the Edge): MTLS on port 5061, loose routing."""
    return f"sip:{fqdn}:5061;transport=tls;lr"


#: (class, name, methods, methods_source, method) -> filter_reason's sentence, which every request
#: of that method gets from that application; bounded (a replay may carry any number of methods).
_FILTER_REASONS: dict[tuple, str] = {}
_FILTER_REASONS_KEPT = 1024


class BuiltinApplication:
    """Base of the built-in applications (ClientVersionFilter ... AcpRouting)."""

    name: ClassVar[str] = ""
    #: The methods it handles; None = every method.
    methods: ClassVar[frozenset[str] | None] = None
    #: The page that says which requests it handles; None: ``methods`` is the simulator's reading
    #: of its role (inferred, decision D51).
    methods_source: ClassVar[str | None] = None
    #: One line: what Lync Server 2013's documentation says it does (Gg182575).
    role: ClassVar[str] = ""
    #: True where running in the listed place is our reading, not the page's (decision D10);
    #: ``place_note`` says what exactly is inferred.
    order_guessed: ClassVar[bool] = False
    place_note: ClassVar[str] = ""
    #: Critical, and where that is documented (None: the value is not documented, decision D50).
    critical: ClassVar[bool] = False
    critical_source: ClassVar[str | None] = None
    #: The page that says the Critical mark cannot be changed (None: it can, as for any application).
    critical_fixed: ClassVar[str | None] = None
    #: Where it sends requests out of the Front End: the ``Branch.kind`` of every branch it
    #: routes (view/style.EXIT_KINDS names them). () = it answers or passes on, never routes.
    exits: ClassVar[tuple[str, ...]] = ()

    @property
    def uri(self) -> str:
        """The application URI. Documented for QoEAgent (http://www.microsoft.com/LCS/QoEAgent);
        the others follow the same pattern [inferred]."""
        return f"http://www.microsoft.com/LCS/{self.name}"

    def __repr__(self) -> str:
        return f"<built-in {self.name}>"

    def filter_reason(self, ctx: RequestContext) -> str | None:
        """None when this application sees the request; else a sentence saying why not."""
        if self.methods is not None:
            method = ctx.method
            if method not in self.methods:
                key = (type(self), self.name, self.methods, self.methods_source, method)
                reason = _FILTER_REASONS.get(key)
                if reason is None:
                    reason = self._filter_sentence(method)
                    if len(_FILTER_REASONS) < _FILTER_REASONS_KEPT and len(method) <= 64:
                        _FILTER_REASONS[key] = reason
                return reason
        return None

    def _filter_sentence(self, method: str) -> str:
        shown = ", ".join(sorted(self.methods)) if len(self.methods) < 6 else "calls, IMs and other user requests"
        return f"{self.name} handles {shown}, not {method} ({self.methods_basis()})"

    def methods_basis(self) -> str:
        """Where ``methods`` comes from, as a trace or the listing says it."""
        if self.methods_source:
            return self.methods_source
        return "inferred from its role, decision D51"

    def on_request(self, ctx: RequestContext) -> Decision:
        """Decide what to do with the request (default: pass it on)."""
        return PassOn(sentence="nothing to do")

    def on_response(self, ctx: RequestContext, response: Any) -> str:
        """See the final response on its way back; return what was done (default: nothing)."""
        return "passed it on"

    def on_failure(self, ctx: RequestContext, branches: tuple[Branch, ...]) -> Failover | None:
        """Every branch this application routed to failed: route again or answer (default: no)."""
        return None

    @staticmethod
    def answer(status: int, reason: str, *headers: tuple[str, str], sentence: str = "",
               action: str = "") -> Answer:
        """Answer the request (``headers``: (name, value) pairs, e.g. an ms_diagnostics header)."""
        return Answer(status=status, reason=reason, headers=headers, sentence=sentence, action=action)

    @staticmethod
    def route_to(ctx: RequestContext, *, uri: str, kind: str, label: str, party: Any, action: str,
                 sentence: str = "") -> Route:
        """Send the request, its Request-URI unchanged, to one place (a pool, the Edge, an
        application, Exchange UM ...)."""
        return Route(targets=(Target(uri=uri, kind=kind, label=label, party=party, request_uri=ctx.request_uri),),
                     action=action, sentence=sentence)
