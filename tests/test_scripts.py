"""End to end: MSPL scripts compiled with compile_script / compile_manifest, run on parsed SIP messages."""
from __future__ import annotations

from pathlib import Path

import pytest

from mspl_lite.language import (
    CriticalError, Disposition, InMemoryServer, LogEntry, RegistrarEndpoint, ScriptEnvironment, ScriptRun,
    compile_manifest, compile_script,
)
from mspl_lite.language.server import ALL_STANDARD_METHODS, UserRecord
from mspl_lite.manifest import load_manifest
from mspl_lite.sip import parse_message

MANIFESTS = Path(__file__).parent / "data" / "manifests"


def request(method="INVITE", ruri="sip:jennyl@contoso.com", to="<sip:jennyl@contoso.com>",
            frm='"Nuria Gonzalez" <sip:nuriag@contoso.com>;tag=1a2b', extra="", body=""):
    return parse_message(
        f"{method} {ruri} SIP/2.0\r\n"
        "Via: SIP/2.0/TLS 192.168.0.22:51234;branch=z9hG4bK1\r\n"
        "Max-Forwards: 70\r\n"
        f"From: {frm}\r\n"
        f"To: {to}\r\n"
        "Call-ID: 8f2c11\r\n"
        f"CSeq: 1 {method}\r\n"
        f"{extra}"
        f"Content-Length: {len(body.encode())}\r\n"
        "\r\n"
        f"{body}")


def response(code=200, reason="OK", method="INVITE"):
    return parse_message(
        f"SIP/2.0 {code} {reason}\r\n"
        "Via: SIP/2.0/TLS 192.168.0.22:51234;branch=z9hG4bK1\r\n"
        'From: "Nuria Gonzalez" <sip:nuriag@contoso.com>;tag=1a2b\r\n'
        "To: <sip:jennyl@contoso.com>;tag=99\r\n"
        "Call-ID: 8f2c11\r\n"
        f"CSeq: 1 {method}\r\n"
        "Content-Length: 0\r\n"
        "\r\n")


def run(source, message=None, env=None, filename="t.mspl") -> ScriptRun:
    return compile_script(source, filename=filename).run(message if message is not None else request(), env)


def logged(result: ScriptRun) -> list[str]:
    return ["".join(e.lines) for e in result.log]


def critical(result: ScriptRun) -> CriticalError:
    assert result.aborted, result
    (error,) = result.critical_errors
    return error


# --- message kinds and fields (dn439149, dn439153) -------------------------------------------

def test_sip_request_and_sip_response_in_bool_context():
    source = 'if (sipRequest) { Log("Event", false, "request"); } if (sipResponse) { Log("Event", false, "response"); }'
    assert logged(run(source)) == ["request"]
    assert logged(run(source, response())) == ["response"]


def test_a_field_of_the_wrong_kind_reads_false():
    source = '''
    if (sipResponse.StatusClass != StatusClass._2xx) { Log("Event", false, "not 2xx"); }
    if (sipResponse.StatusCode == false) { Log("Event", false, "StatusCode reads false"); }
    if (sipResponse.Transaction.Request.Method == false) { Log("Event", false, "chain reads false"); }
    '''
    assert logged(run(source)) == ["not 2xx", "StatusCode reads false", "chain reads false"]
    assert logged(run('if (sipRequest.Method == "INVITE") { Log("Event", false, "x"); }', response())) == []


def test_method_compares_with_standard_method():
    source = '''
    if (sipRequest.Method == StandardMethod.Invite) { Log("Event", false, "Method"); }
    if (sipRequest.StandardMethod == StandardMethod.Invite) { Log("Event", false, "StandardMethod"); }
    if (sipRequest.StandardMethod == StandardMethod.Message) { Log("Event", false, "wrong"); }
    '''
    assert logged(run(source)) == ["Method", "StandardMethod"]
    custom = 'if (sipRequest.StandardMethod == StandardMethod.NonStandard) { Log("Event", false, sipRequest.Method); }'
    assert logged(run(custom, request(method="X-CUSTOM"))) == ["X-CUSTOM"]


