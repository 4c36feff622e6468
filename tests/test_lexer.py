"""The MSPL lexer: every token kind, positions in the file the script came from, escapes, faults."""
import pytest

from mspl_lite.errors import ScriptError
from mspl_lite.language.lexer import KEYWORDS, Lexer, tokenize


def kinds(source, **kw):
    return [t.kind for t in tokenize(source, **kw)]


def values(source, **kw):
    return [t.value for t in tokenize(source, **kw) if t.kind != "eof"]


def lex_errors(source, **kw):
    with pytest.raises(ScriptError) as info:
        tokenize(source, filename="t.mspl", **kw)
    return info.value.diagnostics


# --------------------------------------------------------------------------------------------
# token kinds
# --------------------------------------------------------------------------------------------

def test_every_operator_is_one_token():
    ops = "! == != < <= > >= && || = + - ( ) { } [ ] , ; . :"
    assert kinds(ops) == ops.split() + ["eof"]


def test_longest_operator_wins_without_spaces():
    assert kinds("a<=b==c!=d>=e&&f||g") == [
        "name", "<=", "name", "==", "name", "!=", "name", ">=", "name", "&&", "name", "||", "name", "eof"]


@pytest.mark.parametrize("word", sorted(KEYWORDS))
def test_keywords_are_their_own_kind(word):
    assert kinds(word) == [word, "eof"]


def test_keyword_list_is_the_mspl_one():
    assert KEYWORDS == {"if", "else", "switch", "case", "default", "break", "continue", "return",
                        "foreach", "in", "while", "function", "null", "true", "false"}


def test_identifiers_may_start_with_underscore_and_hold_digits():
    toks = tokenize("StatusClass._2xx toUri2 If")
    assert [(t.kind, t.value) for t in toks[:-1]] == [
        ("name", "StatusClass"), (".", "."), ("name", "_2xx"), ("name", "toUri2"), ("name", "If")]


def test_decimal_and_hex_integers():
    assert values("0 42 0x7FFFFFFF 0x1f 2147483647") == [0, 42, 0x7FFFFFFF, 31, 2147483647]
    assert kinds("-5") == ["-", "int", "eof"]  # a signed constant is a unary minus


def test_strings_decode_every_supported_escape():
    assert values(r'"a \"q\" b\\c \u0470 \r\n\t"') == ['a "q" b\\c \u0470 \r\n\t']
    assert values('""') == [""]


def test_comments_are_skipped():
    src = "a // line comment ; b\n/* block\n comment */ c"
    assert values(src) == ["a", "c"]


# --------------------------------------------------------------------------------------------
# positions
# --------------------------------------------------------------------------------------------

def test_positions_start_where_the_script_starts_in_its_file():
    # a manifest's CDATA: the script text begins at line 20, column 28 of the .am file
    toks = tokenize("x = 1;\n  y = 2;", line=20, column=28)
    where = [(t.value, t.line, t.column) for t in toks[:-1]]
    assert where == [("x", 20, 28), ("=", 20, 30), (1, 20, 32), (";", 20, 33),
                     ("y", 21, 3), ("=", 21, 5), (2, 21, 7), (";", 21, 8)]


def test_a_tab_counts_as_one_column_and_crlf_as_one_line_break():
    toks = tokenize("\tx\r\n\ty", line=3)
    assert [(t.value, t.line, t.column) for t in toks[:-1]] == [("x", 3, 2), ("y", 4, 2)]


def test_end_positions_point_just_after_the_token():
    tok = tokenize('  "abc" ', line=2, column=5)[0]
    assert (tok.line, tok.column, tok.end_line, tok.end_column) == (2, 7, 2, 12)


def test_positions_after_a_multi_line_comment():
    toks = tokenize("/* one\ntwo */ x", line=10, column=3)
    assert (toks[0].line, toks[0].column) == (11, 8)


def test_eof_token_sits_at_the_end():
    eof = tokenize("a\n  ")[-1]
    assert (eof.kind, eof.line, eof.column) == ("eof", 2, 3)


# --------------------------------------------------------------------------------------------
# faults
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("op", ["*", "/", "%"])
def test_multiplicative_operators_are_errors_that_say_mspl_has_none(op):
    (d,) = lex_errors(f"x = a {op} b;")
    assert d.message == f"MSPL has no '{op}' operator"
    assert (d.line, d.column) == (1, 7)
    assert "+ and -" in d.hint


@pytest.mark.parametrize("op", ["&", "|"])
def test_single_ampersand_or_bar_suggests_the_double_one(op):
    (d,) = lex_errors(f"if (a {op} b) x();")
    assert d.message == f"a single '{op}' is not an MSPL operator; did you mean '{op}{op}'?"
    assert d.column == 7


