"""The static rules of MSPL: each error and warning fires on a faulty script and stays quiet on a good one."""
from pathlib import Path
from types import SimpleNamespace

import pytest

from mspl_lite.language import ast
from mspl_lite.language.checker import check
from mspl_lite.language.parser import parse_script
from mspl_lite.manifest import parse_manifest

DATA = Path(__file__).parent / "data" / "check"


def manifest_text(script, extra=""):
    return (
        '<?xml version="1.0"?>\n'
        '<lc:applicationManifest lc:appUri="http://contoso.com/T" '
        'xmlns:lc="http://schemas.microsoft.com/lcs/2006/05">\n'
        f"{extra}\n"
        f"<lc:splScript><![CDATA[{script}]]></lc:splScript>\n"
        "</lc:applicationManifest>\n"
    )


def make_manifest(script, extra=""):
    return parse_manifest(manifest_text(script, extra), filename="t.am")


def run(source, manifest=None):
    if isinstance(manifest, str):
        manifest = make_manifest(source, manifest)
    if manifest is not None and hasattr(manifest, "script_line"):
        script = parse_script(manifest.script, filename=manifest.filename, line=manifest.script_line,
                              column=manifest.script_column, file_source=manifest.source)
    else:
        script = parse_script(source, filename="t.mspl")
    return check(script, manifest=manifest)


def errors(source, manifest=None):
    return [d for d in run(source, manifest) if d.severity == "error"]


def warnings(source, manifest=None):
    return [d for d in run(source, manifest) if d.severity == "warning"]


def codes(source, manifest=None):
    return [d.code for d in run(source, manifest)]


def the_error(source, manifest=None):
    found = errors(source, manifest)
    assert len(found) == 1, [str(d) for d in found]
    return found[0]


def the_warning(source, manifest=None):
    found = warnings(source, manifest)
    assert len(found) == 1, [str(d) for d in found]
    return found[0]


GUARD = "if (!sipRequest) return;\n"
FILES = ('<lc:file name="hosts" path="hosts.csv" keyColumnName="host">'
         '<lc:column name="host"/><lc:column name="target"/></lc:file>\n'
         '<lc:file name="plain" path="plain.csv"><lc:column name="a"/></lc:file>')
NO_RESPONSES = '<lc:responseFilter reasonCodes="NONE"/>'


# --------------------------------------------------------------------------------------------
# functions
# --------------------------------------------------------------------------------------------

def test_unknown_function_suggests_the_closest_built_in():
    d = the_error(GUARD + 'ProxyRequst("");')
    assert (d.message, d.hint, d.line, d.column) == (
        "unknown function ProxyRequst", "did you mean ProxyRequest?", 2, 1)
    assert the_error('x = getUri("a");').hint == "did you mean GetUri? (names are case-sensitive)"
    assert errors(GUARD + 'ProxyRequest("");') == []


def test_removed_functions_say_why():
    d = the_error('x = QueryUserPolicy("a", 1);')
    assert d.message == "QueryUserPolicy is no longer supported in Lync Server 2013"
    assert d.code == "removed-function"


def test_argument_count_of_built_ins_and_script_functions():
    d = the_error('x = GetUri("a", "b");')
    assert d.message == "GetUri takes 1 argument, but 2 were given"
    d = the_error(GUARD + 'Respond("200");')
    assert d.message == "Respond takes at least 2 arguments, but 1 was given"
    d = the_error("function F(a, b) { return a; }\nx = F(1);")
    assert d.message == "F takes 2 arguments (a, b), but 1 was given"
    assert (d.line, d.column) == (2, 5)
    assert errors('function F(a, b) { return a; }\nx = F(1, 2); y = IndexOfString("a", "b", true);') == []


def test_concatenate_needs_an_argument():
    assert the_error("x = Concatenate();").message == "Concatenate needs at least one argument"
    assert errors('x = Concatenate("a");') == []


def test_function_defined_twice_or_named_like_a_built_in():
    d = the_error("function F() { return 1; }\nfunction F() { return 2; }\nx = F();")
    assert (d.message, d.line) == ("function F is defined twice", 2)
    d = the_error("function GetUri(a) { return a; }\nx = 1;")
    assert d.message == "GetUri is the name of a built-in function"


def test_direct_recursion():
    d = the_error("function F(n) { return F(n); }\nx = F(1);")
    assert d.message == "recursion is not allowed in MSPL: F -> F"
    assert (d.line, d.column) == (1, 24)


