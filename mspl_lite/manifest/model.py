"""The values a manifest describes: filters, the application manifest itself, and their vocabulary.

RequestFilter and ResponseFilter are what the Front End asks "does this application see this
message?"; ApplicationManifest bundles them with the flat files and the script of one application.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from ..errors import Diagnostic, UsageError
from .flat_file import FlatFile
from .source import position_in_script

MSPL_NAMESPACE = "http://schemas.microsoft.com/lcs/2006/05"

# requestFilter methodNames (dn439115): "OTHER indicates custom request methods".
REQUEST_METHODS: tuple[str, ...] = (
    "ACK", "BENOTIFY", "BYE", "INFO", "INVITE", "MESSAGE", "NOTIFY", "OPTIONS", "OTHER",
    "REFER", "REGISTER", "SERVICE", "SUBSCRIBE",
)
_NAMED_METHODS = frozenset(REQUEST_METHODS) - {"OTHER"}
_ALL_METHODS = frozenset(REQUEST_METHODS)

# serverFilter roles (OCS07 bb679985): HomeServer = Standard Edition server, FrontEnd = Enterprise
# Edition Front End, AccessProxy = Access Edge, Proxy = forwarding proxy; "ALL" = every role.
SERVER_ROLES: tuple[str, ...] = ("HomeServer", "FrontEnd", "AccessProxy", "Proxy")

_RESPONSE_CLASSES = frozenset(range(1, 7))


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestFilter:
    """Which requests the server hands to the application (``<lc:requestFilter>``, dn439115).

    ``methodNames`` defaults to ALL; ``strictRoute`` and ``registrarGenerated`` default to false
    (documented). ``domainSupported`` and ``phoneUri`` have no retrievable description or default
    (dn439115 gives none; decision D32): mspl-lite reads their absence as false, the value under which
    the attribute adds no condition; what they do when true is the Front End simulator's decision.

    ``all_methods=True`` stands for ALL (then ``method_names`` holds every filterable name);
    NONE is ``all_methods=False`` with an empty ``method_names``.
    """

    method_names: frozenset[str] = _ALL_METHODS
    all_methods: bool = True
    strict_route: bool = False
    registrar_generated: bool = False
    domain_supported: bool = False
    phone_uri: bool = False

    def __post_init__(self) -> None:
        names = frozenset(str(m).upper() for m in self.method_names)
        unknown = names - _ALL_METHODS
        if unknown:
            raise UsageError(f"unknown request method name(s) {sorted(unknown)}; known: {', '.join(REQUEST_METHODS)}")
        if self.all_methods and names != _ALL_METHODS:
            raise UsageError("RequestFilter(all_methods=True) cannot also list methods; pass all_methods=False")
        object.__setattr__(self, "method_names", names)

    def accepts_method(self, method: str) -> bool:
        """True if a request with this method passes the filter; custom methods match OTHER."""
        if self.all_methods:
            return True
        name = method.upper()
        if name not in _NAMED_METHODS:
            name = "OTHER"
        return name in self.method_names

    @property
    def method_names_text(self) -> str:
        """The methodNames value as a manifest would write it: ALL, NONE or INVITE,MESSAGE."""
        if self.all_methods:
            return "ALL"
        if not self.method_names:
            return "NONE"
        return ",".join(m for m in REQUEST_METHODS if m in self.method_names)

    def __repr__(self) -> str:
        flags = ", ".join(
            f"{name}={str(getattr(self, attr)).lower()}"
            for name, attr in (("strictRoute", "strict_route"), ("registrarGenerated", "registrar_generated"),
                               ("domainSupported", "domain_supported"), ("phoneUri", "phone_uri"))
        )
        return f"RequestFilter(methodNames={self.method_names_text}, {flags})"


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseFilter:
    """Which responses the server hands to the application (``<lc:responseFilter>``, dn439117).

    Default ALL. ``classes`` holds 1..6 for 1XX..6XX (every class when ``all_codes``). ``codes``
    would hold exact codes; the reference describes classes only, so the manifest reader refuses
    exact codes and ``codes`` stays empty for a parsed manifest.
    """

    all_codes: bool = True
    classes: frozenset[int] = _RESPONSE_CLASSES
    codes: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        classes = frozenset(int(c) for c in self.classes)
        if not classes <= _RESPONSE_CLASSES:
            raise UsageError(f"response classes must be 1..6, not {sorted(classes - _RESPONSE_CLASSES)}")
        if self.all_codes and (classes != _RESPONSE_CLASSES or self.codes):
            raise UsageError("ResponseFilter(all_codes=True) cannot also list classes or codes; pass all_codes=False")
        object.__setattr__(self, "classes", classes)
        object.__setattr__(self, "codes", frozenset(int(c) for c in self.codes))

    def accepts(self, status_code: int) -> bool:
        """True if a response with this status code passes the filter."""
        if self.all_codes:
            return True
        return status_code in self.codes or status_code // 100 in self.classes

    @property
    def reason_codes_text(self) -> str:
        """The reasonCodes value as a manifest would write it: ALL, NONE or 2XX,4XX."""
        if self.all_codes:
            return "ALL"
        items = [f"{c}XX" for c in sorted(self.classes)] + [str(c) for c in sorted(self.codes)]
        return ",".join(items) or "NONE"

    def __repr__(self) -> str:
        return f"ResponseFilter(reasonCodes={self.reason_codes_text})"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ApplicationManifest:
    """One parsed .am file: the filters, flat files and script of one server application.

    ``script_line``/``script_column`` (1-based) are where ``script`` starts in ``source`` (the first
    character inside ``<![CDATA[``), so script diagnostics can point into the .am file.
    ``server_roles`` holds the roles the application runs on; ``roles="ALL"`` (the default) is every
    role in ``SERVER_ROLES``. Compared and hashed by identity, so it can key a cache of compiled scripts.
    """

    filename: str
    source: str
    namespace: str = MSPL_NAMESPACE
    app_uri: str
    allow_registration_before_user_services: bool = False
    server_roles: frozenset[str] = frozenset(SERVER_ROLES)
    proxy_by_default: bool = True
    request_filter: RequestFilter = field(default_factory=RequestFilter)
    response_filter: ResponseFilter = field(default_factory=ResponseFilter)
    files: dict[str, FlatFile] = field(default_factory=dict)
    script_only: bool = False
    script: str = ""
    script_line: int = 1
    script_column: int = 1
    warnings: tuple[Diagnostic, ...] = ()

    @property
    def name(self) -> str:
        """A short display name: the last path segment of appUri ("…/ForwardInvite" -> "ForwardInvite")."""
        return _display_name(self.app_uri)

    def runs_on(self, role: str) -> bool:
        """True if serverFilter lets the application run on a server of this role (case-insensitive)."""
        return any(r.lower() == role.lower() for r in self.server_roles)

    def script_position(self, offset: int) -> tuple[int, int]:
        """The 1-based (line, column) in the .am file of character ``offset`` of ``script``."""
        return position_in_script(self.script, self.script_line, self.script_column, offset)

    def __repr__(self) -> str:
        kind = "script-only" if self.script_only else "managed"
        files = f", files={list(self.files)}" if self.files else ""
        return f"<ApplicationManifest {self.name} {self.app_uri} ({kind}){files}>"


def _display_name(app_uri: str) -> str:
    """The last path segment of appUri, else its host, else appUri itself."""
    try:
        parts = urlsplit(app_uri)
    except ValueError:  # e.g. a stray ']' reads as a broken IPv6 host; fall back to plain text
        segments = [s for s in app_uri.split("/") if s]
        return segments[-1] if segments else app_uri
    segments = [s for s in parts.path.split("/") if s]
    if segments:
        return unquote(segments[-1])
    return parts.netloc or app_uri
