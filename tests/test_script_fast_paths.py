"""The compiler's fast paths give what its general closures give (issue 13, bench/bench_script.py).

Each script here is compiled twice, with ``compiler.FAST_PATHS`` on and off, and both are run on
fresh copies of the same message: the two ScriptRun records must be equal in every field --
dispositions, log entries (their summaries too), critical errors with their line, column and
hint, steps, work, memory. Budgets are swept one unit at a time so that a step, work or memory
limit reached anywhere (inside a foreach, inside a fused call and store) stops both at the same
place with the same fault.
"""
from __future__ import annotations

import dataclasses

import pytest

from mspl_lite.language import Script, ScriptEnvironment, ScriptRun, compiler, parse_script
from mspl_lite.language.builtins import BUILTINS
from mspl_lite.language.signatures import FUNCTIONS
from mspl_lite.manifest import FlatFile
from mspl_lite.sip import parse_message

MESSAGE = (
    "MESSAGE sip:jennyl@contoso.com SIP/2.0\r\n"
    "Via: SIP/2.0/TLS 192.168.0.22:51234;branch=z9hG4bK1\r\n"
    "Via: SIP/2.0/TLS 10.0.0.5:5061;branch=z9hG4bK0\r\n"
    "Max-Forwards: 70\r\n"
    'From: "Nuria Gonzalez" <sip:nuriag@contoso.com>;tag=1a2b\r\n'
    "To: <sip:jennyl@contoso.com>\r\n"
    "Call-ID: 8f2c11\r\n"
    "CSeq: 2 MESSAGE\r\n"
    "User-Agent: UCCAPI/15.0.4420.1017 OC/15.0.4420.1017 (Microsoft Lync)\r\n"
    "Content-Length: 0\r\n"
    "\r\n"
)
ROUTED = MESSAGE.replace("Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nRoute: <sip:pool01.contoso.com;lr>\r\n")
NO_FROM = MESSAGE.replace('From: "Nuria Gonzalez" <sip:nuriag@contoso.com>;tag=1a2b\r\n', "")
NON_ASCII = MESSAGE.replace('"Nuria Gonzalez"', '"N\u00fara Gonz\u00e1lez"')
OTHER_METHOD = MESSAGE.replace("MESSAGE sip:", "FOO sip:").replace("CSeq: 2 MESSAGE", "CSeq: 2 FOO")
RESPONSE = (
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/TLS 192.168.0.22:51234;branch=z9hG4bK1\r\n"
    'From: "Nuria" <sip:nuriag@contoso.com>;tag=1a2b\r\n'
    "To: <sip:jennyl@contoso.com>;tag=9\r\n"
    "Call-ID: 8f2c11\r\n"
    "CSeq: 2 MESSAGE\r\n"
    "Content-Length: 0\r\n"
    "\r\n"
)
MESSAGES = [MESSAGE, ROUTED, NO_FROM, NON_ASCII, OTHER_METHOD, RESPONSE]

POLICY = FlatFile(name="policy", path="policy.csv", columns=("user", "action", "pool"), key_column="user",
                  ignore_case=True, loaded=True, rows=(
                      {"user": "jennyl@contoso.com", "action": "allow", "pool": "pool01.contoso.com"},
                      {"user": "nuriag@contoso.com", "action": "drop", "pool": "pool02.contoso.com"}))

#: The benchmark's script (bench/bench_script.py), the shapes the fast paths were made for.
BENCH = r'''
if (!sipRequest) {
    return;
}
if (sipRequest.Method != StandardMethod.Message) {
    ProxyRequest("");
    return;
}
fromUri = GetUri(sipRequest.From);
toUri = GetUri(sipRequest.To);
fromUser = GetUserAtHost(fromUri);
toUser = GetUserAtHost(toUri);
lync = false;
foreach (agent in GetHeaderValues(StandardHeader.UserAgent)) {
    if (ContainsString(agent, "microsoft LYNC", true)) {
        lync = true;
        break;
    }
}
hops = 0;
foreach (via in GetHeaderValues("Via")) {
    hops = hops + 1;
}
action = policy[toUser].action;
if (action == "drop") {
    Log("Event", false, "dropped IM from ", fromUser, " to ", toUser);
    Respond(403, "Forbidden");
    return;
}
pool = policy[toUser].pool;
Log("Debugr", false, "IM ", fromUser, " -> ", toUser, " via ", hops, " hops, lync=", lync);
ProxyRequest(Concatenate("sip:", toUser, ";maddr=", pool));
'''