def test_mutual_recursion_is_reported_once_with_its_cycle():
    src = ("function A() { return B(); }\nfunction B() { return C(); }\n"
           "function C() { return A(); }\nx = A();")
    d = the_error(src)
    assert d.message == "recursion is not allowed in MSPL: A -> B -> C -> A"
    assert d.line == 3


def test_a_call_chain_without_a_cycle_is_fine():
    assert errors("function A() { return B() + B(); }\nfunction B() { return 1; }\nx = A();") == []


# --------------------------------------------------------------------------------------------
# QueryEndpoints, Dispatch
# --------------------------------------------------------------------------------------------

def test_query_endpoints_only_as_the_collection_of_foreach_dbendpoint():
    d = the_error('x = QueryEndpoints("bob@contoso.com");')
    assert d.message == "QueryEndpoints can only be the collection of a foreach loop"
    d = the_error('foreach (ep in QueryEndpoints("bob@contoso.com")) { x = ep; }')
    assert d.message == "the loop variable of QueryEndpoints must be dbEndpoint, not ep"
    assert errors('foreach (dbEndpoint in QueryEndpoints("bob@contoso.com", true)) '
                  '{ x = dbEndpoint.ContactInfo; }') == []


@pytest.mark.parametrize("name", ["Dispatch", "DispatchNotification"])
def test_dispatch_in_a_script_only_manifest(name):
    script = parse_script(f'{name}("OnInvite");', filename="t.am")
    d, = [d for d in check(script, manifest=SimpleNamespace(script_only=True)) if d.severity == "error"]
    assert d.message == f"{name} hands the message to managed code, but this manifest is scriptOnly"
    assert [d for d in check(script, manifest=SimpleNamespace(script_only=False))
            if d.severity == "error"] == []


# --------------------------------------------------------------------------------------------
# flat files
# --------------------------------------------------------------------------------------------

def test_undeclared_flat_file():
    d = the_error(GUARD + "t = host[GetHostName(sipRequest.RequestUri)].target;", FILES)
    assert d.message == "no flat file named host in the manifest"
    assert d.hint == "did you mean hosts?"


def test_unknown_column_points_at_the_column_name():
    d = the_error(GUARD + "t = hosts[GetHostName(sipRequest.RequestUri)].tagret;", FILES)
    assert d.message == "flat file hosts has no column tagret"
    assert d.hint == "did you mean target?"
    assert d.source[d.column - 1:].startswith("tagret")


def test_declared_file_and_column_are_fine():
    assert run(GUARD + "t = hosts[GetHostName(sipRequest.RequestUri)].target; a = plain[0].a;",
               FILES) == []


def test_indexing_something_else_or_forgetting_the_column():
    assert the_error('x = GetHeaderValues("Via")[0];').message == \
        "[] reads flat files only: write fileName[index].columnName"
    assert the_error("x = hosts[0];", FILES).message == \
        "a flat-file row needs a column: write fileName[index].columnName"


def test_key_string_on_a_file_without_key_column_warns():
    d = the_warning('x = plain["k"].a;', FILES)
    assert d.code == "flat-file-no-key"


# --------------------------------------------------------------------------------------------
# assignments, enums, fields
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("target, message", [
    ("sipRequest", "sipRequest is a built-in variable and cannot be assigned"),
    ("FQDN", "FQDN is a built-in variable and cannot be assigned"),
    ("StandardMethod", "StandardMethod is a built-in enumeration and cannot be assigned"),
    ("StatusClass._2xx", "StatusClass._2xx is a constant and cannot be assigned"),
    ("sipRequest.Method", "sipRequest.Method is read-only"),
])
def test_assignment_to_built_ins(target, message):
    assert the_error(f"{target} = 1;").message == message


def test_content_and_marshal_content_are_writable():
    assert errors('sipMessage.Content = "x"; sipMessage.Transaction.MarshalContent = false;') == []


def test_builtin_as_foreach_variable():
    d = the_error('foreach (sipRequest in Split("a,b", ",")) { x = 1; }')
    assert d.message == "sipRequest is a built-in and cannot be the loop variable"


def test_unknown_enum_value():
    d = the_error("x = StatusClass._7xx;")
    assert d.message == "StatusClass has no value _7xx"
    assert d.column == 17
    assert the_error("x = StatusClass._2XX;").hint == "did you mean _2xx? (names are case-sensitive)"
    assert errors("x = StatusClass._2xx; y = StandardMethod.Invite; z = StandardHeader.UserAgent;") == []


