"""The MSPL built-in functions, called directly on plain values and real SIP messages (dn439127 and each function's page)."""
from __future__ import annotations

import pytest

from mspl_lite.language import InMemoryServer, RegistrarEndpoint, ScriptEnvironment, compile_script
from mspl_lite.language import ast
from mspl_lite.language.builtins import BUILTINS, ScriptContext
from mspl_lite.language.run import ScriptFault
from mspl_lite.language.server import UserRecord
from mspl_lite.language.signatures import FUNCTIONS
from mspl_lite.language.values import ENUMS
from mspl_lite.sip import parse_message

INVITE = (
    "INVITE sip:jennyl@contoso.com SIP/2.0\r\n"
    "Via: SIP/2.0/TLS 192.168.0.22:51234;branch=z9hG4bK1\r\n"
    "Via: SIP/2.0/TLS 10.0.0.1:5061;branch=z9hG4bK0\r\n"
    "Max-Forwards: 70\r\n"
    'From: "Nuria Gonzalez" <sip:nuriag@contoso.com>;tag=1a2b;epid=7a6b5c4d3e\r\n'
    "To: <sip:jennyl@contoso.com>\r\n"
    "Call-ID: 8f2c11\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:nuriag@contoso.com;opaque=user:epid:abc;gruu>\r\n"
    "User-Agent: UCCAPI/15.0.4420.1017 OC/15.0.4420.1017 (Microsoft Lync)\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 5\r\n"
    "\r\n"
    "hello"
)

OK = (
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/TLS 192.168.0.22:51234;branch=z9hG4bK1\r\n"
    'From: "Nuria Gonzalez" <sip:nuriag@contoso.com>;tag=1a2b\r\n'
    "To: <sip:jennyl@contoso.com>;tag=99\r\n"
    "Call-ID: 8f2c11\r\n"
    "CSeq: 1 INVITE\r\n"
    "Content-Length: 0\r\n"
    "\r\n"
)

AT = ast.Call(line=7, column=3, name="X")
_SCRIPT = compile_script(";", filename="unit.mspl")


def ctx_for(message=None, env=None) -> ScriptContext:
    return ScriptContext(_SCRIPT, message if message is not None else parse_message(INVITE),
                         env or ScriptEnvironment())


def call(name, *args, ctx=None):
    return BUILTINS[name](ctx or ctx_for(), AT, *args)


def test_every_signature_has_an_implementation():
    assert set(BUILTINS) == set(FUNCTIONS)


# --- null passed where a string is expected -------------------------------------------------

@pytest.mark.parametrize("name, args, position", [
    ("GetUri", (None,), "argument 1 (address)"),
    ("Concatenate", ("a", None), "argument 2"),
    ("ContainsString", ("a", None, True), "argument 2 (search)"),
    ("AddHeader", ("X-A", None), "argument 2 (value)"),
    ("SetParameterValue", ("To", "epid", None), "argument 3 (value)"),
    ("Split", (None, ","), "argument 1 (source)"),
    ("Log", ("Event", False, None), "argument 3"),
    ("ProxyRequest", (None,), "argument 1 (uri)"),
])
def test_null_for_a_string_names_the_function_and_argument(name, args, position):
    with pytest.raises(ScriptFault) as info:
        call(name, *args)
    assert name in info.value.message and position in info.value.message and "null" in info.value.message


# --- strings -----------------------------------------------------------------------------------

def test_concatenate_joins_and_turns_ints_into_text():
    assert call("Concatenate", "a", 1, "b") == "a1b"


def test_concatenate_is_bounded():
    ctx = ctx_for(env=ScriptEnvironment(max_string=10))
    with pytest.raises(ScriptFault, match="limit"):
        call("Concatenate", "x" * 6, "y" * 6, ctx=ctx)


def test_contains_and_equal_string_ignore_case_when_asked():
    assert call("ContainsString", "Microsoft Lync", "LYNC", True)
    assert not call("ContainsString", "Microsoft Lync", "LYNC", False)
    assert call("EqualString", "sip:A@b", "SIP:a@B", True) and not call("EqualString", "A", "a", False)


def test_index_of_string():
    assert call("IndexOfString", "abcabc", "c") == 2
    assert call("IndexOfString", "abc", "B") == -1          # omitted ignoreCase: case-sensitive
    assert call("IndexOfString", "abc", "B", True) == 1     # true ignores case (decision D8)
    assert call("IndexOfString", "abc", "B", False) == -1
    assert call("IndexOfString", "", "a") == -1 and call("IndexOfString", "abc", "") == -1
    assert call("IndexOfString", None, "a") == -1 and call("IndexOfString", "abc", None) == -1
    assert call("IndexOfString", "ab", "abc") == -1


