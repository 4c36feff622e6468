"""MSPL values: the types, their coercions and comparisons, the enums and the built-in classes.

Types (dn439149, Lync Server 2013) and how they live in Python:

=============  ===========================================================================
MSPL           Python
=============  ===========================================================================
string         ``str``
int            ``int``, 32-bit signed. Overflow of ``+``/``-`` or of a conversion is a
               critical error (inferred: the sources are silent; wrapping silently would
               hide the bug from a learner).
float          ``float`` (MSPL says IEEE single; Python keeps double precision, D31)
bool           ``bool``
collection     ``tuple`` (read only; from Split, GetHeaderValues, QueryEndpoints)
null           ``None`` ("not found", distinct from ``""``)
enum value     ``EnumValue`` (``StandardMethod.Invite``, ``StatusClass._2xx`` ...)
objects        ``MessageView`` (sipMessage/sipRequest/sipResponse), ``TransactionView``,
               ``RegistrarEndpoint`` (server.py), ``TargetInfo``, ``SourceInfo``, ``Row``
=============  ===========================================================================

Coercions (dn439149): string->int/float parse the *whole* string or fail; string->bool is
true iff non-empty (so ``"false"`` is true); int->bool is non-zero; int/float->string is the
en-US text; float->int truncates; any scalar -> a one-element collection; null in a bool
context is false. Where the sources are silent (inferred; floats: decision D31): bool->string gives ``"true"`` /
``"false"`` (as MSPL writes them); bool->int is an error; null->string is an error (the
"null passed as a string" rule).

Comparisons (``==`` ``!=`` ``<`` ``<=`` ``>`` ``>=``), see ``equal`` and ``compare``:

* string == string is **case-sensitive** (ordinal), decision D14. The reference never says ``==``
  ignores case, and ``EqualString(a, b, true)`` exists precisely for the case-insensitive test.
* null equals only null (decision D14): ``GetParameterValue(h, "epid") != ""`` is *true* when the parameter
  is absent. Test ``== null`` to tell "not found" from ``""``.
* numbers compare by value; a string compared with a number is parsed as a number (if it is
  not one, the two are unequal and every ordering is false).
* bool compares with bool, and with a number by int->bool; a bool never equals a string,
  an enum or null. That is why a field of the wrong message kind, which reads ``false``,
  makes ``sipResponse.StatusClass != StatusClass._2xx`` true for every request (LCS05
  cc165101).
* enums: see ``EnumValue.equals``. ``StandardMethod.Invite == "INVITE"`` (method names
  compare case-insensitively; ``StandardMethod.NonStandard`` equals any non-standard method),
  ``StandardHeader.UserAgent == "user-agent"`` (header names case-insensitively, compact
  forms like ``"m"`` included), ``StatusClass._2xx == 200`` and ``== 250`` (an int compares by
  its class), other enums equal their own name (case-insensitively) or their number.
* anything else (objects) is equal only to itself; orderings of unrelated types are false.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from ..text import replace_lone_surrogates
from .run import ScriptFault
from .server import METHOD_BITS, RegistrarEndpoint

__all__ = [
    "INT_MIN", "INT_MAX", "EnumValue", "ENUMS", "REMOVED_ENUM_VALUES", "enum_value",
    "STANDARD_HEADER_NAMES", "COMPACT_HEADER_FORMS", "canonical_header_name",
    "MessageView", "TransactionView", "TargetInfo", "SourceInfo", "Row",
    "MESSAGE_READERS", "REQUEST_READERS", "RESPONSE_READERS", "TRANSACTION_FIELDS",
    "ENDPOINT_FIELDS", "REMOVED_ENDPOINT_FIELDS", "ADDRESS_INFO_FIELDS", "SOURCE_INFO_FIELDS",
    "truth", "to_str", "to_int", "to_float", "to_collection", "coerce_like", "coerce_to",
    "check_int", "equal", "compare", "type_name", "show", "read_member",
]

INT_MIN = -(2 ** 31)
INT_MAX = 2 ** 31 - 1
#: The largest IEEE single-precision value (MSPL's float, dn439149).
FLOAT_MAX = 3.4028234663852886e38


# ============================================================================================
# Enums (dn439131, Lync Server 2013). Where the reference's list is cut off or absent the
# values below are guesses, marked "guess" -- the checker says so when a script uses one.
# ============================================================================================

@dataclass(frozen=True, slots=True)
class EnumValue:
    """One constant of a built-in enum type, e.g. ``StandardMethod.Invite``.

    ``value`` is its number (the StandardMethods bit of a method, 200 for ``StatusClass._2xx``,
    an ordinal otherwise); ``text`` is what it means as a string (``"INVITE"``,
    ``"User-Agent"``, ``"2xx"``, its name otherwise).
    """

    type: str
    name: str
    value: int
    text: str
    guess: bool = False

    def __repr__(self) -> str:
        return f"{self.type}.{self.name}"

    __str__ = __repr__

    def equals(self, other: Any) -> bool:
        """MSPL ``==`` between this constant and any value (see the module docstring)."""
        if type(other) is EnumValue:
            # same constant, or an alias with the same number (BackupRegistrar[t]); several
            # StandardMethod constants share 0 (no known bit), so 0 compares by name
            return other.type == self.type and (
                other.name == self.name or (other.value == self.value and self.value != 0))
        t = type(other)
        if t is str:
            kind = self.type
            if kind == "StandardMethod":
                upper = other.upper()
                if self.name == "NonStandard":
                    return upper not in _STANDARD_METHOD_TEXTS
                return upper == self.text
            if kind == "StandardHeader":
                name = canonical_header_name(other).lower()
                if self.name == "Nonstandard":
                    return name not in _STANDARD_HEADER_LOWER
                return name == self.text.lower()
            if kind == "StatusClass":
                number = _parse_number(other)
                if number is None:
                    return other.lower() == self.text
                return _status_class_of(number) == self.value
            return other.lower() == self.name.lower()
        if t is int or t is float:
            if self.type == "StatusClass":
                return _status_class_of(other) == self.value
            return other == self.value
        return False


def _status_class_of(number: float) -> int | None:
    """200..299 -> 200; the class values themselves (100, 200, ...) map to themselves."""
    if 100 <= number <= 699:
        return int(number) // 100 * 100
    return None


def _make(type_name: str, names: Iterable[str], *, values: dict[str, int] | None = None,
          texts: Callable[[str], str] | None = None, guesses: Iterable[str] = ()) -> dict[str, EnumValue]:
    guessed = set(guesses)
    out: dict[str, EnumValue] = {}
    for i, name in enumerate(names):
        value = values[name] if values is not None else i
        text = texts(name) if texts else name
        out[name] = EnumValue(type_name, name, value, text, name in guessed)
    return out


# --- StandardHeader (LCS05 bb267726, list cut off after MimeVersion; UserAgent from the EVG
# how-to-fork sample). Every name after MimeVersion except UserAgent is a guess from RFC 3261.
_HEADER_DOCUMENTED = [
    "Nonstandard", "Via", "Contact", "Route", "To", "From", "CallID", "CSeq", "ContentLength",
    "ProxyAuthorization", "AuthenticationInfo", "Authorization", "Event", "Expires",
    "MaxForwards", "ProxyAuthenticate", "ProxyAuthenticationInfo", "Accept", "AcceptEncoding",
    "AcceptLanguage", "Allow", "AllowEvents", "ContentDisposition", "ContentEncoding",
    "ContentLanguage", "ContentType", "Date", "Hide", "InReplyTo", "MimeVersion", "UserAgent",
]
_HEADER_GUESSED = [
    "AlertInfo", "CallInfo", "ErrorInfo", "MinExpires", "Organization", "Priority",
    "ProxyRequire", "RecordRoute", "ReferTo", "ReferredBy", "ReplyTo", "Require", "RetryAfter",
    "Server", "Subject", "SubscriptionState", "Supported", "Timestamp", "Unsupported",
    "Warning", "WWWAuthenticate",
]
_HEADER_TEXT_EXCEPTIONS = {
    "CallID": "Call-ID", "CSeq": "CSeq", "MimeVersion": "MIME-Version",
    "WWWAuthenticate": "WWW-Authenticate", "Nonstandard": "",
}


def _header_text(name: str) -> str:
    if name in _HEADER_TEXT_EXCEPTIONS:
        return _HEADER_TEXT_EXCEPTIONS[name]
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name)


#: RFC 3261 section 7.3.3 compact forms plus the RFC 3515/3903/4028/3841 ones Lync uses.
COMPACT_HEADER_FORMS: dict[str, str] = {
    "i": "Call-ID", "m": "Contact", "e": "Content-Encoding", "l": "Content-Length",
    "c": "Content-Type", "f": "From", "s": "Subject", "k": "Supported", "t": "To", "v": "Via",
    "o": "Event", "u": "Allow-Events", "r": "Refer-To", "b": "Referred-By",
    "x": "Session-Expires", "a": "Accept-Contact", "j": "Reject-Contact", "d": "Request-Disposition",
    "y": "Identity", "n": "Identity-Info",
}


def canonical_header_name(name: str) -> str:
    """``"m"`` -> ``"Contact"``; other names are returned stripped, spelling unchanged."""
    name = name.strip()
    if len(name) == 1:
        return COMPACT_HEADER_FORMS.get(name.lower(), name)
    return name


# --- StandardMethod: the managed twin Request.StandardMethodType (MSIP) plus Prack, Update and
# Publish (guesses: not in the managed list but standard SIP methods Lync sees).
_METHOD_NAMES = ["Ack", "BENotify", "Bye", "Cancel", "Info", "Invite", "Message", "NonStandard",
                 "Notify", "Options", "Refer", "Register", "Service", "Subscribe",
                 "Prack", "Update", "Publish"]
_METHOD_TEXT = {n: ("" if n == "NonStandard" else n.upper()) for n in _METHOD_NAMES}
_STANDARD_METHOD_TEXTS = frozenset(t for t in _METHOD_TEXT.values() if t)

ENUMS: dict[str, dict[str, EnumValue]] = {
    "StatusClass": _make("StatusClass", [f"_{i}xx" for i in range(1, 7)],
                         values={f"_{i}xx": i * 100 for i in range(1, 7)},
                         texts=lambda n: n[1:]),
    "StandardHeader": _make("StandardHeader", _HEADER_DOCUMENTED + _HEADER_GUESSED,
                            texts=_header_text, guesses=_HEADER_GUESSED),
    "StandardMethod": _make("StandardMethod", _METHOD_NAMES,
                            values={n: METHOD_BITS.get(_METHOD_TEXT[n], 0) for n in _METHOD_NAMES},
                            texts=_METHOD_TEXT.__getitem__, guesses=["Prack", "Update", "Publish"]),
    # MSIP AuthenticationInfo+MessageOrigin.xml
    "MessageOrigin": _make("MessageOrigin", ["LocalMachine", "NetworkExternal", "NetworkInternal",
                                             "NetworkUnknown"]),
    # the values of ServerAgent.ServerRole in the managed API (Microsoft.Rtc.Sip reference; inferred to be the same)
    "ServerRole": _make("ServerRole", ["AccessProxy", "FrontEnd", "HomeServer", "Proxy"]),
    # QueryHomeServer page; "BackupRegistratr" is the documented spelling, the correct one is
    # accepted too (guess: the page's typo is probably not the real name).
    "ClusterType": _make("ClusterType", ["PrimaryRegistrar", "BackupRegistratr", "UserServices",
                                         "BackupRegistrar"],
                         values={"PrimaryRegistrar": 0, "BackupRegistratr": 1, "UserServices": 2,
                                 "BackupRegistrar": 1},
                         guesses=["BackupRegistrar"]),
    # No Lync 2013 list was retrieved; 2013 removed PublicCloud, Federation, OutsideAccess and
    # RpAllowed (see REMOVED_ENUM_VALUES). These names are guesses.
    "UserOption": _make("UserOption", ["EnterpriseVoice", "RemoteCallControl", "Archiving"],
                        guesses=["EnterpriseVoice", "RemoteCallControl", "Archiving"]),
    # Guesses: the reference names the types but not their values.
    "ExternalSourceType": _make("ExternalSourceType", ["None", "Federation", "PublicCloud", "Remote"],
                                guesses=["None", "Federation", "PublicCloud", "Remote"]),
    "ExternalSourceNetwork": _make("ExternalSourceNetwork", ["None", "Federation", "PublicCloud",
                                                            "Remote"],
                                   guesses=["None", "Federation", "PublicCloud", "Remote"]),
    # Only for QueryUserPolicy, which Lync Server 2013 no longer supports: no values known.
    "UserPolicyType": {},
}

#: Enum values older MSPL had and Lync Server 2013 removed, with the reason to show.
REMOVED_ENUM_VALUES: dict[tuple[str, str], str] = {
    ("UserOption", n): f"UserOption.{n} was removed in Lync Server 2013"
    for n in ("PublicCloud", "Federation", "OutsideAccess", "RpAllowed")
}

STANDARD_HEADER_NAMES: frozenset[str] = frozenset(
    v.text for v in ENUMS["StandardHeader"].values() if v.text)
_STANDARD_HEADER_LOWER = frozenset(n.lower() for n in STANDARD_HEADER_NAMES)


def enum_value(type_name: str, name: str) -> EnumValue | None:
    """``enum_value("StandardMethod", "Invite")`` -> the constant, or None if there is none."""
    return ENUMS.get(type_name, {}).get(name)


def _method_enum(method: str) -> EnumValue:
    methods = ENUMS["StandardMethod"]
    for value in methods.values():
        if value.text == method.upper() and value.text:
            return value
    return methods["NonStandard"]


def _status_class_enum(code: int) -> EnumValue | None:
    cls = _status_class_of(code)
    return ENUMS["StatusClass"].get(f"_{cls // 100}xx") if cls else None


# ============================================================================================
# Coercions
# ============================================================================================

_INT_RE = re.compile(r"[+-]?(?:0[xX][0-9a-fA-F]+|[0-9]+)\Z")
_FLOAT_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")


def check_int(number: int, what: str = "the result") -> int:
    """Return ``number`` if it fits a 32-bit signed int, else a critical error."""
    if INT_MIN <= number <= INT_MAX:
        return number
    raise ScriptFault(f"integer overflow: {what} ({number}) does not fit a 32-bit int",
                      hint=f"MSPL ints go from {INT_MIN} to {INT_MAX}")


#: Significant digits beyond which a numeric string is read as +-infinity instead of exactly:
#: 40 decimal digits exceed any MSPL number (a float ends at about 3.4e38), so its value
#: compares right with every int and float, and Python's int() never sees more than 40 digits
#: (it refuses over 4300 and is quadratic below that). Decision D36.
_MAX_DIGITS = 40


def _parse_int(text: str) -> int | float | None:
    """An integer string's value; beyond _MAX_DIGITS significant digits +-inf (decision D36)."""
    if not _INT_RE.match(text):
        return None
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    hexadecimal = digits[:2].lower() == "0x"
    significant = (digits[2:] if hexadecimal else digits).lstrip("0")
    if len(significant) > _MAX_DIGITS:
        return sign * math.inf
    return sign * (int(significant or "0", 16) if hexadecimal else int(significant or "0"))


