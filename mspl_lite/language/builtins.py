"""The MSPL built-in functions (the Lync Server 2013 function reference, dn439127, and each
function's own page, cited at its implementation).

Every function of ``signatures.FUNCTIONS`` is implemented here as ``impl(ctx, node, *args)``:
``ctx`` is the ``ScriptContext`` of the running script (context.py), ``node`` the ``ast.Call`` (for the
location of dispositions and log entries), ``args`` the evaluated MSPL values. The compiler
checks the message kind (``FunctionSignature.kind`` / ``wrong_kind``) before calling, so the
implementations only see the kind they expect.

Common rules (L10 hh347152, L13 dn439127, Dn439066):

* null passed where a string is expected stops the script with a critical error that names
  the function and the argument (Dn439066). IndexOfString is the documented exception: it
  returns -1 (gg439570); IsPhoneUri returns false (dn439134, decision D30).
* A request-only function on a response (or the reverse) is a critical error, except Respond,
  which returns false.
* BeginFork, Fork and EndFork must come in that order; a fork still open at the end of the
  script is a critical error (its branches are never sent).
* A second *final* disposition (ProxyRequest after Respond, EndFork after ProxyRequest, ...)
  is a critical error at its line (docs/ARCHITECTURE.md decisions). A second Respond after a
  final response returns false instead, as the Respond page says.

Faults are raised as ``run.ScriptFault``; the compiler adds the location and the run records a
``CriticalError``.
"""
from __future__ import annotations

import bisect
import re
from typing import Any, Callable

from ..errors import UsageError
from ..sip import address as sip_address
from ..sip.message import check_request_uri
# ScriptContext and the memory bounds live in context.py; importing them from here still works.
from .context import MAX_COLLECTION, MAX_STRING, ScriptContext
from .run import Disposition, ScriptFault, new_disposition, new_log_entry
from .server import METHOD_BITS, RegistrarEndpoint
from .values import EnumValue, canonical_header_name, show, to_int, to_str, truth, type_name, wire_text

__all__ = ["ScriptContext", "BUILTINS", "PARAMETERS", "MAX_STRING", "MAX_COLLECTION"]

# ============================================================================================
# Argument coercion (faults name the function and the argument)
# ============================================================================================

#: Parameter names as the MSPL reference writes them, for messages.
PARAMETERS: dict[str, tuple[str, ...]] = {
    "ProxyRequest": ("uri",), "RetargetRequest": ("uri",), "ProxyResponse": (),
    "Respond": ("statusCode", "reasonPhrase", "appendHeader"), "BeginFork": ("reserved1", "reserved2"),
    "Fork": ("uri",), "EndFork": (), "Dispatch": ("methodName", "value"),
    "DispatchNotification": ("methodName", "value"), "AddHeader": ("name", "value"),
    "GetHeaderValues": ("name",), "GetParameterValue": ("headerString", "parameterName"),
    "SetParameterValue": ("headerName", "parameterName", "value"),
    "SupportsMethod": ("methodName", "standardMethods", "extraMethods"), "Concatenate": ("s",),
    "ContainsString": ("source", "search", "ignoreCase"), "EqualString": ("a", "b", "ignoreCase"),
    "IndexOfString": ("target", "search", "ignoreCase"), "SubString": ("s", "startingIndex", "length"),
    "Split": ("source", "separator"), "LengthString": ("s",), "GetUri": ("address",),
    "GetDisplayName": ("address",), "GetUserName": ("uri",), "GetHostName": ("uri",),
    "GetUserAtHost": ("uri",), "GetScheme": ("uri",), "GetUriParameter": ("uri", "parameterName"),
    "IsPhoneUri": ("uri",), "QueryEndpoints": ("userAtHost", "forceDatabaseLookup"),
    "QueryHomeServer": ("userAtHost", "isPhone", "clusterType"), "DomainSupported": ("domain",),
    "CheckUserOption": ("key", "option", "keyIsPhone"), "Log": ("name", "detail", "s"),
}


def _param(fn: str, pos: int) -> str:
    names = PARAMETERS.get(fn, ())
    if not names:
        return f"argument {pos}"
    name = names[min(pos, len(names)) - 1]
    return f"argument {pos} ({name})"


