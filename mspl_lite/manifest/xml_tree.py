"""XML: expat events -> a small element tree that remembers where each piece stands in the text."""
from __future__ import annotations

from dataclasses import dataclass, field
from xml.parsers import expat

from ..errors import ManifestError
from .model import MSPL_NAMESPACE
from .source import SourceMap
from .xml_errors import xml_error


@dataclass(eq=False)
class Attr:
    """An attribute of the manifest (or of no) namespace, with its name as written."""

    qname: str  # as written: "lc:appUri" or "appUri"
    value: str


@dataclass(eq=False)
class Text:
    """A run of character data, or of one CDATA section, and where it starts."""

    text: str
    cdata: bool
    line: int
    column: int  # 1-based


@dataclass(eq=False)
class Element:
    """An element with its position in the text, its attributes, children, text and CDATA sections."""

    uri: str | None
    local: str
    qname: str  # as written, with its prefix
    line: int
    column: int  # 1-based, at "<"
    offset: int
    attrs: dict[str, Attr] = field(default_factory=dict)  # by local name: manifest or no namespace
    duplicate_attrs: list[str] = field(default_factory=list)
    children: list["Element"] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    cdata_starts: list[tuple[int, int]] = field(default_factory=list)  # content start, 1-based

    def tag(self) -> str:
        """The start tag as written, for messages: <lc:requestFilter>."""
        return f"<{self.qname}>"


def _split_name(name: str) -> tuple[str | None, str, str | None]:
    """expat "uri local prefix" -> (uri, local, prefix)."""
    parts = name.split(" ")
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    if len(parts) == 2:
        return parts[0], parts[1], None
    return None, parts[0], None


class XmlReader:
    """Run expat over the text, keeping each element's position, attributes, text and CDATA."""

    def __init__(self, smap: SourceMap):
        self.text, self.smap = smap.text, smap
        self.root: Element | None = None
        self.stack: list[Element] = []
        self.in_cdata = False
        self.cdata_start: tuple[int, int] | None = None  # 1-based position of "<![CDATA["
        self._continues = False  # the next character data continues the current text run
        # The pieces of the text run being read: joined once when the run ends, so a script that
        # expat hands over in thousands of pieces (one per line, per entity) is copied once, not
        # once per piece (``last.text += data`` was quadratic: 27 s for a 1.4 MB script).
        self._run: list[str] = []
        self._run_text: Text | None = None

    def read(self) -> Element:
        """The root element; ManifestError (one diagnostic) if the text is not well-formed XML."""
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.namespace_prefixes = True
        self.parser = parser
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._characters
        parser.StartCdataSectionHandler = self._start_cdata
        parser.EndCdataSectionHandler = self._end_cdata
        # An application manifest has no DTD (no Microsoft sample or reference page shows one):
        # refuse a DOCTYPE before expat reads its internal subset, so no entity is ever declared
        # and none is expanded (a "billion laughs" file hung here before expat's own guard).
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._entity
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)  # no external DTD is read
        try:
            parser.Parse(self.text, True)
        except _Refused as refused:
            raise ManifestError(self.smap.diagnostic("error", refused.message, refused.where, refused.hint,
                                                     "xml-dtd")) from None
        except expat.ExpatError as err:
            raise ManifestError(xml_error(err, self)) from None
        except UnicodeEncodeError as err:  # a lone surrogate: text that came from broken bytes
            raise ManifestError(self.smap.diagnostic(
                "error", "the text holds an invalid character (a lone UTF-16 surrogate)",
                self.smap.position(err.start), "retype the text around it", "encoding")) from None
        self._flush()
        assert self.root is not None  # expat reports "no element found" otherwise
        return self.root

    def _where(self) -> tuple[int, int]:
        return self.parser.CurrentLineNumber, self.parser.CurrentColumnNumber + 1

    def _doctype(self, name, system_id, public_id, has_internal_subset) -> None:
        line, column = self._where()  # expat is past the name here: point at "<!DOCTYPE" itself
        at = self.text.rfind("<!DOCTYPE", 0, self.smap.offset(line, column - 1) + 1)
        where = self.smap.position(at) if at >= 0 else (line, column)
        raise _Refused("a <!DOCTYPE> declaration: an application manifest has no DTD", where,
                       "delete the <!DOCTYPE ...> declaration (and any <!ENTITY ...> in it); the server "
                       "reads the manifest as plain XML with the five built-in entities &amp; &lt; &gt; "
                       "&quot; &apos;")

    def _entity(self, *args) -> None:
        raise _Refused("an <!ENTITY> declaration: an application manifest declares no entities", self._where(),
                       "delete it; write the text itself, or &amp; &lt; &gt; &quot; &apos;")

    def _flush(self) -> None:
        """End the current text run: its pieces become its text."""
        if self._run_text is not None:
            self._run_text.text = "".join(self._run)
        self._run, self._run_text = [], None

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        uri, local, prefix = _split_name(name)
        line, column0 = self.parser.CurrentLineNumber, self.parser.CurrentColumnNumber
        element = Element(uri=uri, local=local, qname=f"{prefix}:{local}" if prefix else local,
                           line=line, column=column0 + 1, offset=self.smap.offset(line, column0))
        for key, value in attributes.items():
            a_uri, a_local, a_prefix = _split_name(key)
            if a_uri not in (None, MSPL_NAMESPACE):
                continue  # xsi:..., or another vocabulary: not the server's business
            if a_local in element.attrs:  # both lc:appUri and appUri
                element.duplicate_attrs.append(a_local)
                continue
            element.attrs[a_local] = Attr(qname=f"{a_prefix}:{a_local}" if a_prefix else a_local, value=value)
        if self.stack:
            self.stack[-1].children.append(element)
        else:
            self.root = element
        self.stack.append(element)
        self._flush()
        self._continues = False

    def _end(self, name: str) -> None:
        self.stack.pop()
        self._flush()
        self._continues = False

    def _characters(self, data: str) -> None:
        if not self.stack:
            return
        element = self.stack[-1]
        last = element.texts[-1] if element.texts else None
        # expat splits text at line breaks; glue the pieces of one run back together.
        if last is not None and last is self._run_text and last.cdata == self.in_cdata and self._continues:
            self._run.append(data)
        else:
            self._flush()
            line, column0 = self.parser.CurrentLineNumber, self.parser.CurrentColumnNumber
            text = Text(data, self.in_cdata, line, column0 + 1)
            element.texts.append(text)
            self._run, self._run_text = [data], text
        self._continues = True

    def _start_cdata(self) -> None:
        line, column0 = self.parser.CurrentLineNumber, self.parser.CurrentColumnNumber
        self._flush()
        self.in_cdata, self._continues = True, False
        self.cdata_start = (line, column0 + 1)
        if self.stack:
            self.stack[-1].cdata_starts.append((line, column0 + 1 + len("<![CDATA[")))

    def _end_cdata(self) -> None:
        self._flush()
        self.in_cdata, self._continues = False, False


class _Refused(Exception):
    """Raised from an expat handler to stop at markup a manifest may not hold (a DOCTYPE)."""

    def __init__(self, message: str, where: tuple[int, int], hint: str):
        super().__init__(message)
        self.message, self.where, self.hint = message, where, hint


def scan_start_tag(text: str, offset: int) -> dict[str, tuple[int, int, str]]:
    """Attributes of the (well-formed) start tag at ``text[offset] == "<"``.

    qname -> (offset of the name, offset of the value's first character, raw value): expat reports
    where an element starts, not where its attributes are.
    """
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

