"""The lab: the pool, users, endpoints, voice routing and filter settings a Front End works with.

Each class stands for one admin object of Lync Server 2013 (each names its cmdlet, whose help is at
https://learn.microsoft.com/powershell/module/skype/<cmdlet>);
values are frozen. ``Lab`` answers the questions the built-in applications ask (who is
this number? which route? is this domain a partner?). ``LabServer`` is the same lab seen as the
``ServerState`` that the MSPL functions QueryEndpoints, QueryHomeServer, DomainSupported and
CheckUserOption read, with the registrations the Front End keeps (a REGISTER changes them).

Loading a lab file is labfile.py's job; this module does no I/O.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Mapping, TypeVar

__all__ = [
    "ENDPOINT_ANSWERS", "GATEWAY_ANSWERS", "PARTNER_ANSWERS", "STANDARD_METHOD_BITS",
    "Endpoint", "User", "Pool", "ApplicationEndpoint", "TrustedApplication",
    "Partner", "Federation", "NormalizationRule", "DialPlan", "VoicePolicy", "VoiceRoute",
    "Gateway", "ExchangeUm", "Acp", "Qoe", "ImFilter", "FileTransferFilter",
    "ClientVersionRule", "ClientVersion", "Lab", "LabServer",
    "DEFAULT_URL_PREFIXES", "DEFAULT_BLOCKED_EXTENSIONS",
    "aor_of", "phone_number_of", "stable_id",
]

ENDPOINT_ANSWERS = ("answer", "ring", "busy", "decline")
GATEWAY_ANSWERS = ("connect", "busy", "fail", "no-answer")
PARTNER_ANSWERS = ("answer", "ring", "busy", "decline", "unknown-user")

#: RegistrarEndpoint.StandardMethods bits (dn439155).
STANDARD_METHOD_BITS: dict[str, int] = {
    "REGISTER": 0x1, "SUBSCRIBE": 0x2, "NOTIFY": 0x4, "ACK": 0x8, "BYE": 0x10, "INVITE": 0x40,
    "OPTIONS": 0x80, "MESSAGE": 0x100, "SERVICE": 0x400, "INFO": 0x800, "REFER": 0x1000,
}
_CLIENT_METHODS = ("SUBSCRIBE", "NOTIFY", "ACK", "BYE", "INVITE", "OPTIONS", "MESSAGE", "INFO", "REFER")

#: Set-CsImFilterConfiguration -Prefixes, documented default list (set-csimfilterconfiguration).
DEFAULT_URL_PREFIXES: tuple[str, ...] = (
    "callto:", "file:", "ftp.", "ftp:", "gopher:", "href", "http:", "https:", "ldap:", "mailto:",
    "news:", "nntp:", "sip:", "sips:", "tel:", "telnet:", "www*",
)

#: New-CsFileTransferFilterConfiguration -Extensions, documented default list.
DEFAULT_BLOCKED_EXTENSIONS: tuple[str, ...] = tuple(
    ".ade .adp .app .asp .bas .bat .cer .chm .cmd .com .cpl .crt .csh .exe .fxp .grp .hlp .hta .inf "
    ".ins .isp .its .js .jse .ksh .lnk .mad .maf .mag .mam .maq .mar .mas .mat .mau .mav .maw .mda "
    ".mdb .mde .mdt .mdw .mdz .msc .msi .msp .mst .ocx .ops .pcd .pif .pl .pnp .prf .prg .pst .reg "
    ".scf .scr .sct .shb .shs .tmp .url .vb .vbe .vbs .vsd .vsmacros .vss .vst .vsw .ws .wsc .wsf "
    ".wsh".split()
)

_URI_IN_BRACKETS = re.compile(r"<([^>]*)>")
_PHONE_NUMBER = re.compile(r"\+\d{3,15}")

#: Addresses whose aor_of / phone_number_of answers are remembered: a transaction asks about the
#: same few (Request-URI, From, each lab user's URI) a dozen times each; a lab of a few thousand
#: users still fits, and an unbounded cache would grow with every address a replay sees.
_ADDRESS_CACHE = 4096


def _uri_of(address: str) -> str:
    """The URI of an address: what stands between <> in a name-addr, else the whole text (stripped)."""
    text = address.strip()
    m = _URI_IN_BRACKETS.search(text)
    return m.group(1) if m else text


@lru_cache(maxsize=_ADDRESS_CACHE)   # pure: the same text always gives the same answer
def aor_of(address: str | None) -> str | None:
    """``user@host`` of a SIP/SIPS/tel address or name-addr, lower-cased; None if there is none.

    A tel: URI or a ``user=phone`` SIP URI gives its number (``+14255550101``) instead.
    """
    if not address:
        return None
    text = _uri_of(address)
    text = text.split(";", 1)[0] if text.lower().startswith("tel:") else text
    low = text.lower()
    if low.startswith("tel:"):
        return text[4:].split(";", 1)[0]
    for scheme in ("sips:", "sip:"):
        if low.startswith(scheme):
            text = text[len(scheme):]
            break
    else:
        return None
    text = text.split(";", 1)[0].split("?", 1)[0]
    if "@" not in text:
        return None
    user, host = text.rsplit("@", 1)
    host = host.split(":", 1)[0]
    return f"{user}@{host}".lower()


@lru_cache(maxsize=_ADDRESS_CACHE)   # pure, like aor_of
def phone_number_of(address: str | None) -> str | None:
    """The phone number a tel: URI or a ``user=phone`` SIP URI names (``+14255550101``, ``0101``)."""
    if not address:
        return None
    text = _uri_of(address)
    low = text.lower()
    if low.startswith("tel:"):
        return text[4:].split(";", 1)[0]
    if low.startswith("sip:") or low.startswith("sips:"):
        rest = text.split(":", 1)[1]
        if "@" not in rest:
            return None
        user = rest.split("@", 1)[0]
        params = rest.split(";")[1:]
        is_phone = any(p.strip().lower() == "user=phone" for p in params)
        number = user.split(";", 1)[0]
        if is_phone or _PHONE_NUMBER.fullmatch(number):
            return number
    return None


_Item = TypeVar("_Item")


def _named(items: Iterable[_Item], attr: str, name: str) -> _Item | None:
    """The first of ``items`` whose ``attr`` equals ``name`` ignoring case (Lync names, domains
    and FQDNs are case-insensitive), or None."""
    for item in items:
        if getattr(item, attr).lower() == name.lower():
            return item
    return None


@lru_cache(maxsize=_ADDRESS_CACHE)   # pure; a transaction derives the same contacts and branches many times
def stable_id(text: str, n: int = 10) -> str:
    """``n`` hex digits derived from ``text``: the same lab and message give the same ids on every
    run (EPIDs, opaque parameters, Via branches), where a server would draw random ones."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:n]


