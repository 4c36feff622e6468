"""Application manifests (.am): which messages a script sees, the flat files it reads, the script.

    load_manifest(path)                          -> ApplicationManifest   (reads flat files next to it)
    parse_manifest(text, filename=, base_dir=)   -> ApplicationManifest
    parse_flat_file(text, name=, columns=, ...)  -> FlatFile

An application manifest is the XML document Lync Server 2013 reads when an MSPL application is
registered (``New-CsServerApplication -ScriptName X.am``)::

    <?xml version="1.0"?>
    <r:applicationManifest r:appUri="http://www.contoso.com/ForwardInvite"
                           xmlns:r="http://schemas.microsoft.com/lcs/2006/05">
      <r:allowRegistrationBeforeUserServices/>
      <r:serverFilter roles="ALL"/>
      <r:requestFilter methodNames="INVITE" strictRoute="false" registrarGenerated="true"/>
      <r:responseFilter reasonCodes="NONE"/>
      <r:scriptOnly/>
      <r:splScript><![CDATA[ ... the MSPL script ... ]]></r:splScript>
    </r:applicationManifest>

Sources: /work/shared/reference/mspl.md section 2 (Lync 2013 manifest reference dn439109..dn439119,
Lync 2010 hh347121/hh347232, the SDK samples) and section 8 (the sides mspl-lite takes).

Every problem is a ``ManifestError`` whose diagnostics point at file, line and column and say what
to do; a Python exception of any other kind escaping this module is a bug. Bad XML is reported in
words a Lync admin understands (which character, which tag, what to type instead), not as the bare
parser message.

Decisions taken here, each repeated where it shows:

* Only the Lync 2013 namespace ``http://schemas.microsoft.com/lcs/2006/05`` is read, under any prefix
  or as the default namespace. The LCS 2003/2005 namespaces are an error with a hint: mspl-lite models
  Lync Server 2013 semantics only.
* Attributes are read with the manifest prefix (``lc:appUri``) or without it (``appUri``): an official
  sample (sip-application-manifest.md) writes ``appUri`` without prefix.
* Unknown elements and unknown attributes are errors (a misspelt ``methodName`` would otherwise
  silently widen the filter to ALL methods), with the closest known name suggested.
* ``<lc:script-only/>`` is read as ``scriptOnly`` with a warning (mspl.md section 8).
* ``reasonCodes`` accepts ``ALL``, ``NONE`` and classes written ``2XX``, ``2xx`` or ``2nn`` (section 8).
  Exact codes such as ``302`` are refused: the reference describes classes only.
* ``domainSupported`` and ``phoneUri`` have no documented default or meaning; absent reads as false.
* Keyword values (method names, roles, ALL/NONE, true/false, delimitedBy) are read case-insensitively;
  ``roles="ALL"`` is stored as every role in ``SERVER_ROLES``.
* Flat files: relative paths are read from the manifest's folder; there are no comment lines; a row
  may have fewer fields than columns (missing trailing fields read as "", as FilteringApp's optional
  last column needs), never more; double quotes may protect a delimiter (UNCERTAIN: the reference
  sentence on this is cut off).
"""
from __future__ import annotations

import difflib
import os
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Iterable, Literal, Mapping
from urllib.parse import unquote, urlsplit
from xml.parsers import expat

from .errors import Diagnostic, ManifestError, UsageError

__all__ = [
    "MSPL_NAMESPACE",
    "REQUEST_METHODS",
    "SERVER_ROLES",
    "ApplicationManifest",
    "RequestFilter",
    "ResponseFilter",
    "FlatFile",
    "load_manifest",
    "parse_manifest",
    "parse_flat_file",
    "find_dispatch_calls",
]

MSPL_NAMESPACE = "http://schemas.microsoft.com/lcs/2006/05"

# The namespace selects the server version whose semantics apply (applicationManifest element,
# L13sip dn439116; OCS07 bb679974). mspl-lite models Lync Server 2013 only.
_OLDER_NAMESPACES = {
    "http://schemas.microsoft.com/lcs/2003/05": "Live Communications Server 2003",
    "http://schemas.microsoft.com/rtc/2003/05": "Live Communications Server 2003",
    "http://schemas.microsoft.com/lcs/2004/05": "Live Communications Server 2005",
}

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

# Names a Lync admin may try for a role, from the topology builder's vocabulary.
_ROLE_ALIASES = {"edge": "AccessProxy", "edgeserver": "AccessProxy", "accessedge": "AccessProxy",
                 "frontendserver": "FrontEnd", "standardedition": "HomeServer", "standard": "HomeServer"}

_RESPONSE_CLASSES = frozenset(range(1, 7))

Delimiter = Literal["comma", "tab", "whitespace"]
_DELIMITERS = ("comma", "tab", "whitespace")

# Children of applicationManifest and the attributes each one takes.
_ELEMENT_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "allowRegistrationBeforeUserServices": (),
    "serverFilter": ("roles",),
    "proxyByDefault": ("action",),
    "requestFilter": ("methodNames", "registrarGenerated", "strictRoute", "domainSupported", "phoneUri"),
    "responseFilter": ("reasonCodes",),
    "file": ("name", "path", "keyColumnName", "ignoreCase", "delimitedBy", "static"),
    "scriptOnly": (),
    "splScript": (),
}
_KNOWN_ELEMENTS = tuple(_ELEMENT_ATTRIBUTES) + ("column", "applicationManifest")

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


# =============================================================================================
# Values
# =============================================================================================

@dataclass(frozen=True, slots=True, kw_only=True)
class RequestFilter:
    """Which requests the server hands to the application (``<lc:requestFilter>``, dn439115).

    ``methodNames`` defaults to ALL; ``strictRoute`` and ``registrarGenerated`` default to false
    (documented). ``domainSupported`` and ``phoneUri`` have no retrievable description or default
    (mspl.md section 2, UNCERTAIN): mspl-lite reads their absence as false, the value under which
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
class FlatFile:
    """A text file the script reads as ``name[index].column`` (``<lc:file>``, hh347232/dn439112).

    ``rows`` keep the column order of ``columns``. ``row(i)`` is 0-based; ``lookup(key)`` uses the
    key column (case-insensitively when ``ignore_case``). Out of range or a missing key give None,
    which the script sees as null (Dn439066). ``loaded`` is False when the manifest was parsed
    without access to the file (``parse_manifest`` without ``base_dir``): then ``rows`` is empty.
    Compared and hashed by identity (its rows are dicts).
    """

    name: str
    path: str
    columns: tuple[str, ...]
    rows: tuple[dict[str, str], ...] = ()
    key_column: str | None = None
    ignore_case: bool = False
    delimited_by: Delimiter = "comma"
    static: bool = False
    loaded: bool = False
    _index: dict | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "rows", tuple(dict(r) for r in self.rows))
        if not self.columns:
            raise UsageError(f"flat file {self.name!r} needs at least one column")
        if self.delimited_by not in _DELIMITERS:
            raise UsageError(f"delimited_by must be one of {_DELIMITERS}, not {self.delimited_by!r}")
        if self.key_column is None:
            if self.ignore_case:
                raise UsageError(f"flat file {self.name!r}: ignore_case needs a key_column")
            return
        if self.key_column not in self.columns:
            raise UsageError(f"flat file {self.name!r}: key column {self.key_column!r} is not one of {self.columns}")
        index: dict[str, int] = {}
        for number, row in enumerate(self.rows):
            key = self._fold(row.get(self.key_column, ""))
            if key in index:
                raise UsageError(f"flat file {self.name!r}: duplicate key {row.get(self.key_column)!r}")
            index[key] = number
        object.__setattr__(self, "_index", index)

    def _fold(self, key: str) -> str:
        return key.casefold() if self.ignore_case else key

    def __len__(self) -> int:
        return len(self.rows)

    def row(self, index: int) -> dict[str, str] | None:
        """Row ``index`` (0-based) as {column: value}, or None when out of range (MSPL null)."""
        if isinstance(index, bool) or not isinstance(index, int):
            raise UsageError(f"FlatFile.row takes an int, not {type(index).__name__}")
        if 0 <= index < len(self.rows):
            return dict(self.rows[index])
        return None

    def lookup(self, key: str) -> dict[str, str] | None:
        """The row whose key column equals ``key``, or None; UsageError if there is no key column.

        The script-level rule (Dn439066): a key-string reference to a file without keyColumnName
        is a script error that aborts the script; the interpreter turns this UsageError into that.
        """
        if self.key_column is None or self._index is None:
            raise UsageError(
                f"flat file {self.name!r} has no keyColumnName, so it can only be indexed by row number"
            )
        number = self._index.get(self._fold(key))
        return None if number is None else dict(self.rows[number])

    def __repr__(self) -> str:
        key = f", key={self.key_column!r}" + (" (ignore case)" if self.ignore_case else "") if self.key_column else ""
        rows = f"{len(self.rows)} rows" if self.loaded else "not loaded"
        return f"FlatFile({self.name!r}, {self.path!r}, columns={list(self.columns)}{key}, {self.delimited_by}, {rows})"


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
        return _position_in_script(self.script, self.script_line, self.script_column, offset)

    def __repr__(self) -> str:
        kind = "script-only" if self.script_only else "managed"
        files = f", files={list(self.files)}" if self.files else ""
        return f"<ApplicationManifest {self.name} {self.app_uri} ({kind}){files}>"


def _display_name(app_uri: str) -> str:
    parts = urlsplit(app_uri)
    segments = [s for s in parts.path.split("/") if s]
    if segments:
        return unquote(segments[-1])
    return parts.netloc or app_uri


def _position_in_script(script: str, line: int, column: int, offset: int) -> tuple[int, int]:
    before = script[:offset]
    newlines = before.count("\n")
    if not newlines:
        return line, column + len(before)
    return line + newlines, len(before) - before.rfind("\n")


# =============================================================================================
# Public entry points
# =============================================================================================

def load_manifest(path: str | os.PathLike) -> ApplicationManifest:
    """Read and parse a .am file (UTF-8, BOM tolerated); flat files are read from its folder."""
    path = Path(path)
    filename = str(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        reason = err.strerror or str(err)
        raise ManifestError.at(
            f"cannot read the manifest: {reason}",
            filename=filename,
            hint="check the path; an application manifest is a text file ending in .am",
            code="unreadable",
        ) from None
    text = _decode(data, filename, what="manifest", declared=_declared_encoding(data))
    return parse_manifest(text, filename=filename, base_dir=path.parent)


def parse_manifest(
    text: str,
    *,
    filename: str = "<manifest>",
    base_dir: str | os.PathLike | None = None,
    flat_file_texts: Mapping[str, str] | None = None,
) -> ApplicationManifest:
    """Parse the text of a .am file; raises ManifestError with every problem found.

    Flat files are read relative to ``base_dir``; with ``base_dir`` None they are not read
    (``rows`` empty, ``loaded`` False) unless ``flat_file_texts`` gives their content by file name.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    return _ManifestReader(text, filename, base_dir, flat_file_texts or {}).read()