def _parse_number(text: str) -> int | float | None:
    number = _parse_int(text)
    if number is not None:
        return number
    if _FLOAT_RE.match(text):
        return float(text)   # no digit limit; a value beyond the double range reads as +-inf
    return None


def _too_big(text: str, kind: str) -> ScriptFault:
    return ScriptFault(f"the number {show(text)} does not fit {kind}",
                       hint=f"MSPL ints go from {INT_MIN} to {INT_MAX}; floats are IEEE single "
                            "precision, at most about 3.4e38 (dn439149)")


def truth(value: Any) -> bool:
    """MSPL bool context: null false, "" false, 0 false, empty collection false; ``sipRequest``
    true iff the message is a request; ``dbEndpoint`` outside its loop is false (it holds
    false there); enum constants, endpoints, rows and the other objects are true."""
    t = type(value)
    if t is bool:
        return value
    if value is None:
        return False
    if t is str:
        return value != ""
    if t is int or t is float:
        return value != 0
    if t is tuple:
        return len(value) > 0
    if t is MessageView:
        return value.present
    return True


def to_str(value: Any) -> str:
    """The value as a string argument; null, collections and objects are faults."""
    t = type(value)
    if t is str:
        return value
    if t is bool:
        return "true" if value else "false"
    if t is int:
        return str(value)
    if t is float:
        return _float_text(value)
    if t is EnumValue:
        return value.text or value.name
    if value is None:
        raise ScriptFault("null where a string is expected",
                          hint="the value was not found; test it with `!= null` first")
    raise ScriptFault(f"{type_name(value)} where a string is expected")