# ---------------------------------------------------------------------------------------------
# Users and their endpoints


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    """A signed-in client of a user: EPID, GRUU, User-Agent, contact, and how it answers a call."""

    epid: str
    aor: str                    # user@host of its owner
    user_agent: str
    address: str                # host:port the client connected from
    answers: str = "answer"     # one of ENDPOINT_ANSWERS
    methods: tuple[str, ...] = _CLIENT_METHODS
    #: "" for a simulated client; "udp" or "tcp" for a real user agent at ``address`` that
    #: ``mspl-lite serve`` sends real packets to (a lab ``contact``, or a REGISTER over the wire).
    wire: str = ""

    @property
    def gruu(self) -> str:
        """The GRUU the registrar gave this endpoint (Lync's form: opaque=user:epid:...;gruu)."""
        return f"sip:{self.aor};opaque=user:epid:{self.epid};gruu"

    @property
    def contact(self) -> str:
        """The Contact (request URI to reach the endpoint): where DefaultRouting sends requests."""
        if self.wire:
            return f"sip:{self.address};transport={self.wire}"
        return f"sip:{self.address};transport=tls;ms-opaque={stable_id(self.epid + self.aor, 8)}"

    @property
    def standard_methods(self) -> int:
        bits = 0
        for m in self.methods:
            bits |= STANDARD_METHOD_BITS.get(m.upper(), 0)
        return bits

    @property
    def extra_methods(self) -> str:
        return ",".join(m for m in self.methods if m.upper() not in STANDARD_METHOD_BITS)

    @property
    def client(self) -> str:
        """The client's own description from its User-Agent ("Microsoft Lync")."""
        m = re.search(r"\(([^)]*)\)", self.user_agent)
        return m.group(1) if m else self.user_agent

    def supports(self, method: str) -> bool:
        """True when this endpoint accepts requests of ``method``."""
        method = method.upper()
        return method in self.methods or method in (m.upper() for m in self.methods)


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    """A user enabled for Lync (Enable-CsUser / Set-CsUser)."""

    uri: str                    # sip:jennyl@contoso.com
    name: str = ""
    line_uri: str | None = None  # tel:+14255550101
    pool: str = ""              # home Registrar pool FQDN
    voice_policy: str = "Global"
    enterprise_voice: bool = True
    um_enabled: bool = False
    federation: bool = False    # external access policy: EnableFederationAccess
    public_cloud: bool = False
    outside_access: bool = False
    pin: str | None = None
    signed_in_elsewhere: bool = False  # homed on another pool and signed in there

    @property
    def aor(self) -> str:
        return aor_of(self.uri) or self.uri

    @property
    def number(self) -> str | None:
        return phone_number_of(self.line_uri) if self.line_uri else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Pool:
    """Another Registrar pool of the deployment."""

    fqdn: str
    backup: str | None = None
    available: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplicationEndpoint:
    """A UCMA ApplicationEndpoint and the contact object behind it (New-CsTrustedApplicationEndpoint).

    ``uri`` is its owner URI, the contact's SIP address (Dn466043: "The owner URI for an application
    matches a contact record with that URI in the active directory"). ``default_routing`` is
    ApplicationEndpointSettings.IsDefaultRoutingEndpoint (hh382661). ``conversations`` are the
    conversation IDs it hosts right now (matched for a request to the instance GRUU, Dn466043);
    ``epid`` tells apart endpoints of one owner URI (Dn466043); ``line_uri`` is the contact's phone
    URI (Dn466053).
    """

    uri: str
    name: str = ""
    default_routing: bool = False
    epid: str | None = None
    conversations: tuple[str, ...] = ()
    line_uri: str | None = None

    @property
    def aor(self) -> str:
        return aor_of(self.uri) or self.uri

    @property
    def number(self) -> str | None:
        return phone_number_of(self.line_uri) if self.line_uri else None

    @property
    def opaque(self) -> str:
        """The ms-opaque identifier the platform gives this endpoint (Dn466043); stable in the lab."""
        return stable_id("ms-opaque|" + self.aor + "|" + (self.epid or ""), 10)


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustedApplication:
    """A UCMA application on a trusted application pool (New-CsTrustedApplication,
    New-CsTrustedApplicationPool, New-CsTrustedApplicationComputer).

    ``fqdn`` is the trusted application pool's FQDN, ``computers`` the machines that run an instance
    (the pool's own FQDN when none is listed). Dn466043 names its two GRUUs: the application pool
    GRUU ("associated with the application's pool FQDN and port") and the application instance GRUU
    ("associated with the FQDN of the computer that is running an application instance, and the port
    the application is using"). Their text form here is Lync's ``sip:<fqdn>@<domain>;gruu;opaque=srvr:...``
    (inferred; decision D72).
    """

    name: str
    fqdn: str
    port: int
    endpoints: tuple[ApplicationEndpoint, ...] = ()
    computers: tuple[str, ...] = ()

    @property
    def instances(self) -> tuple[str, ...]:
        """The computers that run an instance (the pool FQDN itself for a one-computer pool)."""
        return self.computers or (self.fqdn,)

    @property
    def default_routing_endpoint(self) -> ApplicationEndpoint | None:
        """The endpoint whose settings say IsDefaultRoutingEndpoint (at most one, Dn466043), else None."""
        for ep in self.endpoints:
            if ep.default_routing:
                return ep
        return None

    def _gruu(self, host: str) -> str:
        return f"sip:{host}@{self.fqdn.split('.', 1)[-1]};gruu;opaque=srvr:{self.name}:{stable_id(self.name, 6)}"

    @property
    def gruu(self) -> str:
        """The application pool GRUU (Dn466043)."""
        return self._gruu(self.fqdn)

    @property
    def instance_gruu(self) -> str:
        """The application instance GRUU of the first computer (the instance the lab sends requests to)."""
        return self._gruu(self.instances[0])

    @property
    def address(self) -> str:
        """The pool FQDN and port, where Lync sends a request for the application's owner URI (Dn466043)."""
        return f"sip:{self.fqdn}:{self.port};transport=tls"

    def reached_by(self, uri: str) -> bool:
        """True when ``uri`` names this application: its pool or a computer (host part), or one of its GRUUs."""
        low = uri.strip().strip("<>").lower()
        if low in (self.gruu.lower(), self.instance_gruu.lower()):
            return True
        text = low.split(":", 1)[1] if ":" in low else low
        host = text.split("@", 1)[-1].split(";", 1)[0].split(":", 1)[0].split(">", 1)[0]
        if "@" in text and ";gruu" not in text:
            return False
        return host in (self.fqdn, *self.instances)

    def targets_instance(self, uri: str) -> bool:
        """True when ``uri`` is an application instance GRUU of this application."""
        low = uri.strip().strip("<>").lower()
        return ";gruu" in low and any(low.split(";", 1)[0] == self._gruu(c).lower().split(";", 1)[0]
                                      for c in self.instances) and f"srvr:{self.name.lower()}:" in low