def parse_flat_file(
    text: str,
    *,
    name: str,
    columns: Iterable[str],
    key_column: str | None = None,
    ignore_case: bool = False,
    delimited_by: Delimiter = "comma",
    static: bool = False,
    path: str = "<flat file>",
) -> FlatFile:
    """Parse the text of a flat file as a ``<lc:file>`` declaration describes it.

    One record per line; blank lines are skipped; fields are stripped. There are no comment lines
    (the server documentation describes none), so every other line is a record. A field may be
    enclosed in double quotes to hold the delimiter (``"a,b"``; ``""`` is a quote) - the reference
    sentence on this is truncated (UNCERTAIN). Raises ManifestError pointing at the file's line.
    """
    columns = tuple(columns)
    if delimited_by not in _DELIMITERS:
        raise UsageError(f"delimited_by must be one of {_DELIMITERS}, not {delimited_by!r}")
    if key_column is not None and key_column not in columns:
        raise UsageError(f"key column {key_column!r} is not one of {columns}")
    if ignore_case and key_column is None:
        raise UsageError("ignore_case needs a key_column")
    if text.startswith("\ufeff"):
        text = text[1:]
    rows, errors = _read_rows(text, path, columns, key_column, ignore_case, delimited_by, name)
    if errors:
        raise ManifestError(errors)
    return FlatFile(name=name, path=path, columns=columns, rows=rows, key_column=key_column,
                    ignore_case=ignore_case, delimited_by=delimited_by, static=static, loaded=True)


# =============================================================================================
# Text: decoding and positions
# =============================================================================================

_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what expat counts as one line break


