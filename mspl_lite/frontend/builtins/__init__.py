"""The built-in applications of a Lync Server 2013 Front End, in the order Gg182575 lists them.

Gg182575 lists them in this order and says of the Control Panel's list that "The scripts run in
the order they are listed"; that the page's own list is that order is our reading (decision D10).
The numeric priorities are inferred (0, 1, 2, ...). Where the listed order is most in doubt --
DefaultRouting before ExumRouting and OutboundRouting, which handle calls it does not route --
the applications say so (``order_guessed``, ``place_note``) and the chain listing marks them.
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

#: Front End applications in the order Gg182575 lists them.
BUILTIN_ORDER: tuple[type[BuiltinApplication], ...] = (
    ClientVersionFilter, TranslationService, IncomingFederation, UserServices, InterClusterRouting,
    IIMFilter, UserPinService, DefaultRouting, ExumRouting, OutboundRouting, QoEAgent,
    OutgoingFederation, AcpRouting,
)

#: Where running in the listed order is most in doubt (decision D10): DefaultRouting appears before
#: ExumRouting and OutboundRouting. Each class says it (order_guessed, place_note).
ORDER_GUESSED: frozenset[str] = frozenset(cls.name for cls in BUILTIN_ORDER if cls.order_guessed)


def default_builtins() -> list[BuiltinApplication]:
    """One instance of every built-in application, in the order Gg182575 lists them (decision D10)."""
    return [cls() for cls in BUILTIN_ORDER]