def test_sub_string():
    assert call("SubString", "sip:bob@x", 4) == "bob@x"
    assert call("SubString", "sip:bob@x", 4, 3) == "bob"
    assert call("SubString", "abc", 3) == ""
    assert call("SubString", "abc", 4) is None and call("SubString", "abc", -1) is None
    assert call("SubString", "abc", 1, 5) is None and call("SubString", "abc", 1, -1) is None
    assert call("SubString", "abc", "1", "1") == "b"


def test_split():
    assert call("Split", "a,b,c", ",") == ("a", "b", "c")
    assert call("Split", "a;b", ";xyz") == ("a", "b")            # first character only
    assert call("Split", "a,b", "") == ("a", "b")                # "" means comma
    assert call("Split", "a,,b", ",") == ("a", "", "b")          # adjacent separators
    assert call("Split", "abc", ";") == ("abc",)                 # not found: the source


def test_split_is_bounded():
    ctx = ctx_for(env=ScriptEnvironment(max_collection=3))
    with pytest.raises(ScriptFault, match="limit"):
        call("Split", "a,b,c,d", ",", ctx=ctx)


def test_length_string():
    assert call("LengthString", "héllo") == 5 and call("LengthString", 123) == 3


# --- URIs and addresses -------------------------------------------------------------------------

def test_uri_functions_use_the_sip_address_helpers():
    address = '"Display Name" <sip:someone@example.com>;lr'
    assert call("GetUri", address) == "sip:someone@example.com"
    assert call("GetDisplayName", address) == "Display Name"
    assert call("GetUserName", "sip:someone@example.com") == "someone"
    assert call("GetHostName", "sip:someone@example.com") == "example.com"
    assert call("GetUserAtHost", "sip:someone@example.com") == "someone@example.com"
    assert call("GetScheme", "sip:someone@example.com") == "sip"
    assert call("GetUriParameter", "sip:+1425@x.com;user=phone", "user") == "phone"
    assert call("GetUri", "not an address") is None


def test_get_parameter_value():
    assert call("GetParameterValue", "<sip:a@b>;tag=1;epid=01ab", "epid") == "01ab"
    assert call("GetParameterValue", "<sip:a@b>;lr", "lr") is None
    assert call("GetParameterValue", "<sip:a@b>", "epid") is None


# --- headers -----------------------------------------------------------------------------------

def test_add_header_adds_once_then_returns_false():
    ctx = ctx_for()
    assert call("AddHeader", "X-Route-Hint", "pool01;p=1", ctx=ctx) is True
    assert ctx.message.get("X-Route-Hint") == "pool01;p=1"
    assert call("AddHeader", "x-route-hint", "again", ctx=ctx) is False
    assert call("AddHeader", ENUMS["StandardHeader"]["UserAgent"], "x", ctx=ctx) is False
    assert ctx.message.get_all("X-Route-Hint") == ["pool01;p=1"]


def test_add_header_refuses_bad_names_and_line_breaks():
    with pytest.raises(ScriptFault, match="not a header name"):
        call("AddHeader", "Bad Name", "x")
    with pytest.raises(ScriptFault, match="line break"):
        call("AddHeader", "X-A", "a\r\nInjected: yes")


def test_get_header_values_returns_every_value():
    ctx = ctx_for()
    assert call("GetHeaderValues", "Via", ctx=ctx) == (
        "SIP/2.0/TLS 192.168.0.22:51234;branch=z9hG4bK1", "SIP/2.0/TLS 10.0.0.1:5061;branch=z9hG4bK0")
    assert call("GetHeaderValues", "v", ctx=ctx) == call("GetHeaderValues", "Via", ctx=ctx)   # compact name
    assert call("GetHeaderValues", ENUMS["StandardHeader"]["UserAgent"], ctx=ctx)[0].startswith("UCCAPI")
    assert call("GetHeaderValues", "X-None", ctx=ctx) == ()


def test_standard_header_nonstandard_names_no_header():
    with pytest.raises(ScriptFault, match="Nonstandard"):
        call("GetHeaderValues", ENUMS["StandardHeader"]["Nonstandard"])