# ---------------------------------------------------------------------------------------------
# Federation


@dataclass(frozen=True, slots=True, kw_only=True)
class Partner:
    """A federated partner domain (New-CsAllowedDomain)."""

    domain: str
    proxy_fqdn: str | None = None
    answers: str = "answer"


@dataclass(frozen=True, slots=True, kw_only=True)
class Federation:
    """Set-CsAccessEdgeConfiguration plus the allowed and blocked domain lists."""

    allow_federated_users: bool = False
    enable_partner_discovery: bool = False
    partners: tuple[Partner, ...] = ()
    blocked: tuple[str, ...] = ()

    def partner(self, domain: str) -> Partner | None:
        return _named(self.partners, "domain", domain)

    def is_blocked(self, domain: str) -> bool:
        return domain.lower() in (d.lower() for d in self.blocked)


# ---------------------------------------------------------------------------------------------
# Enterprise Voice


@dataclass(frozen=True, slots=True, kw_only=True)
class NormalizationRule:
    """New-CsVoiceNormalizationRule: a .NET regex and a $1-style translation."""

    name: str
    pattern: str
    translation: str

    def apply(self, number: str) -> str | None:
        """The translated number, or None when the pattern does not match."""
        m = re.search(self.pattern, number)
        if not m:
            return None
        out = self.translation
        # .NET substitutions $1..$9 (and ${name}); done by hand so "+1425$1" works.
        # A group that took no part in the match reads as "" (not None, which re.sub refuses);
        # labfile checks at load that every $n names a group of the pattern.
        out = re.sub(r"\$\{(\w+)\}|\$(\d+)", lambda s: (m.group(int(s.group(2))) if s.group(2)
                     else m.group(s.group(1))) or "", out)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class DialPlan:
    """New-CsDialPlan with its normalization rules (first matching rule wins)."""

    name: str
    scope: str = "global"       # global | site | service | user
    rules: tuple[NormalizationRule, ...] = ()

    def normalize(self, number: str) -> tuple[str, NormalizationRule] | None:
        for rule in self.rules:
            out = rule.apply(number)
            if out is not None:
                return out, rule
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class VoicePolicy:
    """New-CsVoicePolicy: the ordered PSTN usages a user may call through."""

    name: str
    pstn_usages: tuple[str, ...] = ()
    allow_pstn_rerouting: bool = True
    allow_call_forwarding: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class VoiceRoute:
    """New-CsVoiceRoute: number pattern, usages, gateways, priority."""

    name: str
    pattern: str
    pstn_usages: tuple[str, ...]
    gateways: tuple[str, ...]
    priority: int = 0

    def matches(self, number: str) -> bool:
        return re.search(self.pattern, number) is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class Gateway:
    """A PSTN gateway (trunk) and how the PSTN behind it answers."""

    fqdn: str
    port: int = 5067
    answers: str = "connect"    # one of GATEWAY_ANSWERS
    busy_numbers: tuple[str, ...] = ()

    @property
    def address(self) -> str:
        return f"sip:{self.fqdn}:{self.port};transport=tcp"

    def answer_for(self, number: str) -> str:
        """How the PSTN behind this gateway answers a call to ``number`` (one of GATEWAY_ANSWERS)."""
        return "busy" if number in self.busy_numbers else self.answers


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeUm:
    """The Exchange UM server that takes voice mail for UM-enabled users."""

    server: str
    port: int = 5065

    @property
    def address(self) -> str:
        return f"sip:{self.server}:{self.port};transport=tls"


