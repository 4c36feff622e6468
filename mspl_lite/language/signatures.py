"""What the MSPL built-ins are called and how many arguments they take.

The checker (compile-time rules and warnings) and the compiler (runtime behaviour in
builtins.py) both read this table, so a function is declared in exactly one place.
Sources: the Lync Server 2013 MSPL reference: built-in variables dn439152, classes dn439153,
constants dn439131, functions dn439127 and each function's own page.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "FunctionSignature", "FUNCTIONS", "REMOVED_FUNCTIONS",
    "BUILTIN_VARIABLES", "ENUM_TYPES", "FINAL_DISPOSITIONS", "HANDLED_DISPOSITIONS",
]

MessageKind = Literal["any", "request", "response"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FunctionSignature:
    """A built-in function. ``max_args`` None means variadic. ``kind`` is the message kind
    it needs; ``wrong_kind`` says what calling it on the other kind does: a critical error
    (the general rule, hh347152) or returning false (Respond's own page says so)."""

    name: str
    min_args: int
    max_args: int | None
    kind: MessageKind = "any"
    wrong_kind: Literal["critical", "false"] = "critical"
    returns: str = "void"
    doc: str = ""


def _f(name, lo, hi, kind="any", returns="void", wrong_kind="critical", doc=""):
    return FunctionSignature(name=name, min_args=lo, max_args=hi, kind=kind,
                             returns=returns, wrong_kind=wrong_kind, doc=doc)


FUNCTIONS: dict[str, FunctionSignature] = {f.name: f for f in [
    # Routing and message disposition
    _f("ProxyRequest", 0, 1, "request", doc="proxy the request to a URI ('' = its own Request-URI)"),
    _f("RetargetRequest", 1, 1, "request", doc="give the request a new target user (Lync Server 2013)"),
    _f("ProxyResponse", 0, 0, "response", doc="proxy the response to the next hop"),
    _f("Respond", 2, None, "request", "bool", wrong_kind="false", doc="answer the request"),
    _f("BeginFork", 0, 2, "request", doc="start a fork"),
    _f("Fork", 1, 1, "request", doc="add a branch to the open fork"),
    _f("EndFork", 0, 0, "request", doc="send every branch of the fork"),
    _f("Dispatch", 1, None, "any", "bool", doc="hand the message to managed code"),
    _f("DispatchNotification", 1, None, "any", "bool", doc="notify managed code, one way"),
    # Headers and message
    _f("AddHeader", 2, 2, returns="bool", doc="add a header; false if it exists"),
    _f("GetHeaderValues", 1, 1, returns="collection", doc="every value of a header"),
    _f("GetParameterValue", 2, 2, returns="string", doc="a name=value parameter of a header string"),
    _f("SetParameterValue", 3, 3, returns="bool", doc="set or delete a parameter of the first header"),
    _f("SupportsMethod", 3, 3, returns="bool", doc="is a method in a method mask or list"),
    # Strings
    _f("Concatenate", 1, None, returns="string"),
    _f("ContainsString", 3, 3, returns="bool"),
    _f("EqualString", 3, 3, returns="bool"),
    _f("IndexOfString", 2, 3, returns="int"),
    _f("SubString", 2, 3, returns="string"),
    _f("Split", 2, 2, returns="collection"),
    _f("LengthString", 1, 1, returns="int"),
    # URIs and addresses
    _f("GetUri", 1, 1, returns="string"),
    _f("GetDisplayName", 1, 1, returns="string"),
    _f("GetUserName", 1, 1, returns="string"),
    _f("GetHostName", 1, 1, returns="string"),
    _f("GetUserAtHost", 1, 1, returns="string"),
    _f("GetScheme", 1, 1, returns="string"),
    _f("GetUriParameter", 2, 2, returns="string"),
    _f("IsPhoneUri", 1, 1, returns="bool", doc="IsPhoneUri(uri): true if the URI has user=phone (dn439134)"),
    # Registrar, users, server
    _f("QueryEndpoints", 1, 2, returns="collection", doc="only as the collection of foreach (dbEndpoint in ...)"),
    _f("QueryHomeServer", 1, 3, returns="string"),
    _f("DomainSupported", 1, 1, returns="bool"),
    _f("CheckUserOption", 2, 3, returns="bool"),
    _f("Log", 2, None, doc='Log("Event"|"Error"|"Debugr", detail, text...)'),
]}

#: Functions of older MSPL versions that Lync Server 2013 no longer has, with the reason.
REMOVED_FUNCTIONS: dict[str, str] = {
    "QueryUserPolicy": "QueryUserPolicy is no longer supported in Lync Server 2013",
    "Base64Decode": "Base64Decode was an LCS 2005/OCS 2007 function; Lync Server 2013 has none",
    "Challenge": "Challenge was an LCS 2005 function; challenge requests from managed code (ServerTransaction.ChallengeRequest)",
    "CheckPermissions": "CheckPermissions was an LCS 2005 function; Lync Server 2013 has none",
}

#: The nine built-in variables of Lync Server 2013 (dn439152).
BUILTIN_VARIABLES: frozenset[str] = frozenset({
    "sipMessage", "sipRequest", "sipResponse", "RequestSource", "RequestTarget",
    "dbEndpoint", "FQDN", "ServerPool", "Role",
})

#: Enumeration types usable as ``Type.Value`` (dn439131); values live in values.py.
ENUM_TYPES: frozenset[str] = frozenset({
    "ClusterType", "ExternalSourceNetwork", "ExternalSourceType", "MessageOrigin", "ServerRole",
    "StatusClass", "StandardHeader", "StandardMethod", "UserOption", "UserPolicyType",
})

#: Dispositions after which the message has left this application for good: a second one
#: in the same run is a critical error (docs/ARCHITECTURE.md, decisions).
FINAL_DISPOSITIONS: frozenset[str] = frozenset({"proxy", "retarget", "respond", "proxy_response", "dispatch", "fork"})

#: Dispositions that count as "handled" for proxyByDefault (hh364691, plus RetargetRequest).
HANDLED_DISPOSITIONS: frozenset[str] = FINAL_DISPOSITIONS