class _SourceMap:
    """Offsets <-> 1-based (line, column) in a text, with line breaks counted as expat counts them."""

    def __init__(self, text: str):
        self.text = text
        self.starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]

    def offset(self, line: int, column0: int) -> int:
        line = min(max(line, 1), len(self.starts))
        return min(self.starts[line - 1] + column0, len(self.text))

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1

    def line_text(self, line: int) -> str | None:
        if not 1 <= line <= len(self.starts):
            return None
        start = self.starts[line - 1]
        end = self.starts[line] if line < len(self.starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")


_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def _declared_encoding(data: bytes) -> str | None:
    match = _DECLARED_ENCODING.match(data)
    return match.group(1).decode("ascii") if match else None


def _decode(data: bytes, filename: str, *, what: str, declared: str | None = None) -> str:
    """Bytes of a manifest or flat file -> text: a BOM wins, then a declared encoding, then UTF-8."""
    if data.startswith(b"\xef\xbb\xbf"):
        encoding, data = "utf-8", data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"  # Notepad's "Unicode"; the codec reads and drops the BOM
    elif declared and declared.lower().replace("_", "-") not in ("utf-8", "utf8", "utf-16", "utf16"):
        encoding = declared
    else:
        encoding = "utf-8"
    try:
        return data.decode(encoding)
    except LookupError:
        raise ManifestError.at(
            f"the XML declaration names an encoding Python does not know: {declared}",
            filename=filename, line=1, column=1,
            hint='save the file as UTF-8 and write <?xml version="1.0" encoding="utf-8"?>',
            code="encoding",
        ) from None
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        line_bytes = data.splitlines()[line - 1] if data.splitlines() else b""
        raise ManifestError.at(
            f"the {what} is not valid {encoding.upper()} text (byte 0x{data[err.start]:02X})",
            filename=filename, line=line, column=column,
            source=line_bytes.decode(encoding, errors="replace"),
            hint="save the file as UTF-8 (in Notepad: File > Save As, Encoding: UTF-8)",
            code="encoding",
        ) from None


# =============================================================================================
# XML: expat events -> a small element tree with positions
# =============================================================================================

@dataclass(eq=False)
class _Attr:
    qname: str  # as written: "lc:appUri" or "appUri"
    value: str


@dataclass(eq=False)
class _Text:
    text: str
    cdata: bool
    line: int
    column: int  # 1-based


@dataclass(eq=False)
class _Element:
    uri: str | None
    local: str
    qname: str  # as written, with its prefix
    line: int
    column: int  # 1-based, at "<"
    offset: int
    attrs: dict[str, _Attr] = field(default_factory=dict)  # by local name: manifest or no namespace
    duplicate_attrs: list[str] = field(default_factory=list)
    children: list["_Element"] = field(default_factory=list)
    texts: list[_Text] = field(default_factory=list)
    cdata_starts: list[tuple[int, int]] = field(default_factory=list)  # content start, 1-based

    def tag(self) -> str:
        return f"<{self.qname}>"


def _split_name(name: str) -> tuple[str | None, str, str | None]:
    """expat "uri local prefix" -> (uri, local, prefix)."""
    parts = name.split(" ")
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    if len(parts) == 2:
        return parts[0], parts[1], None
    return None, parts[0], None


class _XmlReader:
    """Run expat over the text, keeping each element's position, attributes, text and CDATA."""

    def __init__(self, text: str, smap: _SourceMap, filename: str):
        self.text, self.smap, self.filename = text, smap, filename
        self.root: _Element | None = None
        self.stack: list[_Element] = []
        self.in_cdata = False
        self.cdata_start: tuple[int, int] | None = None  # 1-based position of "<![CDATA["
        self._continues = False  # the next character data continues the current text run

    def read(self) -> _Element:
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.namespace_prefixes = True
        self.parser = parser
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._characters
        parser.StartCdataSectionHandler = self._start_cdata
        parser.EndCdataSectionHandler = self._end_cdata
        try:
            parser.Parse(self.text, True)
        except expat.ExpatError as err:
            raise ManifestError(_xml_error(err, self)) from None
        except UnicodeEncodeError as err:  # a lone surrogate: text that came from broken bytes
            line, column = self.smap.position(err.start)
            raise ManifestError.at("the text holds an invalid character (a lone UTF-16 surrogate)",
                                   filename=self.filename, line=line, column=column,
                                   source=self.smap.line_text(line), hint="retype the text around it",
                                   code="encoding") from None
        assert self.root is not None  # expat reports "no element found" otherwise
        return self.root

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        uri, local, prefix = _split_name(name)
        line, column0 = self.parser.CurrentLineNumber, self.parser.CurrentColumnNumber
        element = _Element(uri=uri, local=local, qname=f"{prefix}:{local}" if prefix else local,
                           line=line, column=column0 + 1, offset=self.smap.offset(line, column0))
        for key, value in attributes.items():
            a_uri, a_local, a_prefix = _split_name(key)
            if a_uri not in (None, MSPL_NAMESPACE):
                continue  # xsi:..., or another vocabulary: not the server's business
            if a_local in element.attrs:  # both lc:appUri and appUri
                element.duplicate_attrs.append(a_local)
                continue
            element.attrs[a_local] = _Attr(qname=f"{a_prefix}:{a_local}" if a_prefix else a_local, value=value)
        if self.stack:
            self.stack[-1].children.append(element)
        else:
            self.root = element
        self.stack.append(element)
        self._continues = False

    def _end(self, name: str) -> None:
        self.stack.pop()
        self._continues = False

    def _characters(self, data: str) -> None:
        if not self.stack:
            return
        element = self.stack[-1]
        last = element.texts[-1] if element.texts else None
        # expat splits text at line breaks; glue the pieces of one run back together.
        if last is not None and last.cdata == self.in_cdata and self._continues:
            last.text += data
        else:
            line, column0 = self.parser.CurrentLineNumber, self.parser.CurrentColumnNumber
            element.texts.append(_Text(data, self.in_cdata, line, column0 + 1))
        self._continues = True

    def _start_cdata(self) -> None:
        line, column0 = self.parser.CurrentLineNumber, self.parser.CurrentColumnNumber
        self.in_cdata, self._continues = True, False
        self.cdata_start = (line, column0 + 1)
        if self.stack:
            self.stack[-1].cdata_starts.append((line, column0 + 1 + len("<![CDATA[")))

    def _end_cdata(self) -> None:
        self.in_cdata, self._continues = False, False


def _scan_start_tag(text: str, offset: int) -> dict[str, tuple[int, int, str]]:
    """Attributes of the (well-formed) start tag at ``text[offset] == "<"``:
    qname -> (offset of the name, offset of the value's first character, raw value)."""
    n, i = len(text), offset + 1
    while i < n and not text[i].isspace() and text[i] not in "/>":
        i += 1
    found: dict[str, tuple[int, int, str]] = {}
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n or text[i] in "/>":
            break
        start = i
        while i < n and not text[i].isspace() and text[i] not in "=/>":
            i += 1
        name = text[start:i]
        while i < n and text[i].isspace():
            i += 1
        if i >= n or text[i] != "=":
            break
        i += 1
        while i < n and text[i].isspace():
            i += 1
        if i >= n or text[i] not in "\"'":
            break
        end = text.find(text[i], i + 1)
        if end < 0:
            break
        found[name] = (start, i + 1, text[i + 1:end])
        i = end + 1
    return found


# ---------------------------------------------------------------------------------------------
# Translating expat's complaints
# ---------------------------------------------------------------------------------------------

# Characters that look like XML punctuation but are not: they arrive by copying from web pages
# and word processors (mspl.md section 8: name the character and the fix).
_LOOKALIKES = {
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2009": " ", "\u200b": "", "\ufeff": "",
    "\u2013": "-", "\u2014": "-",
}
_QUOTE_LOOKALIKES = frozenset(c for c, plain in _LOOKALIKES.items() if plain in "\"'" and plain)


def _char_name(char: str) -> str:
    """'U+201C LEFT DOUBLE QUOTATION MARK' (or just the code point for controls)."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name}".rstrip()


def _lookalike_hint(char: str) -> str:
    if char in _QUOTE_LOOKALIKES:
        return ('typographic quotes (“ ” ‘ ’ „) come from copying a web page or a word processor; '
                'XML attribute values need straight quotes: retype them as " (for example roles="ALL")')
    plain = _LOOKALIKES[char]
    if plain == " ":
        return "this invisible space came from a web page; replace it with an ordinary space"
    if plain == "":
        return "an invisible character came from a web page; delete it (retype the text around it)"
    return f"replace it with a plain {plain!r}"


def _lookalike_in_markup(text: str, end: int) -> int | None:
    """Offset of the first typographic quote inside a tag before ``end``, or None.

    Tags end at the first ">" here (quotes are not honoured: a typographic quote is exactly what
    breaks them); comments, CDATA sections and processing instructions are skipped.
    """
    i = 0
    while i <= end:
        i = text.find("<", i)
        if i < 0 or i > end:
            return None
        for opener, closer in (("<!--", "-->"), ("<![CDATA[", "]]>"), ("<?", "?>")):
            if text.startswith(opener, i):
                close = text.find(closer, i + len(opener))
                i = len(text) if close < 0 else close + len(closer)
                break
        else:
            close = text.find(">", i)
            close = len(text) if close < 0 else close
            for j in range(i, min(close, end + 1)):
                if text[j] in _QUOTE_LOOKALIKES:
                    return j
            i = close + 1
    return None


def _xml_error(err: expat.ExpatError, reader: _XmlReader) -> Diagnostic:
    """One diagnostic for expat's first error, in words a Lync admin can act on."""
    smap, text = reader.smap, reader.text
    line, column0 = err.lineno, err.offset
    at = smap.offset(line, column0)
    char = text[at] if at < len(text) else ""
    before = text[at - 1] if at > 0 else ""
    code = err.code
    errors = expat.errors
    message = expat.ErrorString(code)
    hint = "fix the XML at this point; the rest of the manifest is checked once the XML is well-formed"
    tag_start = text.rfind("<", 0, at + 1)
    in_tag = tag_start >= 0 and text.rfind(">", tag_start, at) < 0

    def in_tag_name(i: int) -> bool:
        return i + 1 < len(text) and (text[i + 1].isalpha() or text[i + 1] in "_/!?")

    in_script_text = bool(reader.stack) and reader.stack[-1].local == "splScript" and not reader.in_cdata
    token_codes = {errors.codes[errors.XML_ERROR_INVALID_TOKEN], errors.codes[errors.XML_ERROR_UNDEFINED_ENTITY]}

    def result(msg: str, hint: str, where: int = at) -> Diagnostic:
        ln, col = smap.position(where)
        if in_script_text and code in token_codes:
            hint += ". Put the script inside <![CDATA[ ... ]]>: there <, > and & need no escaping"
        return Diagnostic(severity="error", message=msg, filename=reader.filename, line=ln, column=col,
                          source=smap.line_text(ln), hint=hint, code="xml")

    # Look-alike characters at the fault or in a tag before it: roles="ALL” lets the value run on
    # to the next straight quote, so expat may only complain lines later.
    suspect = at if char in _LOOKALIKES else _lookalike_in_markup(text, at)
    if suspect is None and in_tag:  # an invisible space pasted into this tag
        suspect = next((i for i in range(tag_start, at) if text[i] in _LOOKALIKES), None)
    if suspect is not None and code in token_codes | {
            errors.codes[errors.XML_ERROR_UNCLOSED_TOKEN], errors.codes[errors.XML_ERROR_PARTIAL_CHAR],
            errors.codes[errors.XML_ERROR_SYNTAX], errors.codes[errors.XML_ERROR_NO_ELEMENTS],
            errors.codes[errors.XML_ERROR_TAG_MISMATCH], errors.codes[errors.XML_ERROR_UNCLOSED_CDATA_SECTION]}:
        where = suspect
        bad = text[where]
        what = ("straight quote" if bad in _QUOTE_LOOKALIKES
                else "plain space" if _LOOKALIKES[bad] == " " else "plain character")
        return result(f"{_char_name(bad)} where XML needs a {what}", _lookalike_hint(bad), where)

    outside_root = not reader.stack and code in (errors.codes[errors.XML_ERROR_INVALID_TOKEN],
                                                  errors.codes[errors.XML_ERROR_SYNTAX])
    if outside_root and not in_tag:
        where = "after the end of" if reader.root is not None else "before"
        return result(f"stray characters {where} the root element",
                      "a manifest is one <lc:applicationManifest> element, optionally preceded by "
                      '<?xml version="1.0"?> and comments: delete what is in between')
    if code == errors.codes[errors.XML_ERROR_INVALID_TOKEN]:
        if before == "/" and char.isspace():
            return result("space between / and > in an empty-element tag",
                          'write "/>" with no space in between (some SDK samples print "/ >", which is not XML)', at - 1)
        # &name runs on until a character a name cannot hold: look back for the &.
        line_start = text.rfind("\n", 0, at) + 1
        ampersand = text.rfind("&", line_start, at + 1)
        if ampersand >= 0 and not re.search(r"[\s;]", text[ampersand:at]):
            return result("a bare & in the XML", "write & as &amp; (and < as &lt;)", ampersand)
        if before == "<" and not in_tag_name(at - 1):
            return result("a < that does not start a tag", "write < as &lt;", at - 1)
        previous = text.rfind("<", 0, at)
        if char == "<" and previous >= 0 and text.rfind(">", previous, at) < 0:
            return result("this tag is not closed", 'end it with ">" (or "/>" for an empty element)', previous)
        if char and (unicodedata.category(char).startswith("C") and char not in "\t\r\n"):
            return result(f"{_char_name(char)} is not allowed in XML", "delete this invisible control character")
        if in_tag and text.startswith("<!--", tag_start):
            return result("this comment is malformed", 'a comment is <!-- text --> and its text may not contain "--"')
        if in_tag:
            back = at - 1
            while back > tag_start and text[back].isspace():
                back -= 1
            if text[back] == "=":
                return result("attribute value without quotes", 'put the value in straight double quotes: name="value"')
            if char in "\"'":
                return result("attribute value without a name and = before it",
                              'write each attribute as name="value"')
            return result("this tag is malformed here",
                          'a tag is <lc:name attribute="value" ...> or <lc:name ... /> with straight quotes, = between '
                          "each attribute name and its value, and spaces between attributes")
        return result("the XML is not well-formed here (invalid character or token)", hint)
    if code == errors.codes[errors.XML_ERROR_UNCLOSED_TOKEN]:
        if text.startswith("<?xml", at):
            return result("the XML declaration is not closed", 'end it with "?>": <?xml version="1.0"?>')
        return result("this tag is not closed", 'end it with ">" (or "/>" for an empty element)')
    if code == errors.codes[errors.XML_ERROR_MISPLACED_XML_PI]:
        return result("the <?xml ...?> declaration must be the very first thing in the file",
                      "delete the blank lines or spaces before <?xml ...?> (or the second declaration)")
    if code == errors.codes[errors.XML_ERROR_TAG_MISMATCH]:
        where = text.rfind("</", 0, at + 1)
        where = where if where >= 0 else at
        closing = re.match(r"</\s*([^\s>]*)", text[where:])
        closing_name = closing.group(1) if closing else "?"
        if reader.stack:
            open_el = reader.stack[-1]
            return result(f"closing tag </{closing_name}> does not match {open_el.tag()} opened at line {open_el.line}",
                          f"close {open_el.tag()} with </{open_el.qname}> first, or write it as an empty element "
                          f"<{open_el.qname} ... />", where)
        return result(f"closing tag </{closing_name}> matches no open element", "delete it", where)
    if code == errors.codes[errors.XML_ERROR_NO_ELEMENTS]:
        if reader.stack:
            open_el = reader.stack[-1]
            return result(f"{open_el.tag()} is never closed",
                          f"add </{open_el.qname}> where the element ends (or write <{open_el.qname} ... />)",
                          open_el.offset)
        return result("the file holds no XML element",
                      f'an application manifest starts with <lc:applicationManifest xmlns:lc="{MSPL_NAMESPACE}" ...>',
                      0)
    if code == errors.codes[errors.XML_ERROR_UNCLOSED_CDATA_SECTION]:
        where = smap.offset(reader.cdata_start[0], reader.cdata_start[1] - 1) if reader.cdata_start else at
        return result("<![CDATA[ is never closed", "end the script with ]]> just before </lc:splScript>", where)
    if code == errors.codes[errors.XML_ERROR_UNDEFINED_ENTITY]:
        match = re.match(r"&([^;\s<]*);?", text[at:]) or re.match(r"&([^;\s<]*);?", text[max(at - 1, 0):])
        entity = f"&{match.group(1)};" if match else "this entity"
        return result(f"undefined entity {entity}",
                      "XML knows only &amp; &lt; &gt; &quot; &apos;: write a literal & as &amp;")
    if code == errors.codes[errors.XML_ERROR_UNBOUND_PREFIX]:
        prefix = re.match(r"</?\s*([A-Za-z_][\w.-]*):", text[at:])
        name = f"prefix {prefix.group(1)!r}" if prefix else "a namespace prefix"
        return result(f"{name} is used but not declared",
                      f'declare it on the root element (xmlns:{prefix.group(1) if prefix else "lc"}="{MSPL_NAMESPACE}") '
                      "or use the prefix the root element declares")
    if code == errors.codes[errors.XML_ERROR_DUPLICATE_ATTRIBUTE]:
        return result("the same attribute appears twice in this tag", "keep one of them")
    if code == errors.codes[errors.XML_ERROR_JUNK_AFTER_DOC_ELEMENT]:
        return result("text or an element after the end of the root element",
                      "a manifest has exactly one root element, <lc:applicationManifest>: move this inside it or delete it")
    if code == errors.codes[errors.XML_ERROR_BAD_CHAR_REF]:
        return result("a character reference (&#...;) names a character XML does not allow", "delete it")
    if code == errors.codes[errors.XML_ERROR_SYNTAX] and text.startswith("<", at):
        spaced = re.search(r"""xmlns(?::[\w.-]+)?\s*=\s*(["'])[^"']*\s[^"']*\1""", text[at:text.find(">", at) + 1])
        if spaced:
            return result("a namespace name with a space in it", f'write the namespace exactly: xmlns:lc="{MSPL_NAMESPACE}"',
                          at + spaced.start())
    if code == errors.codes[errors.XML_ERROR_XML_DECL]:
        return result("the XML declaration is malformed",
                      'write it exactly as <?xml version="1.0"?> (or delete it: it is optional)')
    return result(f"the XML is not well-formed here ({message})", hint)


# =============================================================================================
# The manifest
# =============================================================================================

def _closest(name: str, known: Iterable[str]) -> str | None:
    known = list(known)
    for candidate in known:
        if candidate.lower() == name.lower():
            return candidate
    matches = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if not matches:
        lowered = {k.lower(): k for k in known}
        matches = [lowered[m] for m in difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)]
    return matches[0] if matches else None