def test_message_fields():
    source = '''
    Log("Event", false, sipMessage.From);
    Log("Event", false, sipRequest.To, "|", sipRequest.RequestUri, "|", sipMessage.Content);
    if (sipMessage.Authenticated && sipMessage.Origin == MessageOrigin.NetworkUnknown) { Log("Event", false, "origin"); }
    if (sipMessage.Stamp == null) { Log("Event", false, "no stamp"); }
    '''
    assert logged(run(source, request(body="hello"))) == [
        '"Nuria Gonzalez" <sip:nuriag@contoso.com>;tag=1a2b',
        "<sip:jennyl@contoso.com>|sip:jennyl@contoso.com|hello", "origin", "no stamp"]


def test_response_fields_and_its_transaction_request():
    source = '''
    if (sipResponse.StatusClass == StatusClass._2xx && sipResponse.StatusCode == 200) {
        Log("Event", false, sipResponse.StatusReasonPhrase, " to ", sipResponse.Transaction.Request.Method);
        ProxyResponse();
    }
    '''
    result = run(source, response())
    assert logged(result) == ["OK to INVITE"]
    assert [d.kind for d in result.dispositions] == ["proxy_response"] and result.handled
    assert logged(run(source, response(486, "Busy Here"))) == []


def test_request_target_and_source():
    source = '''
    Log("Event", false, RequestTarget.Aor, " ", RequestSource.Aor);
    if (RequestTarget.DomainSupported && !RequestTarget.IsPhone) { Log("Event", false, "local user"); }
    Log("Event", false, FQDN, " ", ServerPool);
    if (Role == ServerRole.FrontEnd) { Log("Event", false, "front end"); }
    '''
    assert logged(run(source)) == ["jennyl@contoso.com nuriag@contoso.com", "local user",
                                   "fe01.contoso.com pool01.contoso.com", "front end"]
    phone = run('if (RequestTarget.IsPhone) { Log("Event", false, "phone"); }',
                request(ruri="sip:+14255550101@contoso.com;user=phone"))
    assert logged(phone) == ["phone"]


def test_content_assignment_replaces_the_body_and_content_length():
    message = request(body="hello world")
    result = run('sipMessage.Content = Concatenate(SubString(sipMessage.Content, 0, 5), "!");', message)
    assert not result.aborted
    assert message.content == "hello!" and message.get("Content-Length") == "6"


def test_add_and_set_parameter_change_the_message_in_place():
    message = request()
    run('AddHeader("ms-application-aor", "sip:bot@contoso.com"); SetParameterValue("To", "epid", "01ab");', message)
    assert message.get("ms-application-aor") == "sip:bot@contoso.com"
    assert message.get("To") == "<sip:jennyl@contoso.com>;epid=01ab"


# --- coercions in scripts (dn439149) ------------------------------------------------------------

def test_coercions_in_conditions_and_calls():
    source = '''
    if ("false") { Log("Event", false, "non-empty string is true"); }
    if (!"") { Log("Event", false, "empty string is false"); }
    if (2) { Log("Event", false, "non-zero is true"); }
    if (!GetUri("junk")) { Log("Event", false, "null is false"); }
    Log("Event", 1, "int detail ", 7);
    '''
    result = run(source)
    assert logged(result) == ["non-empty string is true", "empty string is false", "non-zero is true",
                              "null is false", "int detail 7"]
    assert result.log[-1].detail is True


def test_string_to_int_on_a_typed_variable():
    assert logged(run('n = 0; n = "41"; n = n + 1; Log("Event", false, n);')) == ["42"]
    error = critical(run('n = 0;\nn = GetUri(sipRequest.To);'))
    assert "cannot convert" in error.message and error.line == 2


# --- the null rule and the other misuse rules: critical errors with their line and column ---------