def _string(value: Any, fn: str, pos: int) -> str:
    """``value`` as a string argument of ``fn``; null and non-scalars are faults."""
    if type(value) is str:
        return value
    if value is None:
        raise ScriptFault(f"null passed to {fn} as {_param(fn, pos)}: the script stops here",
                          hint="null means \"not found\" (GetUri, GetParameterValue, QueryHomeServer "
                               "... return it); test the value with `!= null` before passing it on")
    try:
        return to_str(value)
    except ScriptFault:
        raise ScriptFault(f"{fn} expects a string as {_param(fn, pos)}, not a {type_name(value)}") from None


def _integer(value: Any, fn: str, pos: int) -> int:
    if type(value) is int:
        return value
    if value is None:
        raise ScriptFault(f"null passed to {fn} as {_param(fn, pos)}: an int is expected")
    try:
        return to_int(value)
    except ScriptFault as fault:
        raise ScriptFault(f"{fn} expects an int as {_param(fn, pos)}: {fault.message}", fault.hint) from None


def _header_name(value: Any, fn: str, pos: int) -> str:
    """A header name: a string (compact forms allowed) or a StandardHeader constant."""
    if type(value) is EnumValue:
        if value.type != "StandardHeader":
            raise ScriptFault(f"{fn} expects a header name as {_param(fn, pos)}, not {value!r}")
        if not value.text:
            raise ScriptFault(f"{fn}: StandardHeader.Nonstandard names no header",
                              hint="pass the header name as a string, e.g. \"ms-application-aor\"")
        return value.text
    name = _string(value, fn, pos)
    return canonical_header_name(name)


#: For the compiler: a constant header name is worked out once, when the script compiles.
header_name = _header_name


# ============================================================================================
# Routing and message disposition
# ============================================================================================

def _has_strict_route(message: Any) -> bool:
    """A strict (fixed) route: the request carries a Route header (dn439171, ProxyRequest: only "" may be passed then)."""
    return message.get("Route") is not None


def proxy_request(ctx: ScriptContext, node: Any, uri: Any = "") -> None:
    """ProxyRequest(uri): "" hands the request on; a URI sends it there (marks it routed)."""
    if type(uri) is not str:
        uri = _string(uri, "ProxyRequest", 1)
    if uri != "" and ctx.message.get("Route") is not None:    # _has_strict_route, inlined
        raise ScriptFault("ProxyRequest(uri) on a strict-routed request (it has a Route header): "
                          "only ProxyRequest(\"\") is allowed",
                          hint="a request with a Route header already has its path; use ProxyRequest(\"\")")
    disposition = new_disposition("proxy", node.line, node.column, uri)
    if ctx.final is not None:
        ctx.dispose(node, disposition)   # raises: the message already left
    ctx.final = disposition              # ctx.dispose, inlined: a proxy is always final
    ctx.run.dispositions.append(disposition)


def retarget_request(ctx: ScriptContext, node: Any, uri: Any) -> None:
    """RetargetRequest(uri): a new logical target user. The Request-URI of the message is set
    to the new target here; the To header keeps the original user (Dn439073). Later
    applications still run and route it (docs/ARCHITECTURE.md decisions)."""
    text = _string(uri, "RetargetRequest", 1)
    target = sip_address.get_uri(text)
    if not target:
        raise ScriptFault(f"RetargetRequest needs a SIP URI, not {show(text)}",
                          hint='write the new target user, e.g. RetargetRequest("sip:terrya@contoso.com")')
    try:   # the Request-URI must stay one the parser accepts (decision D80)
        check_request_uri(target)
    except UsageError as err:
        raise ScriptFault(f"RetargetRequest: {err}",
                          hint="a Request-URI has no ?headers part and no spaces; e.g. sip:terrya@contoso.com") from None
    ctx.dispose(node, Disposition(kind="retarget", line=node.line, column=node.column, uri=target))
    ctx.retarget(target)


def proxy_response(ctx: ScriptContext, node: Any) -> None:
    """ProxyResponse(): send the response on to the next hop of its route."""
    ctx.dispose(node, Disposition(kind="proxy_response", line=node.line, column=node.column))