def _float_text(value: float) -> str:
    if not math.isfinite(value):   # never built by a script (to_float refuses it); defensive
        return "NaN" if value != value else ("-" if value < 0 else "") + "Infinity"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return format(value, ".7g")


def to_int(value: Any) -> int:
    """The value as an int: strings are parsed whole, floats truncated; bool and null are faults."""
    t = type(value)
    if t is int:
        return value
    if t is str:
        number = _parse_int(value.strip()) if value.strip() == value else None
        if number is None:
            raise ScriptFault(f"cannot convert {show(value)} to an int",
                              hint="the whole string must be a number, like \"42\" or \"-7\"")
        if type(number) is float:
            raise _too_big(value, "a 32-bit int")
        return check_int(number, f"the number {show(value)}")
    if t is float:
        return check_int(int(value), f"the number {_float_text(value)}")
    if t is EnumValue:
        return value.value
    raise ScriptFault(f"cannot use {show(value)} as an int")


def to_float(value: Any) -> float:
    """The value as a float: strings are parsed whole (en-US); bool and null are faults."""
    t = type(value)
    if t is float:
        return value
    if t is int:
        return float(value)
    if t is str:
        number = _parse_number(value) if value.strip() == value else None
        if number is None:
            raise ScriptFault(f"cannot convert {show(value)} to a float",
                              hint="the whole string must be a number in en-US format, like \"1.5\"")
        number = float(number)
        if not abs(number) <= FLOAT_MAX:   # also NaN, never made by the patterns above
            raise _too_big(value, "a float")
        return number
    raise ScriptFault(f"cannot use {show(value)} as a float")


