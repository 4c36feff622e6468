"""What an MSPL script may ask the server: registered endpoints, home servers, domains, user options.

Four built-ins reach beyond the message (dn439179, dn439181, dn439151 and dn439133):
``QueryEndpoints``, ``QueryHomeServer``, ``DomainSupported`` and ``CheckUserOption``. The
interpreter asks a ``ServerState`` for the answers, so the language can be tested alone with
the small ``InMemoryServer`` below, and the Front End simulator plugs in its lab instead.

Keys are ``user@host`` strings as the scripts build them (``GetUserAtHost(toUri)``); a leading
``sip:``/``sips:`` scheme is tolerated and hosts and users compare case-insensitively.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Protocol, runtime_checkable

__all__ = [
    "RegistrarEndpoint", "ServerState", "InMemoryServer", "UserRecord",
    "METHOD_BITS", "ALL_STANDARD_METHODS", "normalize_aor",
]

#: Bits of ``RegistrarEndpoint.StandardMethods`` (L13 dn439155). BENOTIFY's bit is cut off in
#: the retrieved page: 0x2000 is a guess (the next free bit after REFER). CANCEL is a guess too
#: (0x20 is the one gap below INVITE); PRACK, UPDATE and PUBLISH have no known bit and can
#: only be listed in ExtraMethods.
METHOD_BITS: dict[str, int] = {
    "REGISTER": 0x1,
    "SUBSCRIBE": 0x2,
    "NOTIFY": 0x4,
    "ACK": 0x8,
    "BYE": 0x10,
    "CANCEL": 0x20,      # guess
    "INVITE": 0x40,
    "OPTIONS": 0x80,
    "MESSAGE": 0x100,
    "SERVICE": 0x400,
    "INFO": 0x800,
    "REFER": 0x1000,
    "BENOTIFY": 0x2000,  # guess
}

#: The mask of an endpoint that supports every standard method with a known bit.
ALL_STANDARD_METHODS: int = 0
for _bit in METHOD_BITS.values():
    ALL_STANDARD_METHODS |= _bit
del _bit


def normalize_aor(user_at_host: str) -> str:
    """``"sip:JennyL@Contoso.com"`` -> ``"jennyl@contoso.com"`` (scheme, params and case dropped)."""
    text = user_at_host.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    lower = text.lower()
    for scheme in ("sips:", "sip:", "tel:"):
        if lower.startswith(scheme):
            text = text[len(scheme):]
            break
    text = text.split(";", 1)[0].split("?", 1)[0]
    return text.lower()


@dataclass(frozen=True, slots=True)
class RegistrarEndpoint:
    """One registered endpoint of a user, as ``dbEndpoint`` shows it (L13 dn439155).

    MSPL fields: ``EPID`` (epid), ``Instance`` (the GRUU, may be None = null),
    ``StandardMethods`` (bit mask, see METHOD_BITS), ``ExtraMethods`` (``"CUSTOM1,CUSTOM2"``),
    ``ContactInfo`` (the request URI that reaches the endpoint). ``user_agent`` is not an MSPL
    field; the simulator uses it to describe the device.
    """

    epid: str
    instance: str | None
    standard_methods: int
    extra_methods: str
    contact_info: str
    user_agent: str = ""

    def __str__(self) -> str:
        return f"endpoint epid={self.epid} contact={self.contact_info}"


@runtime_checkable
class ServerState(Protocol):
    """The server facts a script can query. Implementations must not raise for unknown users."""

    def query_endpoints(self, user_at_host: str, force_db: bool = False) -> list[RegistrarEndpoint]:
        """Registered endpoints of ``user@host`` (empty when none or unknown)."""
        ...

    def query_home_server(self, user_at_host: str, is_phone: bool = False,
                          cluster_type: str = "UserServices") -> str | None:
        """FQDN of the user's home pool, or None when the user is not in the registrar database."""
        ...

    def domain_supported(self, domain: str) -> bool:
        """True if this registrar serves ``domain``; ``""`` asks whether the registrar is available."""
        ...

    def check_user_option(self, key: str, option: str, key_is_phone: bool = False) -> bool:
        """True if the user (a URI or user@host, or a phone number when ``key_is_phone``) has ``option``."""
        ...


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A user of the ``InMemoryServer``: SIP address, home pool, endpoints, phone, options."""

    aor: str                                   # "jennyl@contoso.com"
    home_server: str = "pool01.contoso.com"
    endpoints: tuple[RegistrarEndpoint, ...] = ()
    phone: str | None = None                   # "+14255550100", matched when isPhone is true
    options: frozenset[str] = frozenset()      # names of UserOption values that are on
    backup_server: str | None = None           # answer for ClusterType.BackupRegistratr


def _endpoint(n: int, epid: str, ip: str) -> RegistrarEndpoint:
    """A Lync 2013 client registered from ``ip`` (the sample pool's one device per user)."""
    return RegistrarEndpoint(
        epid=epid,
        instance=f"urn:uuid:{n:08d}-0000-4000-8000-0000{epid[:8]}",
        standard_methods=ALL_STANDARD_METHODS,
        extra_methods="",
        contact_info=f"sip:{ip}:5061;transport=tls;ms-opaque={epid}",
        user_agent="UCCAPI/15.0.4420.1017 OC/15.0.4420.1017 (Microsoft Lync)",
    )


def _default_users() -> tuple[UserRecord, ...]:
    return (
        UserRecord(aor="jennyl@contoso.com", phone="+14255550101",
                   endpoints=(_endpoint(1, "5c4d3e2f1a", "192.168.0.21"),)),
        UserRecord(aor="nuriag@contoso.com", phone="+14255550102",
                   endpoints=(_endpoint(2, "7a6b5c4d3e", "192.168.0.22"),)),
        UserRecord(aor="terrya@contoso.com", phone="+14255550103",
                   endpoints=(_endpoint(3, "9e8f7a6b5c", "192.168.0.23"),)),
    )


@dataclass(slots=True)
class InMemoryServer:
    """A tiny Front End pool kept in memory: the default ``ServerState``.

    Default: domain contoso.com, home pool pool01.contoso.com, users jennyl, nuriag and terrya
    @contoso.com with one registered Lync endpoint each. Pass ``users`` and ``domains`` to
    build another pool::

        InMemoryServer(domains=["fabrikam.com"], users=[UserRecord(aor="al@fabrikam.com")])
    """

    users: Iterable[UserRecord] = field(default_factory=_default_users)
    domains: Iterable[str] = ("contoso.com",)
    available: bool = True
    _by_aor: dict[str, UserRecord] = field(init=False, repr=False)
    _by_phone: dict[str, UserRecord] = field(init=False, repr=False)
    _domains: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.users = tuple(self.users)
        self.domains = tuple(d.lower() for d in self.domains)
        self._by_aor = {normalize_aor(u.aor): u for u in self.users}
        self._by_phone = {_phone_key(u.phone): u for u in self.users if u.phone}
        self._domains = frozenset(self.domains)

    def __repr__(self) -> str:
        return f"InMemoryServer(domains={list(self.domains)}, users={[u.aor for u in self.users]})"

    def user(self, key: str, is_phone: bool = False) -> UserRecord | None:
        """The user for a user@host (or a phone number when ``is_phone``), or None."""
        if is_phone:
            return self._by_phone.get(_phone_key(key))
        return self._by_aor.get(normalize_aor(key))

    def query_endpoints(self, user_at_host: str, force_db: bool = False) -> list[RegistrarEndpoint]:
        user = self.user(user_at_host)
        return list(user.endpoints) if user else []

    def query_home_server(self, user_at_host: str, is_phone: bool = False,
                          cluster_type: str = "UserServices") -> str | None:
        user = self.user(user_at_host, is_phone)
        if user is None:
            return None
        if cluster_type.lower().startswith("backupregistr"):
            return user.backup_server
        return user.home_server

    def domain_supported(self, domain: str) -> bool:
        if domain == "":
            return self.available
        return domain.lower().rstrip(".") in self._domains

    def check_user_option(self, key: str, option: str, key_is_phone: bool = False) -> bool:
        user = self.user(key, key_is_phone)
        return user is not None and option in user.options


def _phone_key(text: str) -> str:
    """Digits of a phone number or tel: URI, keeping a leading +: ``tel:+1 (425) 555-0101`` -> ``+14255550101``."""
    text = normalize_aor(text).split("@", 1)[0]
    digits = "".join(c for c in text if c.isdigit())
    return ("+" + digits) if text.startswith("+") else digits
