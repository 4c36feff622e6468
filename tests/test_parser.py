"""The MSPL parser: each construct builds the right nodes at the right place; errors read well."""
import pytest

from mspl_lite.errors import ScriptError, source_line
from mspl_lite.language import ast
from mspl_lite.language.parser import MAX_ERRORS, parse_script


def body(source, **kw):
    return parse_script(source, **kw).body


def one(source, **kw):
    (stmt,) = body(source, **kw)
    return stmt


def expr(source):
    return one(f"x = {source};").value


def errors(source, **kw):
    with pytest.raises(ScriptError) as info:
        parse_script(source, filename="t.mspl", **kw)
    return info.value.diagnostics


def error(source, **kw):
    found = errors(source, **kw)
    assert len(found) == 1, [str(d) for d in found]
    return found[0]


def at(node):
    return (node.line, node.column)


def shape(e):
    """A compact picture of an expression tree, to assert precedence."""
    if isinstance(e, ast.Literal):
        return repr(e.value)
    if isinstance(e, ast.Name):
        return e.name
    if isinstance(e, (ast.Binary, ast.Logical)):
        return f"({shape(e.left)} {e.op} {shape(e.right)})"
    if isinstance(e, ast.Unary):
        return f"({e.op}{shape(e.operand)})"
    if isinstance(e, ast.Call):
        return f"{e.name}({', '.join(shape(a) for a in e.args)})"
    if isinstance(e, ast.Member):
        return f"{shape(e.obj)}.{e.name}"
    if isinstance(e, ast.Index):
        return f"{shape(e.obj)}[{shape(e.index)}]"
    raise AssertionError(e)


# --------------------------------------------------------------------------------------------
# statements
# --------------------------------------------------------------------------------------------

def test_script_keeps_filename_position_and_its_file_text():
    script = parse_script("x = 1;", filename="a.am", line=12, column=30, file_source="whole file")
    assert (script.filename, script.line, script.column, script.source) == ("a.am", 12, 30, "whole file")


def test_without_file_source_the_script_text_is_padded_so_lines_still_match():
    script = parse_script("x = 1;\ny = 2;", line=4, column=9)
    assert source_line(script.source, 4) == " " * 8 + "x = 1;"
    assert source_line(script.source, 5) == "y = 2;"


def test_assignment_and_call_statements():
    assign, call = body('toUri = GetUri(sipRequest.To);\nProxyRequest("");')
    assert isinstance(assign, ast.Assign) and isinstance(assign.target, ast.Name)
    assert assign.target.name == "toUri" and at(assign) == (1, 1)
    assert shape(assign.value) == "GetUri(sipRequest.To)"
    assert isinstance(call, ast.ExprStmt) and at(call) == (2, 1)
    assert shape(call.expr) == "ProxyRequest('')"


def test_member_assignment_target():
    stmt = one("sipMessage.Content = newContent;")
    assert isinstance(stmt.target, ast.Member) and stmt.target.name == "Content"


def test_if_else_if_else():
    stmt = one("if (a) x(); else if (b) { y(); } else z();", line=3, column=5)
    assert isinstance(stmt, ast.If) and at(stmt) == (3, 5)
    assert shape(stmt.cond) == "a"
    assert isinstance(stmt.then, ast.ExprStmt)
    inner = stmt.else_
    assert isinstance(inner, ast.If) and at(inner) == (3, 22)
    assert isinstance(inner.then, ast.Block) and at(inner.then) == (3, 29)
    assert isinstance(inner.else_, ast.ExprStmt)


def test_switch_with_cases_and_default():
    stmt = one('switch (sipRequest.Method) {\n case "INVITE": x(); break;\n default: break;\n}')
    assert isinstance(stmt, ast.Switch) and shape(stmt.subject) == "sipRequest.Method"
    first, default = stmt.cases
    assert at(first) == (2, 2) and shape(first.value) == "'INVITE'"
    assert [type(s) for s in first.body] == [ast.ExprStmt, ast.Break]
    assert default.value is None and at(default) == (3, 2) and isinstance(default.body[0], ast.Break)


def test_foreach_and_while_loops():
    loop = one("foreach (dbEndpoint in QueryEndpoints(u, true)) { continue; }")
    assert isinstance(loop, ast.Foreach) and loop.var == "dbEndpoint"
    assert shape(loop.iterable) == "QueryEndpoints(u, True)"
    assert isinstance(loop.body.body[0], ast.Continue)
    loop = one("while (i < 3) i = i + 1;")
    assert isinstance(loop, ast.While) and shape(loop.cond) == "(i < 3)"
    assert isinstance(loop.body, ast.Assign)


def test_return_break_continue_and_empty():
    ret, empty, ret2 = body("return;\n;\nreturn x;")
    assert isinstance(ret, ast.Return) and ret.value is None
    assert isinstance(empty, ast.Empty) and at(empty) == (2, 1)
    assert shape(ret2.value) == "x"


