"""RFC 3261 section 25 grammar as compiled patterns: the fast path of the SIP parser.

A value one of these patterns matches is valid and costs one regular-expression call; that is
what keeps parsing a whole message cheap. When a pattern does not match, the scanners of
``_scan`` walk the value and raise ``Problem`` at the first character that breaks the rule. The
scanners are the authority: a pattern here may be stricter than its scanner (a miss then only
costs time), never looser. tests/test_sip_torture.py checks both directions.

Linear time, also on Python 3.10 (whose ``re`` has no atomic groups or possessive quantifiers):
every pattern is unambiguous, i.e. no text can be matched two ways. Each repetition's body starts
with a character its neighbour cannot hold (``;`` before a parameter, ``%`` before an escape in
``_run``, ``-``/``.`` between host labels, ``,`` between list elements), and alternatives never
match the same text (``_GEN_VALUE``). A failed match can then only give back characters of the
current element, each tried once, never retry the rest of the value with another split; and a
look-ahead never scans past the element it belongs to (``_USERINFO_AHEAD*``).
tests/test_robust_sip.py times the worst inputs found.
"""
from __future__ import annotations

import re

__all__ = [
    "Problem",
    "TOKEN",
    "TOKEN_CHARS",
    "TOKEN_RE",
    "SCHEME_RE",
    "SIP_URI_NO_HEADERS",
    "SIP_URI_RE",
    "TEL_URI_RE",
    "ABS_URI_RE",
    "ADDRESS_RE",
    "ADDRESS_LIST_RE",
    "NAME_ADDR_LIST_RE",
    "NAME_ADDR_PARTS_RE",
    "VIA_RE",
    "HOST_RE",
    "PORT_RE",
    "USER_CHAR_RE",
    "PASSWORD_CHAR_RE",
    "PARAMCHARS_RE",
    "HNAME_RE",
    "HVALUE_RE",
    "UNQUOTED_VALUE_RE",
    "URIC_CHARS",
]


class Problem(Exception):
    """A grammar fault at ``offset`` of the text being checked; the parser adds line and column."""

    def __init__(self, message: str, offset: int, hint: str):
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.hint = hint


# ---------------------------------------------------------------------------------------------
# Character classes (RFC 3261 section 25.1), written as regex class bodies
# ---------------------------------------------------------------------------------------------