def to_collection(value: Any) -> tuple:
    """Collections stay; null is the empty collection; any other value is a one-element one."""
    if type(value) is tuple:
        return value
    if value is None:
        return ()
    return (value,)


def coerce_like(value: Any, current: Any) -> Any:
    """Coerce ``value`` to the type of ``current`` (a variable keeps the type of its first
    value, dn439149). Null may be stored in any variable."""
    if value is None or current is None:
        return value
    target = type(current)
    if type(value) is target:
        return value
    return coerce_to(value, target)


def coerce_to(value: Any, target: type) -> Any:
    """Coerce a non-null ``value`` to the Python type ``target`` of an MSPL type (dn439149);
    a value of any other type is returned as it is."""
    if target is str:
        return to_str(value)
    if target is bool:
        return truth(value)
    if target is int:
        return to_int(value)
    if target is float:
        return to_float(value)
    if target is tuple:
        return to_collection(value)
    return value


# ============================================================================================
# Comparisons
# ============================================================================================

def equal(a: Any, b: Any) -> bool:
    """MSPL ``a == b`` (rules in the module docstring)."""
    ta = type(a)
    tb = type(b)
    if ta is tb and (ta is str or ta is int or ta is bool or ta is float):
        return a == b
    if a is None or b is None:
        return a is b
    if ta is EnumValue:
        return a.equals(b)
    if tb is EnumValue:
        return b.equals(a)
    if ta is bool or tb is bool:
        flag, other = (a, b) if ta is bool else (b, a)
        if type(other) is int or type(other) is float:
            return flag == (other != 0)
        return False
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a == b
    if ta is str and (tb is int or tb is float):
        number = _parse_number(a)
        return number is not None and number == b
    if tb is str and (ta is int or ta is float):
        number = _parse_number(b)
        return number is not None and number == a
    if ta is tuple and tb is tuple:
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    if ta is MessageView and tb is MessageView:
        return a.message is b.message and a.present == b.present
    return a is b or (ta is tb and ta is not tuple and a == b)