def test_null_passed_as_a_string_stops_the_script_at_the_call():
    source = 'epid = GetParameterValue(sipRequest.To, "epid");\nuri = GetUri(epid);\nLog("Event", false, "after");'
    result = run(source)
    error = critical(result)
    assert error.message.startswith("null passed to GetUri as argument 1 (address)")
    assert (error.line, error.column) == (2, 7) and result.log == []
    assert str(error).startswith("t.mspl:2:7: critical error: null passed to GetUri")
    assert "uri = GetUri(epid);\n          ^" in str(error)


def test_request_only_function_on_a_response_is_a_critical_error():
    result = run('x = 1;\n   ProxyRequest("");', response())
    error = critical(result)
    assert error.message == "ProxyRequest needs a request, but the current message is a response"
    assert (error.line, error.column) == (2, 4) and "if (sipRequest)" in error.hint


def test_response_only_function_on_a_request_is_a_critical_error():
    assert "ProxyResponse needs a response" in critical(run("ProxyResponse();")).message


def test_respond_on_a_response_returns_false():
    result = run('if (!Respond(200, "OK")) { Log("Event", false, "false"); }', response())
    assert logged(result) == ["false"] and not result.aborted and result.dispositions == []


def test_respond_redirect_with_headers():
    result = run('Respond("302", "Forwarded to terrya@contoso.com", "Contact=<sip:terrya@contoso.com>"); return;')
    (d,) = result.dispositions
    assert (d.kind, d.status, d.headers) == ("respond", 302, (("Contact", "<sip:terrya@contoso.com>"),))
    assert result.handled and str(d) == ('line 1: Respond(302, "Forwarded to terrya@contoso.com", '
                                         '"Contact=<sip:terrya@contoso.com>")')


def test_respond_header_without_equals_is_a_critical_error_per_occurrence():
    result = run('Respond("200", "OK", "Contact",\n "Supported");')
    assert result.aborted and len(result.critical_errors) == 2
    assert all(e.line == 1 for e in result.critical_errors) and result.dispositions == []


def test_second_final_disposition_is_a_critical_error_at_its_line():
    result = run('ProxyRequest("");\nRetargetRequest("sip:terrya@contoso.com");')
    error = critical(result)
    assert error.message.startswith('RetargetRequest after ProxyRequest("") at line 1')
    assert error.line == 2 and [d.kind for d in result.dispositions] == ["proxy"]


def test_proxy_request_to_a_uri_on_a_strict_route():
    result = run('ProxyRequest("sip:elsewhere@contoso.com");', request(extra="Route: <sip:fe01.contoso.com;lr>\r\n"))
    assert "strict" in critical(result).message


def test_fork_misuse():
    assert "Fork without BeginFork" in critical(run('Fork("sip:a@b");')).message
    assert "EndFork without BeginFork" in critical(run("EndFork();")).message
    assert "still open" in critical(run("BeginFork(false, 0);\nBeginFork(false, 0);")).message
    error = critical(run("BeginFork(false, 0);\nEndFork();"))
    assert "EndFork with no Fork since BeginFork at line 1" in error.message and error.line == 2


def test_a_fork_left_open_at_the_end_is_a_critical_error_at_begin_fork():
    result = run('x = 1;\nBeginFork(false, 0);\nFork("sip:1.2.3.4:5061");')
    error = critical(result)
    assert "never ended with EndFork" in error.message and error.line == 2
    assert result.dispositions == [] and not result.handled


def test_dispatch_notification_after_proxying_is_a_critical_error():
    result = run('DispatchNotification("Note", 1);\nProxyRequest("");\nDispatchNotification("Late");')
    assert critical(result).line == 3
    assert [d.kind for d in result.dispositions] == ["dispatch_notification", "proxy"]


def test_dispatch_records_method_and_arguments():
    result = run('Dispatch("OnInvite", "a", 2, true);')
    (d,) = result.dispositions
    assert (d.kind, d.method, d.args) == ("dispatch", "OnInvite", ("a", 2, True)) and result.handled


# --- Log ------------------------------------------------------------------------------------------

