"""Lab files: TOML text -> Lab, with errors that point at the line to fix.

``load_lab()`` with no path loads the lab shipped in the package (mspl_lite/data/lab.toml).
A TOML syntax error keeps the parser's line and column; a wrong value (an unknown voice policy,
a route to a gateway that does not exist, a misspelt action) points at its table and key.
"""
from __future__ import annotations

import re
import sys
from importlib import resources
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from ..errors import LabError, source_line
from ..text import MAX_LAB_FILE, display_path, read_input, shown
from .lab import (
    ENDPOINT_ANSWERS, GATEWAY_ANSWERS, PARTNER_ANSWERS, DEFAULT_BLOCKED_EXTENSIONS,
    DEFAULT_URL_PREFIXES, Acp, ApplicationEndpoint, ClientVersion, ClientVersionRule, DialPlan,
    Endpoint, ExchangeUm, Federation, FileTransferFilter, Gateway, ImFilter, Lab,
    NormalizationRule, Partner, Pool, Qoe, TrustedApplication, User, VoicePolicy, VoiceRoute,
    aor_of, derive_endpoints, stable_id,
)

__all__ = ["load_lab", "parse_lab", "default_lab_text"]

_DEFAULT_LAB: Lab | None = None

_CV_ACTIONS = ("Allow", "AllowWithUrl", "AllowAndUpgrade", "Block", "BlockWithUrl", "BlockAndUpgrade")
_COMPARE = ("EQL", "NEQ", "GTR", "GEQ", "LSS", "LEQ")


def default_lab_text() -> str:
    """The TOML text of the lab shipped with mspl-lite (a starting point for your own)."""
    return resources.files("mspl_lite").joinpath("data/lab.toml").read_text(encoding="utf-8")


def load_lab(path: str | Path | None = None) -> Lab:
    """Load a lab file (TOML); None loads the built-in contoso.com lab. Raises LabError."""
    global _DEFAULT_LAB
    if path is None:
        if _DEFAULT_LAB is None:
            _DEFAULT_LAB = parse_lab(default_lab_text(), filename="mspl_lite/data/lab.toml")
        return _DEFAULT_LAB
    name = display_path(path)
    try:  # regular files only, at most MAX_LAB_FILE bytes: /dev/zero or a FIFO is refused at once
        data = read_input(path, limit=MAX_LAB_FILE, what="lab file", error=LabError, filename=name)
    except LabError as err:
        if err.first.code != "no-such-file":
            raise
        raise LabError.at(f"lab file not found: {name}", filename=name,
                          hint="check the path, or leave --lab out to use the built-in contoso.com lab") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise LabError.at(f"lab file is not UTF-8 text ({err.reason})", filename=name,
                          hint="save the file as UTF-8")
    return parse_lab(text, filename=name)


# ---------------------------------------------------------------------------------------------
# Locating keys in the source, for error messages


class _Source:
    """Finds the line of ``[[users]]`` number n, or of key ``voice_policy`` inside it."""

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-]+)\s*\]\]?")

    def __init__(self, text: str, filename: str):
        self.text = text
        self.filename = filename
        self.lines = text.splitlines()
        # (line number, table name, is_array) for every header
        self.headers: list[tuple[int, str, bool]] = []
        for i, line in enumerate(self.lines, 1):
            m = self._HEADER.match(line)
            if m:
                self.headers.append((i, m.group(2), m.group(1) == "[["))

    def table_line(self, path: tuple) -> int:
        """Line of the table at ``path`` (e.g. ("users", 2, "endpoints", 0)); 0 if unknown."""
        start, end = 0, len(self.lines) + 1
        name = ""
        i = 0
        found = 0
        while i < len(path):
            part = path[i]
            name = f"{name}.{part}" if name else str(part)
            index = path[i + 1] if i + 1 < len(path) and isinstance(path[i + 1], int) else None
            count = -1
            found = 0
            for line_no, header, _is_array in self.headers:
                if not (start <= line_no < end):
                    continue
                if header == name:
                    count += 1
                    if index is None or count == index:
                        found = line_no
                        break
            if not found:
                return start or 0
            # the table ends at the next header that is not a sub-table of it
            start = found
            end = len(self.lines) + 1
            for line_no, header, _ in self.headers:
                if line_no > found and not header.startswith(name + "."):
                    end = line_no
                    break
            i += 2 if index is not None else 1
        return found

    def key_line(self, path: tuple, key: str) -> tuple[int, int]:
        """(line, column) of ``key = ...`` inside the table at ``path``; the table's line if absent."""
        start = self.table_line(path) if path else 1
        pattern = re.compile(rf"^\s*({re.escape(key)}|\"{re.escape(key)}\")\s*=")
        for line_no in range(max(start, 1), len(self.lines) + 1):
            line = self.lines[line_no - 1]
            if line_no > start and self._HEADER.match(line) and path:
                break
            m = pattern.match(line)
            if m:
                return line_no, m.start(1) + 1
        return start, 1 if start else 0

    def error(self, message: str, path: tuple = (), key: str | None = None, hint: str | None = None) -> LabError:
        if key is not None:
            line, column = self.key_line(path, key)
        else:
            line, column = self.table_line(path), 1
        return LabError.at(message, filename=self.filename, line=line, column=column if line else 0,
                           source=source_line(self.text, line), hint=hint, code="lab")