_ORDER = {
    "<": lambda x, y: x < y,
    "<=": lambda x, y: x <= y,
    ">": lambda x, y: x > y,
    ">=": lambda x, y: x >= y,
}


def compare(op: str, a: Any, b: Any) -> bool:
    """MSPL ordering ``a op b`` for ``< <= > >=``: numbers, strings (ordinal), enums by number;
    a number and a numeric string by value; anything else is false."""
    ta = type(a)
    tb = type(b)
    if ta is EnumValue:
        if tb is EnumValue and a.type != b.type:
            return False
        a, ta = a.value, int
    if tb is EnumValue:
        b, tb = b.value, int
    if ta is bool or tb is bool or a is None or b is None:
        return False
    if ta is str and tb is str:
        return _ORDER[op](a, b)
    if ta is str:
        a = _parse_number(a)
        if a is None:
            return False
    elif tb is str:
        b = _parse_number(b)
        if b is None:
            return False
    if type(a) in (int, float) and type(b) in (int, float):
        return _ORDER[op](a, b)
    return False


# ============================================================================================
# Built-in classes (L13 dn439153): field views over a mspl_lite.sip message
# ============================================================================================

class MessageView:
    """``sipMessage``, ``sipRequest``, ``sipResponse`` or ``Transaction.Request`` over one message.

    ``cls`` is the MSPL class ("Message", "Request" or "Response"); ``present`` is false when
    the message is of the other kind (``sipResponse`` while a request runs): then the view is
    false in a bool context and every field reads false (LCS05 cc165101). ``context`` gives
    the facts that are not in the message (Origin, Authenticated, the transaction's request).
    """

    __slots__ = ("message", "cls", "present", "context")

    def __init__(self, message: Any, cls: str, present: bool, context: Any):
        self.message = message
        self.cls = cls
        self.present = present
        self.context = context

    def field(self, name: str) -> Any:
        """Read the MSPL field ``name`` (false when the view is not present)."""
        readers = _READERS_BY_CLASS[self.cls]
        reader = readers.get(name)
        if reader is None:
            raise _no_field(self.cls, name, readers)
        if not self.present:
            return False
        return reader(self.message, self.context)

    def __repr__(self) -> str:
        state = "" if self.present else " (not present: reads false)"
        return f"<{self.cls} {self.message!r}{state}>"