def respond(ctx: ScriptContext, node: Any, status: Any, reason: Any, *headers: Any) -> bool:
    """Respond(status, reason, "Name=value", ...): answer the request.

    Returns false when a final response was already sent (a 1xx is not final, dn439187). Each
    extra header without "=" is a critical error of its own (gg425477); the script then stops
    without answering (decision D35).
    Headers added earlier with AddHeader are not copied into the response.
    """
    if ctx.final_response_sent:
        return False
    code = _integer(status, "Respond", 1)
    if not 100 <= code <= 699:
        raise ScriptFault(f"Respond: status code {code} is not between 100 and 699")
    reason_text = _string(reason, "Respond", 2)
    pairs: list[tuple[str, str]] = []
    bad: list[str] = []
    for pos, header in enumerate(headers, start=3):
        text = _string(header, "Respond", pos)
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            bad.append(text)
            ctx.critical(node, f"Respond: header argument {pos} {show(text)} is not \"Name=value\"",
                         hint='write extra headers as "Name=value", e.g. "Contact=<sip:terrya@contoso.com>"')
            continue
        pairs.append((name.strip(), value.strip()))
    ctx.charge(work=len(reason_text) + sum(len(n) + len(v) for n, v in pairs),
               memory=len(reason_text) + sum(len(n) + len(v) for n, v in pairs))
    if bad:
        raise ScriptFault("bad Respond header", node=node, recorded=True)  # one error per header
    ctx.dispose(node, Disposition(kind="respond", line=node.line, column=node.column, status=code,
                                  reason=reason_text, headers=tuple(pairs)))
    if code >= 200:
        ctx.final_response_sent = True
    return True


def begin_fork(ctx: ScriptContext, node: Any, reserved1: Any = False, reserved2: Any = 0) -> None:
    """BeginFork(false, 0): open a fork; Fork adds branches, EndFork sends them."""
    if ctx.fork_open is not None:
        raise ScriptFault(f"BeginFork while the fork opened at line {ctx.fork_open.line} is still open",
                          hint="close a fork with EndFork() before starting another")
    ctx.fork_open = node
    ctx.fork_uris = []


def fork(ctx: ScriptContext, node: Any, uri: Any) -> None:
    """Fork(uri): add a branch with that Request-URI to the open fork."""
    if ctx.fork_open is None:
        raise ScriptFault("Fork without BeginFork", hint="call BeginFork(false, 0) first, then Fork(...) "
                                                         "for each target, then EndFork()")
    if _has_strict_route(ctx.message):
        raise ScriptFault("Fork on a strict-routed request (it has a Route header)",
                          hint="a strict-routed request cannot be forked; use ProxyRequest(\"\")")
    text = _string(uri, "Fork", 1)
    if not text:
        raise ScriptFault("Fork(\"\"): a branch needs a URI",
                          hint="pass the contact of the endpoint, e.g. Fork(dbEndpoint.ContactInfo)")
    if len(ctx.fork_uris) >= ctx.max_collection:
        raise ScriptFault(f"more than {ctx.max_collection} Fork branches")
    ctx.charge(work=len(text), memory=len(text))
    ctx.fork_uris.append(text)


def end_fork(ctx: ScriptContext, node: Any) -> None:
    """EndFork(): send every branch; needs an open BeginFork and at least one Fork since."""
    opened = ctx.fork_open
    if opened is None:
        raise ScriptFault("EndFork without BeginFork", hint="a fork is BeginFork(false, 0), Fork(...), EndFork()")
    if not ctx.fork_uris:
        ctx.fork_open = None
        raise ScriptFault(f"EndFork with no Fork since BeginFork at line {opened.line}",
                          hint="EndFork needs at least one Fork(uri) (an empty endpoint list?); "
                               "test for targets before BeginFork")
    uris = tuple(ctx.fork_uris)
    ctx.fork_open = None
    ctx.fork_uris = []
    ctx.dispose(node, Disposition(kind="fork", line=node.line, column=node.column, fork_uris=uris))


def _managed_args(ctx: ScriptContext, fn: str, args: tuple) -> tuple:
    out = []
    for pos, value in enumerate(args, start=2):
        t = type(value)
        if value is None or t is str or t is bool or t is int or t is float:
            out.append(value)
        elif t is EnumValue:
            out.append(value.text or value.name)
        else:
            raise ScriptFault(f"{fn}: argument {pos} is a {type_name(value)}; managed code can "
                              "receive bool, int, float, string or null")
    return tuple(out)