def _list_items(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",")]


def _typographic_note(value: str) -> str:
    if any(c in _QUOTE_LOOKALIKES for c in value):
        return " The value contains typographic quotes (“ ” ‘ ’): retype the quotes as straight \" quotes."
    return ""


class _ManifestReader:
    """Walk the element tree of one .am file, collecting values, errors and warnings."""

    def __init__(self, text: str, filename: str, base_dir, flat_file_texts: Mapping[str, str]):
        self.text, self.filename = text, filename
        self.base_dir = Path(base_dir) if base_dir is not None else None
        self.flat_file_texts = flat_file_texts
        self.smap = _SourceMap(text)
        self.errors: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []
        self.prefix = "lc"

    # ---- reporting ---------------------------------------------------------------------------

    def _diagnostic(self, severity, message, where, hint, code) -> Diagnostic:
        line, column = where
        return Diagnostic(severity=severity, message=message, filename=self.filename, line=line,
                          column=column, source=self.smap.line_text(line), hint=hint, code=code)

    def error(self, message: str, where: tuple[int, int], hint: str, code: str) -> None:
        self.errors.append(self._diagnostic("error", message, where, hint, code))

    def warn(self, message: str, where: tuple[int, int], hint: str, code: str) -> None:
        self.warnings.append(self._diagnostic("warning", message, where, hint, code))

    def fail(self) -> ManifestError:
        return ManifestError(self.errors)

    # ---- positions ---------------------------------------------------------------------------

    def at(self, element: _Element) -> tuple[int, int]:
        return element.line, element.column

    def _attr_span(self, element: _Element, local: str):
        attr = element.attrs.get(local)
        if attr is None:
            return None
        return _scan_start_tag(self.text, element.offset).get(attr.qname)

    def at_attr(self, element: _Element, local: str) -> tuple[int, int]:
        span = self._attr_span(element, local)
        return self.smap.position(span[0]) if span else self.at(element)

    def at_value(self, element: _Element, local: str, item: str | None = None) -> tuple[int, int]:
        """Where the value of ``local`` starts, or where ``item`` appears inside it."""
        span = self._attr_span(element, local)
        if not span:
            return self.at(element)
        _, value_offset, raw = span
        if item:
            found = re.search(r"(?<![^\s,])" + re.escape(item) + r"(?![^\s,])", raw) or re.search(re.escape(item), raw)
            if found:
                return self.smap.position(value_offset + found.start())
        return self.smap.position(value_offset)

    def tag(self, local: str) -> str:
        return f"<{self.prefix}:{local}>" if self.prefix else f"<{local}>"

    # ---- the document ------------------------------------------------------------------------

    def read(self) -> ApplicationManifest:
        root = _XmlReader(self.text, self.smap, self.filename).read()
        self._check_root(root)
        values = self._read_children(root)
        if self.errors:
            raise self.fail()
        return ApplicationManifest(filename=self.filename, source=self.text, namespace=root.uri or "",
                                   warnings=tuple(self.warnings), **values)

    def _check_root(self, root: _Element) -> None:
        """The root must be applicationManifest in the 2006/05 namespace; anything else stops here."""
        example = f'<lc:applicationManifest lc:appUri="http://www.contoso.com/MyApp" xmlns:lc="{MSPL_NAMESPACE}">'
        uri = root.uri
        if uri != MSPL_NAMESPACE:
            if uri is None:
                self.error(f"{root.tag()} is not in the MSPL namespace (no xmlns declaration)", self.at(root),
                           f'declare the namespace on the root element: {example}', "namespace")
            elif uri in _OLDER_NAMESPACES:
                self.error(f"this manifest uses the {_OLDER_NAMESPACES[uri]} namespace {uri}", self.at(root),
                           "mspl-lite models Lync Server 2013, which reads manifests in the namespace "
                           f"{MSPL_NAMESPACE} (OCS 2007 to Lync 2013): change the xmlns value to it "
                           "and check the script against the Lync 2013 function list", "namespace")
            elif uri.rstrip("/").lower().replace("https://", "http://", 1) == MSPL_NAMESPACE:
                self.error(f"the namespace must be exactly {MSPL_NAMESPACE}, not {uri}", self.at(root),
                           "an XML namespace is compared character by character (some web copies of the "
                           f"reference print https): write xmlns:lc=\"{MSPL_NAMESPACE}\"", "namespace")
            else:
                self.error(f"unknown namespace {uri}: this is not an MSPL application manifest", self.at(root),
                           f'application manifests use the namespace {MSPL_NAMESPACE}: {example}', "namespace")
            raise self.fail()
        self.prefix = root.qname.split(":", 1)[0] if ":" in root.qname else ""
        if root.local != "applicationManifest":
            guess = _closest(root.local, ["applicationManifest"])
            also = f"; did you mean {self.tag('applicationManifest')}?" if guess else ""
            self.error(f"the root element is {root.tag()}{also}", self.at(root),
                       f"an application manifest starts with {example}", "root")
            raise self.fail()

    def _read_children(self, root: _Element) -> dict:
        values: dict = {"app_uri": self._app_uri(root)}
        self._check_element_shape(root, ("appUri",), children_ok=True)
        seen: dict[str, _Element] = {}
        files: dict[str, FlatFile] = {}
        script_element: _Element | None = None
        for child in root.children:
            local = self._child_name(child)
            if local is None:
                continue
            if script_element is not None and local != "splScript":
                self._after_script(child, local, script_element)
            if local != "file":
                if local in seen:
                    first = seen[local]
                    self.error(f"{child.tag()} appears twice (the first is at line {first.line})", self.at(child),
                               "keep one of them", "duplicate-element")
                seen.setdefault(local, child)
            if local == "allowRegistrationBeforeUserServices":
                self._check_element_shape(child, ())
                values["allow_registration_before_user_services"] = True
            elif local == "serverFilter":
                self._check_element_shape(child, ("roles",))
                values["server_roles"] = self._roles(child)
            elif local == "proxyByDefault":
                self._check_element_shape(child, ("action",))
                values["proxy_by_default"] = self._boolean(child, "action", None)
            elif local == "requestFilter":
                values["request_filter"] = self._request_filter(child)
            elif local == "responseFilter":
                values["response_filter"] = self._response_filter(child)
            elif local == "file":
                flat_file = self._file(child, files)
                if flat_file is not None:
                    files[flat_file.name] = flat_file
            elif local == "scriptOnly":
                self._check_element_shape(child, ())
                values["script_only"] = True
            elif local == "splScript":
                self._check_element_shape(child, (), text_ok=True)
                script_element = script_element or child
        values["files"] = files
        if script_element is None:
            self.error(f"the manifest has no {self.tag('splScript')} element", self.at(root),
                       f"add {self.tag('splScript')}<![CDATA[ ... the script ... ]]></{self.tag('splScript')[1:]} "
                       "as the last child of applicationManifest", "missing-script")
        else:
            values.update(self._script(script_element, values.get("script_only", False)))
        return values

    def _child_name(self, child: _Element) -> str | None:
        """The local name of a manifest child element, or None after reporting why it is not one."""
        listing = ", ".join(_ELEMENT_ATTRIBUTES)
        if child.uri != MSPL_NAMESPACE:
            if child.uri is None and (child.local in _KNOWN_ELEMENTS or child.local == "script-only"):
                self.error(f"{child.tag()} is not in the MSPL namespace", self.at(child),
                           f"write it with the prefix the root element declares: {self.tag(child.local)}", "namespace")
            else:
                where = f"the namespace {child.uri}" if child.uri else "no namespace"
                self.error(f"unknown element {child.tag()} (in {where})", self.at(child),
                           f"the elements of an application manifest are {listing}, in the namespace {MSPL_NAMESPACE}",
                           "unknown-element")
            return None
        if child.local == "script-only":
            # mspl.md section 8: the 2013 how-to template's spelling, read as scriptOnly.
            self.warn(f"{child.tag()} is read as {self.tag('scriptOnly')}", self.at(child),
                      "the Lync Server 2013 SDK how-to template writes script-only; the element reference and "
                      f"every sample write scriptOnly: write {self.tag('scriptOnly')[:-1]}/>", "script-only-spelling")
            return "scriptOnly"
        if child.local == "column":
            self.error(f"{child.tag()} must be inside {self.tag('file')}", self.at(child),
                       f"move it into the {self.tag('file')} element whose columns it names", "misplaced-column")
            return None
        if child.local not in _ELEMENT_ATTRIBUTES:
            guess = _closest(child.local, _ELEMENT_ATTRIBUTES)
            also = f"; did you mean {self.tag(guess)}?" if guess else ""
            case = " (element names are case-sensitive)" if guess and guess.lower() == child.local.lower() else ""
            self.error(f"unknown element {child.tag()}{also}{case}", self.at(child),
                       f"the elements of an application manifest are {listing}", "unknown-element")
            return None
        return child.local

    def _after_script(self, child: _Element, local: str, script_element: _Element) -> None:
        hint = f"move {child.tag()} above {script_element.tag()}: splScript must be the last child"
        if local == "scriptOnly":
            hint += (" (the SDK how-to note saying script-only must be last contradicts the element reference "
                     "and every sample)")
        self.error(f"{child.tag()} comes after {script_element.tag()} (line {script_element.line})",
                   self.at(child), hint, "order")

    def _check_element_shape(self, element: _Element, attributes: tuple[str, ...], *,
                             children_ok: bool = False, text_ok: bool = False) -> None:
        """Unknown or doubled attributes, child elements and text where none belong are errors."""
        for local in element.duplicate_attrs:
            self.error(f"attribute {local} is given twice on {element.tag()} (with and without prefix)",
                       self.at_attr(element, local), "keep one of them", "duplicate-attribute")
        for local, attr in element.attrs.items():
            if local in attributes:
                continue
            guess = _closest(local, attributes) if attributes else None
            also = f"; did you mean {guess}?" if guess else ""
            known = f"{element.tag()} takes {', '.join(attributes)}" if attributes else f"{element.tag()} takes no attributes"
            self.error(f"unknown attribute {attr.qname} on {element.tag()}{also}", self.at_attr(element, local),
                       known, "unknown-attribute")
        if not children_ok:
            for child in element.children:
                hint = ("splScript holds only the script, inside <![CDATA[ ... ]]>" if text_ok
                        else f"{element.tag()} takes no child elements: close it before {child.tag()}")
                self.error(f"{element.tag()} cannot contain {child.tag()}", self.at(child), hint, "unexpected-element")
        if not text_ok:
            self._no_stray_text(element)

    def _no_stray_text(self, element: _Element) -> None:
        for piece in element.texts:
            if piece.text.strip():
                offset = self.smap.offset(piece.line, piece.column - 1)
                offset += len(piece.text) - len(piece.text.lstrip())
                self.error(f"unexpected text inside {element.tag()}", self.smap.position(offset),
                           f"text belongs only in {self.tag('splScript')}; delete it or move it there", "stray-text")
                return

    # ---- attributes --------------------------------------------------------------------------

    def _app_uri(self, root: _Element) -> str:
        attr = root.attrs.get("appUri")
        if attr is None:
            self.error(f"{root.tag()} has no appUri attribute", self.at(root),
                       f'add {self.prefix + ":" if self.prefix else ""}appUri="http://www.contoso.com/MyApp": the URI '
                       "names the application and must equal New-CsServerApplication -Uri", "app-uri")
            return ""
        value = attr.value.strip()
        if not value:
            self.error("appUri is empty", self.at_value(root, "appUri"),
                       'give the application a URI such as "http://www.contoso.com/MyApp"', "app-uri")
        elif value != attr.value:
            self.warn("appUri has spaces around it; they are ignored", self.at_value(root, "appUri"),
                      "delete them: New-CsServerApplication -Uri must match the appUri exactly", "app-uri")
        if value and not re.match(r"https?://", value, re.IGNORECASE):
            self.warn(f"appUri {value!r} is not an http:// URL", self.at_value(root, "appUri"),
                      'the reference says "the value must be an HTTP URL" (it need not exist), '
                      'e.g. "http://www.contoso.com/MyApp"', "app-uri")
        return value

    def _boolean(self, element: _Element, local: str, default: bool | None) -> bool:
        attr = element.attrs.get(local)
        if attr is None:
            if default is None:
                self.error(f"{element.tag()} needs the attribute {local}", self.at(element),
                           f'write {local}="true" or {local}="false"', "missing-attribute")
                return True
            return default
        value = attr.value.strip().lower()
        if value in ("true", "false"):
            return value == "true"
        self.error(f"{attr.qname}={attr.value!r} is neither true nor false", self.at_value(element, local),
                   f'write {local}="true" or {local}="false".' + _typographic_note(attr.value), "boolean")
        return default if default is not None else True

    def _roles(self, element: _Element) -> frozenset[str]:
        attr = element.attrs.get("roles")
        hint = ("roles takes ALL or a comma list of HomeServer (Standard Edition server), FrontEnd (Enterprise "
                "Edition Front End), AccessProxy (Access Edge server), Proxy (forwarding proxy)")
        if attr is None:
            self.error(f"{element.tag()} needs the attribute roles", self.at(element), hint, "roles")
            return frozenset(SERVER_ROLES)
        items = _list_items(attr.value)
        known = {r.lower(): r for r in SERVER_ROLES + ("ALL",)}
        roles: set[str] = set()
        for item in items:
            if not item:
                self.error(f"roles={attr.value!r} has an empty entry", self.at_value(element, "roles"), hint, "roles")
                continue
            role = known.get(item.lower())
            if role is None:
                guess = _ROLE_ALIASES.get(item.lower()) or _closest(item, list(known.values()))
                also = f"; did you mean {guess}?" if guess else ""
                self.error(f"unknown server role {item!r}{also}", self.at_value(element, "roles", item),
                           hint + "." + _typographic_note(item), "roles")
                continue
            roles.add(role)
        if "ALL" in roles:
            if len([i for i in items if i]) > 1:
                self.error("ALL cannot be combined with other roles", self.at_value(element, "roles"),
                           'write roles="ALL" alone, or list the roles without ALL', "roles")
            return frozenset(SERVER_ROLES)
        return frozenset(roles)

    def _request_filter(self, element: _Element) -> RequestFilter:
        self._check_element_shape(element, _ELEMENT_ATTRIBUTES["requestFilter"])
        flags = dict(
            strict_route=self._boolean(element, "strictRoute", False),
            registrar_generated=self._boolean(element, "registrarGenerated", False),
            domain_supported=self._boolean(element, "domainSupported", False),
            phone_uri=self._phone_uri(element),
        )
        attr = element.attrs.get("methodNames")
        if attr is None:
            return RequestFilter(**flags)
        accepted = ", ".join(REQUEST_METHODS)
        hint = (f"methodNames takes ALL, NONE, or a comma list of {accepted} "
                "(OTHER stands for every other method, custom ones included)")
        items = [i.upper() for i in _list_items(attr.value)]
        named = [i for i in items if i]
        if not named:
            self.error("methodNames is empty", self.at_value(element, "methodNames"),
                       'write methodNames="NONE" for no requests, or list the methods: ' + hint, "method-names")
            return RequestFilter(all_methods=False, method_names=frozenset(), **flags)
        if len(named) != len(items):
            self.warn(f"methodNames={attr.value!r} has an empty entry (two commas, or a comma at the end)",
                      self.at_value(element, "methodNames"), "delete the extra comma", "method-names")
        exclusive = [i for i in named if i in ("ALL", "NONE")]
        if exclusive and len(named) > 1:
            self.error(f"{exclusive[0]} cannot be combined with other methods in methodNames",
                       self.at_value(element, "methodNames", exclusive[0]),
                       "the reference: NONE and ALL are mutually exclusive with each other and with the method "
                       f'names; write methodNames="{exclusive[0]}" alone, or list the methods without it',
                       "method-names")
            return RequestFilter(**flags)
        if named == ["ALL"]:
            return RequestFilter(**flags)
        if named == ["NONE"]:
            return RequestFilter(all_methods=False, method_names=frozenset(), **flags)
        methods = set()
        for item in named:
            if item in _ALL_METHODS:
                methods.add(item)
                continue
            original = next((i.strip() for i in _list_items(attr.value) if i.strip().upper() == item), item)
            guess = _closest(item, REQUEST_METHODS)
            also = f"; did you mean {guess}?" if guess and guess != "OTHER" else ""
            self.error(f"unknown method name {original!r} in methodNames{also}",
                       self.at_value(element, "methodNames", original), hint + "." + _typographic_note(original),
                       "method-names")
        return RequestFilter(all_methods=False, method_names=frozenset(methods), **flags)

    def _phone_uri(self, element: _Element) -> bool:
        attr = element.attrs.get("phoneUri")
        if attr is not None and attr.value.strip().lower() not in ("true", "false"):
            self.error(f"phoneUri={attr.value!r} is neither true nor false", self.at_value(element, "phoneUri"),
                       'write phoneUri="true" or phoneUri="false" (the reference\'s syntax line shows phoneUri="URI" '
                       "but describes no such value; mspl-lite reads phoneUri as true/false)" + _typographic_note(attr.value),
                       "boolean")
            return False
        return self._boolean(element, "phoneUri", False)

    def _response_filter(self, element: _Element) -> ResponseFilter:
        self._check_element_shape(element, ("reasonCodes",))
        attr = element.attrs.get("reasonCodes")
        if attr is None:
            return ResponseFilter()
        hint = ('reasonCodes takes ALL, NONE, or a comma list of response classes 1XX, 2XX, 3XX, 4XX, 5XX, 6XX '
                '(also written 2xx or 2nn), e.g. reasonCodes="2XX,4XX"')
        items = _list_items(attr.value)
        named = [i for i in items if i]
        if not named:
            self.error("reasonCodes is empty", self.at_value(element, "reasonCodes"),
                       'write reasonCodes="NONE" for no responses; ' + hint, "reason-codes")
            return ResponseFilter(all_codes=False, classes=frozenset())
        exclusive = [i for i in named if i.upper() in ("ALL", "NONE")]
        if exclusive and len(named) > 1:
            self.error(f"{exclusive[0]} cannot be combined with other values in reasonCodes",
                       self.at_value(element, "reasonCodes", exclusive[0]),
                       f'write reasonCodes="{exclusive[0].upper()}" alone, or list the classes without it',
                       "reason-codes")
            return ResponseFilter()
        if len(named) != len(items):
            self.warn(f"reasonCodes={attr.value!r} has an empty entry (two commas, or a comma at the end)",
                      self.at_value(element, "reasonCodes"), "delete the extra comma", "reason-codes")
        if named[0].upper() == "ALL":
            return ResponseFilter()
        if named[0].upper() == "NONE":
            return ResponseFilter(all_codes=False, classes=frozenset())
        classes = set()
        for item in named:
            match = re.fullmatch(r"([1-6])(?:xx|nn)", item, re.IGNORECASE)
            if match:
                classes.add(int(match.group(1)))
                continue
            where = self.at_value(element, "reasonCodes", item)
            if re.fullmatch(r"[1-6]\d\d", item):
                self.error(f"reasonCodes selects classes of responses, not the single code {item}", where,
                           f'write {item[0]}XX to receive every {item[0]}xx response, and test '
                           f"sipResponse.StatusCode == {item} in the script", "reason-codes")
            else:
                self.error(f"bad reasonCodes value {item!r}", where, hint + "." + _typographic_note(item), "reason-codes")
        return ResponseFilter(all_codes=False, classes=frozenset(classes))

    # ---- flat files --------------------------------------------------------------------------

    def _file(self, element: _Element, files: dict[str, FlatFile]) -> FlatFile | None:
        self._check_element_shape(element, _ELEMENT_ATTRIBUTES["file"], children_ok=True)
        ok = True
        name_attr = element.attrs.get("name")
        name = name_attr.value.strip() if name_attr else ""
        if name_attr is None:
            self.error(f"{element.tag()} needs a name attribute", self.at(element),
                       'add name="policy": the script reads the file as policy[index].column', "file")
            ok = False
        elif not _IDENTIFIER.match(name):
            self.error(f"file name {name!r} is not an MSPL identifier", self.at_value(element, "name"),
                       "use letters, digits and _ only, starting with a letter: the script reads it as name[index].column",
                       "file")
            ok = False
        elif name in files:
            self.error(f"a flat file named {name!r} is declared twice", self.at_value(element, "name"),
                       "give each <file> its own name", "file")
            ok = False
        path_attr = element.attrs.get("path")
        if path_attr is None or not path_attr.value.strip():
            self.error(f"{element.tag()} needs a path attribute", self.at(element),
                       'add path="policy.txt" (a path relative to the manifest\'s folder)', "file")
            ok = False
        columns = self._columns(element)
        if not columns:
            ok = False
        key_attr = element.attrs.get("keyColumnName")
        key_column = key_attr.value.strip() if key_attr else None
        if key_column is not None and columns and key_column not in columns:
            guess = _closest(key_column, columns)
            also = f"; did you mean {guess}?" if guess else ""
            self.error(f"keyColumnName {key_column!r} is not one of the declared columns{also}",
                       self.at_value(element, "keyColumnName"),
                       f"the columns of this file are {', '.join(columns)}: name one of them, or declare "
                       f'<{self.prefix + ":" if self.prefix else ""}column name="{key_column}"/>', "file")
            ok = False
        ignore_case = self._boolean(element, "ignoreCase", False)
        if "ignoreCase" in element.attrs and key_column is None:
            if ignore_case:
                self.error("ignoreCase needs keyColumnName", self.at_attr(element, "ignoreCase"),
                           "the reference: keyColumnName is required when ignoreCase is used, because ignoreCase "
                           "applies to the key lookup; add keyColumnName or delete ignoreCase", "file")
                ok = False
            else:
                self.warn('ignoreCase="false" has no effect without keyColumnName', self.at_attr(element, "ignoreCase"),
                          "delete it, or add keyColumnName to look rows up by key", "file")
        delimited_by = self._delimiter(element)
        static = self._boolean(element, "static", False)  # "not declared as static ... reread" (FilteringApp)
        if not ok or delimited_by is None:
            return None
        raw_path = path_attr.value.strip()
        spec = dict(name=name, columns=columns, key_column=key_column, ignore_case=ignore_case,
                    delimited_by=delimited_by, static=static)
        if name in self.flat_file_texts:
            return self._load_file(self.flat_file_texts[name], raw_path, spec)
        if self.base_dir is None:
            return FlatFile(path=raw_path, loaded=False, **spec)
        resolved = _resolve_flat_file(raw_path, self.base_dir)
        try:
            if resolved is None:  # C:\... or \\server\share on a computer that is not Windows
                raise FileNotFoundError(raw_path)
            data = Path(resolved).read_bytes()
        except OSError as err:
            resolved = resolved or raw_path
            self.error(f"flat file {name!r} not found: {resolved}" if isinstance(err, FileNotFoundError)
                       else f"cannot read flat file {name!r} ({resolved}): {err.strerror or err}",
                       self.at_value(element, "path"), _missing_file_hint(raw_path), "flat-file-missing")
            return None
        try:
            text = _decode(data, resolved, what="flat file")
        except ManifestError as err:
            self.errors.extend(err.diagnostics)
            return None
        return self._load_file(text, resolved, spec)

    def _load_file(self, text: str, path: str, spec: dict) -> FlatFile | None:
        if text.startswith("\ufeff"):
            text = text[1:]
        rows, errors = _read_rows(text, path, spec["columns"], spec["key_column"], spec["ignore_case"],
                                  spec["delimited_by"], spec["name"])
        if errors:
            self.errors.extend(errors)
            return None
        return FlatFile(path=path, rows=rows, loaded=True, **spec)

    def _columns(self, element: _Element) -> tuple[str, ...]:
        columns: list[str] = []
        for child in element.children:
            if child.uri != MSPL_NAMESPACE or child.local != "column":
                self.error(f"{element.tag()} can only contain {self.tag('column')} elements, not {child.tag()}",
                           self.at(child), f'declare each column as <{self.prefix + ":" if self.prefix else ""}column name="..."/>',
                           "unexpected-element")
                continue
            self._check_element_shape(child, ("name",))
            attr = child.attrs.get("name")
            if attr is None:
                self.error(f"{child.tag()} needs a name attribute", self.at(child),
                           'add name="...": the script reads the value as file[index].name', "file")
                continue
            name = attr.value.strip()
            if not _IDENTIFIER.match(name):
                self.error(f"column name {name!r} is not an MSPL identifier", self.at_value(child, "name"),
                           "use letters, digits and _ only, starting with a letter", "file")
            elif name in columns:
                self.error(f"column {name!r} is declared twice", self.at_value(child, "name"),
                           "give each column its own name", "file")
            else:
                columns.append(name)
        if not element.children:
            self.error(f"{element.tag()} declares no columns", self.at(element),
                       f'add one {self.tag("column")[:-1]} name="..."/> per field of a line, in file order', "file")
        return tuple(columns)

    def _delimiter(self, element: _Element) -> str | None:
        attr = element.attrs.get("delimitedBy")
        if attr is None:
            return "comma"  # "The default value is comma" (hh347232)
        value = attr.value.strip().lower()
        if value in _DELIMITERS:
            return value
        self.error(f"delimitedBy={attr.value!r} is not comma, tab or whitespace", self.at_value(element, "delimitedBy"),
                   'write delimitedBy="comma" (the default), "tab" or "whitespace"' + _typographic_note(attr.value), "file")
        return None

    # ---- the script --------------------------------------------------------------------------

    def _script(self, element: _Element, script_only: bool) -> dict:
        pieces = element.texts
        cdata = [p for p in pieces if p.cdata]
        if element.cdata_starts:
            for piece in pieces:
                if not piece.cdata and piece.text.strip():
                    offset = self.smap.offset(piece.line, piece.column - 1)
                    offset += len(piece.text) - len(piece.text.lstrip())
                    self.error(f"text outside the CDATA section of {element.tag()}", self.smap.position(offset),
                               "put all of the script between <![CDATA[ and ]]>", "stray-text")
                    break
            if len(element.cdata_starts) > 1:
                self.warn(f"{element.tag()} holds {len(element.cdata_starts)} CDATA sections; they are joined",
                          self.at(element), "use one <![CDATA[ ... ]]> section; positions after the first one may be off",
                          "cdata")
            script = "".join(p.text for p in cdata)
            line, column = element.cdata_starts[0]
        else:
            script = "".join(p.text for p in pieces)
            if pieces:
                line, column = pieces[0].line, pieces[0].column
            else:  # <lc:splScript/> or <lc:splScript></lc:splScript>
                span_end = self.text.find(">", element.offset)
                line, column = self.smap.position(span_end + 1 if span_end >= 0 else element.offset)
        if not script.strip():
            self.warn(f"{element.tag()} is empty", self.at(element),
                      "an empty script handles nothing: proxyByDefault alone decides what happens to each message",
                      "empty-script")
        if script_only:
            for offset in find_dispatch_calls(script):
                where = _position_in_script(script, line, column, offset)
                self.error("Dispatch is not allowed in a scriptOnly application", where,
                           "scriptOnly means there is no managed component to dispatch to: remove scriptOnly if a "
                           "managed application (ServerAgent) loads this manifest, or replace Dispatch with "
                           "ProxyRequest, Respond or RetargetRequest", "dispatch-script-only")
        return {"script": script, "script_line": line, "script_column": column}