def test_the_lexer_keeps_going_after_a_bad_operator():
    lexer = Lexer("x = a * b;")
    toks = lexer.run()
    assert [t.kind for t in toks] == ["name", "=", "name", "*", "name", ";", "eof"]
    assert len(lexer.errors) == 1


def test_unterminated_block_comment_is_reported_at_its_start():
    (d,) = lex_errors("x = 1;\n  /* never closed\n y = 2;", line=5)
    assert d.message == "this comment is never closed"
    assert (d.line, d.column) == (6, 3)
    assert d.hint == "end the comment with */"


def test_unterminated_string_is_reported_at_its_start():
    (d,) = lex_errors('Log("Event", 1, "oops);\nx = 1;')
    assert d.message == "this string is not closed before the end of the line"
    assert (d.line, d.column) == (1, 17)


def test_verbatim_strings_are_not_supported():
    (d,) = lex_errors(r'p = @"C:\dir";')
    assert d.message == 'verbatim strings (@"...") are not supported by MSPL'
    assert d.column == 5


def test_unicode_escape_needs_exactly_four_hex_digits():
    (d,) = lex_errors(r'x = "\u04";')
    assert d.message == "\\u must be followed by exactly 4 hexadecimal digits"
    assert d.column == 6


def test_unknown_escape_is_an_error_with_the_known_ones_in_the_hint():
    (d,) = lex_errors(r'x = "a\qb";')
    assert d.message == "unknown escape '\\q' in a string"
    assert '\\"' in d.hint and "\\uXXXX" in d.hint


def test_lcs2005_doubled_quote_is_explained():
    (d,) = lex_errors('x = "say ""hi""";')
    assert d.message == 'a doubled quote "" inside a string is not MSPL'
    assert '\\"' in d.hint


def test_typographic_and_single_quotes_are_named():
    (d,) = lex_errors("x = \u201chello\u201d;")
    assert d.message.startswith("typographic quote \u201c")
    (d,) = lex_errors("x = 'hello';")
    assert d.message == "MSPL strings use double quotes, not single quotes"


def test_integer_out_of_32_bits_and_decimal_numbers():
    (d,) = lex_errors("x = 0x1FFFFFFFF;")
    assert d.message == "the number 0x1FFFFFFFF does not fit in a 32-bit integer"
    (d,) = lex_errors("x = 12abc;")
    assert d.message == "'12abc' is not a number"


# --------------------------------------------------------------------------------------------
# floats (dn439149: "Floating-point and integer values must be specified using the en-US
# cultural format"; decision D31)
# --------------------------------------------------------------------------------------------

def test_float_constants_are_float_tokens():
    tokens = tokenize("x = 1.5; y = -0.25; z = 10.0;")
    floats = [t for t in tokens if t.kind == "float"]
    assert [t.value for t in floats] == [1.5, 0.25, 10.0]
    assert [(t.column, t.end_column) for t in floats] == [(5, 8), (15, 19), (25, 29)]
    assert kinds("y = -0.25;") == ["name", "=", "-", "float", ";", "eof"]


@pytest.mark.parametrize("source", ["x = 1.5", "x = 1.5 ", "if (a == 0.25", "x = 3"])
def test_a_number_at_the_very_end_of_the_script_is_read(source):
    # a script whose CDATA ends right after a decimal number used to raise IndexError
    assert tokenize(source)[-2].kind in ("float", "int", "==")
    assert tokenize(source)[-1].kind == "eof"


@pytest.mark.parametrize("source,message", [
    ("x = 1.5.3;", "'1.5.3' is not a number"),
    ("x = 1.5e3;", "'1.5e3' is not a number"),
    ("x = 1.5x", "'1.5x' is not a number"),
    ("x = 0x1.5;", "'0x1.5' is not a number: a hexadecimal number has no decimals"),
    ("x = 1" + "0" * 39 + ".5;", "the number 1" + "0" * 39 + ".5 does not fit in a float"),
])
def test_malformed_floats_are_one_error_each(source, message):
    (d,) = lex_errors(source)
    assert d.message == message and d.code == "bad-number" and d.column == 5


def test_a_point_without_digits_after_it_is_not_part_of_the_number():
    assert kinds("x = 1.;") == ["name", "=", "int", ".", ";", "eof"]


def test_unexpected_character_names_it():
    (d,) = lex_errors("x = #1;")
    assert d.message == "unexpected character '#' (U+0023)"


def test_every_lexical_fault_is_reported_with_the_file_line():
    diags = lex_errors("a = b * c;\nd = e % f;", line=7, file_source="line 1\n" * 6 + "a = b * c;\nd = e % f;")
    assert [(d.line, d.column) for d in diags] == [(7, 7), (8, 7)]
    assert diags[1].source == "d = e % f;"
    assert str(diags[0]).splitlines()[0] == "t.mspl:7:7: error: MSPL has no '*' operator"