def dispatch(ctx: ScriptContext, node: Any, method: Any, *args: Any) -> bool:
    """Dispatch(methodName, args...): hand the message to managed code. The extra arguments
    reach it only for requests (RequestReceivedEventArgs.Parameters). Returns true."""
    name = _string(method, "Dispatch", 1)
    if not name:
        raise ScriptFault("Dispatch needs the name of a managed method")
    values = _managed_args(ctx, "Dispatch", args) if ctx.is_request else ()
    ctx.dispose(node, Disposition(kind="dispatch", line=node.line, column=node.column, method=name,
                                  args=values))
    return True


def dispatch_notification(ctx: ScriptContext, node: Any, method: Any, *args: Any) -> bool:
    """DispatchNotification(methodName, args...): a one-way note to managed code; it cannot
    come after the message was proxied or dispatched. Returns true (queued)."""
    name = _string(method, "DispatchNotification", 1)
    if ctx.final is not None:
        raise ScriptFault(f"DispatchNotification after {ctx.final.describe()} at line {ctx.final.line}",
                          hint="notify managed code before the message is proxied or dispatched")
    values = _managed_args(ctx, "DispatchNotification", args)
    ctx.run.dispositions.append(Disposition(kind="dispatch_notification", line=node.line,
                                            column=node.column, method=name, args=values))
    return True


# ============================================================================================
# Headers and message
# ============================================================================================

_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~")


def add_header(ctx: ScriptContext, node: Any, name: Any, value: Any) -> bool:
    """AddHeader(name, value): add a header to the message; false if one of that name exists."""
    header = _header_name(name, "AddHeader", 1)
    text = _string(value, "AddHeader", 2)
    if not header or not set(header) <= _TOKEN_CHARS:
        raise ScriptFault(f"AddHeader: {show(header)} is not a header name",
                          hint="a header name is letters, digits and '-', e.g. \"ms-application-aor\"")
    if "\r" in text or "\n" in text:
        raise ScriptFault("AddHeader: the value contains a line break",
                          hint="a header value is one line; it may carry ;parameters")
    if ctx.message.get(header) is not None:
        return False
    try:
        ctx.charge(work=len(text), memory=len(header) + len(text))   # budget (H2)
        ctx.message.add_header(header, text)
    except UsageError as err:   # a value the parser would refuse in this message (decision D80)
        raise ScriptFault(f"AddHeader: {err}",
                          hint="the header would make the message one the server cannot parse; correct "
                               "the value (quote a display name, escape special characters as %XX)") from None
    return True


def get_header_values(ctx: ScriptContext, node: Any, name: Any) -> tuple:
    """GetHeaderValues(name): every value of the header (comma lists split), empty if none."""
    return header_values(ctx, _header_name(name, "GetHeaderValues", 1))


def header_values(ctx: ScriptContext, header: str) -> tuple:
    """GetHeaderValues of a header name already checked (``header_name``)."""
    values = ctx.message.get_all(header)
    joined = "".join(values)   # measured and checked in one pass, not a Python loop per value
    if joined.isascii():
        size = len(values) + len(joined)
    else:
        values = [wire_text(v) for v in values]
        size = len(values) + sum(len(v) for v in values)
    ctx.work += size     # ctx.charge(work=size, memory=size), inlined
    ctx.memory += size
    if ctx.work > ctx.work_budget or ctx.memory > ctx.memory_budget:
        ctx.work -= size
        ctx.memory -= size
        ctx.charge(work=size, memory=size)   # raises the fault of the budget that is over
    return tuple(values)


def get_parameter_value(ctx: ScriptContext, node: Any, header: Any, parameter: Any) -> str | None:
    """GetParameterValue(headerString, name): a name=value parameter, or null."""
    text = _string(header, "GetParameterValue", 1)
    name = _string(parameter, "GetParameterValue", 2)
    ctx.charge(work=len(text) + len(name))
    return sip_address.get_parameter_value(text, name)