class TransactionView:
    """``sipMessage.Transaction``: the ``Request`` that started it and ``MarshalContent``."""

    __slots__ = ("context", "request")

    def __init__(self, context: Any, request: Any):
        self.context = context
        self.request = request

    def field(self, name: str) -> Any:
        """``Transaction.Request`` (a Request view) or ``Transaction.MarshalContent``."""
        if name == "Request":
            return MessageView(self.request, "Request", True, self.context)
        if name == "MarshalContent":
            return self.context.marshal_content
        raise _no_field("Transaction", name, TRANSACTION_FIELDS)

    def __repr__(self) -> str:
        return f"<Transaction of {self.request!r}>"


@dataclass(frozen=True, slots=True)
class TargetInfo:
    """``RequestTarget`` (L13 dn439125): who the request is for."""

    uri: str
    aor: str | None
    instance: str | None = None
    is_phone: bool = False
    domain_supported: bool = False

    def field(self, name: str) -> Any:
        """Read the MSPL field ``name`` (Uri, Aor, Instance, IsPhone, DomainSupported)."""
        attr = ADDRESS_INFO_FIELDS.get(name)
        if attr is None:
            raise _no_field(type(self).__name__, name, ADDRESS_INFO_FIELDS)
        return getattr(self, attr)


@dataclass(frozen=True, slots=True)
class SourceInfo(TargetInfo):
    """``RequestSource`` (dn439168): who sent the request, with the three fields its page lists,
    ``Aor``, ``IsPhone`` and ``Instance``. It keeps TargetInfo's storage; only reading differs."""

    def field(self, name: str) -> Any:
        """Read the MSPL field ``name`` (Aor, IsPhone, Instance)."""
        attr = SOURCE_INFO_FIELDS.get(name)
        if attr is None:
            raise _no_field("SourceInfo", name, SOURCE_INFO_FIELDS)
        return getattr(self, attr)