# =============================================================================================
# Flat files: paths and rows
# =============================================================================================

def _resolve_flat_file(raw: str, base_dir: Path) -> str | None:
    """The file a ``path`` attribute names, read relative to the manifest's folder (None: unreachable).

    The server reads relative paths from RTCSRV.EXE's folder (...\\Server\\Core), where the SDK
    samples tell you to copy the .am and its files: the manifest's folder plays that part here.
    """
    windows = PureWindowsPath(raw)
    if os.name != "nt" and (windows.drive or raw.startswith("\\\\")):
        return None  # C:\... or \\server\share: not a path on this computer
    if os.name != "nt":
        raw = raw.replace("\\", "/")  # .\hostname.csv, as the MSPL syntax page writes it
    path = Path(raw)
    if not path.is_absolute():
        path = base_dir / path
    return str(path.resolve())


def _missing_file_hint(raw: str) -> str:
    if PureWindowsPath(raw).drive or raw.startswith("\\\\"):
        return ("this is a path on the Front End server; mspl-lite reads flat files on this computer: copy the file "
                "next to the .am and write a relative path, e.g. path=\"policy.txt\"")
    return ("relative paths are read from the manifest's folder (Lync Server reads them from RTCSRV.EXE's folder, "
            "...\\Server\\Core, where the SDK samples copy the .am and its files): put the file there or fix path")