def test_log_entries_are_recorded_with_level_name_and_position():
    result = run('Log("Event", false, "a");\n  Log("Error", true, "b", "c");\nLog("Debug", 0, "d");',
                 env=ScriptEnvironment(app_uri="http://www.contoso.com/App"))
    assert [(e.level, e.name, e.lines, e.line, e.column) for e in result.log] == [
        ("Event", "Event", ("a",), 1, 1), ("Error", "Error", ("b", "c"), 2, 3), ("Debugr", "Debug", ("d",), 3, 1)]
    assert result.log[0].summary[0] == "Application: http://www.contoso.com/App"
    assert all(isinstance(e, LogEntry) for e in result.log)


# --- the SDK samples and a DefaultRouting-like script -----------------------------------------

def test_forward_invite_sample_retargets_jenny_to_terry():
    script = compile_manifest(load_manifest(MANIFESTS / "forward_invite.am"))
    message = request()
    result = script.run(message)
    (d,) = result.dispositions
    assert (d.kind, d.uri) == ("retarget", "sip:terrya@contoso.com")
    assert result.handled and result.returned and not result.aborted
    assert message.request_uri == "sip:terrya@contoso.com"           # the Request-URI follows the target
    assert message.get("To") == "<sip:jennyl@contoso.com>"            # To keeps the original user
    assert d.line == 29 and script.filename.endswith("forward_invite.am")   # line of the .am file


def test_forward_invite_sample_hands_other_calls_on():
    script = compile_manifest(load_manifest(MANIFESTS / "forward_invite.am"))
    result = script.run(request(to="<sip:terrya@contoso.com>", ruri="sip:terrya@contoso.com"))
    assert [(d.kind, d.uri) for d in result.dispositions] == [("proxy", "")]
    assert script.run(response()).dispositions == []


FORK_INVITE = '''
if (!sipRequest) {
  return;
}

foreach( h in GetHeaderValues(StandardHeader.UserAgent)) {
  if (ContainsString(h, "Microsoft Lync", false)) {
    Log("Event", false, "With Lync, forking is not necessary.");
    return;
  }
}

forked=false;
toUri = GetUri(sipRequest.To);
toUserAtHost = GetUserAtHost(toUri);
Log("Event", true, "Enter ForkInvite...", "\\r\\ntoUri: ", toUri, "\\r\\ntoUserAtHost: ", toUserAtHost);
BeginFork(false, 0);
foreach(dbEndpoint in QueryEndpoints(toUserAtHost)) {
  Log("Event", false, "dbEndpoint: ", dbEndpoint.ContactInfo);
  Fork(dbEndpoint.ContactInfo);
  forked=true;
}
EndFork();

if (!forked) {
  Log("Event", false, "Invite not forked");
  ProxyRequest("");
}
else {
  Log("Event", false, "Invite forked");
}
'''


def two_device_server() -> InMemoryServer:
    def device(epid, ip, methods=ALL_STANDARD_METHODS, extra=""):
        return RegistrarEndpoint(epid=epid, instance=None, standard_methods=methods, extra_methods=extra,
                                 contact_info=f"sip:{ip}:5061;transport=tls;ms-opaque={epid}")
    return InMemoryServer(users=[
        UserRecord(aor="jennyl@contoso.com", endpoints=(device("aa01", "192.168.0.21"),
                                                        device("bb02", "192.168.0.31", 0x100, "INFO"))),
        UserRecord(aor="terrya@contoso.com"),
    ])


def test_fork_invite_sample_forks_to_every_endpoint():
    env = ScriptEnvironment(server=two_device_server())
    result = compile_script(FORK_INVITE, filename="ForkInvite.am").run(request(), env)
    (d,) = result.dispositions
    assert d.kind == "fork" and d.fork_uris == ("sip:192.168.0.21:5061;transport=tls;ms-opaque=aa01",
                                                "sip:192.168.0.31:5061;transport=tls;ms-opaque=bb02")
    assert result.handled and not result.aborted
    assert [e.text for e in result.log][-1] == "Invite forked"
    assert result.log[0].lines[1] == "\r\ntoUri: " and result.log[0].detail


