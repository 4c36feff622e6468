"""Hypothesis strategies shared by the fuzz targets: real inputs, their mutations, SIP and XML grammars.

Seeds are the project's own files: the RFC 4475 torture messages (tests/data/sip-torture), the
shipped sample messages and applications (mspl_lite/data) and the test manifests. Mutations are the
edits issue 14's campaign found dangerous: byte flips, runs of ``;p=abc``, ``<``, ``"``, ``\\``,
CR/LF, NUL, huge digit runs, folded whitespace, and lone surrogates in str input.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "mspl_lite" / "data"
TORTURE = ROOT / "tests" / "data" / "sip-torture"


@lru_cache(maxsize=None)
def torture_messages() -> tuple[bytes, ...]:
    """The 49 RFC 4475 torture messages listed in INDEX.tsv."""
    rows = (TORTURE / "INDEX.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return tuple((TORTURE / row.split("\t")[0]).read_bytes() for row in rows if row.strip())


@lru_cache(maxsize=None)
def sample_messages() -> tuple[bytes, ...]:
    return tuple(p.read_bytes() for p in sorted((DATA / "messages").glob("*.sip")))


@lru_cache(maxsize=None)
def manifest_files() -> tuple[Path, ...]:
    """Every shipped and test manifest."""
    paths = sorted((DATA / "apps").glob("*.am")) + sorted((DATA / "real-pool-test").glob("*.am"))
    for folder in ("manifests", "frontend", "check"):
        paths += sorted((ROOT / "tests" / "data" / folder).glob("*.am"))
    return tuple(paths)


@lru_cache(maxsize=None)
def shipped_apps() -> tuple[Path, ...]:
    return tuple(sorted((DATA / "apps").glob("*.am")))


@lru_cache(maxsize=None)
def scripts() -> tuple[str, ...]:
    """The MSPL scripts inside the manifests (CDATA of splScript) and the bare test scripts."""
    out = []
    for path in manifest_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        out += re.findall(r"<!\[CDATA\[(.*?)\]\]>", text, re.S)
    out += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "tests" / "data").rglob("*.mspl"))]
    return tuple(s for s in out if s.strip())


# -- mutations ------------------------------------------------------------------------------------

#: What a mutation inserts: the constructs behind issue 14's classes.
PALETTE: tuple[bytes, ...] = (
    b";p=abc" * 3, b";p=abc" * 30, b"<", b">", b'"', b"\\", b"\r\n", b"\n", b"\r", b"\x00", b" \t",
    b"\r\n ", b"\r\n \r\n \r\n ", b"9" * 40, b"9" * 5000, b"1.5", b"%", b"%00", b"@", b":", b";", b",",
    b"=", b"sip:", b"<sip:a@b>", b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf0\x9f\x98\x80", b"]]>",
    b"<![CDATA[", b"&", b"&amp;", b"&#0;", b"&#x110000;", b"&undefined;", b'"\\"', b"{", b"}", b"(", b")",
    b"/*", b"*/", b"//", b"\xc4\xb0",
)
#: Rare large insertions: the quadratic classes need size (a 240 KB Contact without brackets, 80 KB
#: of folded whitespace, thousands of duplicate elements).
LARGE: tuple[bytes, ...] = (b"x" * 240_000, b" \r\n" * 27_000, b";p=abc" * 10_000, b"<r:scriptOnly/>" * 10_000)

#: One character that ends a run of parameters badly.
BAD_TAILS: tuple[bytes, ...] = (b"\x01", b"<", b'"', b"\\", b" x", b";", b"=", b"@", b"\x00", b"\xff", b",,")


@st.composite
def mutated(draw, seeds, max_edits: int = 6) -> bytes:
    """One of ``seeds`` with 1 to ``max_edits`` edits (flip, insert, delete, duplicate, truncate)."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, max_edits))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(("flip", "insert", "insert", "insert", "delete", "repeat", "truncate",
                                     "bomb", "bomb") * 4 + ("large",)))
        if kind == "large":
            data[at:at] = draw(st.sampled_from(LARGE))
        elif kind == "bomb":
            # Issue 14's backtracking shape: many parameters, then one bad character, at a line's end.
            ends = [i for i in range(len(data) - 1) if data[i:i + 2] == b"\r\n"] or [len(data)]
            at = draw(st.sampled_from(ends[:40]))
            data[at:at] = b";p=abc" * draw(st.sampled_from((5, 20, 40))) + draw(st.sampled_from(BAD_TAILS))
        elif kind == "flip" and data:
            at = min(at, len(data) - 1)
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "insert":
            piece = draw(st.sampled_from(PALETTE) | st.binary(min_size=1, max_size=8))
            data[at:at] = piece * draw(st.sampled_from((1, 1, 2, 20)))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 40))]
        elif kind == "repeat":
            span = bytes(data[at:at + draw(st.integers(1, 30))])
            data[at:at] = span * draw(st.sampled_from((2, 10, 50, 2000)))
        elif kind == "truncate":
            del data[at:]
    return bytes(data)