@dataclass(frozen=True, slots=True, kw_only=True)
class Acp:
    """An audio conferencing provider: the domains of its conferences and its gateway."""

    provider: str
    domains: tuple[str, ...]
    gateway: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Qoe:
    """Set-CsQoEConfiguration: collect QoE reports, and where they go."""

    enabled: bool = True
    monitoring_server: str | None = None


# ---------------------------------------------------------------------------------------------
# Filters


@dataclass(frozen=True, slots=True, kw_only=True)
class ImFilter:
    """Set-CsImFilterConfiguration (URL filter of the Intelligent IM Filter)."""

    enabled: bool = True
    action: str = "Allow"       # Allow | Warn | Block
    prefixes: tuple[str, ...] = DEFAULT_URL_PREFIXES
    allow_message: str = ""
    warn_message: str = ""
    ignore_local: bool = True
    block_file_extension: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class FileTransferFilter:
    """Set-CsFileTransferFilterConfiguration."""

    enabled: bool = True
    action: str = "Block"       # Block | BlockAll
    extensions: tuple[str, ...] = DEFAULT_BLOCKED_EXTENSIONS


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientVersionRule:
    """New-CsClientVersionPolicyRule."""

    user_agent: str
    major: int = 0
    minor: int = 0
    build: int = 0
    qfe: int = 0
    compare: str = "LSS"        # EQL NEQ GTR GEQ LSS LEQ
    action: str = "Allow"       # Allow AllowWithUrl AllowAndUpgrade Block BlockWithUrl BlockAndUpgrade
    url: str | None = None

    @property
    def version(self) -> tuple[int, int, int, int]:
        return (self.major, self.minor, self.build, self.qfe)

    def matches(self, token: str, version: tuple[int, int, int, int]) -> bool:
        if token.lower() != self.user_agent.lower():
            return False
        a, b = version, self.version
        return {
            "EQL": a == b, "NEQ": a != b, "GTR": a > b, "GEQ": a >= b, "LSS": a < b, "LEQ": a <= b,
        }[self.compare.upper()]


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientVersion:
    """Set-CsClientVersionConfiguration plus the policy's rules (first match wins)."""

    enabled: bool = True
    default_action: str = "Allow"
    default_url: str | None = None
    rules: tuple[ClientVersionRule, ...] = ()


