"""URI and address helpers behind the MSPL functions GetUri, GetDisplayName, GetUserName,
GetHostName, GetUserAtHost, GetScheme, GetUriParameter, GetParameterValue and IsPhoneUri.

Each returns ``str`` or ``None``; None is MSPL's null ("not found, or not a valid SIP URI").
Every helper accepts what the MSPL reference says they accept (L13 dn439166 and siblings):
``"Display Name" <sip:user@host:port;param=value>``, each part optional.

One reading, stated once: a string without ``<>`` is taken as a URI in full, so in
``sip:bob@contoso.com;transport=tls`` the ``transport`` is a URI parameter (as in a Request-URI,
which is what MSPL scripts pass most often). Inside a header written in addr-spec form
(``To: sip:bob@contoso.com;tag=1``) RFC 3261 would call ``tag`` a header parameter; Lync always
writes From and To with ``<>``, where the two readings agree. Escapes (``%40``) are returned as
written, not decoded.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError
from ._fields import find_param
from ._grammar import NAME_ADDR_PARTS_RE, SIP_URI_RE, Problem
from ._scan import UriParts, check_uri, scan_address, unquote

__all__ = [
    "SipUri",
    "parse_uri",
    "get_uri",
    "get_display_name",
    "get_user_name",
    "get_host_name",
    "get_user_at_host",
    "get_scheme",
    "get_uri_parameter",
    "get_parameter_value",
    "is_phone_uri",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class SipUri:
    """A sip:, sips: or tel: URI taken apart; every part as written (escapes kept).

    For tel: URIs ``user`` is the number (``+14255550100``) and ``host`` is None.
    ``params`` keeps order; a valueless parameter (``;lr``) has value None.
    """

    scheme: str
    user: str | None = None
    password: str | None = None
    host: str | None = None
    port: int | None = None
    params: tuple[tuple[str, str | None], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.scheme not in ("sip", "sips", "tel"):
            raise UsageError(f"SipUri scheme must be 'sip', 'sips' or 'tel', got {self.scheme!r}")
        if self.scheme == "tel" and (not self.user or self.host is not None):
            raise UsageError("a tel: SipUri has a number in user and no host")
        if self.scheme != "tel" and not self.host:
            raise UsageError(f"a {self.scheme}: SipUri needs a host")

    def param(self, name: str) -> str | None:
        """The value of URI parameter ``name`` (any case); None if absent or valueless."""
        lname = name.lower()
        for pname, value in self.params:
            if pname.lower() == lname:
                return value
        return None

    def has_param(self, name: str) -> bool:
        """Whether URI parameter ``name`` is present (with or without a value)."""
        lname = name.lower()
        return any(pname.lower() == lname for pname, _ in self.params)

    @property
    def user_at_host(self) -> str | None:
        """``user@host`` (MSPL GetUserAtHost), or None when there is no user or no host."""
        return f"{self.user}@{self.host}" if self.user and self.host else None

    @property
    def is_phone(self) -> bool:
        """True for a tel: URI or a SIP URI with ``;user=phone``."""
        return self.scheme == "tel" or (self.param("user") or "").lower() == "phone"

    def __str__(self) -> str:
        out = [self.scheme, ":"]
        if self.scheme == "tel":
            out.append(self.user or "")
        else:
            if self.user is not None:
                out.append(self.user)
                if self.password is not None:
                    out += [":", self.password]
                out.append("@")
            out.append(self.host or "")
            if self.port is not None:
                out += [":", str(self.port)]
        for name, value in self.params:
            out += [";", name] if value is None else [";", name, "=", value]
        if self.headers:
            out += ["?", "&".join(f"{k}={v}" for k, v in self.headers)]
        return "".join(out)


# A TCP/UDP port is 16 bits: RFC 3261's port = 1*DIGIT has no bound, so a longer one is taken as
# no port at all (parse_uri gives None) rather than an int of thousands of digits.
_MAX_PORT = 65535


def _port(text: str | None) -> int | None | bool:
    """The port as an int, None when absent, False when it is no 16-bit port (checked before int())."""
    if not text:
        return None
    digits = text.lstrip("0") or "0"
    return int(digits) if len(digits) <= 5 and int(digits) <= _MAX_PORT else False


def _sip_uri(parts: UriParts) -> SipUri | None:
    if parts.scheme not in ("sip", "sips", "tel"):
        return None
    port = _port(parts.port)
    if port is False:
        return None
    params = []
    for item in parts.params.split(";")[1:]:
        name, eq, value = item.partition("=")
        params.append((name, value if eq else None))
    headers = []
    if parts.headers:
        for item in parts.headers.split("&"):
            name, _, value = item.partition("=")
            headers.append((name, value))
    return SipUri(
        scheme=parts.scheme,
        user=parts.user,
        password=parts.password,
        host=parts.host,
        port=port,
        params=tuple(params),
        headers=tuple(headers),
    )


def parse_uri(text: str) -> SipUri | None:
    """Take a sip:, sips: or tel: URI apart; None if ``text`` is not one (other schemes too, and a
    port above 65535)."""
    if not isinstance(text, str):
        return None
    s = text.strip(" \t")
    try:
        parts = check_uri(s, 0, len(s), context="name-addr")
    except Problem:
        return None
    return _sip_uri(parts)


def _split_address(text: object) -> tuple[str | None, str] | None:
    """(display name or None, URI text) of the first address in ``text``; None if there is none.

    A string with ``<>`` or a leading quote is read as a name-addr (the first of a list); any
    other string is read as a URI in full.
    """
    if not isinstance(text, str):
        return None
    s = text.strip(" \t")
    if not s:
        return None
    if s[0] == '"' or "<" in s:
        m = NAME_ADDR_PARTS_RE.fullmatch(s)
        if m is not None:
            dn = m.group("dn")
            return (unquote(dn) if dn[0] == '"' else dn) if dn else None, m.group("uri")
        try:
            a = scan_address(s, 0, in_list=True)
        except Problem:
            return None
        return a.display_name, a.uri
    if SIP_URI_RE.fullmatch(s) is None:
        try:
            check_uri(s, 0, len(s), context="name-addr")
        except Problem:
            return None
    return None, s


def _uri_parts(address: object) -> UriParts | None:
    """The parts of the URI of ``address`` (see ``_split_address``), or None."""
    split = _split_address(address)
    if split is None:
        return None
    uri = split[1]
    try:
        return check_uri(uri, 0, len(uri), context="name-addr")
    except Problem:  # pragma: no cover - _split_address already checked this URI
        return None


def get_uri(address: str) -> str | None:
    """MSPL GetUri: the URI of an address (``"Name" <sip:a@b>;lr`` -> ``sip:a@b``), or None."""
    split = _split_address(address)
    return split[1] if split is not None else None


def get_display_name(address: str) -> str | None:
    """MSPL GetDisplayName: the display name, unquoted (``"J \\"R\\""`` -> ``J "R"``); None if there is none."""
    split = _split_address(address)
    return split[0] if split is not None else None


def get_user_name(uri: str) -> str | None:
    """MSPL GetUserName: the user part (``sip:someone@example.com`` -> ``someone``; tel: -> the number)."""
    parts = _uri_parts(uri)
    return parts.user or None if parts is not None else None


def get_host_name(uri: str) -> str | None:
    """MSPL GetHostName: the host of a SIP URI without port (``example.com``); None for tel: and others."""
    parts = _uri_parts(uri)
    return parts.host if parts is not None else None


def get_user_at_host(uri: str) -> str | None:
    """MSPL GetUserAtHost: ``someone@example.com``; None when the URI has no user or no host."""
    parts = _uri_parts(uri)
    if parts is None or not parts.user or not parts.host:
        return None
    return f"{parts.user}@{parts.host}"


def get_scheme(uri: str) -> str | None:
    """MSPL GetScheme: the URI scheme in lower case (``sip``, ``sips``, ``tel``, ...), or None."""
    split = _split_address(uri)
    return split[1].partition(":")[0].lower() if split is not None else None


def get_uri_parameter(uri: str, parameter_name: str) -> str | None:
    """MSPL GetUriParameter: the value of a parameter *inside* the URI; None if absent or valueless (``;lr``)."""
    if not isinstance(parameter_name, str) or not parameter_name:
        return None
    parts = _uri_parts(uri)
    if parts is None:
        return None
    lname = parameter_name.lower()
    for item in parts.params.split(";")[1:]:
        name, eq, value = item.partition("=")
        if name.lower() == lname:
            return value if eq and value else None
    return None


def is_phone_uri(uri: object) -> bool:
    """MSPL IsPhoneUri: "Returns true if the supplied URI contains the user=phone parameter;
    otherwise, false" (dn439134). So a ``tel:`` URI, a string that is no URI and null all give
    false (decision D30). The value compares case-insensitively (``user=Phone``), as RFC 3261
    19.1.4 compares URI parameters (inferred: the page does not say)."""
    if not isinstance(uri, str):
        return False
    value = get_uri_parameter(uri, "user")
    return value is not None and value.lower() == "phone"


def get_parameter_value(header: str, parameter_name: str) -> str | None:
    """MSPL GetParameterValue: the value of ``;name=value`` in a header string, outside ``<>`` and quotes.

    None if absent; a valueless parameter (``;lr``) is never returned. A quoted value is returned
    with its quotes, as written, so that SetParameterValue(h, p, GetParameterValue(h, p)) changes
    nothing (inferred: the MSPL reference, dn439161, does not say whether quotes are removed).
    """
    if not isinstance(header, str) or not isinstance(parameter_name, str) or not parameter_name:
        return None
    p = find_param(header, parameter_name)
    return p.value if p is not None and p.value else None