@st.composite
def as_text(draw, data: bytes) -> str:
    """Bytes as a learner's text: decoded (bad bytes as lone surrogates), sometimes with a lone surrogate added."""
    text = data.decode("utf-8", "surrogateescape")
    if draw(st.booleans()):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(("\ud800", "\udfff", "\udcff", "\u0130", "\u2028", "\x85"))) + text[at:]
    return text


def mutated_text(seeds, max_edits: int = 6):
    return mutated(seeds, max_edits).flatmap(as_text)


# -- SIP grammar ----------------------------------------------------------------------------------

TOKEN = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~", min_size=1, max_size=12)
METHODS = st.sampled_from(("INVITE", "MESSAGE", "REGISTER", "BYE", "ACK", "OPTIONS", "SUBSCRIBE", "NOTIFY",
                           "INFO", "CANCEL", "SERVICE", "BENOTIFY")) | TOKEN.map(str.upper)
HOSTS = st.sampled_from(("contoso.com", "fabrikam.com", "192.0.2.31", "[2001:db8::1]", "pool01.contoso.com",
                         "a" * 300, "")) | TOKEN
USERS = st.sampled_from(("jennyl", "nuriag", "+14255550100", "a;b=c", "%41%00", "", "user name")) | TOKEN

_any_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)


@st.composite
def params(draw) -> str:
    out = []
    for _ in range(draw(st.sampled_from((0, 1, 2, 3, 25)))):
        name = draw(TOKEN | st.sampled_from(("tag", "epid", "branch", "transport", "lr", "maddr", "p")))
        form = draw(st.sampled_from(("flag", "token", "quoted", "quoted", "raw")))
        if form == "flag":
            out.append(f";{name}")
        elif form == "token":
            out.append(f";{name}={draw(TOKEN)}")
        elif form == "quoted":
            value = draw(_any_text).replace("\\", "\\\\").replace('"', '\\"')
            out.append(f';{name}="{value}"')
        else:
            out.append(f";{name}={draw(_any_text)}")
    if out and draw(st.integers(0, 3)) == 0:
        out.append(draw(st.sampled_from(BAD_TAILS)).decode("utf-8", "surrogateescape"))
    return "".join(out)


@st.composite
def sip_uri(draw) -> str:
    scheme = draw(st.sampled_from(("sip", "sips", "tel", "SIP", "http", "")))
    user = draw(USERS)
    at = f"{user}@" if user and draw(st.booleans()) else ""
    port = draw(st.sampled_from(("", ":5061", ":0", ":99999999999999999999", ":x")))
    return f"{scheme}:{at}{draw(HOSTS)}{port}{draw(params())}" if scheme else f"{at}{draw(HOSTS)}"


@st.composite
def address(draw) -> str:
    """A name-addr or addr-spec with header parameters, as in From, To, Contact, Route."""
    uri = draw(sip_uri())
    form = draw(st.sampled_from(("bare", "angle", "token-name", "quoted-name", "star")))
    if form == "bare":
        core = uri
    elif form == "angle":
        core = f"<{uri}>"
    elif form == "token-name":
        core = f"{draw(TOKEN)} <{uri}>"
    elif form == "star":
        core = "*"
    else:
        name = draw(_any_text)
        if draw(st.booleans()):
            name = name.replace("\\", "\\\\").replace('"', '\\"')
        core = f'"{name}" <{uri}>' if draw(st.booleans()) else f'"{name}"<{uri}>'
    return core + draw(params())