def test_set_parameter_value_sets_replaces_deletes():
    ctx = ctx_for()
    assert call("SetParameterValue", "To", "epid", "01ab", ctx=ctx) is True
    assert ctx.message.get("To") == "<sip:jennyl@contoso.com>;epid=01ab"
    assert call("SetParameterValue", "To", "epid", "02cd", ctx=ctx) is True
    assert ctx.message.get("To") == "<sip:jennyl@contoso.com>;epid=02cd"
    assert call("SetParameterValue", "To", "epid", "", ctx=ctx) is True
    assert ctx.message.get("To") == "<sip:jennyl@contoso.com>"
    assert call("SetParameterValue", "X-Missing", "a", "b", ctx=ctx) is False
    assert call("SetParameterValue", "To", "", "b", ctx=ctx) is False


def test_set_parameter_value_bad_parameter_name_is_a_fault_not_a_crash():
    with pytest.raises(ScriptFault, match="SetParameterValue"):
        call("SetParameterValue", "To", "bad name", "x")


def test_supports_method():
    invite, message = 0x40, 0x100
    assert call("SupportsMethod", "INVITE", invite | message, "")
    assert not call("SupportsMethod", "INFO", invite, "")
    assert call("SupportsMethod", "INFO", invite, "INFO,X-CUSTOM")
    assert call("SupportsMethod", "x-custom", invite, "INFO, X-CUSTOM")
    assert call("SupportsMethod", "ANYTHING", 0, "")                 # both empty: true
    assert not call("SupportsMethod", "", 0, "")                     # empty method: false
    assert not call("SupportsMethod", "INVITE,BYE", 0xFFFF, "")      # comma in the method: false
    assert call("SupportsMethod", ENUMS["StandardMethod"]["Invite"], invite, "")


# --- routing -------------------------------------------------------------------------------------

def test_proxy_request_records_the_uri_and_empty_means_hand_on():
    ctx = ctx_for()
    call("ProxyRequest", "", ctx=ctx)
    (d,) = ctx.run.dispositions
    assert (d.kind, d.uri, d.line, d.column) == ("proxy", "", 7, 3)
    assert ctx.final is d


def test_proxy_request_with_a_uri_on_a_strict_route_is_a_fault():
    message = parse_message(INVITE.replace("Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nRoute: <sip:fe01.contoso.com;lr>\r\n"))
    with pytest.raises(ScriptFault, match="strict"):
        call("ProxyRequest", "sip:elsewhere@contoso.com", ctx=ctx_for(message))
    ctx = ctx_for(message)
    call("ProxyRequest", "", ctx=ctx)
    assert ctx.run.dispositions[0].uri == ""


def test_second_final_disposition_is_a_fault_naming_the_first():
    ctx = ctx_for()
    call("ProxyRequest", "", ctx=ctx)
    with pytest.raises(ScriptFault, match="after ProxyRequest"):
        call("RetargetRequest", "sip:terrya@contoso.com", ctx=ctx)


def test_retarget_changes_the_request_uri_and_keeps_to():
    ctx = ctx_for()
    call("RetargetRequest", "sip:terrya@contoso.com", ctx=ctx)
    assert ctx.message.request_uri == "sip:terrya@contoso.com"
    assert ctx.message.get("To") == "<sip:jennyl@contoso.com>"
    assert ctx.run.dispositions[0].kind == "retarget"
    assert ctx.request_target().aor == "terrya@contoso.com"


def test_retarget_needs_a_uri():
    with pytest.raises(ScriptFault, match="SIP URI"):
        call("RetargetRequest", "terry")


def test_respond_records_status_reason_and_headers():
    ctx = ctx_for()
    assert call("Respond", "302", "Moved", "Contact=<sip:terrya@contoso.com>", ctx=ctx) is True
    (d,) = ctx.run.dispositions
    assert (d.kind, d.status, d.reason, d.headers) == ("respond", 302, "Moved",
                                                        (("Contact", "<sip:terrya@contoso.com>"),))


def test_respond_accepts_an_int_status_and_returns_false_after_a_final_response():
    ctx = ctx_for()
    assert call("Respond", 480, "Temporarily Unavailable", ctx=ctx) is True
    assert call("Respond", 486, "Busy Here", ctx=ctx) is False
    assert len(ctx.run.dispositions) == 1


def test_a_provisional_respond_is_not_final():
    ctx = ctx_for()
    assert call("Respond", 180, "Ringing", ctx=ctx) is True
    call("ProxyRequest", "", ctx=ctx)
    assert [d.kind for d in ctx.run.dispositions] == ["respond", "proxy"]
    assert ctx.final.kind == "proxy"


