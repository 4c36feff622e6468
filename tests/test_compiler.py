"""The compiler: closures compiled once, scopes, control flow, limits, runtime guards.

Some tests build a ``Script`` straight from the parser, skipping the checker, to show that what
the checker refuses at compile time is still safe at run time (a critical error, never a crash).
"""
from __future__ import annotations

import time

import pytest

from mspl_lite.errors import ScriptError, UsageError
from mspl_lite.language import Script, ScriptEnvironment, ScriptRun, compile_script, parse_script
from mspl_lite.language import ast, compiler
from mspl_lite.manifest import FlatFile
from mspl_lite.sip import parse_message

INVITE = (
    "INVITE sip:jennyl@contoso.com SIP/2.0\r\n"
    "Via: SIP/2.0/TLS 192.168.0.22:51234;branch=z9hG4bK1\r\n"
    'From: "Nuria" <sip:nuriag@contoso.com>;tag=1a2b\r\n'
    "To: <sip:jennyl@contoso.com>\r\n"
    "Call-ID: 8f2c11\r\n"
    "CSeq: 1 INVITE\r\n"
    "Content-Length: 0\r\n"
    "\r\n"
)


def run(source: str, message: str = INVITE, env: ScriptEnvironment | None = None, checked: bool = True) -> ScriptRun:
    """Compile (with the checker, or straight from the parser) and run on a fresh message."""
    if checked:
        script = compile_script(source, filename="t.mspl")
    else:
        script = Script(parse_script(source, filename="t.mspl"))
    return script.run(parse_message(message), env)


def logged(result: ScriptRun) -> list[str]:
    return [" ".join(e.lines) for e in result.log]


def only_error(result: ScriptRun):
    assert result.aborted, result
    (error,) = result.critical_errors
    return error


# --- compiled once ---------------------------------------------------------------------------

def test_the_ast_is_compiled_once_and_never_walked_per_message(monkeypatch):
    script = compile_script('x = GetUri(sipRequest.To); Log("Event", false, x);', filename="t.mspl")

    def forbidden(*args, **kwargs):
        raise AssertionError("the AST was visited while a message ran")
    monkeypatch.setattr(compiler._Compiler, "compile", forbidden)
    monkeypatch.setattr(ast, "walk", forbidden)
    for _ in range(3):
        assert logged(script.run(parse_message(INVITE))) == ["sip:jennyl@contoso.com"]


def test_script_object():
    script = compile_script("x = 1;\ny = 2;\n", filename="/labs/forward.am")
    assert repr(script) == "<Script forward.am (2 lines)>"
    assert script.filename == "/labs/forward.am" and script.manifest is None
    assert isinstance(script.ast, ast.Script) and script.warnings == []


def test_environment_checks_its_values():
    with pytest.raises(UsageError):
        ScriptEnvironment(role="Mainframe")
    with pytest.raises(UsageError):
        ScriptEnvironment(step_budget=0)
    assert repr(ScriptEnvironment()) == "ScriptEnvironment(fqdn='fe01.contoso.com', pool='pool01.contoso.com', role='FrontEnd')"


def test_run_refuses_what_is_not_a_sip_message():
    with pytest.raises(UsageError):
        compile_script("x = 1;").run("INVITE sip:a@b SIP/2.0")


# --- variables and scopes (Dn439066, dn439149) -------------------------------------------------------

def test_a_variable_assigned_in_a_block_belongs_to_the_enclosing_body():
    result = run('if (true) { x = "in"; } Log("Event", false, x);')
    assert logged(result) == ["in"]


def test_foreach_declares_its_variable_in_the_enclosing_body():
    result = run('foreach (p in Split("a,b,c", ",")) { } Log("Event", false, p);')
    assert logged(result) == ["c"]


def test_a_function_cannot_see_the_body_variables():
    result = run('function F() { return secret; } secret = "x"; y = F();', checked=False)
    error = only_error(result)
    assert "function F cannot see the script body's variables" in error.message
    assert (error.line, error.column) == (1, 23)


def test_function_variables_do_not_leak_into_the_body():
    result = run('function F() { inner = 1; return inner; } y = F(); Log("Event", false, inner);',
                 checked=False)
    assert "unknown name inner" in only_error(result).message


def test_functions_receive_copies_and_return_values():
    source = '''
    function Twice(s) { s = Concatenate(s, s); return s; }
    v = "ab";
    w = Twice(v);
    Log("Event", false, v, w);
    '''
    assert logged(run(source)) == ["ab abab"]


def test_a_function_without_return_gives_null():
    result = run('function F() { x = 1; } y = F(); if (y == null) { Log("Event", false, "null"); }')
    assert logged(result) == ["null"]


def test_reading_a_variable_before_it_has_a_value_is_a_critical_error():
    result = run('if (false) { x = 1; }\nLog("Event", false, x);')
    error = only_error(result)
    assert error.message == "variable x is read before any value was assigned to it"
    assert (error.line, error.column) == (2, 21)


