"""Fuzz the MSPL language: compile_script on mutated real scripts, token soup and generated programs,
then run what compiles on a request and a response.

Properties: a Script or a located ScriptError; a run returns a ScriptRun whose faults are
CriticalErrors (never a Python exception out of Script.run); compile and run in bounded wall time
and memory (the step, work and memory budgets of a run are the language's job: a run that escapes
them fails here).
"""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mspl_lite.errors import ScriptError
from mspl_lite.language import CriticalError, Script, ScriptRun, compile_script
from mspl_lite.language.builtins import PARAMETERS
from mspl_lite.sip import parse_message

from . import _strategies as S
from ._contract import assert_input_error, examples, guard

COMPILE_SECONDS = 3.0
RUN_SECONDS = 5.0
MEGABYTES = 128

REQUEST = ("MESSAGE sip:jennyl@contoso.com SIP/2.0\r\n"
           "Via: SIP/2.0/TLS 192.0.2.31:50250;branch=z9hG4bK-1\r\n"
           "Max-Forwards: 70\r\n"
           'From: "Terry Adams" <sip:terrya@contoso.com>;tag=1a2b3c4d;epid=7c2e5f3a01\r\n'
           "To: <sip:jennyl@contoso.com>\r\n"
           "Call-ID: fuzz-1\r\n"
           "CSeq: 1 MESSAGE\r\n"
           "Content-Type: text/plain; charset=UTF-8\r\n"
           "Content-Length: 31\r\n"
           "\r\n"
           "see http://www.fabrikam.com now")
RESPONSE = ("SIP/2.0 486 Busy Here\r\n"
            "Via: SIP/2.0/TLS 192.0.2.31:50250;branch=z9hG4bK-1\r\n"
            'From: "Terry Adams" <sip:terrya@contoso.com>;tag=1a2b3c4d\r\n'
            "To: <sip:jennyl@contoso.com>;tag=99\r\n"
            "Call-ID: fuzz-1\r\n"
            "CSeq: 1 MESSAGE\r\n"
            "Content-Length: 0\r\n"
            "\r\n")


def compile_or_error(source: str) -> Script | None:
    try:
        with guard("compile_script", seconds=COMPILE_SECONDS, megabytes=MEGABYTES):
            return compile_script(source, filename="fuzz.mspl")
    except ScriptError as err:
        assert_input_error(err, kind=ScriptError, text=source, filename="fuzz.mspl")
        return None


def assert_runs(script: Script) -> None:
    for text in (REQUEST, RESPONSE):
        message = parse_message(text)
        with guard("Script.run", seconds=RUN_SECONDS, megabytes=MEGABYTES):
            run = script.run(message)
        assert isinstance(run, ScriptRun)
        for error in run.critical_errors:
            assert isinstance(error, CriticalError)
            assert isinstance(error.message, str) and error.message
            assert error.line >= 0 and error.column >= 0, error
        if run.critical_errors:
            assert run.aborted or len(run.critical_errors) >= 1
        # What the script made of the message (AddHeader, SetParameterValue, Content, Respond...) is
        # still a message the project can write out, and that its own parser reads back (issue 14).
        with guard("the message after the run", seconds=RUN_SECONDS, megabytes=MEGABYTES):
            data = message.to_bytes()
            assert isinstance(data, bytes)
            parse_message(data, filename="after-the-run.sip")


# -- a small MSPL grammar: programs that compile often, so the runtime is reached -------------------

_STRINGS = st.sampled_from(('""', '"Event"', '"Debugr"', '"sip:nuriag@contoso.com"', '"To"', '"From"', '"tag"',
                            '"X-Fuzz"', '"a;b=c"', '"\\u0130"', '"\\ud800"', '"' + "9" * 5000 + '"', '"1.5"',
                            '"<sip:a@b>' + ";p=abc" * 30 + '\x01"'))
_ATOMS = st.one_of(_STRINGS, st.sampled_from(("true", "false", "null", "0", "1", "-1", "1.5", "9" * 60, "x", "y",
                                              "sipRequest.RequestUri", "sipRequest.From", "sipRequest.To",
                                              "sipMessage.Content", "sipRequest.Method", "sipResponse.StatusCode",
                                              "sipMessage.From", "sipRequest.Content")))