# ---------------------------------------------------------------------------------------------
# Reading values


class _Reader:
    """Typed access to one TOML table, raising LabError at the right line."""

    def __init__(self, src: _Source, table: Any, path: tuple):
        self.src = src
        self.path = path
        if not isinstance(table, dict):
            raise src.error(f"[{_dotted(path)}] must be a table", path[:-1] if path else (),
                            key=str(path[-1]) if path and isinstance(path[-1], str) else None,
                            hint="write it as a [table] or [[array of tables]] header")
        self.table = table
        self.used: set[str] = set()

    def _fail(self, key: str, message: str, hint: str | None = None) -> LabError:
        return self.src.error(message, self.path, key=key, hint=hint)

    def get(self, key: str, kind: type | tuple, default: Any = ..., *, choices=None, hint=None):
        self.used.add(key)
        if key not in self.table:
            if default is ...:
                where = f"[{_dotted(self.path)}]" if self.path else "the lab"
                raise self.src.error(f"{where} needs a '{key}' key", self.path,
                                     hint=hint or f"add {key} = ... to this table")
            return default
        value = self.table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if bool not in kinds and isinstance(value, bool):
            ok = False
        else:
            ok = isinstance(value, kinds)
        if not ok:
            names = " or ".join(k.__name__.replace("str", "string").replace("int", "integer")
                                .replace("bool", "true/false").replace("list", "list")
                                for k in kinds)
            raise self._fail(key, f"'{key}' must be {names}, not {_short(value)}", hint=hint)
        self._check_value(key, value)
        if choices is not None:
            if value not in choices:
                lowered = {c.lower(): c for c in choices}
                if isinstance(value, str) and value.lower() in lowered:
                    return lowered[value.lower()]
                raise self._fail(key, f"'{key}' = {value!r} is not one of: {', '.join(choices)}",
                                 hint=hint or f"use one of {', '.join(choices)}")
        return value

    def _check_value(self, key: str, value: Any) -> None:
        """Refuse now what would fail only when a message is sent: a line break or control
        character in a string (every lab string may become a SIP header value or URI, where CR/LF
        would end the header), an integer past TOML's 64 bits."""
        if isinstance(value, str):
            bad = _CONTROL.search(value)
            if bad:
                raise self._fail(key, f"'{key}' holds {_CHAR_NAMES.get(bad.group(), 'a control character')} "
                                      f"(U+{ord(bad.group()):04X}) at character {bad.start() + 1}",
                                 hint="lab values are one line of text: a SIP header or URI cannot hold a line "
                                      "break or control character; delete it (use \\t for a tab if you need one)")
        elif isinstance(value, int) and not isinstance(value, bool) and not -2 ** 63 <= value < 2 ** 63:
            raise self._fail(key, f"'{key}' is too large a number", hint="TOML integers are 64-bit; "
                             "every number in a lab file is a port, a count or a version part")

    def strings(self, key: str, default: Any = ...) -> tuple[str, ...]:
        value = self.get(key, list, default)
        if value is default and not isinstance(default, list):
            return default
        for item in value:
            if not isinstance(item, str):
                raise self._fail(key, f"'{key}' must be a list of strings; {_short(item)} is not a string")
            self._check_value(key, item)
        return tuple(value)

    def tables(self, key: str) -> list["_Reader"]:
        self.used.add(key)
        value = self.table.get(key, [])
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list):
            raise self._fail(key, f"'{key}' must be an array of tables ([[{_dotted(self.path + (key,))}]])")
        return [_Reader(self.src, item, self.path + (key, i)) for i, item in enumerate(value)]

    def table_of(self, key: str) -> "_Reader | None":
        self.used.add(key)
        if key not in self.table:
            return None
        return _Reader(self.src, self.table[key], self.path + (key,))

    def check_unknown(self, known_extra: tuple[str, ...] = ()) -> None:
        for key in self.table:
            if key not in self.used and key not in known_extra:
                known = sorted(self.used | set(known_extra))
                close = [k for k in known if k.replace("_", "") == key.lower().replace("_", "")
                         or (len(key) > 3 and (key[:4] == k[:4]))]
                hint = f"did you mean '{close[0]}'?" if close else f"known keys here: {', '.join(known)}"
                raise self._fail(key, f"unknown key '{key}' in [{_dotted(self.path) or 'lab'}]", hint=hint)