def set_parameter_value(ctx: ScriptContext, node: Any, header: Any, parameter: Any, value: Any) -> bool:
    """SetParameterValue(header, name, value): set (or with "" delete) a parameter of the first
    header of that name; false when the header is missing or the name is empty."""
    name = _header_name(header, "SetParameterValue", 1)
    param = _string(parameter, "SetParameterValue", 2)
    text = _string(value, "SetParameterValue", 3)
    if not param:
        return False
    if "\r" in text or "\n" in text:
        raise ScriptFault("SetParameterValue: the value contains a line break")
    try:
        ctx.charge(work=len(ctx.message.get(name) or "") + len(text),
                   memory=len(param) + len(text))   # budget (H2): the header is rebuilt
        return bool(ctx.message.set_header_param(name, param, text))
    except UsageError as err:   # a name that is no token, or a value the parser would refuse (D80)
        raise ScriptFault(f"SetParameterValue: {err}",
                          hint="a parameter name is letters, digits and '-', e.g. \"epid\"; a value is a "
                               "token (letters, digits, -.!%*_+`'~) or a \"quoted string\"") from None


def supports_method(ctx: ScriptContext, node: Any, method: Any, mask: Any, extra: Any) -> bool:
    """SupportsMethod(method, standardMethods, extraMethods) (L13 dn439196): is the method in
    the bit mask (server.METHOD_BITS) or the comma list? True if both are empty; false if the
    method is empty or holds a comma."""
    if type(method) is EnumValue and method.type == "StandardMethod":
        name = method.text
    else:
        name = _string(method, "SupportsMethod", 1)
    bits = _integer(mask, "SupportsMethod", 2)
    others = _string(extra, "SupportsMethod", 3)
    ctx.charge(work=len(name) + len(others))
    if not name or "," in name:
        return False
    if bits == 0 and not others.strip():
        return True
    upper = name.strip().upper()
    bit = METHOD_BITS.get(upper)
    if bit is not None and bits & bit:
        return True
    return any(item.strip().upper() == upper for item in others.split(","))


# ============================================================================================
# Strings
# ============================================================================================

def concatenate(ctx: ScriptContext, node: Any, *parts: Any) -> str:
    """Concatenate(s1, ..., sN): the strings joined; ints become their text."""
    return join_strings(ctx, parts)


def join_strings(ctx: ScriptContext, parts: Any) -> str:
    """Concatenate of the values ``parts`` (a list or tuple)."""
    out = []
    size = 0
    pos = 0
    for part in parts:
        pos += 1
        if type(part) is not str:
            part = _string(part, "Concatenate", pos)
        out.append(part)
        size += len(part)
    if size > ctx.max_string:
        raise ScriptFault(f"Concatenate built a string of {size} characters; the limit is {ctx.max_string}",
                          hint="mspl-lite bounds the memory of a script run")
    ctx.charge(work=size, memory=size)
    text = "".join(out)
    if len(text) > ctx.max_string:
        raise ScriptFault(f"Concatenate built a string of {len(text)} characters; the limit is {ctx.max_string}",
                          hint="mspl-lite bounds the memory of a script run")
    return text


def _fold(text: str, ignore_case: bool) -> str:
    return text.casefold() if ignore_case else text


def contains_string(ctx: ScriptContext, node: Any, source: Any, search: Any, ignore_case: Any) -> bool:
    """ContainsString(source, search, ignoreCase): true = ignore case (bb680016, OCS 2007)."""
    s = source if type(source) is str else _string(source, "ContainsString", 1)
    t = search if type(search) is str else _string(search, "ContainsString", 2)
    flag = ignore_case if ignore_case is True or ignore_case is False else truth(ignore_case)
    work = (len(s) + len(t)) * (2 if flag else 1)
    ctx.work += work    # ctx.charge(work=work), inlined
    if ctx.work > ctx.work_budget:
        ctx.work -= work
        ctx.charge(work=work)   # raises the work budget's fault
    if flag:    # _fold, inlined
        return t.casefold() in s.casefold()
    return t in s


def equal_string(ctx: ScriptContext, node: Any, a: Any, b: Any, ignore_case: Any) -> bool:
    """EqualString(a, b, ignoreCase): true = ignore case (dn439156)."""
    x = _string(a, "EqualString", 1)
    y = _string(b, "EqualString", 2)
    flag = truth(ignore_case)
    if len(x) == len(y) or flag:   # unequal lengths compare in no time, unless folded
        ctx.charge(work=(len(x) + len(y)) * (2 if flag else 1))
    return _fold(x, flag) == _fold(y, flag)