def compiled(source: str, fast: bool, monkeypatch) -> Script:
    """The script straight from the parser (no checker: run-time faults are the point), compiled
    with the fast paths on or off."""
    with monkeypatch.context() as patch:
        patch.setattr(compiler, "FAST_PATHS", fast)
        return Script(parse_script(source, filename="t.am"))


def record(run: ScriptRun) -> dict:
    return {f.name: getattr(run, f.name) for f in dataclasses.fields(ScriptRun)}


def both(source: str, message: str = MESSAGE, monkeypatch=None, **env) -> tuple[dict, dict]:
    environment = ScriptEnvironment(flat_files={"policy": POLICY}, app_uri="http://contoso.com/t", **env)
    fast = compiled(source, True, monkeypatch).run(parse_message(message), environment)
    general = compiled(source, False, monkeypatch).run(parse_message(message), environment)
    return record(fast), record(general)


def assert_same(source: str, monkeypatch, message: str = MESSAGE, **env) -> dict:
    fast, general = both(source, message, monkeypatch, **env)
    assert fast == general
    return fast


@pytest.mark.parametrize("message", MESSAGES, ids=["message", "routed", "no-from", "non-ascii", "foo", "response"])
def test_the_benchmark_script_runs_alike_on_every_kind_of_message(message, monkeypatch):
    result = assert_same(BENCH, monkeypatch, message)
    if message is MESSAGE:   # the fast paths did run the script's work, not skip it
        assert [d.uri for d in result["dispositions"]] == ["sip:jennyl@contoso.com;maddr=pool01.contoso.com"]
        assert result["log"][0].lines[-1] == "true" and result["log"][0].summary[1] == "Method: MESSAGE"


def test_the_step_limit_stops_both_at_the_same_statement_whatever_the_budget(monkeypatch):
    # the bodies of if and foreach are entered inline (their block's count and check); each budget
    # from 1 to one past the whole run stops both at the same node, e.g. inside the loop over Via
    seen = set()
    for message in (MESSAGE, OTHER_METHOD, RESPONSE):
        needed = assert_same(BENCH, monkeypatch, message)["steps"]
        for budget in range(1, needed + 2):
            result = assert_same(BENCH, monkeypatch, message, step_budget=budget)
            seen.add(tuple((e.line, e.column) for e in result["critical_errors"]))
    # the loop's own check (the foreach) and its body block's (inlined) were both reached, for
    # the Via loop and for the User-Agent loop's block and the if's block inside it
    assert {((21, 1),), ((21, 41),), ((14, 62),), ((15, 56),), ((2, 18),), ((5, 50),), ()} <= seen


@pytest.mark.parametrize("limit", ["work_budget", "memory_budget"])
def test_the_work_and_memory_budgets_stop_both_at_the_same_call(limit, monkeypatch):
    total = assert_same(BENCH, monkeypatch)["work" if limit == "work_budget" else "memory"]
    assert total > 0
    faults = set()
    for budget in range(1, total + 2):
        result = assert_same(BENCH, monkeypatch, **{limit: budget})
        faults.update((e.line, e.message.split(":")[0]) for e in result["critical_errors"])
    assert len(faults) >= 3   # several calls (GetUri, ContainsString, Log ...) each reached the limit


@pytest.mark.parametrize("use", [
    'Log("Event", false, "a", x);',
    'y = Concatenate("a", x);',
    'y = GetUserAtHost(x);',
    'y = ContainsString(x, "a", true);',
    'if (x == "a") { Log("Event", false, "yes"); }',
    'x = x + 1;',
    'y = policy[x].action;',
    'ProxyRequest(x);',
])
def test_a_variable_read_before_any_assignment_is_the_same_critical_error(use, monkeypatch):
    result = assert_same(f'if (false) {{ x = "a"; }}\n{use}', monkeypatch)
    (error,) = result["critical_errors"]
    assert error.message == "variable x is read before any value was assigned to it"
    assert error.line == 2


@pytest.mark.parametrize("use", [
    'Log("Event", false, "a", x, "b");',
    'y = Concatenate("a", x);',
    'y = GetUserAtHost(x);',
    'y = GetUri(x);',
    'y = ContainsString(x, "a", true);',
    'if (x == "a") { Log("Event", false, "yes"); } else { Log("Event", false, "no"); }',
    'if (x != "a") { Log("Event", false, "yes"); }',
    'y = policy[x].action;',
    'ProxyRequest(x);',
])
def test_null_values_take_the_general_path_and_its_faults(use, monkeypatch):
    result = assert_same(f'x = GetUri("no uri here");\n{use}', monkeypatch)
    assert result["critical_errors"] or result["log"] or result["dispositions"] or use.startswith("y =")