def test_respond_header_without_equals_is_one_critical_error_per_occurrence():
    ctx = ctx_for()
    with pytest.raises(ScriptFault) as info:
        call("Respond", "200", "OK", "Contact", "X-A=1", "Bad", ctx=ctx)
    assert info.value.recorded
    assert [e.message for e in ctx.run.critical_errors] == [
        'Respond: header argument 3 "Contact" is not "Name=value"',
        'Respond: header argument 5 "Bad" is not "Name=value"']
    assert ctx.run.dispositions == []


def test_respond_status_must_be_a_status_code():
    with pytest.raises(ScriptFault, match="between 100 and 699"):
        call("Respond", "99", "x")
    with pytest.raises(ScriptFault, match="int"):
        call("Respond", "OK", "x")


def test_fork_order_rules():
    ctx = ctx_for()
    with pytest.raises(ScriptFault, match="Fork without BeginFork"):
        call("Fork", "sip:a@b", ctx=ctx)
    with pytest.raises(ScriptFault, match="EndFork without BeginFork"):
        call("EndFork", ctx=ctx)
    call("BeginFork", False, 0, ctx=ctx)
    with pytest.raises(ScriptFault, match="still open"):
        call("BeginFork", ctx=ctx)
    with pytest.raises(ScriptFault, match="no Fork"):
        call("EndFork", ctx=ctx)


def test_fork_collects_branches_and_end_fork_records_them():
    ctx = ctx_for()
    call("BeginFork", False, 0, ctx=ctx)
    call("Fork", "sip:1.2.3.4:5061", ctx=ctx)
    call("Fork", "sip:5.6.7.8:5061", ctx=ctx)
    call("EndFork", ctx=ctx)
    (d,) = ctx.run.dispositions
    assert d.kind == "fork" and d.fork_uris == ("sip:1.2.3.4:5061", "sip:5.6.7.8:5061")
    assert ctx.fork_open is None


def test_fork_on_a_strict_route_is_a_fault():
    message = parse_message(INVITE.replace("Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nRoute: <sip:fe01;lr>\r\n"))
    ctx = ctx_for(message)
    call("BeginFork", ctx=ctx)
    with pytest.raises(ScriptFault, match="strict"):
        call("Fork", "sip:1.2.3.4", ctx=ctx)


def test_dispatch_passes_arguments_only_for_requests():
    ctx = ctx_for()
    assert call("Dispatch", "OnInvite", "a", 1, True, None, ctx=ctx) is True
    assert ctx.run.dispositions[0].args == ("a", 1, True, None)
    ctx = ctx_for(parse_message(OK))
    call("Dispatch", "OnResponse", "a", ctx=ctx)
    assert ctx.run.dispositions[0].args == () and ctx.run.dispositions[0].method == "OnResponse"


def test_dispatch_notification_before_and_after_proxying():
    ctx = ctx_for()
    assert call("DispatchNotification", "Note", "x", ctx=ctx) is True
    call("ProxyRequest", "", ctx=ctx)
    with pytest.raises(ScriptFault, match="DispatchNotification after ProxyRequest"):
        call("DispatchNotification", "Note", ctx=ctx)
    assert [d.kind for d in ctx.run.dispositions] == ["dispatch_notification", "proxy"]


# --- registrar, users, server --------------------------------------------------------------------

def test_server_functions_ask_the_server_state():
    assert call("QueryHomeServer", "jennyl@contoso.com") == "pool01.contoso.com"
    assert call("QueryHomeServer", "nobody@contoso.com") is None
    assert call("QueryHomeServer", "+14255550103", True) == "pool01.contoso.com"
    assert call("DomainSupported", "contoso.com") and not call("DomainSupported", "fabrikam.com")
    assert call("DomainSupported", "")       # "" asks whether the registrar is available
    endpoints = call("QueryEndpoints", "terrya@contoso.com")
    assert len(endpoints) == 1 and isinstance(endpoints[0], RegistrarEndpoint)
    assert call("QueryEndpoints", "nobody@contoso.com") == ()


def test_cluster_type_and_user_option_accept_enums():
    server = InMemoryServer(users=[UserRecord(aor="al@fabrikam.com", home_server="pool02.fabrikam.com",
                                              backup_server="pool03.fabrikam.com",
                                              options=frozenset({"EnterpriseVoice"}))],
                            domains=["fabrikam.com"])
    ctx = ctx_for(env=ScriptEnvironment(server=server))
    backup = ENUMS["ClusterType"]["BackupRegistratr"]
    assert call("QueryHomeServer", "al@fabrikam.com", False, backup, ctx=ctx) == "pool03.fabrikam.com"
    assert call("CheckUserOption", "sip:al@fabrikam.com", ENUMS["UserOption"]["EnterpriseVoice"], ctx=ctx)
    assert not call("CheckUserOption", "sip:al@fabrikam.com", "RemoteCallControl", ctx=ctx)
    with pytest.raises(ScriptFault, match="ClusterType"):
        call("QueryHomeServer", "al@fabrikam.com", False, ENUMS["ServerRole"]["FrontEnd"], ctx=ctx)