class Row:
    """One row of a flat file (``file[index]``): ``row.column`` is that column's string."""

    __slots__ = ("file", "values")

    def __init__(self, file: str, values: dict):
        self.file = file
        self.values = values

    def field(self, name: str) -> Any:
        """The string in column ``name`` of this row."""
        try:
            return self.values[name]
        except KeyError:
            raise ScriptFault(f"flat file {self.file} has no column {name!r}",
                              hint="columns: " + ", ".join(self.values)) from None

    def __repr__(self) -> str:
        return f"<Row of {self.file}: {self.values}>"


def wire_text(text: str) -> str:
    """Message text as a script sees it: bytes that were not UTF-8 (kept by the parser as lone
    surrogates, decision D81) read as U+FFFD, as a .NET UTF-8 decoder reads them (inferred), so a
    script can copy any value it read into a header it writes."""
    return text if text.isascii() else replace_lone_surrogates(text)   # ASCII holds no surrogate


def _header(name: str) -> Callable[[Any, Any], str]:
    def read(message: Any, context: Any) -> str:
        value = message.get(name)
        if value is None:
            return ""
        return value if value.isascii() else replace_lone_surrogates(value)   # wire_text, inlined
    read.header = name   # the compiler inlines this read for sipRequest.From and the like
    return read


def _content(message: Any, context: Any) -> str:
    """``Content``: the body decoded on each read, so each read counts against the work budget."""
    charge = getattr(context, "charge", None)
    if charge is not None:
        charge(work=len(message.body))
    return message.content


def _transaction(message: Any, context: Any) -> TransactionView:
    return TransactionView(context, context.transaction_request_of(message))


MESSAGE_READERS: dict[str, Callable[[Any, Any], Any]] = {
    "From": _header("From"),
    "To": _header("To"),
    "Content": lambda m, c: _content(m, c),
    "Authenticated": lambda m, c: c.authenticated,
    "Transaction": _transaction,
    "TlsPeer": lambda m, c: c.tls_peer,
    "Origin": lambda m, c: c.origin,
    "ExternalSourceType": lambda m, c: c.external_source_type,
    "ExternalSourceNetwork": lambda m, c: c.external_source_network,
    "Stamp": lambda m, c: c.stamp,
    "StampPool": lambda m, c: c.stamp_pool,
}

REQUEST_READERS: dict[str, Callable[[Any, Any], Any]] = dict(MESSAGE_READERS)
REQUEST_READERS.update({
    "Method": lambda m, c: m.method,
    "StandardMethod": lambda m, c: _method_enum(m.method),
    "RequestUri": lambda m, c: wire_text(m.request_uri),
    # the Request page's syntax block spells it RequestURI (L13 dn439160)
    "RequestURI": lambda m, c: wire_text(m.request_uri),
})

RESPONSE_READERS: dict[str, Callable[[Any, Any], Any]] = dict(MESSAGE_READERS)
RESPONSE_READERS.update({
    "StatusCode": lambda m, c: m.status_code,
    "StatusClass": lambda m, c: _status_class_enum(m.status_code),
    "StatusReasonPhrase": lambda m, c: wire_text(m.reason),
})

_READERS_BY_CLASS = {"Message": MESSAGE_READERS, "Request": REQUEST_READERS,
                     "Response": RESPONSE_READERS}

TRANSACTION_FIELDS = {"Request": "request", "MarshalContent": "marshal_content"}