@pytest.mark.parametrize("source", [
    'f = sipRequest.From; t = sipRequest.To; Log("Event", false, f, "|", t);',
    'u = GetUri(sipRequest.From); Log("Event", false, u);',
    'n = 0; foreach (v in GetHeaderValues("X-Absent")) { n = n + 1; } Log("Event", false, n);',
    'n = 0; foreach (v in GetHeaderValues(StandardHeader.Nonstandard)) { n = n + 1; }',
    'n = 0; foreach (v in GetHeaderValues("v")) { n = n + 1; } Log("Event", false, n);',
    'ProxyRequest("sip:a@contoso.com");',
    'ProxyRequest(""); ProxyRequest("");',
    'x = sipResponse.From; Log("Event", false, x);',
])
@pytest.mark.parametrize("message", [MESSAGE, NO_FROM, ROUTED, NON_ASCII, RESPONSE],
                         ids=["message", "no-from", "routed", "non-ascii", "response"])
def test_header_reads_and_absent_headers_read_alike(source, message, monkeypatch):
    assert_same(source, monkeypatch, message)


@pytest.mark.parametrize("source", [
    'if (ContainsString(sipRequest.From, "NURIA", true)) { Log("Event", false, "ci"); }',
    'if (ContainsString(sipRequest.From, "NURIA", false)) { Log("Event", false, "cs"); }',
    'if (ContainsString(sipRequest.From, "Nuria", 0)) { Log("Event", false, "int flag"); }',
    'if (ContainsString(sipRequest.From, "Nuria", "yes")) { Log("Event", false, "string flag"); }',
    'n = 5; if (ContainsString(n, "5", true)) { Log("Event", false, "int source"); }',
    'if (sipRequest.Method == StandardMethod.Message) { Log("Event", false, "message"); }',
    'if (sipRequest.Method != StandardMethod.Invite) { Log("Event", false, "not invite"); }',
    'if (sipRequest.Method == "message") { Log("Event", false, "== is case-sensitive"); }',
    'a = policy["JENNYL@contoso.com"].pool; k = "NURIAG@CONTOSO.COM"; b = policy[k].action; Log("Event", false, a, b);',
    'k = 1; x = policy[k].user; Log("Event", false, x);',
    'k = "nobody@contoso.com"; x = policy[k].action; if (x == null) { Log("Event", false, "no row"); }',
    'k = "jennyl@contoso.com"; x = policy[k].nosuchcolumn;',
    'k = "jennyl@contoso.com"; x = nofile[k].action;',
])
@pytest.mark.parametrize("message", [MESSAGE, OTHER_METHOD, RESPONSE], ids=["message", "foo", "response"])
def test_comparisons_and_lookups_ignoring_case_or_not_read_alike(source, message, monkeypatch):
    assert_same(source, monkeypatch, message)


@pytest.mark.parametrize("source", [
    'n = 2147483646; n = n + 1; n = n + 1;',              # overflow located at the sum
    'n = "5"; n = n + 1; Log("Event", false, n);',        # the store coerces to the string
    's = "x"; s = GetUserAtHost("sip:a@b.com"); b = false; b = GetUri("sip:a@b.com"); Log("Event", false, s, b);',
    'n = 1; n = GetUserAtHost("sip:a@b.com");',           # a string that is no int
    'f = 1.5; Log("Event", false, f, StandardMethod.Invite, true, 0);',
    'Log(StandardMethod.Invite, false, "enum name");',
    'Log("Debugr", true, "the whole message");',
    'd = 1; Log("Event", d, "detail from a variable");',
    'Log("Event", false, "a", GetHeaderValues("Via"));',   # a collection is refused after every argument ran
    'x = Concatenate("a", 1, true);',
    'x = Concatenate(GetHeaderValues("Via"), "a");',
    'ProxyResponse();',
    'Respond(180, "Ringing"); Respond(200, "OK"); Respond(300, "again");',
    'DispatchNotification("M"); Log("Event", false, "queued");',
    'Respond(200, "OK"); ProxyRequest("");',
])
@pytest.mark.parametrize("message", [MESSAGE, RESPONSE], ids=["request", "response"])
def test_stores_conversions_and_critical_error_locations_are_the_same(source, message, monkeypatch):
    result = assert_same(source, monkeypatch, message)
    for error in result["critical_errors"]:
        assert error.line == 1 and error.column > 0 and error.source


def test_a_wrong_kind_call_is_located_at_the_call(monkeypatch):
    result = assert_same('x = 1;\n  ProxyRequest(Concatenate("sip:", "a@b.com"));', monkeypatch, RESPONSE)
    (error,) = result["critical_errors"]
    assert error.message == "ProxyRequest needs a request, but the current message is a response"
    assert (error.line, error.column) == (2, 3)