def test_a_variable_keeps_the_type_of_its_first_value():
    result = run('n = 0; n = "12"; m = n + 1; s = ""; s = 5; b = false; b = "x"; '
                 'Log("Event", false, m, s); if (b) { Log("Event", false, "b true"); }')
    assert logged(result) == ["13 5", "b true"]


def test_assigning_a_value_that_does_not_convert_is_a_critical_error():
    error = only_error(run('n = 0;\nn = "abc";'))
    assert (error.line, error.column) == (2, 1) and "n is an int since its first assignment" in error.hint


def test_null_can_be_stored_in_any_variable():
    result = run('u = "x"; u = GetUri("junk"); if (u == null) { Log("Event", false, "null"); }')
    assert logged(result) == ["null"]


# --- expressions ---------------------------------------------------------------------------------

def test_and_or_short_circuit():
    # Undefined() would be a critical error if it ran; the checker refuses it, so skip the checker.
    result = run('if (false && Undefined()) { } if (true || Undefined()) { Log("Event", false, "ok"); }',
                 checked=False)
    assert not result.aborted and logged(result) == ["ok"]
    result = run('if (false && AddHeader("X-A", "1")) { } if (true || AddHeader("X-B", "1")) { }'
                 'foreach (h in GetHeaderValues("X-A")) { Log("Event", false, h); }')
    assert result.log == []


def test_integer_plus_and_minus():
    result = run('a = 40 + 2; b = 0 - 5; c = -3; d = "7" + 1; Log("Event", false, a, b, c, d);')
    assert logged(result) == ["42 -5 -3 8"]


def test_integer_overflow_is_a_critical_error():
    error = only_error(run("x = 0x7FFFFFFF;\ny = x + 1;"))
    assert "overflow" in error.message and (error.line, error.column) == (2, 5)


def test_adding_a_non_number_is_a_critical_error_that_points_to_concatenate():
    error = only_error(run('x = "abc" + 1;'))
    assert "cannot convert" in error.message and "Concatenate" in error.hint


def test_comparisons():
    result = run('if (3 < 10 && "a" < "b" && "10" > 9 && 2 >= 2 && !(1 > 2)) { Log("Event", false, "ok"); }')
    assert logged(result) == ["ok"]


def test_no_multiplication_at_run_time_either():
    binary = ast.Binary(line=1, column=5, op="*", left=ast.Literal(line=1, column=5, value=2),
                        right=ast.Literal(line=1, column=9, value=3))
    script_ast = ast.Script(line=1, column=1, body=[
        ast.Assign(line=1, column=1, target=ast.Name(line=1, column=1, name="x"), value=binary)])
    error = only_error(Script(script_ast).run(parse_message(INVITE)))
    assert "no * operator" in error.message


# --- statements ---------------------------------------------------------------------------------

def test_switch_runs_the_matching_case_or_default():
    source = '''
    foreach (m in Split("INVITE,BYE,FOO", ",")) {
        switch (m) {
            case "INVITE": Log("Event", false, "invite"); break;
            case StandardMethod.Bye: Log("Event", false, "bye"); break;
            default: Log("Event", false, "other"); break;
        }
    }
    '''
    assert logged(run(source)) == ["invite", "bye", "other"]


def test_break_in_a_case_ends_the_switch_and_continue_reaches_the_loop():
    source = '''
    foreach (m in Split("a,b,c", ",")) {
        switch (m) { case "b": break; default: break; }
        if (m == "a") { continue; }
        Log("Event", false, m);
        if (m == "b") { break; }
    }
    '''
    assert logged(run(source)) == ["b"]


def test_a_scalar_is_a_one_element_collection():
    assert logged(run('foreach (x in "solo") { Log("Event", false, x); }')) == ["solo"]


def test_top_level_return_ends_the_script():
    result = run('Log("Event", false, "a"); return; Log("Event", false, "b");', checked=False)
    assert logged(result) == ["a"] and result.returned


def test_while_runs_500_times():
    result = run('i = 0; while (i < 500) { i = i + 1; } Log("Event", false, i);')
    assert logged(result) == ["500"] and not result.aborted


def test_the_501st_while_iteration_is_a_critical_error():
    result = run('i = 0;\n  while (i < 501) { i = i + 1; }\nLog("Event", false, "after");')
    error = only_error(result)
    assert error.message == "while loop exceeded 500 iterations"
    assert (error.line, error.column) == (2, 3) and result.log == []


def test_the_limit_counts_each_execution_of_the_loop():
    source = 'j = 0; while (j < 3) { i = 0; while (i < 400) { i = i + 1; } j = j + 1; } Log("Event", false, j);'
    assert logged(run(source)) == ["3"]