def test_fork_invite_sample_returns_early_for_lync_clients():
    message = request(extra="User-Agent: UCCAPI/15.0.4420.1017 OC/15.0.4420.1017 (Microsoft Lync)\r\n")
    result = compile_script(FORK_INVITE).run(message)
    assert logged(result) == ["With Lync, forking is not necessary."] and not result.handled


def test_fork_invite_sample_as_published_aborts_when_the_user_has_no_endpoint():
    """EndFork with no Fork in between is a critical error (hh364734), so the sample's own
    "Invite not forked" branch is never reached: a real bug of the sample a learner can find."""
    result = compile_script(FORK_INVITE).run(request(to="<sip:terrya@contoso.com>", ruri="sip:terrya@contoso.com"),
                                             ScriptEnvironment(server=two_device_server()))
    error = critical(result)
    assert error.message.startswith("EndFork with no Fork since BeginFork") and error.line == 23


DEFAULT_ROUTING_LIKE = '''
if (!sipRequest) { return; }
toUri = GetUri(sipRequest.To);
toUserAtHost = GetUserAtHost(toUri);
if (!DomainSupported(GetHostName(toUri))) {
    ProxyRequest("");
    return;
}
if (QueryHomeServer(toUserAtHost) == null) {
    Respond(404, "Not Found");
    return;
}
count = 0;
foreach (dbEndpoint in QueryEndpoints(toUserAtHost, true)) {
    if (!SupportsMethod(sipRequest.Method, dbEndpoint.StandardMethods, dbEndpoint.ExtraMethods)) {
        Log("Debugr", false, "skipped ", dbEndpoint.EPID);
        continue;
    }
    if (count == 0) { BeginFork(false, 0); }
    Fork(dbEndpoint.ContactInfo);
    count = count + 1;
}
if (count == 0) {
    Respond(480, "Temporarily Unavailable");
    return;
}
EndFork();
Log("Debugr", false, "forked to ", count, " endpoint(s)");
'''


@pytest.mark.parametrize("method, to, kind, detail", [
    ("INVITE", "sip:jennyl@contoso.com", "fork", ("sip:192.168.0.21:5061;transport=tls;ms-opaque=aa01",)),
    ("INFO", "sip:jennyl@contoso.com", "fork", ("sip:192.168.0.21:5061;transport=tls;ms-opaque=aa01",
                                               "sip:192.168.0.31:5061;transport=tls;ms-opaque=bb02")),
    ("INVITE", "sip:terrya@contoso.com", "respond", 480),
    ("INVITE", "sip:nobody@contoso.com", "respond", 404),
    ("INVITE", "sip:al@fabrikam.com", "proxy", ""),
])
def test_default_routing_like_script(method, to, kind, detail):
    env = ScriptEnvironment(server=two_device_server())
    result = compile_script(DEFAULT_ROUTING_LIKE).run(request(method=method, ruri=to, to=f"<{to}>"), env)
    assert not result.aborted and result.handled
    (d,) = result.dispositions
    assert d.kind == kind
    assert {"fork": d.fork_uris, "respond": d.status, "proxy": d.uri}[kind] == detail
    if method == "INVITE" and kind == "fork":
        assert logged(result) == ["skipped bb02", "forked to 1 endpoint(s)"]


def test_db_endpoint_outside_its_loop_is_false():
    source = '''
    foreach (dbEndpoint in QueryEndpoints("jennyl@contoso.com")) { Log("Event", false, dbEndpoint.EPID); }
    if (!dbEndpoint) { Log("Event", false, "false outside"); }
    '''
    assert logged(run(source)) == ["5c4d3e2f1a", "false outside"]