@st.composite
def header_value(draw, name: str) -> str:
    key = name.lower()
    if key in ("from", "f", "to", "t", "contact", "m", "route", "record-route", "refer-to", "p-asserted-identity"):
        value = ", ".join(draw(st.lists(address(), min_size=1, max_size=draw(st.sampled_from((1, 1, 3)))))) \
            if key in ("contact", "m", "route", "record-route") else draw(address())
    elif key in ("via", "v"):
        value = f"SIP/2.0/{draw(st.sampled_from(('TLS', 'UDP', 'TCP', 'WS', 'X')))} {draw(HOSTS)}{draw(params())}"
    elif key in ("cseq",):
        value = f"{draw(st.sampled_from(('1', '0', '4294967296', '9' * 60, 'x')))} {draw(METHODS)}"
    elif key in ("content-length", "l", "max-forwards", "expires"):
        value = draw(st.sampled_from(("0", "70", "-1", "9" * 30, "", " 12 ", "1e3")))
    else:
        value = draw(_any_text | address())
    if draw(st.integers(0, 5)) == 0:  # folding: a line break and whitespace continue the value
        parts = value.split(" ")
        value = draw(st.sampled_from(("\r\n ", "\r\n\t", "\r\n  \r\n "))).join(parts)
    return value


HEADER_NAMES = st.sampled_from(("Via", "v", "From", "f", "To", "t", "Call-ID", "i", "CSeq", "Contact", "m",
                                "Route", "Record-Route", "Max-Forwards", "Content-Type", "c", "Expires",
                                "Subject", "s", "User-Agent", "P-Asserted-Identity", "Refer-To", "Supported",
                                "ms-text-format", "X-Route-Hint")) | TOKEN


@st.composite
def sip_message(draw) -> bytes:
    """A plausible SIP request or response: random headers, parameters, quoting, folding and body."""
    if draw(st.booleans()):
        start = f"{draw(METHODS)} {draw(sip_uri())} SIP/2.0"
    else:
        code = draw(st.sampled_from((100, 180, 200, 302, 404, 486, 699, 0, 1000, 99)) | st.integers(100, 699))
        start = f"SIP/2.0 {code} {draw(_any_text)}"
    headers = []
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        if draw(st.integers(0, 9)):
            headers.append((name, draw(header_value(name))))
    for name in draw(st.lists(HEADER_NAMES, max_size=8)):
        headers.append((name, draw(header_value(name))))
    headers = draw(st.permutations(headers)) if draw(st.booleans()) else headers
    body = draw(st.sampled_from((b"", b"", b"hello", b"v=0\r\no=- 0 0 IN IP4 192.0.2.31\r\n")) | st.binary(max_size=64))
    length = draw(st.sampled_from(("right", "right", "none", "more", "less")))
    if length == "right":
        headers.append(("Content-Length", str(len(body))))
    elif length == "more":
        headers.append(("Content-Length", str(len(body) + 5)))
    elif length == "less" and body:
        headers.append(("Content-Length", str(len(body) - 1)))
    sep = draw(st.sampled_from((": ", ":", " : ", ":\t")))
    text = start + "\r\n" + "".join(f"{n}{sep}{v}\r\n" for n, v in headers) + "\r\n"
    return text.encode("utf-8", "surrogateescape") + body


def sip_inputs():
    """Bytes to parse: generated messages, and mutations of torture, sample and generated ones."""
    return st.one_of(sip_message(), mutated(torture_messages()), mutated(sample_messages()),
                     sip_message().flatmap(lambda m: mutated((m,))))


# -- XML (manifests) ------------------------------------------------------------------------------

NS = "http://schemas.microsoft.com/lcs/2006/05"
ELEMENTS = ("file", "file", "applicationManifest", "allowRegistrationBeforeUserServices", "serverFilter", "requestFilter",
            "responseFilter", "proxyByDefault", "scriptOnly", "script-only", "splScript", "file", "column",
            "columns", "flatFile", "unknownThing")
ATTRIBUTES = ("path", "path", "appUri", "roles", "methodNames", "strictRoute", "registrarGenerated", "domainSupported",
              "reasonCodes", "action", "name", "path", "delimitedBy", "keyColumnName", "static", "phoneUri",
              "methodName", "bogus")
ENCODINGS = ("utf-8", "UTF-8", "utf-16", "latin-1", "iso-8859-1", "us-ascii", "undefined", "punycode", "idna",
             "utf-7", "rot13", "base64", "cp1252", "utf-32", "x-unknown", "")


@st.composite
def xml_attr_value(draw) -> str:
    return draw(st.sampled_from(("ALL", "NONE", "INVITE,MESSAGE", "true", "false", "2XX", "302", "FrontEnd",
                                 "http://www.contoso.com/App", "", "&amp;", "&undefined;", "&#0;", "<", "\u201c",
                                 "../../../../etc/passwd", "/etc/passwd", "..\\..\\..\\..\\etc\\passwd",
                                 "file:///etc/passwd", "/dev/zero", "x.csv", "policy.txt", "hostname.csv",
                                 "/proc/self/environ")) | _any_text)


