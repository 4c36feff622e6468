"""The built-in applications of a Lync Server 2013 Front End, in their documented order.

The order is documented (Gg182575: "the scripts run in the order they are listed"); the numeric
priorities are inferred (0, 1, 2, ...), and the reference doubts whether the listed order is the
running order for DefaultRouting versus ExumRouting/OutboundRouting (mspl.md 3) -- the chain
listing marks those entries.
"""
from __future__ import annotations

from .base import BuiltinApplication, ms_diagnostics
from .client_version import ClientVersionFilter
from .default_routing import DefaultRouting
from .exum import ExumRouting
from .federation import IncomingFederation, OutgoingFederation
from .iim_filter import IIMFilter
from .intercluster import InterClusterRouting
from .outbound import OutboundRouting
from .services import AcpRouting, QoEAgent, UserPinService
from .translation import TranslationService
from .user_services import UserServices

__all__ = [
    "BuiltinApplication", "ms_diagnostics", "BUILTIN_ORDER", "ORDER_GUESSED", "default_builtins",
    "ClientVersionFilter", "TranslationService", "IncomingFederation", "UserServices",
    "InterClusterRouting", "IIMFilter", "UserPinService", "DefaultRouting", "ExumRouting",
    "OutboundRouting", "QoEAgent", "OutgoingFederation", "AcpRouting",
]

#: Front End applications in the order MSPL-list (Gg182575) lists them.
BUILTIN_ORDER: tuple[type[BuiltinApplication], ...] = (
    ClientVersionFilter, TranslationService, IncomingFederation, UserServices, InterClusterRouting,
    IIMFilter, UserPinService, DefaultRouting, ExumRouting, OutboundRouting, QoEAgent,
    OutgoingFederation, AcpRouting,
)

#: Where the reference doubts that the listed order is the running order (mspl.md 3 UNCERTAIN):
#: DefaultRouting appears before ExumRouting and OutboundRouting. Each class says it (order_guessed).
ORDER_GUESSED: frozenset[str] = frozenset(cls.name for cls in BUILTIN_ORDER if cls.order_guessed)


def default_builtins() -> list[BuiltinApplication]:
    """One instance of every built-in application, in the documented order."""
    return [cls() for cls in BUILTIN_ORDER]