def test_functions_precede_the_body_and_a_bare_statement_body_becomes_a_block():
    script = parse_script("function F(a, b) { return a; }\nfunction G() return 1;\nx = F(1, 2);")
    f, g = script.functions
    assert (f.name, f.params, at(f)) == ("F", ["a", "b"], (1, 1))
    assert isinstance(f.body, ast.Block) and isinstance(f.body.body[0], ast.Return)
    assert g.params == [] and isinstance(g.body, ast.Block) and isinstance(g.body.body[0], ast.Return)
    assert len(script.body) == 1


# --------------------------------------------------------------------------------------------
# expressions
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("source, tree", [
    ("a || b && c", "(a || (b && c))"),
    ("a && b == c", "(a && (b == c))"),
    ("a == b < c", "(a == (b < c))"),
    ("a < b + 1", "(a < (b + 1))"),
    ("a - b - c", "((a - b) - c)"),
    ("!a == b", "((!a) == b)"),
    ("!EqualString(s, \"p\", true) && !x", "((!EqualString(s, 'p', True)) && (!x))"),
    ("index + 12 + IndexOfString(SubString(e, index+12), \"q\")",
     "((index + 12) + IndexOfString(SubString(e, (index + 12)), 'q'))"),
    ("LengthString(e)-i-1", "((LengthString(e) - i) - 1)"),
    ("(a || b) && c", "((a || b) && c)"),
    ("-5", "(-5)"),
    ("-2147483648", "(-2147483648)"),
    ("0x7FFFFFFF", "2147483647"),
    ("null", "None"),
    ("file[GetHostName(sipRequest.RequestUri)].valueTargetHost",
     "file[GetHostName(sipRequest.RequestUri)].valueTargetHost"),
    ("sipResponse.Transaction.Request.Method", "sipResponse.Transaction.Request.Method"),
    ("StatusClass._2xx", "StatusClass._2xx"),
])
def test_precedence_and_postfix(source, tree):
    assert shape(expr(source)) == tree


def test_binary_and_logical_nodes_sit_at_their_left_operand():
    e = one("x = \n   a == b && c;").value
    assert isinstance(e, ast.Logical) and at(e) == (2, 4)
    assert isinstance(e.left, ast.Binary) and at(e.left) == (2, 4)
    assert at(e.right) == (2, 14)


def test_call_member_and_index_positions():
    e = one("x = f[k].col + G(1);", line=5, column=10).value
    member, call = e.left, e.right
    assert at(member) == (5, 14) and at(member.obj) == (5, 14)
    assert at(call) == (5, 25) and at(call.args[0]) == (5, 27)


# --------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------

def test_missing_semicolon_points_just_after_the_previous_token():
    d = error("x = 1\ny = 2;")
    assert d.message == "expected ';' after this statement"
    assert (d.line, d.column) == (1, 6)
    assert d.hint == "every MSPL statement ends with ';'"
    assert d.source == "x = 1"


def test_unbalanced_closing_brace():
    d = error("x = 1;\n}\n")
    assert (d.message, d.line, d.column) == ("unbalanced '}'", 2, 1)
    assert "closes nothing" in d.hint


def test_unclosed_brace_points_at_the_opening_one():
    d = error("if (a) {\n  x();\n")
    assert (d.message, d.line, d.column) == ("this '{' is never closed", 1, 8)


def test_elseif_is_not_mspl():
    d = error("if (a) x(); elseif (b) y();")
    assert d.message == "'elseif' is not MSPL: write 'else if'"
    assert d.column == 13


def test_assignment_in_condition():
    d = error("if (x = 1) { y(); }")
    assert d.message == "'=' in a condition: did you mean '=='?"
    assert (d.line, d.column) == (1, 7)
    assert "==" in d.hint


@pytest.mark.parametrize("word", ["var", "int", "string"])
def test_declarations_do_not_exist(word):
    d = error(f"{word} x = 1;")
    assert d.message == f"'{word}' declarations do not exist in MSPL: just assign"
    assert d.hint.startswith("write x = value;")


def test_functions_must_come_before_the_body():
    d = error("x = 1;\nfunction F() { return 1; }")
    assert d.message == "functions must be defined before the script body"
    assert (d.line, d.column) == (2, 1)


def test_case_must_end_with_break():
    d = error('switch (m) {\n  case "A": x();\n  case "B": y(); break;\n}')
    assert d.message == "this case does not end with 'break;'"
    assert (d.line, d.column) == (2, 3)
    assert "fall-through" in d.hint
    d = error("switch (m) { default: x(); }")
    assert d.message == "this default does not end with 'break;'"


def test_methods_do_not_exist():
    d = error("x = sipRequest.To.Contains(\"a\");")
    assert d.message == "MSPL has no methods: '.Contains(...)' cannot be called"
    assert "GetUri(sipRequest.To)" in d.hint


def test_multiplication_is_reported_once_by_the_lexer():
    d = error("x = a * 2;")
    assert d.message == "MSPL has no '*' operator"


def test_compound_assignment_and_increment():
    d = error("x += 1;")
    assert (d.message, d.column) == ("MSPL has no '+=' operator", 3)
    assert d.hint == "write x = x + 1;"
    assert error("x++;").message == "MSPL has no '++' operator"