def index_of_string(ctx: ScriptContext, node: Any, target: Any, search: Any, ignore_case: Any = False) -> int:
    """IndexOfString(target, search, ignoreCase): 0-based index or -1; -1 too when either is
    empty or null (the one function that takes null without stopping the script).

    ``ignoreCase`` true ignores case, as its name says (decision D8). The function's page says
    the opposite in every version (dn439180, gg439570, bb680047): "If set to true, the search will
    be case-sensitive." Omitted means false: case-sensitive (the page: case-insensitive).
    """
    if target is None or search is None:
        return -1
    t = _string(target, "IndexOfString", 1)
    s = _string(search, "IndexOfString", 2)
    if not t or not s or len(s) > len(t):
        return -1
    if not truth(ignore_case):
        ctx.charge(work=len(t) + len(s))
        return t.find(s)
    ctx.charge(work=3 * (len(t) + len(s)))
    return _find_ignoring_case(ctx, t, s)


def _find_ignoring_case(ctx: ScriptContext, text: str, search: str) -> int:
    """The index in ``text`` (the original) of the first match of ``search``, ignoring case.

    Linear: one ``lower()`` of each and ``str.find``. U+0130 "İ" is the one character whose
    ``lower()`` is longer (two characters, "i" and U+0307); the lowered positions of the İs,
    found with one regex scan, map a match back to the original by bisection, and a match must
    start and end on a character boundary of the original, as a slice-by-slice comparison would."""
    lowered, needle = text.lower(), search.lower()
    if len(lowered) == len(text):
        return lowered.find(needle)
    # One Python-level entry per İ costs about what str.find does for 40 characters: charged so.
    ctx.charge(work=_PER_DOTTED_I * text.count("\u0130"))
    # the lowered index of each İ: its original index plus one for each İ before it
    expanded = [match.start() + count for count, match in enumerate(_DOTTED_CAPITAL_I.finditer(text))]

    def boundary(at: int) -> bool:   # not the U+0307 half of a lowered İ
        before = bisect.bisect_left(expanded, at)
        return not (before and expanded[before - 1] + 1 == at)

    found = lowered.find(needle)
    while found >= 0:
        if boundary(found) and boundary(found + len(needle)):
            return found - bisect.bisect_left(expanded, found)
        ctx.charge(work=len(needle))   # a match inside a lowered İ: look on (bounded)
        found = lowered.find(needle, found + 1)
    return -1


#: The work of mapping one İ back (a list entry made in Python), in characters of str.find.
_PER_DOTTED_I = 40
#: The one character whose lower case is longer: U+0130 -> "i\u0307" (checked over all of Unicode).
_DOTTED_CAPITAL_I = re.compile("\u0130")


def sub_string(ctx: ScriptContext, node: Any, text: Any, start: Any, length: Any = None) -> str | None:
    """SubString(s, start, length): without length to the end. A start or length outside the
    string gives null (start == length of s gives ""); so does a negative start or length."""
    s = _string(text, "SubString", 1)
    i = _integer(start, "SubString", 2)
    if i < 0 or i > len(s):
        return None
    if length is None:
        ctx.charge(work=len(s) - i, memory=len(s) - i)
        return s[i:]
    n = _integer(length, "SubString", 3)
    if n < 0 or i + n > len(s):
        return None
    ctx.charge(work=n, memory=n)
    return s[i:i + n]


def split(ctx: ScriptContext, node: Any, source: Any, separator: Any) -> tuple:
    """Split(source, separator): only the first character of the separator counts; "" means
    a comma; adjacent separators give empty elements; no separator found -> (source,)."""
    s = _string(source, "Split", 1)
    sep = _string(separator, "Split", 2)
    ctx.charge(work=len(s), memory=len(s))
    parts = s.split(sep[0] if sep else ",")
    if len(parts) > ctx.max_collection:
        raise ScriptFault(f"Split made {len(parts)} elements; the limit is {ctx.max_collection}",
                          hint="mspl-lite bounds the memory of a script run")
    return tuple(parts)


def length_string(ctx: ScriptContext, node: Any, text: Any) -> int:
    """LengthString(s): the number of characters."""
    return len(_string(text, "LengthString", 1))


# ============================================================================================
# URIs and addresses (mspl_lite.sip.address; each returns null when not found)
# ============================================================================================