@st.composite
def xml_element(draw, depth: int = 0) -> str:
    prefix = draw(st.sampled_from(("r:", "r:", "", "lc:", "x:")))
    tag = draw(st.sampled_from(ELEMENTS) | TOKEN.filter(lambda t: t[0].isalpha()))
    attrs = "".join(f' {draw(st.sampled_from(("", "r:")))}{draw(st.sampled_from(ATTRIBUTES))}='
                    f'"{draw(xml_attr_value()).replace(chr(34), "&quot;")}"'
                    for _ in range(draw(st.integers(0, 3))))
    kids = []
    if depth < 3:
        for _ in range(draw(st.integers(0, 3))):
            kind = draw(st.sampled_from(("element", "element", "text", "cdata", "entity", "comment", "pi")))
            if kind == "element":
                kids.append(draw(xml_element(depth + 1)))
            elif kind == "text":
                kids.append(draw(_any_text).replace("<", "&lt;").replace("&", "&amp;"))
            elif kind == "cdata":
                body = draw(st.sampled_from(scripts()) | _any_text)
                kids.append(f"<![CDATA[{body}]]>")
            elif kind == "entity":
                kids.append(draw(st.sampled_from(("&amp;", "&lt;", "&#x41;", "&#1114112;", "&bogus;", "&lol9;",
                                                  "&lol3;"))))
            elif kind == "comment":
                kids.append(f"<!--{draw(_any_text).replace('--', '')}-->")
            else:
                kids.append("<?pi data?>")
    if not kids and draw(st.booleans()):
        return f"<{prefix}{tag}{attrs}/>"
    return f"<{prefix}{tag}{attrs}>{''.join(kids)}</{prefix}{tag}>"


BILLION_LAUGHS = ('<!DOCTYPE r [<!ENTITY lol0 "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">' for i in range(1, 10)) + "]>\n")


@st.composite
def xml_document(draw) -> bytes:
    """A manifest-like XML document: a random declaration (encodings included), DTD or not, a tree."""
    decl = draw(st.sampled_from(("", '<?xml version="1.0"?>\n', "<?xml version='1.1'?>\n",
                                 '<?xml version="1.0" standalone="yes"?>\n'))) 
    encoding = draw(st.sampled_from(ENCODINGS))
    if encoding and draw(st.booleans()):
        decl = f'<?xml version="1.0" encoding="{encoding}"?>\n'
    dtd = draw(st.sampled_from(("", "", '<!DOCTYPE r [<!ENTITY lol "lol">]>\n',
                                '<!DOCTYPE r [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
                                '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;">]>\n',
                                '<!DOCTYPE r SYSTEM "file:///etc/passwd">\n', BILLION_LAUGHS)))
    root = draw(xml_element())
    root = re.sub(r"^<(\w+:)?[\w.-]+", lambda m: m.group(0) + f' xmlns:r="{NS}" r:appUri="http://x/a"', root, count=1)
    text = decl + dtd + root
    codec = encoding if encoding and draw(st.booleans()) else "utf-8"
    try:
        return text.encode(codec)
    except (LookupError, UnicodeError, TypeError, ValueError):
        return text.encode("utf-8", "surrogateescape")


PLAUSIBLE = {
    "roles": ("ALL", "FrontEnd", "frontend", "Director"),
    "methodNames": ("ALL", "NONE", "INVITE", "MESSAGE", "INVITE,MESSAGE", "invite", "BENOTIFY"),
    "reasonCodes": ("NONE", "ALL", "2XX", "4xx,5nn", "3XX"),
    "strictRoute": ("true", "false"), "registrarGenerated": ("true", "false"), "domainSupported": ("true", "false"),
    "action": ("true", "false"),
}


