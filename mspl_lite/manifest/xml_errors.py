"""Translating expat's complaints into diagnostics a Lync admin can act on.

expat says "not well-formed (invalid token)"; the admin needs to hear which character, which tag and
what to type instead (decision D12).
"""
from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING
from xml.parsers import expat

from ..errors import Diagnostic
from .lookalikes import LOOKALIKES, QUOTE_LOOKALIKES, char_name, lookalike_hint, lookalike_in_markup
from .model import MSPL_NAMESPACE

if TYPE_CHECKING:  # xml_tree imports this module to report its errors
    from .xml_tree import XmlReader


def xml_error(err: expat.ExpatError, reader: XmlReader) -> Diagnostic:
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
        if in_script_text and code in token_codes:
            hint += ". Put the script inside <![CDATA[ ... ]]>: there <, > and & need no escaping"
        return smap.diagnostic("error", msg, smap.position(where), hint, "xml")

    # Look-alike characters at the fault or in a tag before it: roles="ALL” lets the value run on
    # to the next straight quote, so expat may only complain lines later.
    suspect = at if char in LOOKALIKES else lookalike_in_markup(text, at)
    if suspect is None and in_tag:  # an invisible space pasted into this tag
        suspect = next((i for i in range(tag_start, at) if text[i] in LOOKALIKES), None)
    if suspect is not None and code in token_codes | {
            errors.codes[errors.XML_ERROR_UNCLOSED_TOKEN], errors.codes[errors.XML_ERROR_PARTIAL_CHAR],
            errors.codes[errors.XML_ERROR_SYNTAX], errors.codes[errors.XML_ERROR_NO_ELEMENTS],
            errors.codes[errors.XML_ERROR_TAG_MISMATCH], errors.codes[errors.XML_ERROR_UNCLOSED_CDATA_SECTION]}:
        where = suspect
        bad = text[where]
        what = ("straight quote" if bad in QUOTE_LOOKALIKES
                else "plain space" if LOOKALIKES[bad] == " " else "plain character")
        return result(f"{char_name(bad)} where XML needs a {what}", lookalike_hint(bad), where)

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
            return result(f"{char_name(char)} is not allowed in XML", "delete this invisible control character")
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