def test_policy_filter_manifest_with_a_key_lookup_flat_file():
    script = compile_manifest(load_manifest(MANIFESTS / "policy_filter.am"))
    carol = script.run(request(method="MESSAGE", to="<sip:carol@contoso.com>"))
    assert [(d.kind, d.status) for d in carol.dispositions] == [("respond", 403)]
    alice = script.run(request(method="MESSAGE", to="<sip:ALICE@contoso.com>"))
    assert [(d.kind, d.uri) for d in alice.dispositions] == [("proxy", "")]
    assert alice.log[0].lines == ("Dispatch(not a call)",)
    assert alice.log[0].summary[0] == "Application: http://www.contoso.com/lcs/PolicyFilter"


def test_a_critical_error_in_a_manifest_script_points_into_the_am_file():
    script = compile_manifest(load_manifest(MANIFESTS / "policy_filter.am"))
    result = script.run(request(method="MESSAGE", to="<tel:+14255550101>"))   # no user@host: null
    error = critical(result)
    assert error.filename.endswith("policy_filter.am") and (error.line, error.column) == (29, 21)
    assert error.source.strip() == "action = policy[user].action;          // key lookup, case ignored"


def test_records_have_readable_reprs():
    result = run('Log("Event", false, "x"); ProxyRequest("sip:a@contoso.com");')
    assert repr(result) == "<ScriptRun handled dispositions=proxy@1 log=1 critical=0 steps=2>"
    assert str(result.dispositions[0]) == 'line 1: ProxyRequest("sip:a@contoso.com")'
    assert isinstance(result.dispositions[0], Disposition)
    assert "0x" not in repr(result.dispositions[0]) and "0x" not in repr(result.log[0])


def test_transaction_marshal_content_can_be_turned_off():
    source = '''
    if (sipMessage.Transaction.MarshalContent) { Log("Event", false, "on by default"); }
    sipMessage.Transaction.MarshalContent = false;
    if (!sipMessage.Transaction.MarshalContent) { Log("Event", false, "now off"); }
    '''
    assert logged(run(source)) == ["on by default", "now off"]


# --- floats (dn439149; decision D31) -------------------------------------------------------------

def test_float_constants_and_their_text_in_en_us_format():
    assert logged(run('x = 1.5; y = -0.25; z = 2.0; Log("Event", false, x, " ", y, " ", z);')) == ["1.5 -0.25 2"]
    assert logged(run('Log("Event", false, Concatenate("q=", 0.1));')) == ["q=0.1"]


def test_a_float_assigned_to_an_int_variable_is_truncated():
    assert logged(run('n = 0; n = 2.9; m = 0; m = -2.9; Log("Event", false, n, " ", m);')) == ["2 -2"]
    error = critical(run('n = 0;\nn = 3000000000.5;'))
    assert "does not fit a 32-bit int" in error.message and error.line == 2


def test_float_arithmetic_comparison_and_truth():
    assert logged(run('x = 1.5 + 1; y = 1 - 0.25; Log("Event", false, x, " ", y);')) == ["2.5 0.75"]
    source = '''
    if (1.0 == 1) { Log("Event", false, "1.0 == 1"); }
    if (1.5 > 1 && 0.5 < 1) { Log("Event", false, "ordered"); }
    if ("1.5" == 1.5) { Log("Event", false, "numeric string"); }
    if (0.0) { Log("Event", false, "zero is true?"); }
    if (0.25) { Log("Event", false, "non-zero is true"); }
    '''
    assert logged(run(source)) == ["1.0 == 1", "ordered", "numeric string", "non-zero is true"]


def test_a_string_that_is_not_an_en_us_number_does_not_become_a_float():
    error = critical(run('x = 0.5;\nx = "1,5";'))
    assert "cannot convert" in error.message and error.line == 2
    assert logged(run('x = 0.5; x = "1.25"; Log("Event", false, x + 1);')) == ["2.25"]


def test_a_script_ending_in_a_decimal_number_is_a_syntax_error_not_a_crash():
    from mspl_lite.errors import ScriptError
    with pytest.raises(ScriptError) as info:
        run("x = 1.5")
    (d,) = info.value.diagnostics
    assert d.message == "expected ';' after this statement" and (d.line, d.column) == (1, 8)