# ---------------------------------------------------------------------------------------------
# The lab


_NOBODY = 1 << 62   # an index past every user


#: id(users tuple) -> (the tuple, aor -> index of its first user, number -> index of its first
#: user): Lab.user is asked several times a transaction. The tuple is kept, so its id stays its
#: own; a few labs at a time (a notebook's, a test's), bounded.
_USER_INDEXES: dict[int, tuple[tuple, dict[str, int], dict[str, int]]] = {}
_USER_INDEXES_KEPT = 64


def _user_index(users: tuple) -> tuple[dict[str, int], dict[str, int]]:
    entry = _USER_INDEXES.get(id(users))
    if entry is None or entry[0] is not users:
        by_aor: dict[str, int] = {}
        by_number: dict[str, int] = {}
        for i, u in enumerate(users):
            by_aor.setdefault(u.aor, i)
            if u.number is not None:
                by_number.setdefault(u.number, i)
        if len(_USER_INDEXES) >= _USER_INDEXES_KEPT:
            _USER_INDEXES.clear()
        entry = _USER_INDEXES[id(users)] = (users, by_aor, by_number)
    return entry[1], entry[2]


@dataclass(frozen=True, slots=True, kw_only=True)
class Lab:
    """Everything a Front End knows about its deployment. Build one with labfile.load_lab()."""

    pool: str
    server: str
    site: str = "Site1"
    domains: tuple[str, ...] = ()
    role: str = "FrontEnd"
    edge: str | None = None
    max_endpoints_per_user: int = 8
    default_expires: int = 600
    max_expires: int = 900
    ring_seconds: int = 20
    pools: tuple[Pool, ...] = ()
    users: tuple[User, ...] = ()
    endpoints: Mapping[str, tuple[Endpoint, ...]] = field(default_factory=dict)  # aor -> signed-in clients
    trusted_applications: tuple[TrustedApplication, ...] = ()
    federation: Federation = Federation()
    dial_plans: tuple[DialPlan, ...] = ()
    pstn_usages: tuple[str, ...] = ()
    voice_policies: tuple[VoicePolicy, ...] = ()
    routes: tuple[VoiceRoute, ...] = ()
    gateways: tuple[Gateway, ...] = ()
    exchange_um: ExchangeUm | None = None
    acp: Acp | None = None
    qoe: Qoe = Qoe()
    pin_min_length: int = 5
    im_filter: ImFilter = ImFilter()
    file_transfer_filter: FileTransferFilter = FileTransferFilter()
    client_version: ClientVersion = ClientVersion()
    source: str = "<lab>"       # the file it came from

    def __repr__(self) -> str:
        return (f"<Lab {self.pool} ({self.source}): {len(self.users)} users, "
                f"{sum(len(v) for v in self.endpoints.values())} endpoints, {len(self.routes)} routes>")

    # -- users ----------------------------------------------------------------------------

    def user(self, address: str | None) -> User | None:
        """The user an address names: a SIP URI/AOR, a tel: URI or a phone number (reverse number lookup)."""
        if not address:
            return None
        aor = aor_of(address) if (":" in address or "<" in address) else address.lower()
        number = phone_number_of(address)
        users = self.users
        if type(users) is tuple:   # the first user that matches either way, found by index
            by_aor, by_number = _user_index(users)
            first = min(by_aor.get(aor, _NOBODY) if aor else _NOBODY,
                        by_number.get(number, _NOBODY) if number else _NOBODY)
            if first != _NOBODY:
                return users[first]
            if aor and aor.startswith("+"):
                first = by_number.get(aor)
                return users[first] if first is not None else None
            return None
        for u in users:
            if aor and u.aor == aor:
                return u
            if number and u.number == number:
                return u
        if aor and aor.startswith("+"):
            for u in users:
                if u.number == aor:
                    return u
        return None

    def user_by_number(self, number: str) -> User | None:
        """The user whose Line URI is ``number`` (reverse number lookup), else None."""
        for u in self.users:
            if u.number == number:
                return u
        return None

    def application_endpoint(self, address: str | None) -> tuple[TrustedApplication, ApplicationEndpoint] | None:
        """The trusted application and its endpoint (contact object) that ``address`` names, else None."""
        aor = aor_of(address)
        return self._endpoint_where(lambda ep: ep.aor == aor) if aor else None

    def trusted_application_at(self, host: str) -> TrustedApplication | None:
        """The trusted application whose pool or one of whose computers is ``host``, else None."""
        for app in self.trusted_applications:
            if host.lower() in (app.fqdn, *(c.lower() for c in app.instances)):
                return app
        return None

    def application_endpoint_by_number(self, number: str | None) -> tuple[TrustedApplication, ApplicationEndpoint] | None:
        """The trusted application and the contact whose phone URI is ``number``, else None (Dn466053)."""
        return self._endpoint_where(lambda ep: ep.number == number) if number else None

    def _endpoint_where(self, matches) -> tuple[TrustedApplication, ApplicationEndpoint] | None:
        """The first trusted application's contact for which ``matches(contact)`` holds, else None."""
        for app in self.trusted_applications:
            for ep in app.endpoints:
                if matches(ep):
                    return app, ep
        return None

    def home_pool(self, user: User) -> str:
        """The FQDN of the pool ``user`` is homed on."""
        return user.pool or self.pool

    def is_local(self, user: User) -> bool:
        """True when ``user`` is homed on this pool."""
        return self.home_pool(user).lower() == self.pool.lower()

    def other_pool(self, fqdn: str) -> Pool | None:
        """Another Registrar pool of the deployment by FQDN, else None."""
        return _named(self.pools, "fqdn", fqdn)

    def supports_domain(self, domain: str) -> bool:
        """True when ``domain`` is one of this pool's SIP domains."""
        return domain.lower() in (d.lower() for d in self.domains)

    def is_this_server(self, host: str) -> bool:
        """True when ``host`` names this Front End or its pool."""
        return host.lower() in (self.server.lower(), self.pool.lower())

    # -- voice ----------------------------------------------------------------------------

    def dial_plan_for(self, user: User | None, context: str | None = None) -> DialPlan | None:
        """Per-user, then pool, then site, then global (Gg413082); a phone-context names one directly."""
        if context:
            named = _named(self.dial_plans, "name", context)
            if named is not None:
                return named
        for scope in ("user", "service", "site", "global"):
            for dp in self.dial_plans:
                if dp.scope == scope and (scope != "site" or dp.name.lower() == self.site.lower()):
                    return dp
        return None

    def voice_policy(self, name: str) -> VoicePolicy | None:
        """The voice policy called ``name``, else None."""
        return _named(self.voice_policies, "name", name)

    def gateway(self, name: str) -> Gateway | None:
        """The PSTN gateway by FQDN (``PstnGateway:`` prefix allowed), else None."""
        return _named(self.gateways, "fqdn", name.removeprefix("PstnGateway:"))

    def routes_for(self, number: str, usage: str) -> list[VoiceRoute]:
        """Routes that carry ``usage`` and whose pattern matches, by route priority."""
        found = [r for r in self.routes if usage in r.pstn_usages and r.matches(number)]
        return sorted(found, key=lambda r: r.priority)

    # -- the MSPL view ------------------------------------------------------------------------

    def server_state(self, endpoints: Mapping[str, tuple[Endpoint, ...]] | None = None) -> "LabServer":
        """This lab as the ServerState the MSPL functions read (registrations: ``endpoints`` or the lab's)."""
        return LabServer(self, self.endpoints if endpoints is None else endpoints)


