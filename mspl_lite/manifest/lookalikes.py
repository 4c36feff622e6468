"""Characters that look like XML punctuation but are not, and how to name them to a Lync admin.

“Smart” quotes, non-breaking spaces and dashes arrive by copying a manifest from a web page or a
word processor; expat then complains about something else, often lines later.
"""
from __future__ import annotations

import unicodedata

# Characters that look like XML punctuation but are not: they arrive by copying from web pages
# and word processors (decision D12: name the character and the fix).
LOOKALIKES = {
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2009": " ", "\u200b": "", "\ufeff": "",
    "\u2013": "-", "\u2014": "-",
}
QUOTE_LOOKALIKES = frozenset(c for c, plain in LOOKALIKES.items() if plain in "\"'" and plain)


def char_name(char: str) -> str:
    """'U+201C LEFT DOUBLE QUOTATION MARK' (or just the code point for controls)."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name}".rstrip()


def lookalike_hint(char: str) -> str:
    """What to type instead of the look-alike ``char`` (a key of LOOKALIKES)."""
    if char in QUOTE_LOOKALIKES:
        return ('typographic quotes (“ ” ‘ ’ „) come from copying a web page or a word processor; '
                'XML attribute values need straight quotes: retype them as " (for example roles="ALL")')
    plain = LOOKALIKES[char]
    if plain == " ":
        return "this invisible space came from a web page; replace it with an ordinary space"
    if plain == "":
        return "an invisible character came from a web page; delete it (retype the text around it)"
    return f"replace it with a plain {plain!r}"


def lookalike_in_markup(text: str, end: int) -> int | None:
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
                if text[j] in QUOTE_LOOKALIKES:
                    return j
            i = close + 1
    return None


def typographic_note(value: str) -> str:
    """A sentence to append to a hint when an attribute value holds typographic quotes, else ""."""
    if any(c in QUOTE_LOOKALIKES for c in value):
        return " The value contains typographic quotes (“ ” ‘ ’): retype the quotes as straight \" quotes."
    return ""