# --- Log -----------------------------------------------------------------------------------------

def test_log_levels_and_names():
    ctx = ctx_for(env=ScriptEnvironment(app_uri="http://www.contoso.com/Test"))
    call("Log", "Event", False, "a", "b", ctx=ctx)
    call("Log", "Error", True, "c", ctx=ctx)
    call("Log", "Debugr", 1, "d", 42, ctx=ctx)
    call("Log", "Debug", 0, "e", ctx=ctx)
    levels = [(e.level, e.name, e.detail, e.lines) for e in ctx.run.log]
    assert levels == [("Event", "Event", False, ("a", "b")), ("Error", "Error", True, ("c",)),
                      ("Debugr", "Debugr", True, ("d", "42")), ("Debugr", "Debug", False, ("e",))]


def test_log_summary_without_and_with_detail():
    ctx = ctx_for(env=ScriptEnvironment(app_uri="http://www.contoso.com/Test"))
    call("Log", "Event", False, "x", ctx=ctx)
    call("Log", "Event", True, "x", ctx=ctx)
    brief, full = ctx.run.log
    assert brief.summary == ("Application: http://www.contoso.com/Test", "Method: INVITE",
                             "Request-Uri: sip:jennyl@contoso.com",
                             'From: "Nuria Gonzalez" <sip:nuriag@contoso.com>;tag=1a2b;epid=7a6b5c4d3e',
                             "To: <sip:jennyl@contoso.com>")
    assert full.summary[0] == "INVITE sip:jennyl@contoso.com SIP/2.0"
    assert "Call-ID: 8f2c11" in full.summary and "hello" not in full.summary   # no Content (decision D15)
    assert str(brief) == "[Event] line 7: x"


# --- facts derived from the message ------------------------------------------------------------

def test_request_target_and_source_are_derived_from_the_message():
    ctx = ctx_for()
    target = ctx.request_target()
    assert (target.uri, target.aor, target.is_phone, target.domain_supported) == (
        "sip:jennyl@contoso.com", "jennyl@contoso.com", False, True)
    assert ctx.request_source().aor == "nuriag@contoso.com"
    phone = parse_message(INVITE.replace("INVITE sip:jennyl@contoso.com SIP/2.0",
                                         "INVITE sip:+14255550101@contoso.com;user=phone SIP/2.0"))
    assert ctx_for(phone).request_target().is_phone is True


def test_transaction_request_of_a_response_is_rebuilt_from_its_headers():
    ctx = ctx_for(parse_message(OK))
    request = ctx.transaction_request_of(ctx.message)
    assert request.method == "INVITE" and request.request_uri == "sip:jennyl@contoso.com"
    assert request.get("Call-ID") == "8f2c11"


# --- IsPhoneUri (dn439134: "Returns true if the supplied URI contains the user=phone parameter;
# otherwise, false."; decision D30) ---------------------------------------------------------------

@pytest.mark.parametrize("uri,expected", [
    ("sip:+14255550100@contoso.com;user=phone", True),
    ('"Bob" <sip:+14255550100@contoso.com;user=phone>;tag=1', True),
    ("sip:+14255550100@contoso.com;USER=Phone", True),          # URI parameters ignore case
    ("sip:+14255550100@contoso.com", False),
    ("tel:+14255550100", False),                                # a tel: URI has no user=phone
    ("<sip:bob@contoso.com>;user=phone", False),                # a header parameter, not the URI's
    ("sip:bob@contoso.com;user=ip", False),
    ("not a uri", False),
    ("", False),
    (None, False),                                              # null: false, the script goes on
])
def test_is_phone_uri(uri, expected):
    assert call("IsPhoneUri", uri) is expected


def test_is_phone_uri_on_the_request_uri_of_a_script():
    source = ('if (IsPhoneUri(sipRequest.RequestUri)) { Log("Event", false, "phone"); }\n'
              'else { Log("Event", false, "user"); }')
    phone = parse_message(INVITE.replace("INVITE sip:jennyl@contoso.com SIP/2.0",
                                         "INVITE sip:+14255550100@contoso.com;user=phone SIP/2.0", 1))
    assert [e.lines for e in compile_script(source).run(phone).log] == [("phone",)]
    assert [e.lines for e in compile_script(source).run(parse_message(INVITE)).log] == [("user",)]