def _split_fields(line: str, delimited_by: str) -> list[tuple[str, int]]:
    """Split one record into (value, 1-based column) pairs.

    Double quotes protect delimiters ("a,b"; "" inside quotes is a quote). With ``whitespace`` the
    reference says leading, trailing and separating white space are all stripped.
    """
    fields: list[tuple[str, int]] = []
    current: list[str] = []
    start, quoted, was_quoted, i, n = 0, False, False, 0, len(line)
    separator = {"comma": ",", "tab": "\t"}.get(delimited_by)
    if delimited_by == "whitespace":
        while i < n and line[i] in " \t":
            i += 1
        start = i
        while n > i and line[n - 1] in " \t":
            n -= 1

    def close() -> None:
        text = "".join(current)
        if was_quoted:  # a quoted value keeps its spaces
            fields.append((text, start + 1))
        else:
            fields.append((text.strip(), start + len(text) - len(text.lstrip()) + 1))

    while i < n:
        c = line[i]
        if quoted:
            if c == '"' and i + 1 < n and line[i + 1] == '"':
                current.append('"')
                i += 1
            elif c == '"':
                quoted = False
            else:
                current.append(c)
        elif c == '"' and not was_quoted and not "".join(current).strip():
            current, quoted, was_quoted, start = [], True, True, i
        elif c == separator:
            close()
            current, start, was_quoted = [], i + 1, False
        elif delimited_by == "whitespace" and c in " \t":
            close()
            while i + 1 < n and line[i + 1] in " \t":
                i += 1
            current, start, was_quoted = [], i + 1, False
        else:
            current.append(c)
        i += 1
    close()
    return fields