#: RegistrarEndpoint fields (L13 dn439155) -> attributes of server.RegistrarEndpoint.
ENDPOINT_FIELDS = {"EPID": "epid", "Instance": "instance", "StandardMethods": "standard_methods",
                   "ExtraMethods": "extra_methods", "ContactInfo": "contact_info"}

#: OCS 2007 presence fields of RegistrarEndpoint removed in Lync Server 2013.
REMOVED_ENDPOINT_FIELDS = frozenset({"HasPresence", "Availability", "Activity", "AgeOfPresence",
                                     "WeightedQValue", "PresenceDoc", "AllSupportForking",
                                     "SupportsForking"})

ADDRESS_INFO_FIELDS = {"Uri": "uri", "Aor": "aor", "Instance": "instance", "IsPhone": "is_phone",
                       "DomainSupported": "domain_supported"}
#: SourceInfo's fields (dn439168): "string Aor; bool IsPhone; string Instance;".
SOURCE_INFO_FIELDS = {"Aor": "aor", "IsPhone": "is_phone", "Instance": "instance"}

def _no_field(cls: str, name: str, table: Iterable[str]) -> ScriptFault:
    import difflib
    names = [n for n in table if n != "RequestURI"]
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return ScriptFault(f"{cls} has no field {name}", hint=hint + f"{cls} fields: {', '.join(names)}")


def _endpoint_field(endpoint: RegistrarEndpoint, name: str) -> Any:
    attr = ENDPOINT_FIELDS.get(name)
    if attr is not None:
        return getattr(endpoint, attr)
    if name in REMOVED_ENDPOINT_FIELDS:
        raise ScriptFault(f"RegistrarEndpoint.{name} was removed in Lync Server 2013",
                          hint="the presence fields of OCS 2007 are gone; use EPID, Instance, "
                               "StandardMethods, ExtraMethods, ContactInfo")
    raise _no_field("RegistrarEndpoint", name, ENDPOINT_FIELDS)


def read_member(obj: Any, name: str) -> Any:
    """``obj.name`` for a value computed at run time.

    A field of ``false`` is false (a view of the wrong message kind, ``dbEndpoint`` outside
    its loop, chained: ``sipResponse.Transaction.Request.Method`` on a request); a field of
    null is null (a flat-file row that was not found).
    """
    t = type(obj)
    if t is RegistrarEndpoint:
        return _endpoint_field(obj, name)
    if t is MessageView or t is TransactionView or t is Row or t is TargetInfo or t is SourceInfo:
        return obj.field(name)
    if obj is False:
        return False
    if obj is None:
        return None
    if t is EnumValue:
        raise ScriptFault(f"{obj!r} is an enum constant; it has no field {name}")
    raise ScriptFault(f"{type_name(obj)} has no fields (reading .{name})",
                      hint="only sipMessage, sipRequest, sipResponse, RequestSource, "
                           "RequestTarget, dbEndpoint and flat-file rows have fields")


# ============================================================================================
# Naming values in messages
# ============================================================================================

def type_name(value: Any) -> str:
    """The MSPL type of a value, for messages: "string", "int", "null", "Request", ..."""
    t = type(value)
    if value is None:
        return "null"
    if t is str:
        return "string"
    if t is bool:
        return "bool"
    if t is int:
        return "int"
    if t is float:
        return "float"
    if t is tuple:
        return "collection"
    if t is EnumValue:
        return value.type
    if t is MessageView:
        return value.cls
    if t is TransactionView:
        return "Transaction"
    if t is Row:
        return "flat-file row"
    return t.__name__


def show(value: Any, limit: int = 60) -> str:
    """A value as a script would write it: ``"text"``, ``42``, ``true``, ``null``."""
    t = type(value)
    if value is None:
        return "null"
    if t is bool:
        return "true" if value else "false"
    if t is str:
        text = value if len(value) <= limit else value[:limit] + "..."
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r").replace("\n", "\\n") + '"'
    if t is tuple:
        return "[" + ", ".join(show(v, 20) for v in value[:5]) + (", ..." if len(value) > 5 else "") + "]"
    if t is int or t is float or t is EnumValue:
        return str(value) if t is not float else _float_text(value)
    return type_name(value)