def _uri_function(fn: str, helper: str) -> Callable[..., Any]:
    function = getattr(sip_address, helper)

    def impl(ctx: ScriptContext, node: Any, text: Any) -> str | None:
        if type(text) is not str:
            text = _string(text, fn, 1)
        n = len(text)
        ctx.work += n    # ctx.charge(work=n), inlined: these are a script's commonest calls
        if ctx.work > ctx.work_budget:
            ctx.work -= n
            ctx.charge(work=n)   # raises the work budget's fault
        return function(text)
    impl.__name__ = helper
    impl.helper = function   # the compiler calls it directly for a string argument (_uri_call)
    impl.__doc__ = f"{fn}(address): via mspl_lite.sip.address.{helper}; null when not found."
    return impl


def is_phone_uri(ctx: ScriptContext, node: Any, uri: Any) -> bool:
    """IsPhoneUri(uri): true if the URI contains the user=phone parameter, "otherwise, false"
    (dn439134): false for a tel: URI, for text that is no URI and for null (decision D30)."""
    if uri is None:
        return False
    text = uri if type(uri) is str else _string(uri, "IsPhoneUri", 1)
    ctx.charge(work=len(text))
    return sip_address.is_phone_uri(text)


def get_uri_parameter(ctx: ScriptContext, node: Any, uri: Any, name: Any) -> str | None:
    """GetUriParameter(uri, name): the value of a URI parameter; null if absent or valueless."""
    text = _string(uri, "GetUriParameter", 1)
    parameter = _string(name, "GetUriParameter", 2)
    ctx.charge(work=len(text) + len(parameter))
    return sip_address.get_uri_parameter(text, parameter)


# ============================================================================================
# Registrar, users, server
# ============================================================================================

def query_endpoints(ctx: ScriptContext, node: Any, user_at_host: Any, force_db: Any = False) -> tuple:
    """QueryEndpoints(userAtHost, forceDatabaseLookup): the user's registered endpoints.
    Only valid as the collection of ``foreach (dbEndpoint in ...)`` (the compiler checks)."""
    key = _string(user_at_host, "QueryEndpoints", 1)
    endpoints = tuple(ctx.server.query_endpoints(key, truth(force_db)))
    for endpoint in endpoints:
        if not isinstance(endpoint, RegistrarEndpoint):
            raise TypeError(f"ServerState.query_endpoints returned a {type(endpoint).__name__}")
    return endpoints


def _enum_name(value: Any, enum_type: str, fn: str, pos: int) -> str:
    if type(value) is EnumValue:
        if value.type != enum_type:
            raise ScriptFault(f"{fn} expects a {enum_type} as {_param(fn, pos)}, not {value!r}")
        return value.name
    return _string(value, fn, pos).rsplit(".", 1)[-1]


def query_home_server(ctx: ScriptContext, node: Any, user_at_host: Any, is_phone: Any = False,
                      cluster_type: Any = None) -> str | None:
    """QueryHomeServer(userAtHost, isPhone, clusterType): the home pool FQDN, or null."""
    key = _string(user_at_host, "QueryHomeServer", 1)
    cluster = "UserServices" if cluster_type is None else _enum_name(cluster_type, "ClusterType",
                                                                   "QueryHomeServer", 3)
    return ctx.server.query_home_server(key, truth(is_phone), cluster)


def domain_supported(ctx: ScriptContext, node: Any, domain: Any) -> bool:
    """DomainSupported(domain): does this registrar serve the domain ("" = is it available)."""
    return bool(ctx.server.domain_supported(_string(domain, "DomainSupported", 1)))


def check_user_option(ctx: ScriptContext, node: Any, key: Any, option: Any, key_is_phone: Any = False) -> bool:
    """CheckUserOption(key, option, keyIsPhone): a per-user setting."""
    text = _string(key, "CheckUserOption", 1)
    name = _enum_name(option, "UserOption", "CheckUserOption", 2)
    return bool(ctx.server.check_user_option(text, name, truth(key_is_phone)))


def log(ctx: ScriptContext, node: Any, name: Any, detail: Any, *texts: Any) -> None:
    """Log(name, detail, s1, ...): "Event" and "Error" go to the event log, "Debugr" and every
    other name to the debug log (L10 gg439513); ``detail`` may be a bool or an int."""
    level_name = _string(name, "Log", 1)
    write_log(ctx, node, level_name, log_level(level_name), truth(detail), list(texts), 3)


def log_level(name: str) -> str:
    """Where ``Log(name, ...)`` writes: "Event", "Error", or "Debugr" for every other name."""
    return name if name in ("Event", "Error") else "Debugr"