def test_while_true_returns_quickly_with_a_critical_error():
    start = time.perf_counter()
    result = run("while (true) { x = 1; }")
    assert time.perf_counter() - start < 0.5
    assert "500 iterations" in only_error(result).message


def test_the_step_budget_stops_a_long_run_quickly():
    source = "i = 0; while (i < 500) { j = 0; while (j < 500) { j = j + 1; } i = i + 1; }"
    start = time.perf_counter()
    result = run(source)
    assert time.perf_counter() - start < 1.0
    error = only_error(result)
    assert error.message.startswith("step budget exhausted") and result.steps > 100_000


def test_the_step_budget_is_set_by_the_environment():
    result = run("while (true) { x = 1; }", env=ScriptEnvironment(step_budget=50))
    assert only_error(result).message.startswith("step budget exhausted") and result.steps <= 52


# --- runtime guards for what the checker refuses ---------------------------------------------

@pytest.mark.parametrize("source, message", [
    ("x = Undefined();", "unknown function Undefined"),
    ('x = Base64Decode("a");', "Base64Decode was an LCS 2005"),
    ('x = GetUri();', "GetUri takes 1 argument(s), not 0"),
    ('foreach (e in QueryEndpoints("a@b")) { }', "QueryEndpoints is only valid"),
    ('x = QueryEndpoints("a@b");', "QueryEndpoints is only valid"),
    ("FQDN = 1;", "FQDN is a built-in variable"),
    ('sipRequest.RequestUri = "sip:x@y";', "sipRequest.RequestUri cannot be assigned"),
    ('sipRequest.Method = "BYE";', "sipRequest.Method is read only"),
    ("x = StandardMethod.Nope;", "StandardMethod has no value Nope"),
    ("x = UserOption.PublicCloud;", "removed in Lync Server 2013"),
    ("function F(n) { return F(n); } x = F(1);", "nested deeper"),
    ('function F() { return Split("a,b", ","); } x = F();', "returns a collection"),
    ("x = nothing[0].col;", "no flat file named nothing"),
])
def test_what_the_checker_refuses_is_a_critical_error_at_run_time(source, message):
    result = run(source, checked=False)
    assert message in only_error(result).message


def test_request_uri_assignment_hints_at_proxy_and_retarget():
    error = only_error(run('sipRequest.RequestUri = "sip:x@y";', checked=False))
    assert "ProxyRequest" in error.hint and "RetargetRequest" in error.hint


def test_the_checker_refuses_them_at_compile_time():
    with pytest.raises(ScriptError):
        compile_script("x = Undefined();")


def test_a_bug_in_a_builtin_becomes_a_critical_error(monkeypatch):
    def broken(ctx, node, text):
        raise ZeroDivisionError("boom")
    monkeypatch.setitem(compiler.BUILTINS, "LengthString", broken)
    result = run('x = 1;\n  n = LengthString("abc");')
    error = only_error(result)
    assert "internal error in mspl-lite while running LengthString" in error.message
    assert (error.line, error.column) == (2, 7)


# --- flat files ------------------------------------------------------------------------------

ROUTES = FlatFile(name="routes", path="routes.csv", columns=("host", "pool"), key_column="host",
                  ignore_case=True, loaded=True,
                  rows=({"host": "contoso.com", "pool": "pool01"}, {"host": "fabrikam.com", "pool": "pool02"}))
PLAIN = FlatFile(name="plain", path="plain.csv", columns=("a", "b"), loaded=True,
                 rows=({"a": "1", "b": "one"},))
FILES = ScriptEnvironment(flat_files={"routes": ROUTES, "plain": PLAIN})


def test_flat_file_by_index_and_by_key():
    source = '''
    Log("Event", false, routes[1].pool, routes["CONTOSO.COM"].pool, plain[0].b);
    if (routes[5].pool == null && routes["nowhere"].pool == null && plain[-1].b == null) {
        Log("Event", false, "misses are null");
    }
    '''
    assert logged(run(source, env=FILES, checked=False)) == ["pool02 pool01 one", "misses are null"]


def test_key_lookup_on_a_file_without_key_column_aborts():
    result = run('x = plain["1"].b;\nLog("Event", false, "after");', env=FILES, checked=False)
    error = only_error(result)
    assert "plain has no keyColumnName" in error.message and result.log == []


def test_unknown_column_and_null_key():
    assert "no column" in only_error(run('x = plain[0].zzz;', env=FILES, checked=False)).message
    assert "null used as the index" in only_error(
        run('x = routes[GetUri("junk")].pool;', env=FILES, checked=False)).message


def test_a_string_doubling_in_a_loop_hits_the_memory_bound_quickly():
    start = time.perf_counter()
    result = run('s = "x"; i = 0; while (i < 100) { s = Concatenate(s, s); i = i + 1; }')
    assert time.perf_counter() - start < 1.0
    error = only_error(result)
    assert "Concatenate built a string of" in error.message and "limit is 1000000" in error.message