# C0 controls but tab, DEL, C1 controls and the Unicode line separators: what may not stand in a
# SIP header value (RFC 3261 25.1: a header ends at CRLF; TEXT-UTF8 excludes the controls).
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
_CHAR_NAMES = {"\n": "a line break (LF)", "\r": "a line break (CR)", "\x00": "a NUL character"}

#: Deepest nesting of arrays and inline tables a lab file may use: the real ones nest two deep;
#: tomllib recurses once per level and gave a RecursionError past about 1,000.
MAX_TOML_NESTING = 100


def _short(value: Any, most: int = 80) -> str:
    text = shown(repr(value))
    return text if len(text) <= most else text[:most] + "..."


def _too_deep(text: str) -> tuple[int, int]:
    """(line, column) where ``[``/``{`` nesting first passes MAX_TOML_NESTING (strings skipped, roughly)."""
    depth, line, column, quote = 0, 1, 0, ""
    for ch in text:
        column += 1
        if ch == "\n":
            line, column = line + 1, 0
        elif quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
            if depth > MAX_TOML_NESTING:
                return line, column
        elif ch in "]}":
            depth = max(depth - 1, 0)
    return 0, 0


# What may not stand in a SIP URI written in a header (RFC 3261 25.1: these are never unescaped there).
_NOT_IN_URI = re.compile(r'[\s<>"]')


def _port(reader: "_Reader", default: int) -> int:
    """A port number, 1 to 65535 (else a Via or Record-Route written later would be wrong)."""
    port = reader.get("port", int, default)
    if not 1 <= port <= 65535:
        raise reader._fail("port", f"port {port} is not 1 to 65535", hint=f"the usual port here is {default}")
    return port


def _dotted(path: tuple) -> str:
    return ".".join(str(p) for p in path if not isinstance(p, int))


def _pstn_usages(reader: _Reader, usages: tuple[str, ...], default: Any = ...) -> tuple[str, ...]:
    """The table's pstn_usages; each must be one of [voice] pstn_usages when the lab lists them."""
    found = reader.strings("pstn_usages", default)
    for u in found:
        if usages and u not in usages:
            raise reader._fail("pstn_usages", f"PSTN usage {u!r} is not in [voice] pstn_usages",
                               hint=f"add it to [voice] pstn_usages, or use one of: {', '.join(usages)}")
    return found


def _regex(reader: _Reader, key: str) -> str:
    pattern = reader.get(key, str)
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as err:
        raise reader._fail(key, f"'{key}' is not a valid regular expression: {err}",
                           hint="write patterns in single quotes ('^\\+1\\d{10}$') so backslashes stay as they are")
    return pattern