# token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" )
_TOKEN_CLASS = r"A-Za-z0-9\-.!%*_+`'~"
TOKEN_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.!%*_+`'~"
)
# unreserved = alphanum / mark; mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")"
_UNRESERVED = r"A-Za-z0-9\-_.!~*'()"
_ESCAPED = r"%[0-9A-Fa-f]{2}"

TOKEN = rf"[{_TOKEN_CLASS}]+"
SWS = r"[ \t]*"
LWS = r"[ \t]+"



def _run(cls: str, *, at_least_one: bool) -> str:
    """``*( [cls] / escaped )`` as one unambiguous run: plain characters, then escapes each
    followed by plain characters. Linear to match, and much faster than an alternation per
    character; no nested quantifier can split the same text two ways (no catastrophic backtracking).
    """
    body = rf"[{cls}]*(?:{_ESCAPED}[{cls}]*)*"
    return rf"(?=[{cls}]|{_ESCAPED}){body}" if at_least_one else body


# user = 1*( unreserved / escaped / user-unreserved ); user-unreserved = & = + $ , ; ? /
_USER_CLASS = rf"{_UNRESERVED}&=+$,;?/"
_USER = _run(_USER_CLASS, at_least_one=True)
# In the addr-spec form of From/To/Contact a URI may not hold ; , or ? (RFC 3261 20.10).
_USER_BARE = _run(rf"{_UNRESERVED}&=+$/", at_least_one=True)
# password = *( unreserved / escaped / & = + $ , )
_PASSWORD_CLASS = rf"{_UNRESERVED}&=+$,"
_PASSWORD = _run(_PASSWORD_CLASS, at_least_one=False)
_PASSWORD_BARE = _run(rf"{_UNRESERVED}&=+$", at_least_one=False)  # no ',' outside <> either
# A userinfo is only tried when an '@' lies ahead inside this URI.
_USERINFO_AHEAD = r"(?=[^@<>\s]*@)"
# In the bare (addr-spec) form the userinfo cannot hold ; , or ?, so the look-ahead stops there too:
# it then scans one list element, not the rest of a long "sip:a,sip:b,..." list (which was quadratic).
_USERINFO_AHEAD_BARE = r"(?=[^@<>\s;,?]*@)"
# host = hostname / IPv4address / IPv6reference. Written as dot-separated labels of letters and
# digits with inner hyphens, which covers hostnames and IPv4 in one unambiguous pattern; RFC 3261's
# "toplabel starts with a letter" is not enforced (it only tells hostnames from IPv4 addresses).
_LABEL = r"[A-Za-z0-9]+(?:-+[A-Za-z0-9]+)*"
_IPV6_REF = r"\[[0-9A-Fa-f:.]+\]"
HOST = rf"(?:{_LABEL}(?:\.{_LABEL})*\.?|{_IPV6_REF})"
_PORT = r"[0-9]+"
# paramchar = param-unreserved / unreserved / escaped; param-unreserved = [ ] / : & + $
_PARAM_CLASS = rf"{_UNRESERVED}\[\]/:&+$"
_PARAMCHARS = _run(_PARAM_CLASS, at_least_one=True)
_URI_PARAMS = rf"(?:;{_PARAMCHARS}(?:={_PARAMCHARS})?)*"
# hname / hvalue chars: hnv-unreserved = [ ] / ? : + $
_HNV_CLASS = rf"{_UNRESERVED}\[\]/?:+$"
_HNAME = _run(_HNV_CLASS, at_least_one=True)
_HVALUE = _run(_HNV_CLASS, at_least_one=False)
_URI_HEADER_LIST = rf"{_HNAME}={_HVALUE}(?:&{_HNAME}={_HVALUE})*"
_URI_HEADERS = rf"\?{_URI_HEADER_LIST}"

_SIP_SCHEME = r"[Ss][Ii][Pp][Ss]?"
SIP_URI_NO_HEADERS = rf"{_SIP_SCHEME}:(?:{_USERINFO_AHEAD}{_USER}(?::{_PASSWORD})?@)?{HOST}(?::{_PORT})?{_URI_PARAMS}"
SIP_URI = rf"{SIP_URI_NO_HEADERS}(?:{_URI_HEADERS})?"
_SIP_URI_BARE = rf"{_SIP_SCHEME}:(?:{_USERINFO_AHEAD_BARE}{_USER_BARE}(?::{_PASSWORD_BARE})?@)?{HOST}(?::{_PORT})?"
# RFC 3966: global numbers start with "+"; local ones may hold hex digits, * and #.
_TEL_NUMBER = (
    r"(?:\+(?=[0-9().\-]*[0-9])[0-9().\-]+"
    r"|(?=[0-9A-Fa-f*#().\-]*[0-9A-Fa-f*#])[0-9A-Fa-f*#().\-]+)"
)
TEL_URI = rf"[Tt][Ee][Ll]:{_TEL_NUMBER}{_URI_PARAMS}"
# absoluteURI of any other scheme: scheme ":" 1*uric (loosely; RFC 2396)
_ABS_URI = r"[A-Za-z][A-Za-z0-9+.\-]*:[A-Za-z0-9\-_.!~*'();/?:@&=+$,%\[\]]+"

# quoted-string = SWS DQUOTE *(qdtext / quoted-pair ) DQUOTE; qdtext allows UTF-8 (any char > 0x7F)
_QDTEXT = r'[^"\\\x00-\x08\x0a-\x1f\x7f]'
_QUOTED_PAIR = r"\\[\x00-\x09\x0b\x0c\x0e-\x7f]"
QUOTED = rf'"{_QDTEXT}*(?:{_QUOTED_PAIR}{_QDTEXT}*)*"'
# gen-value = token / host / quoted-string (host includes IPv6, written bare in Via received=).
# The alternatives start differently or differ in one character, so no text matches two of them:
# a bare IPv6 address has a ':' (its first ':' is fixed by [hex.]* before it), which a token never
# holds; "[" and '"' start the others. The old third branch, [0-9A-Fa-f:.]+, also matched tokens
# such as "abc", so every ";p=abc" could be read two ways and a failing match backtracked through
# 2**n readings (seconds at 20 parameters, hours at 40).
_BARE_IPV6 = r"[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*"
_GEN_VALUE = rf"(?:{TOKEN}|{_IPV6_REF}|{_BARE_IPV6}|{QUOTED})"
_HEADER_PARAMS = rf"(?:{SWS};{SWS}{TOKEN}(?:{SWS}={SWS}{_GEN_VALUE})?)*"
_DISPLAY_NAME = rf"(?:{QUOTED}|{TOKEN}(?:{LWS}{TOKEN})*)"
_NAME_ADDR = rf"(?:{_DISPLAY_NAME}{SWS})?<(?:{SIP_URI}|{TEL_URI})>"
_ADDRESS = rf"(?:{_NAME_ADDR}|{_SIP_URI_BARE}){_HEADER_PARAMS}"
_VIA_PARM = (
    rf"{TOKEN}{SWS}/{SWS}{TOKEN}{SWS}/{SWS}{TOKEN}{LWS}{HOST}(?:{SWS}:{SWS}{_PORT})?{_HEADER_PARAMS}"
)

# ---------------------------------------------------------------------------------------------
# Compiled patterns (the fast path)
# ---------------------------------------------------------------------------------------------

TOKEN_RE = re.compile(TOKEN)
SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
SIP_URI_RE = re.compile(
    rf"(?P<scheme>{_SIP_SCHEME}):(?:{_USERINFO_AHEAD}(?P<user>{_USER})(?::(?P<password>{_PASSWORD}))?@)?"
    rf"(?P<host>{HOST})(?::(?P<port>{_PORT}))?(?P<params>{_URI_PARAMS})"
    rf"(?:\?(?P<headers>{_URI_HEADER_LIST}))?"
)
TEL_URI_RE = re.compile(
    rf"(?P<scheme>[Tt][Ee][Ll]):(?P<user>{_TEL_NUMBER})(?P<params>{_URI_PARAMS})"
)
ABS_URI_RE = re.compile(_ABS_URI)
ADDRESS_RE = re.compile(_ADDRESS)
ADDRESS_LIST_RE = re.compile(rf"{_ADDRESS}(?:{SWS},{SWS}{_ADDRESS})*")
NAME_ADDR_LIST_RE = re.compile(
    rf"{_NAME_ADDR}{_HEADER_PARAMS}(?:{SWS},{SWS}{_NAME_ADDR}{_HEADER_PARAMS})*"
)
VIA_RE = re.compile(rf"{_VIA_PARM}(?:{SWS},{SWS}{_VIA_PARM})*")
# One name-addr with its header params, the display name and URI captured (address helpers).
NAME_ADDR_PARTS_RE = re.compile(
    rf"(?:(?P<dn>{_DISPLAY_NAME}){SWS})?<(?P<uri>{SIP_URI}|{TEL_URI})>{_HEADER_PARAMS}"
)

HOST_RE = re.compile(HOST)
PORT_RE = re.compile(_PORT)
USER_CHAR_RE = re.compile(rf"[{_USER_CLASS}]|{_ESCAPED}")
PASSWORD_CHAR_RE = re.compile(rf"[{_PASSWORD_CLASS}]|{_ESCAPED}")
PARAMCHARS_RE = re.compile(_PARAMCHARS)
HNAME_RE = re.compile(_HNAME)
HVALUE_RE = re.compile(_HVALUE)
# The bare IPv6 branch first: re.match takes the first branch that matches, and a token would stop
# at the first ':' of "2001:db8::1".
UNQUOTED_VALUE_RE = re.compile(rf"{_BARE_IPV6}|{TOKEN}|{_IPV6_REF}")
URIC_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'();/?:@&=+$,%[]"
)