def write_log(ctx: ScriptContext, node: Any, level_name: str, level: str, full: bool, texts: list,
              first: int) -> None:
    """Log's entry, once its name and flag are known: ``texts`` are the values to log (the list
    is reused for their strings), ``first`` the argument position of the first, for messages."""
    size = len(level_name)
    pos = first
    for i, t in enumerate(texts):   # a plain loop, not generators: Log is a common call
        if type(t) is not str:
            if type(t) is int:
                texts[i] = t = str(t)   # to_str of an int, inlined
            elif t is True or t is False:
                texts[i] = t = "true" if t else "false"
            else:
                texts[i] = t = _string(t, "Log", pos)
        size += len(t)
        pos += 1
    append_log(ctx, node, level_name, level, full, tuple(texts), size)


def append_log(ctx: ScriptContext, node: Any, level_name: str, level: str, full: bool,
               lines: tuple, size: int) -> None:
    """Record Log's entry: ``lines`` are its strings, ``size`` their length and the name's."""
    if full:   # the whole message is written out: its headers, measured before they are copied
        size += sum(len(h.name) + len(h.value) + 4 for h in ctx.message.headers)
    ctx.work += size     # ctx.charge(work=size, memory=size), inlined
    ctx.memory += size
    if ctx.work > ctx.work_budget or ctx.memory > ctx.memory_budget:
        ctx.work -= size
        ctx.memory -= size
        ctx.charge(work=size, memory=size)   # raises the fault of the budget that is over
    ctx.run.log.append(new_log_entry(level, level_name, full, lines, _log_summary(ctx, full), node.line,
                                     node.column))


def _log_summary(ctx: ScriptContext, detail: bool) -> tuple[str, ...]:
    """What the server adds to a logged line (LogEntry.summary)."""
    message = ctx.message
    if detail:
        text = str(message).split("\r\n\r\n", 1)[0].split("\n\n", 1)[0]
        return tuple(line.rstrip("\r") for line in text.split("\n"))
    if ctx.is_request:
        return (f"Application: {ctx.app_uri}", f"Method: {message.method}", f"Request-Uri: {message.request_uri}",
                f"From: {message.get('From') or ''}", f"To: {message.get('To') or ''}")
    cseq = (message.get("CSeq") or "").split()
    return (f"Application: {ctx.app_uri}", f"Method: {cseq[-1] if cseq else ''}",
            f"Status: {message.status_code} {message.reason}",
            f"From: {message.get('From') or ''}", f"To: {message.get('To') or ''}")


log_summary = _log_summary   # for the compiler's Log (compiler._log_call)


# ============================================================================================
# The table the compiler reads
# ============================================================================================

BUILTINS: dict[str, Callable[..., Any]] = {
    "ProxyRequest": proxy_request,
    "RetargetRequest": retarget_request,
    "ProxyResponse": proxy_response,
    "Respond": respond,
    "BeginFork": begin_fork,
    "Fork": fork,
    "EndFork": end_fork,
    "Dispatch": dispatch,
    "DispatchNotification": dispatch_notification,
    "AddHeader": add_header,
    "GetHeaderValues": get_header_values,
    "GetParameterValue": get_parameter_value,
    "SetParameterValue": set_parameter_value,
    "SupportsMethod": supports_method,
    "Concatenate": concatenate,
    "ContainsString": contains_string,
    "EqualString": equal_string,
    "IndexOfString": index_of_string,
    "SubString": sub_string,
    "Split": split,
    "LengthString": length_string,
    "GetUri": _uri_function("GetUri", "get_uri"),
    "GetDisplayName": _uri_function("GetDisplayName", "get_display_name"),
    "GetUserName": _uri_function("GetUserName", "get_user_name"),
    "GetHostName": _uri_function("GetHostName", "get_host_name"),
    "GetUserAtHost": _uri_function("GetUserAtHost", "get_user_at_host"),
    "GetScheme": _uri_function("GetScheme", "get_scheme"),
    "GetUriParameter": get_uri_parameter,
    "IsPhoneUri": is_phone_uri,
    "QueryEndpoints": query_endpoints,
    "QueryHomeServer": query_home_server,
    "DomainSupported": domain_supported,
    "CheckUserOption": check_user_option,
    "Log": log,
}