def _translation(reader: _Reader, pattern: str) -> str:
    """A rule's translation, whose $1 / ${name} each name a group of its pattern (else it failed at send time)."""
    translation = reader.get("translation", str)
    compiled = re.compile(pattern)
    for ref in re.finditer(r"\$\{(\w+)\}|\$(\d+)", translation):
        number, name = ref.group(2), ref.group(1)
        if number is not None and not 0 <= int(number[:6]) <= compiled.groups:
            groups = f"only {compiled.groups} group(s)" if compiled.groups else "no group"
            raise reader._fail("translation", f"translation uses ${number} but the pattern has {groups}",
                               hint="capture the digits with parentheses in the pattern, e.g. pattern = "
                                    "'^(\\d{4})$' and translation = '+1425555$1'")
        if name is not None and not (name in compiled.groupindex or (name.isdigit() and int(name[:6]) <= compiled.groups)):
            raise reader._fail("translation", f"translation uses ${{{name}}} but the pattern has no group named {name}",
                               hint="name the group in the pattern: (?P<" + name + ">\\d+)")
    return translation


# ---------------------------------------------------------------------------------------------
# The parser


def parse_lab(text: str, *, filename: str = "<lab>") -> Lab:
    """Parse lab TOML text into a Lab. Raises LabError with the file, line and a hint."""
    try:
        data = tomllib.loads(text)
    except RecursionError:
        line, column = _too_deep(text)
        raise LabError.at(f"arrays or inline tables are nested too deeply (more than {MAX_TOML_NESTING} levels)",
                          filename=filename, line=line, column=column, source=source_line(text, line),
                          hint="a lab file nests lists at most two deep: close the brackets", code="lab") from None
    except ValueError as err:
        if isinstance(err, tomllib.TOMLDecodeError):
            raise _syntax_error(err, text, filename) from None
        # Python's limit on int() of a long digit string (4300 digits), raised inside tomllib.
        digits = re.search(r"\d{100,}", text)
        line = text.count("\n", 0, digits.start()) + 1 if digits else 0
        column = digits.start() - text.rfind("\n", 0, digits.start()) if digits else 0
        raise LabError.at("a number with too many digits", filename=filename, line=line, column=column,
                          source=source_line(text, line), hint="TOML integers are 64-bit: at most 19 digits",
                          code="lab") from None
    return _parse_data(data, text, filename)


def _syntax_error(err: Exception, text: str, filename: str) -> LabError:
    """tomllib's complaint, at the line and column it names."""
    msg = str(err)
    m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
    line, column = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    message = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg) or "invalid TOML"
    return LabError.at(f"not valid TOML: {message}", filename=filename, line=line, column=column,
                       source=source_line(text, line),
                       hint="lab files are TOML: key = \"value\", [table], [[array of tables]]; "
                            "strings need quotes")