@st.composite
def expression(draw, depth: int = 0) -> str:
    if depth > 2 or draw(st.integers(0, 2)) == 0:
        return draw(_ATOMS)
    kind = draw(st.sampled_from(("call", "call", "binary", "not")))
    if kind == "call":
        name = draw(st.sampled_from(sorted(PARAMETERS)))
        arity = len(PARAMETERS[name]) + draw(st.sampled_from((0, 0, 0, -1, 1)))
        args = [draw(expression(depth + 1)) for _ in range(max(0, arity))]
        return f"{name}({', '.join(args)})"
    if kind == "binary":
        op = draw(st.sampled_from(("+", "-", "==", "!=", "<", ">", "&&", "||")))
        return f"({draw(expression(depth + 1))} {op} {draw(expression(depth + 1))})"
    return f"!{draw(expression(depth + 1))}"


@st.composite
def statements(draw, depth: int = 0) -> str:
    out = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(("assign", "call", "call", "if", "foreach", "return") if depth < 2
                                    else ("assign", "call")))
        if kind == "assign":
            out.append(f"{draw(st.sampled_from(('x', 'y')))} = {draw(expression())};")
        elif kind == "call":
            out.append(f"{draw(expression(1))};" if draw(st.booleans()) else
                       f'Log("Debugr", {draw(st.sampled_from(("true", "false")))}, {draw(expression())});')
        elif kind == "if":
            body = draw(statements(depth + 1))
            tail = f" else {{ {draw(statements(depth + 1))} }}" if draw(st.booleans()) else ""
            out.append(f"if ({draw(expression())}) {{ {body} }}{tail}")
        elif kind == "foreach":
            out.append(f"foreach (v in {draw(expression())}) {{ {draw(statements(depth + 1))} }}")
        else:
            out.append("return;")
    return "\n".join(out)


def fork_script(branches: int) -> str:
    """BeginFork, ``branches`` Forks, EndFork: issue 14's 300-branch trace that the renderer choked on."""
    forks = "".join(f'Fork("sip:u{i}@contoso.com");' for i in range(branches))
    return f'if (sipRequest) {{ BeginFork(false, false); {forks} EndFork(); }}\n'


def programs():
    return statements().map(lambda body: f"if (sipRequest || sipResponse) {{\n{body}\n}}\n")


@given(S.script_inputs())
def test_mutated_scripts_and_token_soup_compile_or_give_a_located_error(source):
    script = compile_or_error(source)
    if script is not None:
        assert_runs(script)


@given(programs())
def test_generated_programs_compile_and_run_within_the_contract(source):
    script = compile_or_error(source)
    if script is not None:
        assert_runs(script)


@given(st.sampled_from(S.scripts()), st.sampled_from(("1.5", "1.", "0x", "9" * 5000, '"', "/*", "\\", "\ud800",
                                                      '"\\', "x = 1.5")))
def test_a_script_ending_in_an_unfinished_token(source, tail):
    script = compile_or_error(source.rstrip() + tail)
    if script is not None:
        assert_runs(script)


@given(st.sampled_from(("IndexOfString(x, \"b\", true)", "ContainsString(x, \"b\", true)",
                        "AddHeader(\"X-Big\", x)", "Log(\"Debugr\", true, x)", "SubString(x, 1, 100000)",
                        "Concatenate(x, x)", "Split(x, \"a\")", "GetUri(x)", "SetParameterValue(\"To\", \"p\", x)")),
       st.sampled_from(('"a"', '"\\u0130"', '"<sip:a@b>;p=abc;p=abc;p=abc;p=abc;p=abc;p=abc;p=abc;p=abc"')),
       st.sampled_from((10, 16, 19)))
@__import__("hypothesis").settings(max_examples=examples(0.5))
def test_work_in_a_loop_is_bounded(call, seed, doublings):
    # x doubles `doublings` times (up to 512K characters), then the call runs in a long loop over
    # the items of a comma list that doubles too: the step budget counts statements; the work and
    # memory of each call must be bounded as well (issue 14).
    grow = "\n".join("x = Concatenate(x, x);\nz = Concatenate(z, z);" for _ in range(doublings))
    source = (f"if (sipRequest) {{\nx = {seed};\nz = \",\";\n{grow}\n"
              f"foreach (v in Split(z, \",\")) {{ {call}; }}\n}}\n")
    script = compile_or_error(source)
    if script is not None:
        assert_runs(script)
