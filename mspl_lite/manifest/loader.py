"""Reading a .am file: the XML element tree -> an ApplicationManifest, with every problem reported.

    load_manifest(path)                          -> ApplicationManifest   (reads flat files next to it)
    parse_manifest(text, filename=, base_dir=)   -> ApplicationManifest

The reader walks the element tree once, fills in the documented defaults and collects every error
and warning with its position; it raises one ManifestError holding all errors at the end.
"""
from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Iterable, Mapping

from ..errors import Diagnostic, ManifestError
from ..text import MAX_FLAT_FILE, MAX_MANIFEST_FILE, display_path, read_input
from .dispatch_scan import find_dispatch_calls
from .flat_file import DELIMITERS, FlatFile, FlatFilePathError, missing_file_hint, parse_flat_file, resolve_flat_file
from .lookalikes import typographic_note
from .model import MSPL_NAMESPACE, REQUEST_METHODS, SERVER_ROLES, ApplicationManifest, RequestFilter, ResponseFilter
from .source import SourceMap, declared_encoding, decode, position_in_script
from .xml_tree import Element, Text, XmlReader, scan_start_tag

# The namespace selects the server version whose semantics apply (applicationManifest element,
# L13sip dn439116; OCS07 bb679974). mspl-lite models Lync Server 2013 only.
_OLDER_NAMESPACES = {
    "http://schemas.microsoft.com/lcs/2003/05": "Live Communications Server 2003",
    "http://schemas.microsoft.com/rtc/2003/05": "Live Communications Server 2003",
    "http://schemas.microsoft.com/lcs/2004/05": "Live Communications Server 2005",
}

# Names a Lync admin may try for a role, from the topology builder's vocabulary.
_ROLE_ALIASES = {"edge": "AccessProxy", "edgeserver": "AccessProxy", "accessedge": "AccessProxy",
                 "frontendserver": "FrontEnd", "standardedition": "HomeServer", "standard": "HomeServer"}

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

#: Most errors (and, apart, warnings) one manifest reports; the rest are counted in one note. As
#: the SIP and script parsers do (20): the first faults are the ones to fix, and 10,000 of them
#: once rendered into a 387 MB message.
MAX_ERRORS = 20


# =============================================================================================
# Public entry points
# =============================================================================================

def load_manifest(path: str | os.PathLike) -> ApplicationManifest:
    """Read and parse a .am file (UTF-8, BOM tolerated); flat files are read from its folder."""
    path = Path(path)
    filename = display_path(path)
    # Regular files only, at most MAX_MANIFEST_FILE bytes: /dev/zero or a FIFO is refused at once.
    data = read_input(path, limit=MAX_MANIFEST_FILE, what="manifest", error=ManifestError, filename=filename)
    text = decode(data, filename, what="manifest", declared=declared_encoding(data))
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
    return _ManifestReader(text.removeprefix("\ufeff"), filename, base_dir, flat_file_texts or {}).read()


# =============================================================================================
# Reading the element tree
# =============================================================================================

def _closest(name: str, known: Iterable[str]) -> str | None:
    """The known name ``name`` most likely meant (same letters in another case first), or None."""
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
    """The stripped items of a comma list such as methodNames="INVITE, MESSAGE"."""
    return [item.strip() for item in raw.split(",")]