class LabServer:
    """The lab plus the live registrations, as mspl_lite.language.server.ServerState."""

    __slots__ = ("lab", "endpoints")

    def __init__(self, lab: Lab, endpoints: Mapping[str, tuple[Endpoint, ...]]):
        self.lab = lab
        self.endpoints = endpoints

    def __repr__(self) -> str:
        return f"<LabServer {self.lab.pool}>"

    def query_endpoints(self, user_at_host: str, force_db: bool = False) -> list:
        """QueryEndpoints: the RegistrarEndpoint of every signed-in client of a user of this pool."""
        from ..language.server import RegistrarEndpoint

        user = self.lab.user("sip:" + user_at_host) if user_at_host else None
        if user is None or not self.lab.is_local(user):
            return []
        return [
            RegistrarEndpoint(
                epid=ep.epid,
                instance=ep.gruu,
                standard_methods=ep.standard_methods,
                extra_methods=ep.extra_methods,
                contact_info=ep.contact,
                user_agent=ep.user_agent,
            )
            for ep in self.endpoints.get(user.aor, ())
        ]

    def query_home_server(self, user_at_host: str, is_phone: bool = False,
                          cluster_type: str = "UserServices") -> str | None:
        """QueryHomeServer: the home pool of a user (or of a phone number with is_phone)."""
        if is_phone:
            user = self.lab.user_by_number(user_at_host.split("@", 1)[0].split(";", 1)[0])
        else:
            user = self.lab.user("sip:" + user_at_host) if user_at_host else None
        if user is None:
            return None
        home = self.lab.home_pool(user)
        ct = str(cluster_type).rsplit(".", 1)[-1].lower()
        if ct.startswith("backupregistrar"):
            pool = self.lab.other_pool(home)
            return pool.backup if pool else None
        return home

    def domain_supported(self, domain: str) -> bool:
        """DomainSupported: "" tests that the registrar is available (it always is here)."""
        if domain == "":
            return True
        return self.lab.supports_domain(domain)

    def check_user_option(self, key: str, option, key_is_phone: bool = False) -> bool:
        """CheckUserOption: a per-user setting by its option name (unknown options are false)."""
        user = self.lab.user_by_number(key) if key_is_phone else self.lab.user(
            key if ":" in key else "sip:" + key)
        if user is None:
            return False
        name = str(option).rsplit(".", 1)[-1].lower()
        table = {
            "federation": user.federation, "enablefederationaccess": user.federation,
            "publiccloud": user.public_cloud, "outsideaccess": user.outside_access,
            "remoteaccess": user.outside_access, "enterprisevoice": user.enterprise_voice,
            "enterprisevoiceenabled": user.enterprise_voice, "umenabled": user.um_enabled,
            "exumenabled": user.um_enabled,
        }
        return bool(table.get(name, False))


def derive_endpoints(items: Iterable[Endpoint]) -> dict[str, tuple[Endpoint, ...]]:
    """Group endpoints by their owner's AOR."""
    out: dict[str, list[Endpoint]] = {}
    for ep in items:
        out.setdefault(ep.aor, []).append(ep)
    return {k: tuple(v) for k, v in out.items()}
