"""MSPL text -> tokens, each with the line and column of the file it came from.

Lexical rules (Dn439066, the Lync Server 2013 syntax page, unless another page is named):

* identifiers ``[A-Za-z_][A-Za-z0-9_]*`` (enum values such as ``StatusClass._2xx`` start with ``_``);
* integers: decimal ``42`` or hexadecimal ``0x7FFFFFFF`` (the SDK's routing script Dn439065 writes
  ``0x7FFFFFFF``); floats ``1.5``, ``0.25`` in the en-US format, a point and digits on both
  sides (dn439149); a signed constant is a unary minus in front of one (the parser builds
  ``Unary("-", Literal)``);
* strings ``"..."`` with the escapes ``\\"`` ``\\\\`` and ``\\uXXXX`` (exactly four hex digits) that
  the syntax page documents, plus ``\\r`` ``\\n`` ``\\t``, which the official Lync Server 2013
  sample RemoveLastActiveAttribute writes (``"content: \\r\\n"``). Any other escape is an error,
  as are ``@"..."`` verbatim strings (not supported, Dn439066) and the LCS 2005 doubled quote;
* ``//`` and ``/* */`` comments;
* the operators ``! == != < <= > >= && || = + - ( ) { } [ ] , ; . :``.

A script inside a manifest starts in the middle of the .am file, so :func:`tokenize` takes the
(line, column) where the script text starts. Columns count characters; a tab is one column.

The lexer does not stop at the first fault: :class:`Lexer` records every error and goes on
(a ``*`` still becomes a token, a lone ``&`` becomes ``&&``) so that the parser can report the
faults after it too. :func:`tokenize` raises :class:`~mspl_lite.errors.ScriptError` with all of them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ..errors import Diagnostic, ScriptError, source_line
from ..text import lone_surrogate, shown

__all__ = ["Token", "Lexer", "tokenize", "KEYWORDS", "padded_source"]

KEYWORDS: frozenset[str] = frozenset({
    "if", "else", "switch", "case", "default", "break", "continue", "return",
    "foreach", "in", "while", "function", "null", "true", "false",
})

# Longest first, so that "==" wins over "=".
_OPERATORS = ("==", "!=", "<=", ">=", "&&", "||",
              "!", "<", ">", "=", "+", "-", "(", ")", "{", "}", "[", "]", ",", ";", ".", ":")

# Characters str.splitlines() breaks on: line numbers must agree with errors.source_line().
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")

_INT_MAX = 2**31 - 1
_SURROGATES_TO_REPLACEMENT = {code: "\ufffd" for code in range(0xD800, 0xE000)}
#: The largest IEEE single-precision value (MSPL's float, dn439149).
_FLOAT_MAX = 3.4028234663852886e38

#: Errors the lexer records in full; the parser shows the first 20 (parser.MAX_ERRORS) and
#: a note. Beyond this the lexer only scans on, so a file of 1.4 million bad characters
#: costs one pass, not 1.4 million diagnostics.
MAX_LEXER_ERRORS = 100

#: Digits a decimal integer constant may have before it is too big without being converted:
#: 2147483648 has 10; Python's int() of 5,000 digits raises ValueError (its 4300-digit limit).
_MAX_INT_DIGITS = 10

# Runs the scanner consumes in one step (a 1.4 MB script lexed character by character took
# seconds). Each is one character class under one quantifier, and none holds a line break,
# so a match is linear and the column simply moves by its length.
_BLANKS = re.compile(r"[ \t]+")
_WORD = re.compile(r"[A-Za-z0-9_]+")
_PLAIN = re.compile(r'[^"\\\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029\'\u201c\u201d\u201e\u2018\u2019]+')
_OPERATOR_SET = frozenset(_OPERATORS)

# Quotes a word processor or a web page puts where a plain " belongs.
_TYPOGRAPHIC_QUOTES = "\u201c\u201d\u201e\u2018\u2019"


@dataclass(frozen=True, slots=True)
class Token:
    """One token: ``kind`` is ``"name"``, ``"int"``, ``"float"``, ``"string"``, ``"eof"``, a keyword
    or an operator; ``value`` the identifier, the number, the decoded string or the operator text.
    ``end_line``/``end_column`` point just after its last character."""

    kind: str
    value: object
    line: int
    column: int
    end_line: int
    end_column: int

    def __repr__(self) -> str:
        return f"Token({self.kind!r}, {self.value!r}, {self.line}:{self.column})"

    def describe(self) -> str:
        """How an error message names this token: ``'}'``, ``name 'foo'``, ``end of script``."""
        if self.kind == "eof":
            return "the end of the script"
        if self.kind == "name":
            return f"'{self.value}'"
        if self.kind in ("int", "float"):
            return f"the number {self.value}"
        if self.kind == "string":
            return "a string"
        return f"'{self.kind}'"


def padded_source(source: str, line: int = 1, column: int = 1) -> str:
    """``source`` preceded by blank lines and spaces so that it starts at (line, column):
    the stand-in for the whole file when the caller has only the script text."""
    return "\n" * (max(line, 1) - 1) + " " * (max(column, 1) - 1) + source


class Lexer:
    """Scans one script; ``tokens`` and ``errors`` are filled by :meth:`run`."""

    def __init__(self, source: str, *, filename: str = "<script>", line: int = 1, column: int = 1,
                 file_source: str | None = None):
        self.text = source
        self.filename = filename
        self.file_source = file_source if file_source is not None else padded_source(source, line, column)
        self.pos = 0
        self.line = line
        self.column = column
        self.tokens: list[Token] = []
        self.errors: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []
        self.dropped = 0   # errors past MAX_LEXER_ERRORS, counted only

    # ---------------------------------------------------------------------------------------
    # helpers
    # ---------------------------------------------------------------------------------------

    def error(self, message: str, line: int, column: int, hint: str | None = None, code: str | None = None):
        """Record a lexical error; scanning goes on."""
        if len(self.errors) >= MAX_LEXER_ERRORS:
            self.dropped += 1
            return
        self.errors.append(Diagnostic(
            severity="error", message=message, filename=self.filename, line=line, column=column,
            source=source_line(self.file_source, line), hint=hint, code=code,
        ))

    def warning(self, message: str, line: int, column: int, hint: str | None = None, code: str | None = None):
        """Record a lexical warning (the script still compiles)."""
        if len(self.warnings) < MAX_LEXER_ERRORS:
            self.warnings.append(Diagnostic(
                severity="warning", message=message, filename=self.filename, line=line, column=column,
                source=source_line(self.file_source, line), hint=hint, code=code,
            ))

    def peek(self, offset: int = 0) -> str:
        """The character ``offset`` ahead, or '' at the end."""
        i = self.pos + offset
        return self.text[i] if i < len(self.text) else ""

    def advance(self) -> str:
        """Consume one character, keeping line and column; ``\\r\\n`` is one line break."""
        ch = self.text[self.pos]
        self.pos += 1
        if ch in _LINE_BREAKS:
            if ch == "\r" and self.peek() == "\n":
                self.pos += 1
            self.line += 1
            self.column = 1
        else:
            self.column += 1
        return ch

    def skip(self, pattern: re.Pattern) -> str:
        """Consume the run ``pattern`` matches here (never a line break); return it."""
        match = pattern.match(self.text, self.pos)
        if match is None:
            return ""
        run = match.group()
        self.pos += len(run)
        self.column += len(run)
        return run

    def emit(self, kind: str, value, line: int, column: int):
        """Append a token that started at (line, column) and ends here."""
        self.tokens.append(Token(kind, value, line, column, self.line, self.column))

    # ---------------------------------------------------------------------------------------
    # the scanner
    # ---------------------------------------------------------------------------------------

    def run(self) -> list[Token]:
        """Scan the whole text; return the tokens, ending with one ``eof`` token."""
        bad = lone_surrogate(self.text)
        if bad is not None:
            # A Python str with a lone surrogate (a widget, "\ud800" in code) cannot be a file's
            # text: refuse it where it is, before it reaches a value (mspl_lite.text).
            parts = self.text[:bad].splitlines(keepends=True)
            if not parts:
                line, column = self.line, self.column
            elif parts[-1][-1:] in _LINE_BREAKS:
                line, column = self.line + len(parts), 1
            else:
                line = self.line + len(parts) - 1
                column = (self.column if len(parts) == 1 else 1) + len(parts[-1])
            self.error(f"the script text contains a lone surrogate U+{ord(self.text[bad]):04X}, which is "
                       "no character", line, column,
                       hint="remove it (it comes from broken text, e.g. a bad copy and paste); to write a "
                            "character by its code, use a \\uXXXX escape in a string",
                       code="lone-surrogate")
            if self.errors:   # the quoted line must be printable too
                last = self.errors[-1]
                self.errors[-1] = replace(last, source=None if last.source is None else shown(last.source))
            self.text = self.text.translate(_SURROGATES_TO_REPLACEMENT)
        while self.pos < len(self.text):
            ch = self.peek()
            line, column = self.line, self.column
            if ch == " " or ch == "\t":
                self.skip(_BLANKS)
            elif ch.isspace() or ch == "\ufeff":
                self.advance()
            elif ch == "/" and self.peek(1) == "/":
                # // comment: up to the end of the line
                while self.pos < len(self.text) and self.peek() not in _LINE_BREAKS:
                    self.advance()
            elif ch == "/" and self.peek(1) == "*":
                self.block_comment(line, column)
            elif ch.isascii() and (ch.isalpha() or ch == "_"):
                self.identifier(line, column)
            elif ch.isdigit() and ch.isascii():
                self.number(line, column)
            elif ch == '"':
                self.string(line, column)
            elif ch == "@" and self.peek(1) == '"':
                self.advance()
                self.error("verbatim strings (@\"...\") are not supported by MSPL", line, column,
                           hint='remove the @ and escape backslashes and quotes: "C:\\\\dir" or "say \\"hi\\""',
                           code="verbatim-string")
                self.string(line, column, verbatim=True)
            elif ch == "'":
                self.error("MSPL strings use double quotes, not single quotes", line, column,
                           hint='write "text" instead of \'text\'', code="single-quote")
                self.string(line, column, closing="'")
            elif ch in _TYPOGRAPHIC_QUOTES:
                self.error(f"typographic quote {ch} (copied from a web page or a word processor?)",
                           line, column, hint='MSPL strings use the plain double quote "',
                           code="typographic-quote")
                self.string(line, column, closing=_TYPOGRAPHIC_QUOTES + "\"")
            else:
                self.operator(ch, line, column)
        self.emit("eof", None, self.line, self.column)
        return self.tokens

    # /* comment */
    def block_comment(self, line: int, column: int):
        self.advance()
        self.advance()
        while self.pos < len(self.text):
            if self.peek() == "*" and self.peek(1) == "/":
                self.advance()
                self.advance()
                return
            self.advance()
        self.error("this comment is never closed", line, column,
                   hint="end the comment with */", code="unterminated-comment")

    # identifier | keyword
    def identifier(self, line: int, column: int):
        word = self.skip(_WORD)
        self.emit(word if word in KEYWORDS else "name", word, line, column)

    # digits | 0x hexdigits
    def number(self, line: int, column: int):
        start = self.pos
        if self.peek() == "0" and self.peek(1) in ("x", "X"):
            self.advance()
            self.advance()
            while self.peek() and self.peek() in "0123456789abcdefABCDEF":
                self.advance()
            digits = self.text[start + 2:self.pos]
            base = 16
        else:
            while self.peek().isascii() and self.peek().isdigit():
                self.advance()
            digits = self.text[start:self.pos]
            base = 10
        if self.peek() == "." and self.peek(1).isascii() and self.peek(1).isdigit():
            if base == 16:
                self._bad_number(start, line, column, f"'{{}}' is not a number: a hexadecimal number has no decimals",
                                 "write a decimal float such as 1.5, or a hexadecimal integer such as 0x2A")
                return
            self.advance()  # the decimal point
            while self.peek().isascii() and self.peek().isdigit():
                self.advance()
            self.decimal(start, line, column)
            return
        if self.peek().isascii() and (self.peek().isalnum() or self.peek() == "_") or not digits:
            while self.peek().isascii() and (self.peek().isalnum() or self.peek() == "_"):
                self.advance()
            self.error(f"'{self.text[start:self.pos]}' is not a number", line, column,
                       hint="write a decimal number (42) or a hexadecimal one (0x2A); "
                            "a name cannot start with a digit", code="bad-number")
            self.emit("int", 0, line, column)
            return
        significant = digits.lstrip("0")
        # Too many digits is too big before int() sees them (hexadecimal: 8 digits fit).
        value = int(significant or "0", base) if len(significant) <= (8 if base == 16 else _MAX_INT_DIGITS) \
            else _INT_MAX + 2
        # 2147483648 is allowed here so that -2147483648 can be written; the parser checks the sign.
        if value > _INT_MAX + 1:
            written = self.text[start:self.pos]
            written = written if len(written) <= 40 else written[:20] + f"... ({len(written)} digits)"
            self.error(f"the number {written} does not fit in a 32-bit integer",
                       line, column, hint=f"MSPL integers go from -2147483648 to {_INT_MAX} (0x7FFFFFFF)",
                       code="bad-number")
            value = 0
        self.emit("int", value, line, column)

    def decimal(self, start: int, line: int, column: int):
        """The rest of a float constant ``1.5`` (dn439149: "Floating-point and integer values
        must be specified using the en-US cultural format", so a point, never a comma, and no
        exponent, which the pages never show)."""
        if self.peek() and self.peek().isascii() and (self.peek().isalnum() or self.peek() in "._"):
            self._bad_number(start, line, column, "'{}' is not a number",
                             "write a float with one decimal point and digits only, like 1.5 or 0.25")
            return
        text = self.text[start:self.pos]
        value = float(text)
        if value > _FLOAT_MAX:
            shown_text = text if len(text) <= 80 else text[:20] + f"... ({len(text)} characters)"
            self.error(f"the number {shown_text} does not fit in a float", line, column,
                       hint="MSPL floats are IEEE single precision (dn439149): at most about 3.4e38",
                       code="bad-number")
            value = 0.0
        self.emit("float", value, line, column)

    def _bad_number(self, start: int, line: int, column: int, message: str, hint: str):
        """Consume the rest of a malformed number (letters, digits, points) and record it."""
        while self.peek() and self.peek().isascii() and (self.peek().isalnum() or self.peek() in "._"):
            self.advance()
        self.error(message.format(self.text[start:self.pos]), line, column, hint=hint, code="bad-number")
        self.emit("int", 0, line, column)

    # "text with \" \\ \uXXXX \r \n \t"
    def string(self, line: int, column: int, verbatim: bool = False, closing: str = '"'):
        self.advance()  # the opening quote
        out: list[str] = []
        doubled = False
        while True:
            ch = self.peek()
            if ch == "" or ch in _LINE_BREAKS:
                self.error("this string is not closed before the end of the line", line, column,
                           hint='end it with "; a string cannot span lines (write \\r\\n for a line break)',
                           code="unterminated-string")
                self.emit("string", "".join(out), line, column)
                return
            if ch in closing:
                if closing == '"' and self.peek(1) == '"' and not verbatim:
                    # "say ""hi""": LCS 2005 accepted a doubled quote inside a string; later docs only \"
                    if not doubled:
                        self.error('a doubled quote "" inside a string is not MSPL', self.line, self.column,
                                   hint='write \\" for a quote inside a string', code="doubled-quote")
                    doubled = True
                    self.advance()
                    out.append(self.advance())
                    continue
                self.advance()
                break
            if ch == "\\" and not verbatim:
                self.escape(out)
                continue
            plain = self.skip(_PLAIN) if closing == '"' else ""
            out.append(plain or self.advance())
        self.emit("string", "".join(out), line, column)

    def escape(self, out: list[str]):
        line, column = self.line, self.column
        self.advance()  # the backslash
        ch = self.peek()
        simple = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t"}
        if ch in simple and ch:
            self.advance()
            out.append(simple[ch])
            return
        if ch == "u":
            self.advance()
            digits = ""
            while len(digits) < 4 and self.peek() and self.peek() in "0123456789abcdefABCDEF":
                digits += self.advance()
            if len(digits) == 4:
                code = int(digits, 16)
                if 0xD800 <= code <= 0xDBFF and self._low_surrogate_escape():
                    low = int(self.text[self.pos + 2:self.pos + 6], 16)
                    for _ in range(6):
                        self.advance()
                    # a pair is one code point, as C# and JScript read "\uD83D\uDE00"
                    out.append(chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)))
                    return
                if 0xD800 <= code <= 0xDFFF:
                    # Decision D37: on the wire .NET's UTF-8 encoder writes U+FFFD for it (inferred).
                    self.warning(f"\\u{digits} is half of a surrogate pair, not a character: it becomes "
                                 "U+FFFD (the replacement character)", line, column,
                                 hint="write both halves, e.g. \\uD83D\\uDE00, or the character itself "
                                      "(decision D37)", code="lone-surrogate")
                    code = 0xFFFD
                out.append(chr(code))
                return
            self.error("\\u must be followed by exactly 4 hexadecimal digits", line, column,
                       hint="write the code point with 4 digits, e.g. \\u0470", code="bad-escape")
            return
        shown = ch if ch and ch not in _LINE_BREAKS else ""
        self.error(f"unknown escape '\\{shown}' in a string", line, column,
                   hint='MSPL strings know \\" \\\\ \\uXXXX \\r \\n \\t; write \\\\ for a backslash',
                   code="bad-escape")
        if shown:
            out.append(self.advance())

    def _low_surrogate_escape(self) -> bool:
        """Does a ``\\uDC00``-``\\uDFFF`` escape follow right here?"""
        follow = self.text[self.pos:self.pos + 6]
        return (len(follow) == 6 and follow[:2] == "\\u"
                and all(c in "0123456789abcdefABCDEF" for c in follow[2:])
                and 0xDC00 <= int(follow[2:], 16) <= 0xDFFF)

    # operator | punctuation | something that is not MSPL
    def operator(self, ch: str, line: int, column: int):
        pair = self.text[self.pos:self.pos + 2]
        for op in ((pair, ch) if pair in _OPERATOR_SET else (ch,)):
            if op in _OPERATOR_SET:
                for _ in op:
                    self.advance()
                self.emit(op, op, line, column)
                return
        self.advance()
        if ch in "*/%":
            self.error(f"MSPL has no '{ch}' operator", line, column,
                       hint="MSPL scripts have only + and - (decision D7)", code="no-such-operator")
            self.emit(ch, ch, line, column)  # parsed like + so that the faults after it still show
        elif ch in "&|":
            self.error(f"a single '{ch}' is not an MSPL operator; did you mean '{ch}{ch}'?", line, column,
                       hint=f"write {ch}{ch} for logical {'and' if ch == '&' else 'or'}", code="no-such-operator")
            self.emit(ch + ch, ch + ch, line, column)
        else:
            self.error(f"unexpected character {ch!r} (U+{ord(ch):04X})", line, column,
                       hint="remove it; MSPL scripts use letters, digits, strings and the operators "
                            "! == != < <= > >= && || = + -", code="bad-character")


def tokenize(source: str, *, filename: str = "<script>", line: int = 1, column: int = 1,
             file_source: str | None = None) -> list[Token]:
    """Split ``source`` (which starts at ``line``/``column`` of ``filename``) into tokens.

    Raises ScriptError listing every lexical fault. ``file_source`` is the whole file's text,
    used to show the offending line (default: ``source`` itself).
    """
    lexer = Lexer(source, filename=filename, line=line, column=column, file_source=file_source)
    tokens = lexer.run()
    if lexer.errors:
        raise ScriptError(lexer.errors)
    return tokens