def _parse_data(data: dict, text: str, filename: str) -> Lab:
    """The checked TOML values -> a Lab."""
    src = _Source(text, filename)
    root = _Reader(src, data, ())

    pool_r = root.table_of("pool")
    if pool_r is None:
        raise src.error("the lab has no [pool] table", hint="start the file with [pool] fqdn = \"pool01.contoso.com\"")
    pool_fqdn = pool_r.get("fqdn", str).lower()
    server = pool_r.get("server", str, pool_fqdn).lower()
    site = pool_r.get("site", str, "Site1")
    domains = tuple(d.lower() for d in pool_r.strings("domains"))
    if not domains:
        raise pool_r._fail("domains", "[pool] domains is empty", hint='list your SIP domains: domains = ["contoso.com"]')
    role = pool_r.get("role", str, "FrontEnd", choices=("FrontEnd", "HomeServer"))
    edge = pool_r.get("edge", str, None)
    max_ep = pool_r.get("max_endpoints_per_user", int, 8)
    if not 1 <= max_ep <= 64:
        raise pool_r._fail("max_endpoints_per_user", "max_endpoints_per_user must be 1 to 64 (MaxEndpointsPerUser)")
    default_expires = pool_r.get("default_expires", int, 600)
    max_expires = pool_r.get("max_expires", int, 900)
    ring_seconds = pool_r.get("ring_seconds", int, 20)
    pool_r.check_unknown()

    pools = []
    for r in root.tables("pools"):
        pools.append(Pool(fqdn=r.get("fqdn", str).lower(), backup=r.get("backup", str, None),
                          available=r.get("available", bool, True)))
        r.check_unknown()
    known_pools = {pool_fqdn} | {p.fqdn for p in pools}

    # -- voice first: users refer to policies -------------------------------------------------
    voice_r = root.table_of("voice")
    usages: tuple[str, ...] = ()
    if voice_r is not None:
        usages = voice_r.strings("pstn_usages", ())
        voice_r.check_unknown()

    gateways = []
    for r in root.tables("gateways"):
        gateways.append(Gateway(
            fqdn=r.get("fqdn", str).lower(), port=_port(r, 5067),
            answers=r.get("answers", str, "connect", choices=GATEWAY_ANSWERS),
            busy_numbers=r.strings("busy_numbers", ()),
        ))
        r.check_unknown()
    gateway_names = {g.fqdn for g in gateways}

    policies = []
    for r in root.tables("voice_policies"):
        pu = _pstn_usages(r, usages, ())
        policies.append(VoicePolicy(name=r.get("name", str), pstn_usages=pu,
                                    allow_pstn_rerouting=r.get("allow_pstn_rerouting", bool, True),
                                    allow_call_forwarding=r.get("allow_call_forwarding", bool, True)))
        r.check_unknown()
    policy_names = {p.name.lower() for p in policies} | {"global"}
    if not any(p.name.lower() == "global" for p in policies):
        policies.append(VoicePolicy(name="Global", pstn_usages=()))

    routes = []
    for r in root.tables("routes"):
        pu = _pstn_usages(r, usages)
        gws = r.strings("gateways")
        for g in gws:
            if g.lower().removeprefix("pstngateway:") not in gateway_names:
                raise r._fail("gateways", f"route {r.table.get('name')!r} names gateway {g!r}, which no [[gateways]] table defines",
                              hint=f"define it with [[gateways]] fqdn = \"{g}\", or use one of: {', '.join(sorted(gateway_names)) or '(none)'}")
        routes.append(VoiceRoute(name=r.get("name", str), pattern=_regex(r, "pattern"), pstn_usages=pu,
                                 gateways=tuple(g.lower().removeprefix("pstngateway:") for g in gws),
                                 priority=r.get("priority", int, 0)))
        r.check_unknown()

    dial_plans = []
    for r in root.tables("dial_plans"):
        rules = []
        for rr in r.tables("rules"):
            pattern = _regex(rr, "pattern")
            rules.append(NormalizationRule(name=rr.get("name", str, "rule"), pattern=pattern,
                                           translation=_translation(rr, pattern)))
            rr.check_unknown()
        dial_plans.append(DialPlan(name=r.get("name", str),
                                   scope=r.get("scope", str, "global", choices=("global", "site", "service", "user")),
                                   rules=tuple(rules)))
        r.check_unknown()

    # -- users and endpoints -----------------------------------------------------------------
    users = []
    endpoints = []
    seen = {}
    for r in root.tables("users"):
        uri = r.get("uri", str, hint='give the user a SIP URI: uri = "sip:alice@contoso.com"')
        aor = aor_of(uri)
        if aor is None or not uri.lower().startswith("sip:") or _NOT_IN_URI.search(uri):
            raise r._fail("uri", f"{_short(uri)} is not a SIP URI", hint='write it as "sip:user@domain" '
                          "(no spaces, <, > or quotes: the URI goes into From, To and Contact headers)")
        if aor in seen:
            raise r._fail("uri", f"user {uri} is defined twice", hint=f"the first one is user number {seen[aor] + 1}")
        seen[aor] = len(users)
        line_uri = r.get("line_uri", str, None)
        if line_uri is not None and not re.fullmatch(r"tel:\+?\d{3,15}(;ext=\d+)?", line_uri):
            raise r._fail("line_uri", f"line_uri {line_uri!r} is not a tel: URI",
                          hint='write it as "tel:+14255550101" (E.164, as Set-CsUser -LineURI)')
        vp = r.get("voice_policy", str, "Global")
        if vp.lower() not in policy_names:
            raise r._fail("voice_policy", f"voice policy {vp!r} is not defined",
                          hint=f"define it with [[voice_policies]] name = \"{vp}\", or use one of: "
                               f"{', '.join(sorted(p.name for p in policies))}")
        home = r.get("pool", str, pool_fqdn).lower()
        if home not in known_pools:
            raise r._fail("pool", f"pool {home!r} is not this pool nor one of [[pools]]",
                          hint=f"add [[pools]] fqdn = \"{home}\", or use {pool_fqdn}")
        pin = r.get("pin", str, None)
        user = User(uri=uri, name=r.get("name", str, ""), line_uri=line_uri, pool=home, voice_policy=vp,
                    enterprise_voice=r.get("enterprise_voice", bool, True),
                    um_enabled=r.get("um_enabled", bool, False), federation=r.get("federation", bool, False),
                    public_cloud=r.get("public_cloud", bool, False),
                    outside_access=r.get("outside_access", bool, False), pin=pin,
                    signed_in_elsewhere=r.get("signed_in", bool, False) and home != pool_fqdn)
        users.append(user)
        eps = r.tables("endpoints")
        if len(eps) > max_ep:
            raise r._fail("endpoints", f"{uri} has {len(eps)} endpoints; the pool allows {max_ep} (max_endpoints_per_user)")
        for i, er in enumerate(eps):
            epid = er.get("epid", str, None) or _default_epid(aor, i)
            if not re.fullmatch(r"[0-9A-Za-z]{1,32}", epid):
                raise er._fail("epid", f"epid {epid!r} must be letters and digits", hint='e.g. epid = "5f3a7c9e01"')
            address = er.get("address", str, None) or f"192.0.2.{100 + len(endpoints)}:{50000 + i}"
            wire = ""
            contact = er.get("contact", str, None)
            if contact is not None:
                # a real user agent plays this endpoint under `mspl-lite serve` (issue 12)
                if "address" in er.table:
                    raise er._fail("contact", "an endpoint has an address (simulated) or a contact (real), not both",
                                   hint="keep contact = \"127.0.0.1:5071\" for a real user agent, or address "
                                        "for a simulated client")
                wire, address = _static_contact(er, contact)
            methods = er.strings("methods", None)
            endpoints.append(Endpoint(
                epid=epid, aor=aor, user_agent=er.get("user_agent", str, "UCCAPI/15.0.4481.1000 OC/15.0.4481.1000 (Microsoft Lync)"),
                address=address, answers=er.get("answers", str, "answer", choices=ENDPOINT_ANSWERS),
                **({"methods": tuple(m.upper() for m in methods)} if methods else {}), wire=wire,
            ))
            er.check_unknown()
        r.check_unknown(("signed_in",))

    apps = _trusted_applications(root, {u.aor for u in users}, {u.number for u in users if u.number})

    fed = Federation()
    fr = root.table_of("federation")
    if fr is not None:
        partners = []
        for pr in fr.tables("partners"):
            partners.append(Partner(domain=pr.get("domain", str).lower(), proxy_fqdn=pr.get("proxy_fqdn", str, None),
                                    answers=pr.get("answers", str, "answer", choices=PARTNER_ANSWERS)))
            pr.check_unknown()
        blocked = []
        for br in fr.tables("blocked"):
            blocked.append(br.get("domain", str).lower())
            br.check_unknown()
        fed = Federation(allow_federated_users=fr.get("allow_federated_users", bool, False),
                         enable_partner_discovery=fr.get("enable_partner_discovery", bool, False),
                         partners=tuple(partners), blocked=tuple(blocked))
        fr.check_unknown()

    um = None
    ur = root.table_of("exchange_um")
    if ur is not None:
        um = ExchangeUm(server=ur.get("server", str).lower(), port=_port(ur, 5065))
        ur.check_unknown()
    acp = None
    ar = root.table_of("acp")
    if ar is not None:
        acp = Acp(provider=ar.get("provider", str, "ACP"), domains=tuple(d.lower() for d in ar.strings("domains")),
                  gateway=ar.get("gateway", str).lower())
        ar.check_unknown()
    qoe = Qoe()
    qr = root.table_of("qoe")
    if qr is not None:
        qoe = Qoe(enabled=qr.get("enabled", bool, True), monitoring_server=qr.get("monitoring_server", str, None))
        qr.check_unknown()
    pin_min = 5
    pr = root.table_of("pin_policy")
    if pr is not None:
        pin_min = pr.get("min_length", int, 5)
        pr.check_unknown()

    imf = ImFilter()
    ir = root.table_of("im_filter")
    if ir is not None:
        imf = ImFilter(enabled=ir.get("enabled", bool, True),
                       action=ir.get("action", str, "Allow", choices=("Allow", "Warn", "Block")),
                       prefixes=ir.strings("prefixes", DEFAULT_URL_PREFIXES),
                       allow_message=ir.get("allow_message", str, ""), warn_message=ir.get("warn_message", str, ""),
                       ignore_local=ir.get("ignore_local", bool, True),
                       block_file_extension=ir.get("block_file_extension", bool, True))
        ir.check_unknown()
    ftf = FileTransferFilter()
    tr = root.table_of("file_transfer_filter")
    if tr is not None:
        exts = tr.strings("extensions", DEFAULT_BLOCKED_EXTENSIONS)
        for e in exts:
            if not e.startswith("."):
                raise tr._fail("extensions", f"extension {e!r} needs its leading dot", hint=f'write ".{e}"')
        ftf = FileTransferFilter(enabled=tr.get("enabled", bool, True),
                                 action=tr.get("action", str, "Block", choices=("Block", "BlockAll")),
                                 extensions=tuple(e.lower() for e in exts))
        tr.check_unknown()
    cv = ClientVersion()
    cr = root.table_of("client_version")
    if cr is not None:
        rules = []
        for rr in cr.tables("rules"):
            action = rr.get("action", str, "Allow", choices=_CV_ACTIONS)
            url = rr.get("url", str, None)
            if action in ("AllowWithUrl", "BlockWithUrl") and not url:
                raise rr._fail("action", f"{action} needs a url (ActionUrl)", hint='add url = "https://..."')
            rules.append(ClientVersionRule(
                user_agent=rr.get("user_agent", str), major=rr.get("major", int, 0), minor=rr.get("minor", int, 0),
                build=rr.get("build", int, 0), qfe=rr.get("qfe", int, 0),
                compare=rr.get("compare", str, "LSS", choices=_COMPARE), action=action, url=url))
            rr.check_unknown()
        cv = ClientVersion(enabled=cr.get("enabled", bool, True),
                           default_action=cr.get("default_action", str, "Allow", choices=_CV_ACTIONS),
                           default_url=cr.get("default_url", str, None), rules=tuple(rules))
        cr.check_unknown()

    root.check_unknown()
    return Lab(
        pool=pool_fqdn, server=server, site=site, domains=domains, role=role, edge=edge,
        max_endpoints_per_user=max_ep, default_expires=default_expires, max_expires=max_expires,
        ring_seconds=ring_seconds, pools=tuple(pools), users=tuple(users),
        endpoints=derive_endpoints(endpoints), trusted_applications=tuple(apps), federation=fed,
        dial_plans=tuple(dial_plans), pstn_usages=usages, voice_policies=tuple(policies),
        routes=tuple(routes), gateways=tuple(gateways), exchange_um=um, acp=acp, qoe=qoe,
        pin_min_length=pin_min, im_filter=imf, file_transfer_filter=ftf, client_version=cv,
        source=filename,
    )