def test_unknown_value_of_a_partly_guessed_enum_is_only_a_warning():
    d = the_warning("x = StandardHeader.XMsFoo;")
    assert d.code == "unknown-enum-value"


def test_removed_enum_value():
    assert the_error("x = UserOption.PublicCloud;").message == "UserOption.PublicCloud was removed in Lync Server 2013"


def test_unknown_field_is_case_sensitive_and_suggests_the_spelling():
    d = the_error(GUARD + "m = sipRequest.method;")
    assert d.message == "sipRequest (Request) has no field method"
    assert d.hint == "did you mean Method? (names are case-sensitive)"
    assert d.column == 16


def test_fields_of_the_other_message_kind():
    d = the_error("c = sipRequest.StatusCode;")
    assert d.message == "sipRequest has no field StatusCode: StatusCode is a field of responses"
    d = the_error("m = sipResponse.Method;")
    assert d.message == "sipResponse has no field Method: Method is a field of requests"
    assert "sipResponse.Transaction.Request.Method" in d.hint
    d = the_error("m = sipMessage.Method;")
    assert d.message == "sipMessage has no field Method: Method is a field of requests"


def test_removed_endpoint_field_and_fields_of_a_string():
    d = the_error('foreach (dbEndpoint in QueryEndpoints("a@b")) { x = dbEndpoint.Availability; }')
    assert d.message == "dbEndpoint.Availability was removed in Lync Server 2013"
    d = the_error("x = sipRequest.To.Uri;")
    assert d.message == "sipRequest.To is a string and has no field Uri"


def test_every_documented_field_is_accepted():
    src = """
    a = sipMessage.From; a = sipMessage.To; a = sipMessage.Content; a = sipMessage.Authenticated;
    a = sipMessage.TlsPeer; a = sipMessage.Origin; a = sipMessage.ExternalSourceType;
    a = sipMessage.ExternalSourceNetwork; a = sipMessage.Stamp; a = sipMessage.StampPool;
    a = sipRequest.Method; a = sipRequest.StandardMethod; a = sipRequest.RequestUri; a = sipRequest.RequestURI;
    a = sipResponse.StatusCode; a = sipResponse.StatusClass; a = sipResponse.StatusReasonPhrase;
    a = sipResponse.Transaction.Request.Method; a = sipMessage.Transaction.MarshalContent;
    a = RequestTarget.Uri; a = RequestTarget.Aor; a = RequestTarget.Instance; a = RequestTarget.IsPhone;
    a = RequestTarget.DomainSupported;
    foreach (dbEndpoint in QueryEndpoints("a@b")) {
      a = dbEndpoint.EPID; a = dbEndpoint.Instance; a = dbEndpoint.StandardMethods;
      a = dbEndpoint.ExtraMethods; a = dbEndpoint.ContactInfo;
    }
    """
    assert errors(src) == []


# --------------------------------------------------------------------------------------------
# return, break, continue
# --------------------------------------------------------------------------------------------

def test_return_with_a_value_in_the_script_body():
    d = the_error("return 1;")
    assert (d.message, d.code) == ("the script body cannot return a value", "return-value")
    assert errors("function F() { return 1; }\nx = F();\nreturn;") == []


def test_a_function_cannot_return_a_collection():
    assert the_error('function F() { return Split("a,b", ","); }\nx = F();').message == \
        "a function cannot return a collection"


def test_break_and_continue_outside_loops():
    assert the_error("break;").message == "'break' outside a loop or a switch"
    assert the_error("continue;").message == "'continue' outside a loop"
    assert the_error("switch (a) { case 1: continue; break; }").message == "'continue' outside a loop"
    assert the_error("function F() { break; }\nx = F();").message == "'break' outside a loop or a switch"
    ok = ('while (i < 3) { i = i + 1; if (i == 2) continue; switch (i) { case 1: break; } break; }\n'
          'foreach (s in Split("a", ",")) { break; }')
    assert errors("i = 0;\n" + ok) == []


# --------------------------------------------------------------------------------------------
# warnings
# --------------------------------------------------------------------------------------------

def test_unreachable_code_after_return():
    d = the_warning(GUARD + 'ProxyRequest("");\nreturn;\nLog("Event", 1, "never");')
    assert (d.code, d.line, d.column) == ("unreachable", 4, 1)
    assert d.hint
    assert warnings(GUARD + 'ProxyRequest("");\nreturn;') == []


def test_unreachable_after_if_that_returns_on_both_branches():
    d = the_warning("if (a == 1) return; else return;\nx = 2;".replace("a == 1", "FQDN == \"x\""))
    assert d.code == "unreachable"