class _ManifestReader:
    """Walk the element tree of one .am file, collecting values, errors and warnings."""

    def __init__(self, text: str, filename: str, base_dir, flat_file_texts: Mapping[str, str]):
        self.text, self.filename = text, filename
        self.base_dir = Path(base_dir) if base_dir is not None else None
        self.flat_file_texts = flat_file_texts
        self.smap = SourceMap(text, filename)
        self.errors: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []
        self.left_out = {"error": 0, "warning": 0}  # past MAX_ERRORS: counted, not built
        self.notes: list[Diagnostic] = []  # shown after the errors
        self.prefix = "lc"

    # ---- reporting ---------------------------------------------------------------------------

    def error(self, message: str, where: tuple[int, int], hint: str, code: str) -> None:
        if len(self.errors) >= MAX_ERRORS:
            self.left_out["error"] += 1
            return
        self.errors.append(self.smap.diagnostic("error", message, where, hint, code))

    def full(self) -> bool:
        """True (and the error counted) once MAX_ERRORS are kept: a loop over the items of one
        attribute then skips locating the next bad item, which costs a scan of the value (10,000
        bad methodNames took 7 s, quadratic)."""
        if len(self.errors) < MAX_ERRORS:
            return False
        self.left_out["error"] += 1
        return True

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        """Add the errors of a flat file (which caps its own), within MAX_ERRORS."""
        for d in diagnostics:
            if d.severity != "error":
                self.notes.append(d)  # a flat file's own "lines not checked" note
            elif len(self.errors) >= MAX_ERRORS:
                self.left_out["error"] += 1
            else:
                self.errors.append(d)

    def warn(self, message: str, where: tuple[int, int], hint: str, code: str) -> None:
        if len(self.warnings) >= MAX_ERRORS:
            self.left_out["warning"] += 1
            return
        self.warnings.append(self.smap.diagnostic("warning", message, where, hint, code))

    def _more(self, severity: str) -> list[Diagnostic]:
        """The note "and N more errors not shown", when some were left out."""
        n = self.left_out[severity]
        if not n:
            return []
        return [Diagnostic(severity="note", message=f"and {n} more {severity}{'s' if n > 1 else ''} not shown",
                           filename=self.filename,
                           hint=f"mspl-lite shows the first {MAX_ERRORS}: fix them and check again", code="too-many")]

    def fail(self) -> ManifestError:
        return ManifestError(self.errors + self.notes + self._more("error"))

    # ---- positions ---------------------------------------------------------------------------

    def at(self, element: Element) -> tuple[int, int]:
        return element.line, element.column

    def _attr_span(self, element: Element, local: str):
        attr = element.attrs.get(local)
        if attr is None:
            return None
        return scan_start_tag(self.text, element.offset).get(attr.qname)

    def at_attr(self, element: Element, local: str) -> tuple[int, int]:
        span = self._attr_span(element, local)
        return self.smap.position(span[0]) if span else self.at(element)

    def at_value(self, element: Element, local: str, item: str | None = None) -> tuple[int, int]:
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

    def at_text(self, piece: Text) -> tuple[int, int]:
        """Where the first non-blank character of a text run stands."""
        offset = self.smap.offset(piece.line, piece.column - 1)
        return self.smap.position(offset + len(piece.text) - len(piece.text.lstrip()))

    def qname(self, local: str) -> str:
        """``local`` with the prefix the root element uses: lc:column, or column without a prefix."""
        return f"{self.prefix}:{local}" if self.prefix else local

    def tag(self, local: str) -> str:
        """The start tag of ``local`` as this manifest would write it: <lc:column>."""
        return f"<{self.qname(local)}>"

    # ---- the document ------------------------------------------------------------------------

    def read(self) -> ApplicationManifest:
        root = XmlReader(self.smap).read()
        self._check_root(root)
        values = self._read_children(root)
        if self.errors:
            raise self.fail()
        return ApplicationManifest(filename=self.filename, source=self.text, namespace=root.uri or "",
                                   warnings=tuple(self.warnings + self._more("warning")), **values)

    def _check_root(self, root: Element) -> None:
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

    def _read_children(self, root: Element) -> dict:
        values: dict = {"app_uri": self._app_uri(root)}
        self._check_element_shape(root, ("appUri",), children_ok=True)
        seen: dict[str, Element] = {}
        files: dict[str, FlatFile] = {}
        script_element: Element | None = None
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
            # _ELEMENT_ATTRIBUTES is the one list of what each element takes; <file> holds <column>s
            # and <splScript> holds the script.
            self._check_element_shape(child, _ELEMENT_ATTRIBUTES[local], children_ok=local == "file",
                                      text_ok=local == "splScript")
            if local == "allowRegistrationBeforeUserServices":
                values["allow_registration_before_user_services"] = True
            elif local == "serverFilter":
                values["server_roles"] = self._roles(child)
            elif local == "proxyByDefault":
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
                values["script_only"] = True
            elif local == "splScript":
                script_element = script_element or child
        values["files"] = files
        if script_element is None:
            self.error(f"the manifest has no {self.tag('splScript')} element", self.at(root),
                       f"add {self.tag('splScript')}<![CDATA[ ... the script ... ]]></{self.qname('splScript')}> "
                       "as the last child of applicationManifest", "missing-script")
        else:
            values.update(self._script(script_element, values.get("script_only", False)))
        return values

    def _child_name(self, child: Element) -> str | None:
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
            # decision D11: the 2013 how-to template (Dn439077)'s spelling, read as scriptOnly.
            self.warn(f"{child.tag()} is read as {self.tag('scriptOnly')}", self.at(child),
                      "the Lync Server 2013 SDK how-to template writes script-only; the element reference and "
                      f"every sample write scriptOnly: write <{self.qname('scriptOnly')}/>", "script-only-spelling")
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

    def _after_script(self, child: Element, local: str, script_element: Element) -> None:
        hint = f"move {child.tag()} above {script_element.tag()}: splScript must be the last child"
        if local == "scriptOnly":
            hint += (" (the SDK how-to note saying script-only must be last contradicts the element reference "
                     "and every sample)")
        self.error(f"{child.tag()} comes after {script_element.tag()} (line {script_element.line})",
                   self.at(child), hint, "order")

    def _check_element_shape(self, element: Element, attributes: tuple[str, ...], *,
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

    def _no_stray_text(self, element: Element) -> None:
        for piece in element.texts:
            if piece.text.strip():
                self.error(f"unexpected text inside {element.tag()}", self.at_text(piece),
                           f"text belongs only in {self.tag('splScript')}; delete it or move it there", "stray-text")
                return

    # ---- attributes --------------------------------------------------------------------------

    def _app_uri(self, root: Element) -> str:
        attr = root.attrs.get("appUri")
        if attr is None:
            self.error(f"{root.tag()} has no appUri attribute", self.at(root),
                       f'add {self.qname("appUri")}="http://www.contoso.com/MyApp": the URI '
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

    def _boolean(self, element: Element, local: str, default: bool | None) -> bool:
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
                   f'write {local}="true" or {local}="false".' + typographic_note(attr.value), "boolean")
        return default if default is not None else True

    def _roles(self, element: Element) -> frozenset[str]:
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
                if self.full():
                    continue
                self.error(f"roles={attr.value!r} has an empty entry", self.at_value(element, "roles"), hint, "roles")
                continue
            role = known.get(item.lower())
            if role is None:
                if self.full():
                    continue
                guess = _ROLE_ALIASES.get(item.lower()) or _closest(item, list(known.values()))
                also = f"; did you mean {guess}?" if guess else ""
                self.error(f"unknown server role {item!r}{also}", self.at_value(element, "roles", item),
                           hint + "." + typographic_note(item), "roles")
                continue
            roles.add(role)
        if "ALL" in roles:
            if len([i for i in items if i]) > 1:
                self.error("ALL cannot be combined with other roles", self.at_value(element, "roles"),
                           'write roles="ALL" alone, or list the roles without ALL', "roles")
            return frozenset(SERVER_ROLES)
        return frozenset(roles)

    def _request_filter(self, element: Element) -> RequestFilter:
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
        written = _list_items(attr.value)
        items = [i.upper() for i in written]
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
            if item in REQUEST_METHODS:
                methods.add(item)
                continue
            if self.full():
                continue
            original = next((w for w in written if w.upper() == item), item)
            guess = _closest(item, REQUEST_METHODS)
            also = f"; did you mean {guess}?" if guess and guess != "OTHER" else ""
            self.error(f"unknown method name {original!r} in methodNames{also}",
                       self.at_value(element, "methodNames", original), hint + "." + typographic_note(original),
                       "method-names")
        return RequestFilter(all_methods=False, method_names=frozenset(methods), **flags)

    def _phone_uri(self, element: Element) -> bool:
        attr = element.attrs.get("phoneUri")
        if attr is not None and attr.value.strip().lower() not in ("true", "false"):
            self.error(f"phoneUri={attr.value!r} is neither true nor false", self.at_value(element, "phoneUri"),
                       'write phoneUri="true" or phoneUri="false" (the reference\'s syntax line shows phoneUri="URI" '
                       "but describes no such value; mspl-lite reads phoneUri as true/false)" + typographic_note(attr.value),
                       "boolean")
            return False
        return self._boolean(element, "phoneUri", False)

    def _response_filter(self, element: Element) -> ResponseFilter:
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
            if self.full():
                continue
            where = self.at_value(element, "reasonCodes", item)
            if re.fullmatch(r"[1-6]\d\d", item):
                self.error(f"reasonCodes selects classes of responses, not the single code {item}", where,
                           f'write {item[0]}XX to receive every {item[0]}xx response, and test '
                           f"sipResponse.StatusCode == {item} in the script", "reason-codes")
            else:
                self.error(f"bad reasonCodes value {item!r}", where, hint + "." + typographic_note(item), "reason-codes")
        return ResponseFilter(all_codes=False, classes=frozenset(classes))

    # ---- flat files --------------------------------------------------------------------------

    def _file(self, element: Element, files: dict[str, FlatFile]) -> FlatFile | None:
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
                       f'<{self.qname("column")} name="{key_column}"/>', "file")
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
        try:
            resolved = resolve_flat_file(raw_path, self.base_dir)  # decision D56: inside the manifest's folder
        except FlatFilePathError as refused:
            self.error(f"flat file {name!r}: {refused.reason}", self.at_value(element, "path"), refused.hint,
                       "flat-file-path")
            return None
        try:
            if resolved is None:  # C:\... or \\server\share on a computer that is not Windows
                raise FileNotFoundError(raw_path)
            # Regular files only (no FIFO, no device), at most MAX_FLAT_FILE bytes.
            data = read_input(resolved, limit=MAX_FLAT_FILE, what="flat file", error=ManifestError)
        except FileNotFoundError:
            self.error(f"flat file {name!r} not found: {display_path(resolved or raw_path)}",
                       self.at_value(element, "path"), missing_file_hint(raw_path), "flat-file-missing")
            return None
        except ManifestError as err:
            if err.first.code == "no-such-file":
                self.error(f"flat file {name!r} not found: {display_path(resolved)}",
                           self.at_value(element, "path"), missing_file_hint(raw_path), "flat-file-missing")
            else:   # a folder, a pipe or device, too large, unreadable: said where the path is written
                self.error(f"flat file {name!r} ({display_path(resolved)}): {err.first.message}",
                           self.at_value(element, "path"), err.first.hint or missing_file_hint(raw_path),
                           "flat-file-missing")
            return None
        try:
            text = decode(data, resolved, what="flat file")
        except ManifestError as err:
            self.extend(err.diagnostics)
            return None
        return self._load_file(text, resolved, spec)

    def _load_file(self, text: str, path: str, spec: dict) -> FlatFile | None:
        try:
            return parse_flat_file(text, path=path, **spec)
        except ManifestError as err:
            self.extend(err.diagnostics)
            return None

    def _columns(self, element: Element) -> tuple[str, ...]:
        columns: dict[str, None] = {}  # a dict keeps their order; `in` is one lookup, not a scan
        for child in element.children:
            if child.uri != MSPL_NAMESPACE or child.local != "column":
                self.error(f"{element.tag()} can only contain {self.tag('column')} elements, not {child.tag()}",
                           self.at(child), f'declare each column as <{self.qname("column")} name="..."/>',
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
                if not self.full():
                    self.error(f"column {name!r} is declared twice", self.at_value(child, "name"),
                               "give each column its own name", "file")
            else:
                columns[name] = None
        if not element.children:
            self.error(f"{element.tag()} declares no columns", self.at(element),
                       f'add one <{self.qname("column")} name="..."/> per field of a line, in file order', "file")
        return tuple(columns)

    def _delimiter(self, element: Element) -> str | None:
        attr = element.attrs.get("delimitedBy")
        if attr is None:
            return "comma"  # "The default value is comma" (hh347232)
        value = attr.value.strip().lower()
        if value in DELIMITERS:
            return value
        self.error(f"delimitedBy={attr.value!r} is not comma, tab or whitespace", self.at_value(element, "delimitedBy"),
                   'write delimitedBy="comma" (the default), "tab" or "whitespace"' + typographic_note(attr.value), "file")
        return None

    # ---- the script --------------------------------------------------------------------------

    def _script(self, element: Element, script_only: bool) -> dict:
        pieces = element.texts
        cdata = [p for p in pieces if p.cdata]
        if element.cdata_starts:
            for piece in pieces:
                if not piece.cdata and piece.text.strip():
                    self.error(f"text outside the CDATA section of {element.tag()}", self.at_text(piece),
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
                where = position_in_script(script, line, column, offset)
                self.error("Dispatch is not allowed in a scriptOnly application", where,
                           "scriptOnly means there is no managed component to dispatch to: remove scriptOnly if a "
                           "managed application (ServerAgent) loads this manifest, or replace Dispatch with "
                           "ProxyRequest, Respond or RetargetRequest", "dispatch-script-only")
        return {"script": script, "script_line": line, "script_column": column}