def test_for_loop_and_stray_else():
    assert error("for (i = 0; i < 3; i = i + 1) { }").message == "MSPL has no 'for' loop"
    assert error("if (a) x();; else y();").message == "'else' without a matching 'if'"


def test_expected_value_and_unfinished_script():
    d = error("x = ;")
    assert (d.message, d.column) == ("expected a value, found ';'", 5)
    d = error("x = a +")
    assert d.message == "the script ends in the middle of an expression"


def test_missing_parenthesis_of_a_call_and_of_a_condition():
    d = error('Log("Event", 1, "x";')
    assert (d.message, d.column) == ("expected ',' or ')' in the call of Log", 20)
    d = error("if (a == 1 { x(); }")
    assert (d.message, d.column) == ("expected ')' to close the condition", 11)


def test_assigning_a_flat_file_cell_or_a_call_is_an_error():
    assert error("f[0] = 1;").message == "flat files are read-only: a [] expression cannot be assigned"
    assert error("G() = 1;").message == "only a variable or a field can be assigned"


def test_integer_2147483648_only_with_a_minus():
    d = error("x = 2147483648;")
    assert d.message == "the number 2147483648 does not fit in a 32-bit integer"


def test_recovery_reports_several_errors_in_order():
    src = "x = 1\ny = a * b;\nif (x = 2) { z(); }\nvar w = 3;\n}\na.b(1);\nok = 1;"
    found = errors(src)
    assert [(d.line, d.message) for d in found] == [
        (1, "expected ';' after this statement"),
        (2, "MSPL has no '*' operator"),
        (3, "'=' in a condition: did you mean '=='?"),
        (4, "'var' declarations do not exist in MSPL: just assign"),
        (5, "unbalanced '}'"),
        (6, "MSPL has no methods: '.b(...)' cannot be called"),
    ]


def test_recovery_skips_a_whole_block_after_a_bad_header():
    found = errors("foreach x in y { a(); }\nb = ;")
    assert [(d.line, d.message) for d in found] == [
        (1, "expected '(' after 'foreach'"), (2, "expected a value, found ';'")]


def test_errors_stop_after_the_limit_with_a_note():
    found = errors("x = ;\n" * 50)
    assert sum(d.severity == "error" for d in found) == MAX_ERRORS
    assert found[-1].severity == "note"


def test_errors_show_the_line_of_the_whole_file():
    manifest = "<a>\n  <s><![CDATA[x = 1;\n  y = ;\n]]></s>\n</a>\n"
    start = manifest.index("x = 1")
    d = error(manifest[start:manifest.index("]]>")], line=2, column=start - manifest.index("\n") ,
              file_source=manifest)
    assert (d.line, d.column) == (3, 7)
    assert d.source == "  y = ;"
    assert str(d).splitlines()[0] == "t.mspl:3:7: error: expected a value, found ';'"


def test_parse_errors_never_escape_as_python_exceptions():
    # a fuzz of broken fragments: each gives a ScriptError (or parses), never anything else
    fragments = ["(", ")", "{", "}", "[", "]", ".", ",", ":", "if", "else", "case", "switch (",
                 "foreach (", "while", "function", "function F(", "a.", "a[", "return", "x =",
                 "\"", "/*", "@", "&", "|", "!", "-", "f()(", "switch (a) { x(); }", "case 1:"]
    for a in fragments:
        for b in fragments[:12]:
            try:
                parse_script(a + " " + b)
            except ScriptError as err:
                assert err.diagnostics


@pytest.mark.parametrize("source", [
    "if (a) {" * 300 + "x = 1;" + "}" * 300,
    "x = " + "(" * 500 + "1" + ")" * 500 + ";",
    "x = " + "!" * 2000 + "a;",
    "x = " + "f(" * 300 + "1" + ")" * 300 + ";",
])
def test_absurd_nesting_is_refused_not_a_stack_overflow(source):
    d = error(source)
    assert (d.message, d.code) == ("this is nested too deeply", "too-deep")


def test_a_very_long_chain_is_refused_before_the_checker_walks_it():
    d = error("x = " + " && ".join(["a"] * 500) + ";")
    assert d.message == "this expression is nested too deeply (more than 200 levels)"


def test_ordinary_nesting_is_fine():
    script = parse_script("if (a) {" * 30 + "x = (((1)));" + "}" * 30)
    (assign,) = [n for n in ast.walk(script) if isinstance(n, ast.Assign)]
    assert assign.value.value == 1 and sum(isinstance(n, ast.If) for n in ast.walk(script)) == 30


def test_declarations_are_assignments_and_loop_variables_in_source_order():
    # What the checker's scopes and the compiler's slots are both built from.
    script = parse_script('a = 1; if (a) { foreach (b in Split("x", ",")) { a = 2; c = b; } }\n'
                          'sipMessage.Content = "";')
    found = [(name, type(node).__name__, node.line) for name, node in ast.declarations(script.body)]
    assert found == [("a", "Assign", 1), ("b", "Foreach", 1), ("a", "Assign", 1), ("c", "Assign", 1)]