def _read_rows(text: str, path: str, columns: tuple[str, ...], key_column: str | None, ignore_case: bool,
               delimited_by: str, name: str) -> tuple[tuple[dict[str, str], ...], list[Diagnostic]]:
    """Records of a flat file, and a diagnostic per bad line (at most 20)."""
    smap = _SourceMap(text)
    rows: list[dict[str, str]] = []
    errors: list[Diagnostic] = []
    keys: dict[str, int] = {}  # folded key -> line number

    def report(message: str, number: int, column: int, hint: str, code: str) -> None:
        errors.append(Diagnostic(severity="error", message=message, filename=path, line=number, column=column,
                                 source=smap.line_text(number), hint=hint, code=code))

    for number, line in enumerate(_LINE_BREAK.split(text), start=1):
        if not line.strip():
            continue
        fields = _split_fields(line, delimited_by)
        while len(fields) > len(columns) and not fields[-1][0]:
            fields.pop()  # a trailing delimiter (an invisible tab) adds no field
        if len(fields) > len(columns):
            hint = (f"{name} declares {len(columns)} column(s) ({', '.join(columns)}), delimited by {delimited_by}: "
                    "remove the extra field(s) or declare more columns")
            if line.lstrip().startswith(("#", "//", ";")):
                hint = "flat files have no comment lines (the server documents none): every line is a record; " + hint
            elif delimited_by == "whitespace":
                hint += '; enclose a value holding spaces in double quotes ("two words")'
            report(f"line has {len(fields)} fields but flat file {name!r} has {len(columns)} column(s)",
                   number, fields[len(columns)][1], hint, "flat-file-fields")
        else:
            # FilteringApp's policy file leaves its last column out on some lines ("The Value column is
            # optional"): a missing trailing field reads as "".
            values = [value for value, _ in fields] + [""] * (len(columns) - len(fields))
            row = dict(zip(columns, values))
            if key_column is not None:
                key = row[key_column]
                folded = key.casefold() if ignore_case else key
                if folded in keys:
                    index = columns.index(key_column)
                    column = fields[index][1] if index < len(fields) else 1
                    case = " (ignoreCase is on, so case does not count)" if ignore_case else ""
                    report(f"duplicate key {key!r} in flat file {name!r}: line {keys[folded]} has it too{case}",
                           number, column,
                           f"the values of the key column {key_column} must be unique: Lync Server logs an error "
                           "and terminates the application when it loads this file", "flat-file-duplicate-key")
                else:
                    keys[folded] = number
            rows.append(row)
        if len(errors) >= 20:
            break
    return tuple(rows), errors


# =============================================================================================
# Scanning a script for Dispatch(
# =============================================================================================

_IDENT_START = re.compile(r"[A-Za-z_]")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def find_dispatch_calls(script: str) -> list[int]:
    """Offsets of each ``Dispatch(`` call in an MSPL script, outside comments and string literals.

    A small scan, not a parse: the language checker does the full check. ``DispatchNotification``
    is a different function and is not reported.
    """
    found: list[int] = []
    i, n = 0, len(script)
    while i < n:
        c = script[i]
        if script.startswith("//", i):
            end = script.find("\n", i)
            i = n if end < 0 else end
        elif script.startswith("/*", i):
            end = script.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif c == '"':
            i += 1
            while i < n and script[i] not in '"\n':
                i += 2 if script[i] == "\\" else 1
            i += 1
        elif _IDENT_START.match(c):
            match = _IDENT.match(script, i)
            word = match.group()
            end = match.end()
            if word == "Dispatch":
                j = end
                while j < n and script[j] in " \t\r\n":
                    j += 1
                if j < n and script[j] == "(":
                    found.append(i)
            i = end
        else:
            i += 1
    return found