def test_handled_is_what_the_dispositions_say(monkeypatch):
    cases = {
        'Respond(180, "Ringing");': False,
        'Respond(180, "Ringing"); Respond(200, "OK");': True,
        'DispatchNotification("M");': False,
        'ProxyRequest("");': True,
        'ProxyRequest(""); x = 1 + "a";': True,   # aborted after the decision: still handled
        'Log("Event", false, "nothing");': False,
    }
    for source, handled in cases.items():
        result = assert_same(source, monkeypatch)
        assert result["handled"] is handled, source
        assert handled == any(d.handles for d in result["dispositions"]), source


def test_the_message_views_are_built_when_a_script_reads_them(monkeypatch):
    source = ('if (sipMessage) { Log("Event", false, "message"); } '
              'if (sipRequest == sipMessage) { Log("Event", false, "same"); } '
              'if (!sipResponse) { Log("Event", false, "no response"); } '
              'if (!sipRequest) { Log("Event", false, "no request"); } '
              'x = sipResponse.Transaction; Log("Event", false, FQDN, ServerPool, Role, sipMessage.Origin);')
    for message in (MESSAGE, RESPONSE):
        assert assert_same(source, monkeypatch, message)["log"]


def test_a_fresh_run_record_equals_a_constructed_one():
    assert record(ScriptRun.fresh("t.am")) == record(ScriptRun(filename="t.am"))


def test_the_calls_the_compiler_trusts_to_return_a_bool_or_nothing_are_declared_so():
    # a condition skips the truth test for _BOOL_BUILTINS; an expression statement of a void
    # built-in is the call itself (its None is the "go on" signal)
    assert all(FUNCTIONS[name].returns == "bool" for name in compiler._BOOL_BUILTINS)
    assert {name for name, f in FUNCTIONS.items() if f.returns == "void"} == {
        "ProxyRequest", "RetargetRequest", "ProxyResponse", "BeginFork", "Fork", "EndFork", "Log"}
    assert set(BUILTINS) == set(FUNCTIONS)


def test_void_and_bool_built_ins_behave_alike_as_statements_and_conditions(monkeypatch):
    source = '''
    BeginFork(false, 0);
    Fork("sip:a@contoso.com");
    Fork("sip:b@contoso.com");
    EndFork();
    if (EqualString("A", "a", true)) { Log("Event", false, "eq"); }
    if (SupportsMethod("INVITE", 0, "")) { Log("Event", false, "supports"); }
    if (AddHeader("X-A", "1")) { Log("Event", false, "added"); }
    if (!AddHeader("X-A", "2")) { Log("Event", false, "not twice"); }
    if (SetParameterValue("X-A", "p", "v")) { Log("Event", false, "set"); }
    '''
    result = assert_same(source, monkeypatch)
    assert len(result["log"]) == 5 and result["dispositions"][0].kind == "fork"


@pytest.mark.parametrize("source", [
    'u = GetUri(sipRequest.From); h = GetHostName(sipResponse.To); Log("Event", false, u, "|", h);',
    'n = 1; n = GetUri(sipRequest.To);',                       # the fused store's coercion fault
    'a = policy[k].action;',                                    # k never assigned: unknown name
    'k = "jennyl@contoso.com"; a = 1; a = policy[k].pool;',     # a string that is no int
    'k = 0; a = policy[k].user; k = "x"; b = policy[k].user; Log("Event", false, a, b == null);',
    'k = "jennyl@contoso.com"; a = "x"; a = policy[k].missing;',
])
@pytest.mark.parametrize("message", [MESSAGE, NO_FROM, RESPONSE], ids=["request", "no-from", "response"])
def test_fused_calls_and_stores_read_alike(source, message, monkeypatch):
    assert_same(source, monkeypatch, message)


def test_the_fast_record_makers_make_equal_records_with_every_field_in_order():
    from mspl_lite.language.run import Disposition, LogEntry, new_disposition, new_log_entry
    import inspect
    for cls, make in ((Disposition, new_disposition), (LogEntry, new_log_entry)):
        names = [f.name for f in dataclasses.fields(cls)]
        assert list(inspect.signature(make).parameters) == names   # a new field breaks this test
        values = [f"v{i}" for i in range(len(names))]
        made = make(*values)
        assert made == cls(**dict(zip(names, values)))
        assert [getattr(made, n) for n in names] == values
        with pytest.raises(dataclasses.FrozenInstanceError):
            made.line = 1
    assert new_disposition("proxy", 3, 4) == Disposition(kind="proxy", line=3, column=4)