_STATIC_CONTACT = re.compile(r"(?:(udp|tcp):)?(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]):(\d{1,5})")


def _static_contact(er, contact: str) -> tuple[str, str]:
    """``contact = "127.0.0.1:5071"`` (or ``"tcp:127.0.0.1:5071"``): (transport, host:port)."""
    m = _STATIC_CONTACT.fullmatch(contact.strip())
    if m is None or int(m.group(3)) > 65535 or int(m.group(3)) == 0:
        raise er._fail("contact", f"contact {_short(contact)!r} is not an IP address and port",
                       hint='write contact = "127.0.0.1:5071" (or "tcp:127.0.0.1:5071"): where the real user '
                            "agent listens; names are not resolved")
    return (m.group(1) or "udp").lower(), f"{m.group(2)}:{m.group(3)}"


def _default_epid(aor: str, index: int) -> str:
    """The EPID of a lab endpoint that names none: derived from its user and place, so stable."""
    return stable_id(f"{aor}#{index}", 10)


def _trusted_applications(root: _Reader, user_aors: set, user_numbers: set) -> list[TrustedApplication]:
    """[[trusted_applications]]: the application pool, its computers and its ApplicationEndpoints.

    An owner URI is a contact object's SIP address, so it may not be a user's (Dn466043); at most
    one endpoint of an application is its default routing endpoint (Dn466043, hh382661).
    """
    apps: list[TrustedApplication] = []
    owners: dict[str, str] = {}
    for r in root.tables("trusted_applications"):
        name = r.get("name", str, hint='the application id: name = "HelpdeskBot" (New-CsTrustedApplication -ApplicationId)')
        fqdn = r.get("fqdn", str, hint='the trusted application pool: fqdn = "apppool01.contoso.com"').lower()
        port = r.get("port", int, 6001)
        if not 1 <= port <= 65535:
            raise r._fail("port", f"port {port} is not a TCP port", hint="the port the application listens on, e.g. 6001")
        computers = tuple(c.lower() for c in r.strings("computers", ()))
        # default_routing_endpoint = true on the application: its first endpoint is the default routing endpoint.
        app_default = r.get("default_routing_endpoint", bool, False)
        eps = []
        for i, er in enumerate(r.tables("endpoints")):
            uri = er.get("uri", str, hint='the owner URI: uri = "sip:helpdesk@contoso.com" (the contact\'s SIP address)')
            aor = aor_of(uri)
            if aor is None or not uri.lower().startswith("sip:"):
                raise er._fail("uri", f"owner URI {uri!r} is not a SIP URI", hint='write it as "sip:name@domain"')
            if aor in user_aors:
                raise er._fail("uri", f"owner URI {uri} is a user's address, not a contact object's",
                               hint="an application endpoint's owner URI is its contact object's SIP address (Dn466043)")
            if aor in owners:
                raise er._fail("uri", f"owner URI {uri} is already the contact of {owners[aor]}",
                               hint="one contact object per owner URI; give this endpoint another SIP address")
            owners[aor] = name
            epid = er.get("epid", str, None)
            if epid is not None and not re.fullmatch(r"[0-9A-Za-z]{1,32}", epid):
                raise er._fail("epid", f"epid {epid!r} must be letters and digits", hint='e.g. epid = "a1b2c3d4e5"')
            line_uri = er.get("line_uri", str, None)
            if line_uri is not None:
                if not re.fullmatch(r"tel:\+?\d{3,15}", line_uri):
                    raise er._fail("line_uri", f"line_uri {line_uri!r} is not a tel: URI", hint='write it as "tel:+14255550199"')
                if line_uri[4:] in user_numbers:
                    raise er._fail("line_uri", f"{line_uri} is already a user's Line URI",
                                   hint="give the contact a number of its own")
            conversations = er.strings("conversations", ())
            eps.append(ApplicationEndpoint(
                uri=uri, name=er.get("name", str, ""), epid=epid, line_uri=line_uri, conversations=conversations,
                default_routing=er.get("default_routing", bool, False) or (app_default and i == 0)))
            er.check_unknown()
        flagged = [e for e in eps if e.default_routing]
        if len(flagged) > 1:
            key = "default_routing_endpoint" if app_default else "endpoints"
            raise r._fail(key, f"{name} has {len(flagged)} default routing endpoints "
                               f"({', '.join(e.uri for e in flagged)})",
                          hint="\"At most one endpoint can be designated as the default routing endpoint.\" "
                               "(Dn466043): set default_routing = true on one endpoint only")
        if app_default and not eps:
            raise r._fail("default_routing_endpoint", f"{name} has default_routing_endpoint = true but no endpoint",
                          hint="add [[trusted_applications.endpoints]] with the owner URI of that endpoint")
        apps.append(TrustedApplication(name=name, fqdn=fqdn, port=port, endpoints=tuple(eps), computers=computers))
        r.check_unknown()
    return apps