@st.composite
def manifest_document(draw) -> bytes:
    """A manifest of the known elements with plausible or odd values: gets past the XML more often."""
    def attr(name):
        odd = draw(st.integers(0, 15)) == 7  # not 0: hypothesis draws (and shrinks to) 0 most
        value = draw(xml_attr_value()) if odd else draw(st.sampled_from(PLAUSIBLE[name]))
        return f' {name}="{value.replace("&", "&amp;").replace(chr(34), "&quot;").replace("<", "&lt;")}"'

    kids = []
    if draw(st.booleans()):
        kids.append("<r:allowRegistrationBeforeUserServices/>")
    if draw(st.booleans()):
        kids.append(f"<r:serverFilter{attr('roles')}/>")
    kids.append(f"<r:requestFilter{attr('methodNames')}{attr('strictRoute')}{attr('registrarGenerated')}"
                f"{attr('domainSupported') if draw(st.booleans()) else ''}/>")
    kids.append(f"<r:responseFilter{attr('reasonCodes')}/>")
    if draw(st.booleans()):
        kids.append(f"<r:proxyByDefault{attr('action')}/>")
    if draw(st.integers(0, 3)) == 0:
        kids.append(draw(st.sampled_from(("<r:scriptOnly/>", "<r:script-only/>"))))
    for i in range(draw(st.integers(0, 2))):
        path = draw(st.sampled_from(("policy.txt", "hostname.csv", "../../../../etc/passwd", "/etc/passwd",
                                     "/dev/zero", "missing.txt", "sub/../policy.txt", "policy.txt")))
        columns = "".join(f'<r:column name="c{j}"/>' for j in range(draw(st.sampled_from((1, 2, 3, 0)))))
        delim = draw(st.sampled_from(("", ' delimitedBy="comma"', ' delimitedBy="tab"', "", ' delimitedBy="x"')))
        kids.insert(0, f'<r:file name="f{i}" path="{path.replace("&", "&amp;").replace(chr(34), "&quot;").replace("<", "&lt;")}"'
                    f'{delim}>{columns}</r:file>')
    if draw(st.integers(0, 5)) == 3:
        kids.append(draw(xml_element(2)))
    script = draw(st.sampled_from(scripts() + ('Log("Event", false, f0[0].c0);',) * 8))
    kids.append(f"<r:splScript><![CDATA[{script.replace(']]>', ']]]]><![CDATA[>')}]]></r:splScript>")
    kids = draw(st.permutations(kids)) if draw(st.integers(0, 3)) == 0 else kids
    decl = draw(st.sampled_from(('<?xml version="1.0"?>\n', "", '<?xml version="1.0" encoding="utf-8"?>\n')))
    text = (decl + f'<r:applicationManifest r:appUri="http://www.contoso.com/Fuzz" xmlns:r="{NS}">\n  '
            + "\n  ".join(kids) + "\n</r:applicationManifest>\n")
    return text.encode("utf-8", "surrogateescape")


def manifest_inputs():
    seeds = tuple(p.read_bytes() for p in manifest_files())
    return st.one_of(mutated(seeds), xml_document(), manifest_document(), manifest_document(),
                     st.one_of(xml_document(), manifest_document()).flatmap(lambda d: mutated((d,), max_edits=2)))


# -- MSPL -----------------------------------------------------------------------------------------

MSPL_TOKENS = (
    "if", "else", "foreach", "in", "return", "break", "continue", "true", "false", "null", "function",
    "(", ")", "{", "}", ";", ",", ".", "=", "==", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "%",
    "&&", "||", "!", "sipRequest", "sipResponse", "sipMessage", "x", "y", "uri", "h",
    "Log", "ProxyRequest", "RetargetRequest", "Respond", "AddHeader", "SetParameterValue", "GetUri",
    "GetUserName", "GetHostName", "GetUserAtHost", "GetDisplayName", "GetParameterValue", "IndexOfString",
    "ContainsString", "EqualString", "SubString", "Concatenate", "LengthString", "GetHeaderValues", "Dispatch",
    "BeginFork", "Fork", "EndFork", "ProxyResponse", "DispatchNotification", "QueryEndpoints", "Content",
    "RequestUri", "Method", "StatusCode", "From", "To", "Via", "StandardMethod.Invite", '"Event"', '"Debugr"',
    '"Error"', "false", '""', '"sip:a@b"', '"\\"', '"\\ud800"', '"\\u0130"', "1", "1.5", "0x10", "9" * 50,
    "9" * 5000, "-1", "/* c */", "// c\n", "\n", "\t", '"', "\\", "\ud800",
)


@st.composite
def token_soup(draw) -> str:
    return " ".join(draw(st.lists(st.sampled_from(MSPL_TOKENS), max_size=60)))


def script_inputs():
    seeds = tuple(s.encode("utf-8", "surrogatepass") for s in scripts())
    return st.one_of(mutated_text(seeds), token_soup(), st.sampled_from(scripts()))