def test_variable_read_before_assignment():
    d = the_warning("x = y;\ny = 1;")
    assert (d.message, d.code, d.line, d.column) == ("y is read before it is assigned", "unassigned-variable", 1, 5)
    assert "line 2" in d.hint


def test_variable_never_assigned_suggests_a_name():
    d = the_warning("toUri = 1;\nx = toUir;")
    assert (d.message, d.code, d.hint) == ("toUir is never assigned", "undefined-variable", "did you mean toUri?")
    assert the_warning("x = SipRequest;").hint == "did you mean sipRequest? (names are case-sensitive)"


def test_params_loop_variables_and_built_ins_are_assigned():
    src = ('function F(a) { return a; }\n'
           'foreach (h in GetHeaderValues("Via")) { x = F(h); }\n'
           'y = Concatenate(FQDN, ServerPool);')
    assert warnings(src) == []


def test_a_function_cannot_see_the_script_body_variables():
    d = the_warning("function F() { return limit; }\nlimit = 1;\nx = F();")
    assert d.message == "limit is never assigned in function F"
    assert "parameter" in d.hint


def test_request_function_without_guard_warns():
    d = the_warning('ProxyRequest("");')
    assert d.code == "unguarded-request-function"
    assert "critical error" in d.message and "if (sipRequest)" in d.hint
    assert "returns false" in the_warning('Respond(200, "OK");').message


@pytest.mark.parametrize("src", [
    'if (sipRequest) { ProxyRequest(""); }',
    'if (sipRequest && sipRequest.Method == "INVITE") ProxyRequest("");',
    'if (sipRequest.Method == "INVITE" || sipRequest.Method == "MESSAGE") ProxyRequest("");',
    'if (!sipRequest) return;\nProxyRequest("");',
    'if (!sipRequest) { ProxyResponse(); return; }\nProxyRequest("");',
    'if (sipResponse) return;\nRespond(200, "OK");',
    'if (sipResponse) { ProxyResponse(); } else { ProxyRequest(""); }',
    'if (sipResponse || FQDN == "x") return;\nProxyRequest("");',
    'foreach (s in Split("a", ",")) { if (!sipRequest) continue; ProxyRequest(""); }',
    'function Go() { if (sipRequest) ProxyRequest(""); }\nGo();',
])
def test_guarded_request_functions_do_not_warn(src):
    assert warnings(src) == []


def test_guards_that_prove_nothing_still_warn():
    assert codes('if (sipRequest.Method != "BYE") ProxyRequest("");') == ["unguarded-request-function"]
    assert codes('if (sipRequest || FQDN == "x") ProxyRequest("");') == ["unguarded-request-function"]


def test_a_function_that_needs_a_request_warns_where_it_is_called():
    src = 'function Go(u) { ProxyRequest(u); }\nGo("");\nif (sipRequest) Go("");'
    d = the_warning(src)
    assert (d.line, d.column) == (2, 1)
    assert d.message.startswith("Go calls ProxyRequest, which works only on requests")


def test_response_filter_none_guards_request_functions():
    assert warnings('ProxyRequest("");', NO_RESPONSES) == []
    assert codes('ProxyRequest("");', '<lc:responseFilter reasonCodes="2XX"/>') == ["unguarded-request-function"]


def test_response_function_without_guard_and_request_filter_none():
    assert codes("ProxyResponse();") == ["unguarded-response-function"]
    assert warnings("ProxyResponse();", '<lc:requestFilter methodNames="NONE"/>') == []


def test_log_debug_and_unknown_log_names():
    d = the_warning('Log("Debug", 1, "x");')
    assert (d.code, d.column) == ("log-debug", 5)
    # "Debug" up to OCS 2007, "Debugr" from OCS 2007 R2 on: the hint names the pages
    assert "OCS 2007 R2" in d.message and "Debugr" in d.message
    assert all(page in d.hint for page in ("cc165045", "bb680052", "dd130061", "gg439513", "Dn439089"))
    assert the_warning('Log("Info", 1, "x");').code == "log-level"
    assert warnings('Log("Debugr", 1, "x"); Log("Event", true, "x"); Log("Error", false, "x");') == []


def test_proxy_request_with_a_literal_uri():
    d = the_warning(GUARD + 'ProxyRequest("sip:bob@contoso.com");')
    assert d.code == "proxy-request-uri"
    assert "IIMFilter" in d.message and "decision D1" in d.message and "RetargetRequest" in d.hint
    assert warnings(GUARD + 'ProxyRequest(""); u = "sip:x@y"; ProxyRequest(u);') == []


def test_is_phone_uri_of_a_tel_uri_literal():
    d = the_warning('b = IsPhoneUri("tel:+14255550100");')
    assert (d.code, d.column) == ("is-phone-uri", 16) and "dn439134" in d.hint
    assert warnings('b = IsPhoneUri("sip:+14255550100@contoso.com;user=phone"); c = IsPhoneUri(b);') == []
    assert codes('b = IsPhoneUri();') == ["argument-count"]


def test_float_constants_are_accepted():
    assert warnings('x = 1.5; n = 0; n = -0.25; if (x > n) { Log("Debugr", false, x); }') == []


ALLOW_BEFORE_US = "<lc:allowRegistrationBeforeUserServices/>"
RETARGET = GUARD + 'Log("Event", false, "to Terry");\nRetargetRequest("sip:terrya@contoso.com");'


def test_retarget_request_in_a_manifest_without_allow_registration_before_user_services():
    # Dn439073: an application calling RetargetRequest must sit above UserServices.
    d = the_warning(RETARGET, NO_RESPONSES)
    assert d.code == "retarget-below-userservices"
    assert "RetargetRequest" in d.message and "allowRegistrationBeforeUserServices" in d.message
    assert "allowRegistrationBeforeUserServices/>" in d.hint and "priority smaller than UserServices" in d.hint
    # at the call, in the manifest's own line numbers: the script starts on line 4 of t.am
    assert (d.filename, d.line, d.column) == ("t.am", 6, 1)
    assert d.source.startswith('RetargetRequest("sip:terrya@contoso.com");')


def test_retarget_request_is_quiet_when_the_manifest_declares_the_element_or_is_not_known():
    assert warnings(RETARGET, NO_RESPONSES + ALLOW_BEFORE_US) == []
    assert warnings(RETARGET) == []                                    # a bare script: no manifest to judge
    script = parse_script(RETARGET, filename="t.mspl")
    assert check(script, manifest=SimpleNamespace()) == []             # a manifest that does not say
    said = check(script, manifest=SimpleNamespace(allow_registration_before_user_services=False))
    assert [d.code for d in said] == ["retarget-below-userservices"]


def test_retarget_below_userservices_is_said_once_per_script():
    source = ('function away(u) { RetargetRequest(u); }\n' + GUARD +
              'if (true) { away("sip:a@contoso.com"); } else { RetargetRequest("sip:b@contoso.com"); }')
    found = [d for d in run(source, NO_RESPONSES) if d.code == "retarget-below-userservices"]
    assert len(found) == 1 and found[0].line == 4         # the first call, inside away()


def test_proxy_request_needs_no_allow_registration_before_user_services():
    assert warnings(GUARD + 'ProxyRequest("");', NO_RESPONSES) == []


def test_no_routing_with_proxy_by_default_false():
    d = the_warning('Log("Event", 1, "seen");', '<lc:proxyByDefault action="false"/>')
    assert d.code == "no-routing"
    assert "dropped" in d.message
    assert warnings(GUARD + 'ProxyRequest("");', '<lc:proxyByDefault action="false"/>') == []
    assert warnings('Log("Event", 1, "seen");', '<lc:proxyByDefault action="true"/>') == []


def test_expression_statement_without_effect():
    d = the_warning("x = 1;\nx == 2;")
    assert (d.code, d.message, d.line) == ("no-effect", "this comparison has no effect", 2)
    assert "'='" in d.hint
    assert warnings('x = 1;\nLog("Event", 1, "x");') == []


def test_while_true_without_break():
    d = the_warning('while (true) { Log("Event", 1, "spin"); }')
    assert d.code == "infinite-loop"
    assert "500" in d.message
    assert warnings('i = 0; while (true) { i = i + 1; if (i > 3) break; }') == []
    # a break that only leaves an inner switch does not end the loop
    assert codes("i = 0; while (true) { switch (i) { case 1: break; } }") == ["infinite-loop"]


def test_every_warning_has_a_hint_and_a_code():
    src = ('Log("Debug", 1, "x");\nx == y;\nProxyRequest("sip:a@b");\nwhile (true) { }\n'
           'return;\nz = 1;')
    found = warnings(src)
    assert len(found) >= 5
    assert all(d.hint and d.code for d in found)


def test_diagnostics_are_sorted_by_position_errors_first_on_a_tie():
    found = run('Log("Debug", 1, "x");\nNope() == 1;\nq = sipRequest.Metod;\nbreak;')
    assert [(d.line, d.column, d.severity) for d in found] == [
        (1, 5, "warning"), (2, 1, "error"), (2, 1, "warning"), (3, 16, "error"), (4, 1, "error")]


def test_check_never_raises_on_odd_trees():
    odd = ast.Script(line=1, column=1, body=[
        ast.ExprStmt(line=1, column=1, expr=ast.Index(line=1, column=1, obj=ast.Literal(line=1, column=1, value=1),
                                                      index=ast.Literal(line=1, column=2, value="k"))),
        ast.Assign(line=2, column=1, target=ast.Member(line=2, column=1, obj=ast.Call(line=2, column=1, name="F"),
                                                       name="x"), value=ast.Literal(line=2, column=5, value=None)),
        ast.Switch(line=3, column=1, subject=ast.Name(line=3, column=9, name="a"), cases=[]),
    ], source="")
    assert isinstance(check(odd), list)


def test_check_of_a_hand_built_tree_too_deep_for_python_reports_it():
    chain = ast.Name(line=1, column=1, name="a")
    for _ in range(5000):
        chain = ast.Logical(line=1, column=1, op="&&", left=chain, right=ast.Name(line=1, column=1, name="b"))
    odd = ast.Script(line=1, column=1, body=[ast.ExprStmt(line=1, column=1, expr=chain)], source="")
    assert [d.code for d in check(odd) if d.severity == "error"] == ["too-deep"]


# --------------------------------------------------------------------------------------------
# the official Lync Server 2013 SDK samples
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["forward_invite.am", "default_routing.am", "remove_last_active.am"])
def test_official_samples_check_clean(name):
    from mspl_lite.check import check_file
    assert check_file(DATA / name) == []


def test_default_routing_without_its_manifest_warns_about_responses():
    # The sample relies on reasonCodes="NONE": alone, its Respond and ProxyRequest are unguarded.
    text = (DATA / "default_routing.am").read_text()
    script = text[text.index("<![CDATA[") + 9:text.index("]]>")]
    assert codes(script) == ["unguarded-request-function", "unguarded-request-function"]


# --- the checker's tables agree with the runtime's -----------------------------------------

def test_the_field_table_names_the_fields_the_runtime_reads():
    # Two tables describe the built-in classes: the checker's (with types) and the runtime's
    # readers. A field in one and not the other would be refused at compile time but readable
    # at run time, or the reverse.
    from mspl_lite.language import values
    from mspl_lite.language.checker import FIELDS
    runtime = {"Message": values.MESSAGE_READERS, "Request": values.REQUEST_READERS,
               "Response": values.RESPONSE_READERS, "Transaction": values.TRANSACTION_FIELDS,
               "RegistrarEndpoint": values.ENDPOINT_FIELDS, "TargetInfo": values.ADDRESS_INFO_FIELDS,
               "SourceInfo": values.SOURCE_INFO_FIELDS}
    assert set(FIELDS) == set(runtime)
    for cls, fields in FIELDS.items():
        assert set(fields) == set(runtime[cls]), cls


def test_every_enum_type_has_its_values_table():
    from mspl_lite.language.signatures import ENUM_TYPES
    from mspl_lite.language.values import ENUMS
    assert set(ENUMS) == ENUM_TYPES


def test_log_name_in_the_wrong_case_is_warned_because_it_logs_as_debugr():
    diags = run('Log("event", false, "x");')
    warning = [d for d in diags if d.code == "log-level"]
    assert len(warning) == 1 and warning[0].severity == "warning"
    assert '"event" is not "Event"' in warning[0].message
    assert not [d for d in run('Log("Event", false, "x");') if d.code == "log-level"]


def test_assigning_a_field_of_a_script_variable_is_a_compile_error():
    diags = run('x = "a";\nx.Foo = 1;')
    errors = [d for d in diags if d.severity == "error"]
    assert len(errors) == 1
    assert errors[0].line == 2 and errors[0].column == 3
    assert "x is a variable of your script: it has no field Foo" in errors[0].message


def test_request_source_has_the_three_fields_of_its_page():
    # dn439168 lists Aor, IsPhone and Instance; Uri and DomainSupported belong to TargetInfo only.
    assert errors('x = RequestSource.Aor; y = RequestSource.IsPhone; z = RequestSource.Instance;') == []
    found = errors('x = RequestSource.Uri;')
    assert len(found) == 1 and "Uri" in found[0].message and "SourceInfo" in found[0].message
