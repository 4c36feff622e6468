"""Application manifests: values and defaults a Front End relies on, and errors a learner can act on."""
from pathlib import Path

import pytest

from mspl_lite.errors import ManifestError, UsageError
from mspl_lite.manifest import (
    MSPL_NAMESPACE,
    SERVER_ROLES,
    FlatFile,
    RequestFilter,
    ResponseFilter,
    find_dispatch_calls,
    load_manifest,
    parse_flat_file,
    parse_manifest,
)

DATA = Path(__file__).parent / "data" / "manifests"


def am(*children: str, script: str = 'ProxyRequest("");', root_attrs: str = 'lc:appUri="http://www.contoso.com/Test"') -> str:
    """A manifest whose children start on line 3, one per line, indented by two spaces (column 3)."""
    lines = ['<?xml version="1.0"?>', f'<lc:applicationManifest {root_attrs} xmlns:lc="{MSPL_NAMESPACE}">']
    lines += ["  " + child for child in children]
    lines += [f"  <lc:splScript><![CDATA[{script}]]></lc:splScript>", "</lc:applicationManifest>", ""]
    return "\n".join(lines)


def errors_of(text: str, **kwargs):
    with pytest.raises(ManifestError) as info:
        parse_manifest(text, filename="test.am", **kwargs)
    return info.value.diagnostics


def only_error(text: str, **kwargs):
    diagnostics = errors_of(text, **kwargs)
    assert len(diagnostics) == 1, [str(d) for d in diagnostics]
    return diagnostics[0]


# --------------------------------------------------------------------------------------------
# The SDK's ForwardInvite sample (RetargetRequest, Dn439073), unchanged
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def forward_invite():
    return load_manifest(DATA / "forward_invite.am")


def test_forward_invite_values(forward_invite):
    m = forward_invite
    assert m.app_uri == "http://www.contoso.com/ForwardInvite"
    assert m.name == "ForwardInvite"
    assert m.namespace == MSPL_NAMESPACE
    assert m.filename == str(DATA / "forward_invite.am")
    assert m.allow_registration_before_user_services is True
    assert m.server_roles == frozenset(SERVER_ROLES)
    assert m.proxy_by_default is True
    assert m.script_only is True
    assert m.files == {}
    assert m.warnings == ()
    rf = m.request_filter
    assert (rf.all_methods, rf.method_names) == (False, frozenset({"INVITE"}))
    assert (rf.strict_route, rf.registrar_generated, rf.domain_supported, rf.phone_uri) == (False, True, True, False)
    assert rf.accepts_method("INVITE") and rf.accepts_method("invite")
    assert not rf.accepts_method("MESSAGE") and not rf.accepts_method("BYE")
    assert m.response_filter.reason_codes_text == "NONE"
    assert not m.response_filter.accepts(200) and not m.response_filter.accepts(486)


def test_forward_invite_script_text_and_position(forward_invite):
    m = forward_invite
    assert 'RetargetRequest("sip:terrya@contoso.com");' in m.script
    assert m.script.lstrip().startswith("if (!sipRequest) {")
    assert m.script.rstrip().endswith('ProxyRequest("");')
    # The script starts right after <![CDATA[ on the splScript line (line 20, column 26).
    assert (m.script_line, m.script_column) == (20, 26)
    source_lines = m.source.splitlines()
    assert source_lines[m.script_line - 1][: m.script_column - 1].endswith("<![CDATA[")
    # Every line of the script is the .am line it claims to be.
    for k, script_line in enumerate(m.script.split("\n")):
        start = m.script_column - 1 if k == 0 else 0
        assert source_lines[m.script_line - 1 + k][start:].startswith(script_line)
    # ... so a script offset maps to the right place in the .am file.
    line, column = m.script_position(m.script.index("RetargetRequest"))
    assert source_lines[line - 1][column - 1:].startswith('RetargetRequest("sip:terrya@contoso.com")')
    assert (line, column) == (29, 8)


def test_repr_is_readable(forward_invite):
    assert repr(forward_invite) == "<ApplicationManifest ForwardInvite http://www.contoso.com/ForwardInvite (script-only)>"
    assert repr(forward_invite.request_filter) == (
        "RequestFilter(methodNames=INVITE, strictRoute=false, registrarGenerated=true, domainSupported=true, phoneUri=false)")
    assert repr(forward_invite.response_filter) == "ResponseFilter(reasonCodes=NONE)"
    assert " at 0x" not in repr(forward_invite) + repr(forward_invite.request_filter)


def test_a_manifest_can_key_a_cache(forward_invite):
    compiled = {forward_invite: "compiled script"}  # hashed by identity: it holds dicts
    assert compiled[forward_invite] == "compiled script"


# --------------------------------------------------------------------------------------------
# Defaults (dn439109 to dn439119) and namespace prefixes
# --------------------------------------------------------------------------------------------

def test_defaults_of_a_minimal_manifest():
    m = parse_manifest(am())
    assert m.filename == "<manifest>"
    assert m.allow_registration_before_user_services is False
    assert m.server_roles == frozenset({"HomeServer", "FrontEnd", "AccessProxy", "Proxy"})
    assert m.runs_on("FrontEnd") and m.runs_on("accessproxy")
    assert m.proxy_by_default is True
    assert m.script_only is False
    assert m.files == {}
    rf = m.request_filter
    assert rf.all_methods is True and rf.method_names_text == "ALL"
    assert rf.accepts_method("INVITE") and rf.accepts_method("X-CUSTOM")
    assert (rf.strict_route, rf.registrar_generated, rf.domain_supported, rf.phone_uri) == (False, False, False, False)
    assert m.response_filter.all_codes is True
    assert all(m.response_filter.accepts(code) for code in (100, 180, 200, 302, 486, 503, 603))
    assert m.script == 'ProxyRequest("");'
    assert (m.script_line, m.script_column) == (3, 26)
    assert m.warnings == ()


def test_value_classes_default_like_the_manifest():
    assert RequestFilter().all_methods and RequestFilter().accepts_method("SUBSCRIBE")
    assert ResponseFilter().accepts(699)


@pytest.mark.parametrize("root, child", [
    ('<lc:applicationManifest lc:appUri="http://a/App" xmlns:lc="{ns}">', "lc:"),
    ('<r:applicationManifest r:appUri="http://a/App" xmlns:r="{ns}">', "r:"),
    ('<any.Prefix-1:applicationManifest appUri="http://a/App" xmlns:any.Prefix-1="{ns}">', "any.Prefix-1:"),
    ('<applicationManifest appUri="http://a/App" xmlns="{ns}">', ""),
    ('<applicationManifest xmlns:lc="{ns}" lc:appUri="http://a/App" xmlns="{ns}">', ""),
])
def test_any_prefix_and_unprefixed_attributes(root, child):
    closing = root.split()[0].replace("<", "</") + ">"
    text = "\n".join([
        root.format(ns=MSPL_NAMESPACE),
        f'  <{child}requestFilter methodNames="MESSAGE" strictRoute="true"/>',
        f"  <{child}scriptOnly/>",
        f"  <{child}splScript><![CDATA[ProxyRequest(\"\");]]></{child}splScript>",
        closing,
    ])
    m = parse_manifest(text)
    assert m.app_uri == "http://a/App" and m.name == "App"
    assert m.request_filter.method_names == frozenset({"MESSAGE"}) and m.request_filter.strict_route
    assert m.script_only and m.script == 'ProxyRequest("");'


def test_default_namespace_sample_with_backslash_path_loads_its_flat_file():
    m = load_manifest(DATA / "default_namespace.am")
    f = m.files["exampleFile"]
    assert f.path == str((DATA / "hostname.csv").resolve())  # path=".\hostname.csv"
    assert (f.key_column, f.ignore_case, f.static, f.delimited_by) == ("keyHostName", True, True, "comma")
    assert f.lookup("CONTOSO.COM") == {"keyHostName": "contoso.com", "valueTargetHost": "pool1.contoso.com"}
    assert f.lookup("weird,host.com")["valueTargetHost"] == "pool2.contoso.com"  # a quoted field keeps its comma
    assert m.script.startswith("if (!sipRequest) { return; }\ntargetHost = exampleFile[")
    assert (m.script_line, m.script_column) == (10, 23)


@pytest.mark.parametrize("name, expected", [
    ("http://www.contoso.com/Forward", "Forward"),
    ("http://www.contoso.com/lcs/samples/Filter/", "Filter"),
    ("http://www.contoso.com", "www.contoso.com"),
    ("http://www.contoso.com/My%20App?x=1", "My App"),
])
def test_display_name_is_the_last_path_segment(name, expected):
    assert parse_manifest(am(root_attrs=f'lc:appUri="{name}"')).name == expected


# --------------------------------------------------------------------------------------------
# requestFilter and responseFilter values
# --------------------------------------------------------------------------------------------

def test_method_names_list_is_case_insensitive_and_other_catches_custom_methods():
    rf = parse_manifest(am('<lc:requestFilter methodNames="invite, Message,OTHER"/>')).request_filter
    assert rf.method_names == frozenset({"INVITE", "MESSAGE", "OTHER"})
    assert rf.method_names_text == "INVITE,MESSAGE,OTHER"
    assert rf.accepts_method("MESSAGE")
    assert rf.accepts_method("X-MY-METHOD") and rf.accepts_method("PUBLISH")  # not in the list -> OTHER
    assert not rf.accepts_method("BYE")


def test_method_names_none_accepts_nothing():
    rf = parse_manifest(am('<lc:requestFilter methodNames="NONE"/>')).request_filter
    assert rf.all_methods is False and rf.method_names == frozenset()
    assert not rf.accepts_method("INVITE") and not rf.accepts_method("X-CUSTOM")
    assert rf.method_names_text == "NONE"


@pytest.mark.parametrize("value, classes", [
    ("2XX", {2}), ("2xx", {2}), ("2nn", {2}), ("2NN", {2}), ("1XX, 6nn,4xx", {1, 4, 6}),
])
def test_reason_codes_accept_all_documented_spellings(value, classes):
    rf = parse_manifest(am(f'<lc:responseFilter reasonCodes="{value}"/>')).response_filter
    assert rf.all_codes is False and rf.classes == frozenset(classes) and rf.codes == frozenset()
    assert [rf.accepts(code) for code in (100, 200, 299, 404, 699)] == [c // 100 in classes for c in (100, 200, 299, 404, 699)]


def test_reason_codes_all_and_none():
    assert parse_manifest(am('<lc:responseFilter reasonCodes="all"/>')).response_filter.accepts(180)
    none = parse_manifest(am('<lc:responseFilter reasonCodes="NONE"/>')).response_filter
    assert not none.accepts(200) and none.reason_codes_text == "NONE"


def test_server_roles_and_proxy_by_default():
    m = parse_manifest(am('<lc:serverFilter roles="FrontEnd, homeserver"/>', '<lc:proxyByDefault action="false"/>',
                          "<lc:allowRegistrationBeforeUserServices/>"))
    assert m.server_roles == frozenset({"FrontEnd", "HomeServer"})
    assert m.runs_on("FrontEnd") and not m.runs_on("AccessProxy")
    assert m.proxy_by_default is False
    assert m.allow_registration_before_user_services is True


def test_value_classes_refuse_contradictions():
    with pytest.raises(UsageError):
        RequestFilter(method_names=frozenset({"INVITE"}))  # all_methods defaults to True
    with pytest.raises(UsageError):
        RequestFilter(all_methods=False, method_names=frozenset({"FOO"}))
    with pytest.raises(UsageError):
        ResponseFilter(all_codes=False, classes=frozenset({7}))


# --------------------------------------------------------------------------------------------
# Structure errors
# --------------------------------------------------------------------------------------------

def test_unknown_element_suggests_the_closest_name():
    d = only_error(am('<lc:requestFiltr methodNames="INVITE"/>'))
    assert (d.filename, d.line, d.column, d.code) == ("test.am", 3, 3, "unknown-element")
    assert str(d) == (
        "test.am:3:3: error: unknown element <lc:requestFiltr>; did you mean <lc:requestFilter>?\n"
        '      <lc:requestFiltr methodNames="INVITE"/>\n'
        "      ^\n"
        "    hint: the elements of an application manifest are allowRegistrationBeforeUserServices, serverFilter, "
        "proxyByDefault, requestFilter, responseFilter, file, scriptOnly, splScript"
    )


def test_element_names_are_case_sensitive():
    d = only_error(am("<lc:ScriptOnly/>"))
    assert "did you mean <lc:scriptOnly>? (element names are case-sensitive)" in d.message


def test_unknown_attribute_suggests_the_closest_name():
    # The SDK how-to template writes methodName: without the check the filter would silently be ALL.
    d = only_error(am('<lc:requestFilter methodName="INVITE"/>'))
    assert (d.line, d.column) == (3, 21)
    assert d.message == "unknown attribute methodName on <lc:requestFilter>; did you mean methodNames?"


def test_missing_spl_script():
    text = "\n".join([f'<lc:applicationManifest lc:appUri="http://a/B" xmlns:lc="{MSPL_NAMESPACE}">',
                      "  <lc:scriptOnly/>", "</lc:applicationManifest>"])
    d = only_error(text)
    assert (d.line, d.column, d.code) == (1, 1, "missing-script")
    assert d.message == "the manifest has no <lc:splScript> element"
    assert "<lc:splScript><![CDATA[" in d.hint


def test_spl_script_must_be_the_last_child():
    text = am().replace("</lc:applicationManifest>", "  <lc:scriptOnly/>\n</lc:applicationManifest>")
    d = only_error(text)
    assert (d.line, d.column, d.code) == (4, 3, "order")
    assert d.message == "<lc:scriptOnly> comes after <lc:splScript> (line 3)"
    assert "splScript must be the last child" in d.hint


def test_duplicate_element():
    d = only_error(am('<lc:responseFilter reasonCodes="NONE"/>', '<lc:responseFilter reasonCodes="2XX"/>'))
    assert (d.line, d.message) == (4, "<lc:responseFilter> appears twice (the first is at line 3)")


def test_app_uri_missing():
    d = only_error(am(root_attrs=""))
    assert (d.line, d.column, d.code) == (2, 1, "app-uri")
    assert d.message == "<lc:applicationManifest> has no appUri attribute"
    assert "New-CsServerApplication -Uri" in d.hint


def test_app_uri_with_and_without_prefix_is_a_duplicate():
    d = only_error(am(root_attrs='lc:appUri="http://a/A" appUri="http://a/B"'))
    assert d.code == "duplicate-attribute"


def test_app_uri_that_is_not_http_is_a_warning():
    m = parse_manifest(am(root_attrs='lc:appUri="urn:contoso:app"'))
    assert [w.code for w in m.warnings] == ["app-uri"]
    assert m.warnings[0].severity == "warning"


def test_errors_are_collected_not_stopped_at_the_first():
    diagnostics = errors_of(am('<lc:serverFilter roles="Edge"/>', '<lc:requestFilter methodNames="INVITE,FOO"/>',
                               '<lc:responseFilter reasonCodes="9XX"/>'))
    assert [(d.line, d.code) for d in diagnostics] == [(3, "roles"), (4, "method-names"), (5, "reason-codes")]


# --------------------------------------------------------------------------------------------
# methodNames, reasonCodes, roles, booleans
# --------------------------------------------------------------------------------------------

def test_method_names_cannot_mix_all_with_methods():
    d = only_error(am('<lc:requestFilter methodNames="INVITE,ALL"/>'))
    assert (d.line, d.column) == (3, 41)  # at ALL
    assert d.message == "ALL cannot be combined with other methods in methodNames"
    assert "mutually exclusive" in d.hint


def test_method_names_cannot_mix_none_with_methods():
    d = only_error(am('<lc:requestFilter methodNames="NONE, BYE"/>'))
    assert d.message == "NONE cannot be combined with other methods in methodNames"


def test_unknown_method_name_points_at_it_and_suggests():
    d = only_error(am('<lc:requestFilter methodNames="INVITE, MESAGE"/>'))
    assert (d.line, d.column) == (3, 42)
    assert d.message == "unknown method name 'MESAGE' in methodNames; did you mean MESSAGE?"
    assert "OTHER stands for every other method" in d.hint


def test_publish_is_selected_with_other():
    d = only_error(am('<lc:requestFilter methodNames="PUBLISH"/>'))
    assert d.message.startswith("unknown method name 'PUBLISH'") and "OTHER" in d.hint


def test_empty_method_names():
    assert only_error(am('<lc:requestFilter methodNames=""/>')).message == "methodNames is empty"


@pytest.mark.parametrize("value, column, message", [
    ("7XX", 35, "bad reasonCodes value '7XX'"),
    ("2XX,20X", 39, "bad reasonCodes value '20X'"),
    ("ALL,2XX", 35, "ALL cannot be combined with other values in reasonCodes"),
    ("302", 35, "reasonCodes selects classes of responses, not the single code 302"),
])
def test_bad_reason_codes(value, column, message):
    d = only_error(am(f'<lc:responseFilter reasonCodes="{value}"/>'))
    assert (d.line, d.column, d.message) == (3, column, message)


def test_bad_reason_code_explains_the_accepted_forms():
    d = only_error(am('<lc:responseFilter reasonCodes="2XX, 7XX"/>'))
    assert str(d) == (
        "test.am:3:40: error: bad reasonCodes value '7XX'\n"
        '      <lc:responseFilter reasonCodes="2XX, 7XX"/>\n'
        "                                           ^\n"
        "    hint: reasonCodes takes ALL, NONE, or a comma list of response classes 1XX, 2XX, 3XX, 4XX, 5XX, 6XX "
        '(also written 2xx or 2nn), e.g. reasonCodes="2XX,4XX".'
    )


def test_unknown_server_role_lists_the_known_ones():
    d = only_error(am('<lc:serverFilter roles="FrontEnd,Edge"/>'))
    assert (d.line, d.column) == (3, 36)
    assert d.message == "unknown server role 'Edge'; did you mean AccessProxy?"
    for role in ("HomeServer", "FrontEnd", "AccessProxy", "Proxy", "ALL"):
        assert role in d.hint


def test_all_roles_cannot_be_mixed():
    assert only_error(am('<lc:serverFilter roles="ALL,FrontEnd"/>')).message == "ALL cannot be combined with other roles"


def test_server_filter_needs_roles():
    assert only_error(am("<lc:serverFilter/>")).message == "<lc:serverFilter> needs the attribute roles"


def test_allow_registration_takes_no_attributes_or_children():
    d = only_error(am('<lc:allowRegistrationBeforeUserServices value="true"/>'))
    assert d.message == "unknown attribute value on <lc:allowRegistrationBeforeUserServices>"
    assert d.hint == "<lc:allowRegistrationBeforeUserServices> takes no attributes"


def test_bad_boolean():
    d = only_error(am('<lc:proxyByDefault action="yes"/>'))
    assert (d.line, d.column, d.message) == (3, 30, "action='yes' is neither true nor false")


def test_typographic_quotes_inside_straight_ones_are_named_in_the_hint():
    d = only_error(am('<lc:serverFilter roles="\u201cALL\u201d"/>'))
    assert "typographic quotes" in d.hint


# --------------------------------------------------------------------------------------------
# Namespaces
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("namespace, version", [
    ("http://schemas.microsoft.com/lcs/2003/05", "Live Communications Server 2003"),
    ("http://schemas.microsoft.com/lcs/2004/05", "Live Communications Server 2005"),
])
def test_older_namespaces_are_refused_with_a_hint(namespace, version):
    d = only_error(am().replace(MSPL_NAMESPACE, namespace))
    assert (d.line, d.column, d.code) == (2, 1, "namespace")
    assert d.message == f"this manifest uses the {version} namespace {namespace}"
    assert "mspl-lite models Lync Server 2013" in d.hint and MSPL_NAMESPACE in d.hint


def test_https_namespace_is_not_the_namespace():
    d = only_error(am().replace("http://schemas", "https://schemas"))
    assert d.message == f"the namespace must be exactly {MSPL_NAMESPACE}, not https://schemas.microsoft.com/lcs/2006/05"


def test_unknown_and_missing_namespace():
    assert "unknown namespace urn:example" in only_error(am().replace(MSPL_NAMESPACE, "urn:example")).message
    text = '<applicationManifest appUri="http://a/A"><splScript/></applicationManifest>'
    d = only_error(text)
    assert d.message == "<applicationManifest> is not in the MSPL namespace (no xmlns declaration)"
    assert f'xmlns:lc="{MSPL_NAMESPACE}"' in d.hint


def test_child_without_the_prefix_is_not_in_the_namespace():
    d = only_error(am('<requestFilter methodNames="INVITE"/>'))
    assert d.message == "<requestFilter> is not in the MSPL namespace"
    assert d.hint == "write it with the prefix the root element declares: <lc:requestFilter>"


# --------------------------------------------------------------------------------------------
# scriptOnly, script-only and Dispatch
# --------------------------------------------------------------------------------------------

def test_script_only_misspelling_is_accepted_with_a_warning():
    m = parse_manifest(am("<lc:script-only/>"), filename="test.am")
    assert m.script_only is True
    (w,) = m.warnings
    assert (w.severity, w.line, w.column, w.code) == ("warning", 3, 3, "script-only-spelling")
    assert w.message == "<lc:script-only> is read as <lc:scriptOnly>"


def test_dispatch_in_a_script_only_manifest_points_into_the_am_file():
    # The SDK's own manifest example (sip-application-manifest.md) is scriptOnly and calls Dispatch.
    text = (DATA / "sdk_example.am").read_text().replace("/ >", "/>")
    diagnostics = errors_of(text)
    assert [(d.line, d.column, d.code) for d in diagnostics] == [
        (21, 11, "dispatch-script-only"), (24, 11, "dispatch-script-only")]
    assert diagnostics[0].source.strip() == 'Dispatch("NameOfInviteHandlerMethodInApplicationHere");'
    assert diagnostics[0].message == "Dispatch is not allowed in a scriptOnly application"
    assert "remove scriptOnly" in diagnostics[0].hint


def test_dispatch_is_fine_in_a_managed_manifest():
    text = (DATA / "sdk_example.am").read_text().replace("/ >", "/>").replace("<lc:scriptOnly />", "")
    assert parse_manifest(text).script_only is False


def test_dispatch_on_the_cdata_line_gets_the_cdata_column():
    d = only_error(am("<lc:scriptOnly/>", script='Dispatch("OnRequest");'))
    assert (d.line, d.column) == (4, 26)


def test_dispatch_in_comments_and_strings_is_ignored():
    script = '// Dispatch("a");\n/* Dispatch("b"); */ x = "Dispatch(\\"c\\")"; DispatchNotification("d"); MyDispatch(1);'
    assert find_dispatch_calls(script) == []
    assert find_dispatch_calls('if (sipRequest) { Dispatch ("x"); }') == [18]
    assert parse_manifest(am("<lc:scriptOnly/>", script=script)).script_only


# --------------------------------------------------------------------------------------------
# Damaged XML
# --------------------------------------------------------------------------------------------

def test_typographic_quotes_are_named_with_their_position_and_fix():
    d = only_error(am("<lc:serverFilter roles=\u201cALL\u201d/>"))
    assert str(d) == (
        "test.am:3:26: error: U+201C LEFT DOUBLE QUOTATION MARK where XML needs a straight quote\n"
        "      <lc:serverFilter roles=\u201cALL\u201d/>\n"
        "                             ^\n"
        "    hint: typographic quotes (\u201c \u201d \u2018 \u2019 \u201e) come from copying a web page or a word "
        'processor; XML attribute values need straight quotes: retype them as " (for example roles="ALL")'
    )


@pytest.mark.parametrize("attribute, column, name", [
    ('roles="ALL\u201d', 30, "U+201D RIGHT DOUBLE QUOTATION MARK"),  # expat only notices a line later
    ("roles=\u2018ALL\u2019", 26, "U+2018 LEFT SINGLE QUOTATION MARK"),
    ("roles=\u201eALL\u201c", 26, "U+201E DOUBLE LOW-9 QUOTATION MARK"),
])
def test_other_typographic_quotes(attribute, column, name):
    d = only_error(am(f"<lc:serverFilter {attribute}/>"))
    assert (d.line, d.column, d.code) == (3, column, "xml")
    assert d.message == f"{name} where XML needs a straight quote"


def test_no_break_space_from_a_web_page():
    d = only_error(am('<lc:serverFilter\u00a0roles="ALL"/>'))
    assert (d.line, d.column) == (3, 19)
    assert d.message == "U+00A0 NO-BREAK SPACE where XML needs a plain space"


def test_the_sdk_samples_slash_space_gt():
    with pytest.raises(ManifestError) as info:
        load_manifest(DATA / "sdk_example.am")
    d = info.value.first
    assert (d.line, d.column) == (12, 45)
    assert d.message == "space between / and > in an empty-element tag"
    assert d.hint.startswith('write "/>" with no space')


@pytest.mark.parametrize("change, line, column, message", [
    (("<lc:splScript>", "<lc:splScript"), 3, 3, "this tag is not closed"),
    (("]]>", ""), 3, 17, "<![CDATA[ is never closed"),
    (("</lc:applicationManifest>", ""), 2, 1, "<lc:applicationManifest> is never closed"),
    (("</lc:splScript>", ""), 4, 1,
     "closing tag </lc:applicationManifest> does not match <lc:splScript> opened at line 3"),
    (('<?xml version="1.0"?>', '<?xml version="1.0">'), 1, 1, "the XML declaration is not closed"),
    (('<?xml version="1.0"?>', '\n<?xml version="1.0"?>'), 2, 1,
     "the <?xml ...?> declaration must be the very first thing in the file"),
    (('lc:appUri="http://www.contoso.com/Test"', "lc:appUri=http://www.contoso.com/Test"), 2, 35,
     "attribute value without quotes"),
    (("xmlns:lc=", "xmlns:r="), 2, 1, "prefix 'lc' is used but not declared"),
    (("</lc:applicationManifest>", "</lc:applicationManifest>\n<x/>"), 5, 1,
     "text or an element after the end of the root element"),
])
def test_xml_damage_is_located_and_explained(change, line, column, message):
    d = only_error(am().replace(*change))
    assert (d.line, d.column, d.message, d.code) == (line, column, message, "xml")
    assert d.hint


def test_unescaped_ampersand_in_a_script_without_cdata():
    text = am().replace('<![CDATA[ProxyRequest("");]]>', "if (a && b) { }")
    d = only_error(text)
    assert (d.line, d.column, d.message) == (3, 24, "a bare & in the XML")
    assert "&amp;" in d.hint and "<![CDATA[" in d.hint


def test_less_than_and_entities_in_a_script_without_cdata():
    assert only_error(am().replace('<![CDATA[ProxyRequest("");]]>', "if (a < b) { }")).message == \
        "a < that does not start a tag"
    assert only_error(am().replace('<![CDATA[ProxyRequest("");]]>', 'x = "&nbsp;";')).message == \
        "undefined entity &nbsp;"


def test_empty_text_is_not_a_manifest():
    d = only_error("")
    assert d.message == "the file holds no XML element"


def test_a_script_without_cdata_keeps_its_position():
    text = am().replace('<![CDATA[ProxyRequest("");]]>', '\r\n    if (sipRequest) { ProxyRequest(""); }\r\n  ')
    m = parse_manifest(text)
    assert (m.script_line, m.script_column) == (3, 17)
    assert m.script_position(m.script.index("ProxyRequest")) == (4, 23)


# --------------------------------------------------------------------------------------------
# Flat files
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def policy_filter():
    return load_manifest(DATA / "policy_filter.am")


def test_flat_file_declarations(policy_filter):
    m = policy_filter
    assert list(m.files) == ["policy", "gateways"]  # document order
    policy, gateways = m.files["policy"], m.files["gateways"]
    assert policy.columns == ("uri", "action", "forbidden")
    assert (policy.key_column, policy.ignore_case, policy.delimited_by, policy.static) == ("uri", True, "whitespace", False)
    assert (gateways.key_column, gateways.delimited_by, gateways.static) == (None, "tab", True)
    assert gateways.path == str(DATA / "data" / "gateways.tsv")  # data\gateways.tsv
    assert policy.loaded and len(policy) == 3
    assert m.server_roles == frozenset({"HomeServer", "FrontEnd"}) and m.proxy_by_default is False
    assert m.response_filter.classes == frozenset({2, 4})


def test_flat_file_rows_keep_column_order_and_fill_missing_trailing_fields(policy_filter):
    policy = policy_filter.files["policy"]
    assert list(policy.row(0)) == ["uri", "action", "forbidden"]
    assert policy.row(0) == {"uri": "alice@contoso.com", "action": "allow", "forbidden": ""}
    assert policy.row(1)["forbidden"] == "secret project"  # quoted: keeps its space
    assert policy.row(2) == {"uri": "carol@contoso.com", "action": "drop", "forbidden": ""}  # blank line skipped


def test_flat_file_lookup_by_key_honours_ignore_case(policy_filter):
    policy = policy_filter.files["policy"]
    assert policy.lookup("bob@contoso.com")["action"] == "filter"
    assert policy.lookup("ALICE@CONTOSO.COM")["action"] == "allow"
    assert policy.lookup("dave@contoso.com") is None


def test_flat_file_index_out_of_range_is_none(policy_filter):
    gateways = policy_filter.files["gateways"]
    assert gateways.row(0) == {"pattern": "+1425", "gateway": "gw1.contoso.com"}
    assert gateways.row(1) == {"pattern": "+44", "gateway": "gw2.contoso.com"}  # trailing tab adds no field
    assert gateways.row(3) is None and gateways.row(-1) is None and gateways.row(99) is None


def test_lookup_without_key_column_is_a_usage_error(policy_filter):
    with pytest.raises(UsageError, match="no keyColumnName"):
        policy_filter.files["gateways"].lookup("+44")


def test_rows_returned_are_copies(policy_filter):
    policy = policy_filter.files["policy"]
    policy.row(0)["action"] = "changed"
    assert policy.row(0)["action"] == "allow"


def test_key_lookup_is_case_sensitive_without_ignore_case():
    f = parse_flat_file("Alice,1\nbob,2\n", name="f", columns=["user", "n"], key_column="user")
    assert f.lookup("Alice") == {"user": "Alice", "n": "1"}
    assert f.lookup("alice") is None


def test_parse_manifest_without_base_dir_does_not_read_flat_files():
    text = (DATA / "policy_filter.am").read_text()
    m = parse_manifest(text)
    assert m.files["policy"].loaded is False and m.files["policy"].rows == ()
    assert m.files["policy"].path == "policy.txt"
    given = parse_manifest(text, flat_file_texts={"policy": "x@y allow\n", "gateways": "+1\tgw\n"})
    assert given.files["policy"].lookup("X@Y") == {"uri": "x@y", "action": "allow", "forbidden": ""}


def test_missing_flat_file_names_the_resolved_path(tmp_path):
    (tmp_path / "app.am").write_text(am('<lc:file name="users" path="users.csv"><lc:column name="uri"/></lc:file>'))
    with pytest.raises(ManifestError) as info:
        load_manifest(tmp_path / "app.am")
    d = info.value.first
    assert (d.line, d.column, d.code) == (3, 31, "flat-file-missing")
    assert d.message == f"flat file 'users' not found: {(tmp_path / 'users.csv').resolve()}"
    assert "manifest's folder" in d.hint


def test_windows_absolute_flat_file_path(tmp_path):
    (tmp_path / "app.am").write_text(am(r'<lc:file name="u" path="C:\Lync\users.csv"><lc:column name="a"/></lc:file>'))
    with pytest.raises(ManifestError) as info:
        load_manifest(tmp_path / "app.am")
    assert info.value.first.message == r"flat file 'u' not found: C:\Lync\users.csv"
    assert "path on the Front End server" in info.value.first.hint


def test_key_column_must_be_declared():
    d = only_error(am('<lc:file name="f" path="f.csv" keyColumnName="user"><lc:column name="users"/></lc:file>'))
    assert (d.line, d.column) == (3, 49)
    assert d.message == "keyColumnName 'user' is not one of the declared columns; did you mean users?"


def test_ignore_case_needs_key_column():
    d = only_error(am('<lc:file name="f" path="f.csv" ignoreCase="true"><lc:column name="a"/></lc:file>'))
    assert (d.line, d.column, d.message) == (3, 34, "ignoreCase needs keyColumnName")


def test_ignore_case_false_without_key_column_is_only_a_warning():
    m = parse_manifest(am('<lc:file name="f" path="f.csv" ignoreCase="false"><lc:column name="a"/></lc:file>'))
    assert [w.code for w in m.warnings] == ["file"]


def test_duplicate_keys_are_an_error_at_the_flat_file_line(tmp_path):
    (tmp_path / "users.csv").write_text("alice,pool1\nbob,pool2\nAlice,pool3\n")
    (tmp_path / "app.am").write_text(am(
        '<lc:file name="users" path="users.csv" keyColumnName="uri" ignoreCase="true">'
        '<lc:column name="uri"/><lc:column name="pool"/></lc:file>'))
    with pytest.raises(ManifestError) as info:
        load_manifest(tmp_path / "app.am")
    d = info.value.first
    assert (d.filename, d.line, d.column, d.code) == (str((tmp_path / "users.csv").resolve()), 3, 1,
                                                       "flat-file-duplicate-key")
    assert d.message == "duplicate key 'Alice' in flat file 'users': line 1 has it too (ignoreCase is on, so case does not count)"
    assert "terminates the application" in d.hint


def test_a_row_with_too_many_fields_is_an_error_with_its_line():
    with pytest.raises(ManifestError) as info:
        parse_flat_file("a,1\n\nb,2,3\n", name="f", columns=["k", "v"], path="f.csv")
    assert str(info.value) == (
        "f.csv:3:5: error: line has 3 fields but flat file 'f' has 2 column(s)\n"
        "    b,2,3\n"
        "        ^\n"
        "    hint: f declares 2 column(s) (k, v), delimited by comma: remove the extra field(s) or declare more columns"
    )


def test_there_are_no_comment_lines_in_flat_files():
    with pytest.raises(ManifestError) as info:
        parse_flat_file("# user pool\nalice pool1\n", name="f", columns=["k", "v"], delimited_by="whitespace")
    d = info.value.first
    assert d.line == 1 and "flat files have no comment lines" in d.hint


def test_delimiters():
    assert parse_flat_file(" a ,  b \n", name="f", columns=["x", "y"]).row(0) == {"x": "a", "y": "b"}
    assert parse_flat_file("a b\tc\n", name="f", columns=["x", "y"], delimited_by="tab").row(0) == {"x": "a b", "y": "c"}
    assert parse_flat_file("  a   b\tc  \n", name="f", columns=["x", "y", "z"],
                           delimited_by="whitespace").row(0) == {"x": "a", "y": "b", "z": "c"}
    assert parse_flat_file('"say ""hi""",b\n', name="f", columns=["x", "y"]).row(0) == {"x": 'say "hi"', "y": "b"}


def test_bad_delimiter_and_file_declaration_errors():
    d = only_error(am('<lc:file name="f" path="f.txt" delimitedBy="semicolon"><lc:column name="a"/></lc:file>'))
    assert d.message == "delimitedBy='semicolon' is not comma, tab or whitespace"
    assert only_error(am('<lc:file name="f" path="f.txt"></lc:file>')).message == "<lc:file> declares no columns"
    assert only_error(am('<lc:file name="my-file" path="f"><lc:column name="a"/></lc:file>')).message == \
        "file name 'my-file' is not an MSPL identifier"
    assert only_error(am('<lc:column name="a"/>')).message == "<lc:column> must be inside <lc:file>"


def test_flat_file_value_rules_for_python_callers():
    with pytest.raises(UsageError):
        FlatFile(name="f", path="f", columns=("a",), ignore_case=True)
    with pytest.raises(UsageError):
        FlatFile(name="f", path="f", columns=("a",), key_column="a", rows=({"a": "x"}, {"a": "x"}))
    f = FlatFile(name="f", path="f.csv", columns=("a",), key_column="a", rows=({"a": "x"},), loaded=True)
    assert repr(f) == "FlatFile('f', 'f.csv', columns=['a'], key='a', comma, 1 rows)"


# --------------------------------------------------------------------------------------------
# Files on disk
# --------------------------------------------------------------------------------------------

def test_bom_and_crlf_are_tolerated(tmp_path):
    text = am(script='\nProxyRequest("");\n').replace("\n", "\r\n")
    (tmp_path / "bom.am").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    m = load_manifest(tmp_path / "bom.am")
    assert m.source.startswith("<?xml") and m.script == '\nProxyRequest("");\n'
    assert m.script_position(1) == (4, 1)


def test_utf16_manifest_from_notepad(tmp_path):
    (tmp_path / "u16.am").write_bytes(am().encode("utf-16"))
    assert load_manifest(tmp_path / "u16.am").app_uri == "http://www.contoso.com/Test"


def test_invalid_utf8_is_located(tmp_path):
    (tmp_path / "latin.am").write_bytes(am(script="x = \"caf\xe9\";").encode("latin-1"))
    with pytest.raises(ManifestError) as info:
        load_manifest(tmp_path / "latin.am")
    d = info.value.first
    assert (d.line, d.column, d.code) == (3, 34, "encoding")
    assert "save the file as UTF-8" in d.hint


def test_undecodable_byte_is_located_in_characters_and_lines_as_expat_counts(tmp_path):
    # The UTF-8 "é" before the cp1252 quote is one column, and a bare CR ends a line.
    (tmp_path / "mixed.am").write_bytes(b'<?xml version="1.0"?>\r<x a="caf\xc3\xa9 \x93ALL\x94"/>')
    with pytest.raises(ManifestError) as info:
        load_manifest(tmp_path / "mixed.am")
    d = info.value.first
    assert (d.line, d.column, d.code) == (2, 12, "encoding")
    assert d.source == '<x a="café \ufffdALL\ufffd"/>'
    (tmp_path / "u16.am").write_bytes("ab\r\ncd".encode("utf-16") + b"\x00\xd8")
    with pytest.raises(ManifestError) as info:
        load_manifest(tmp_path / "u16.am")
    assert (info.value.first.line, info.value.first.column) == (2, 3)


def test_missing_manifest_is_a_manifest_error(tmp_path):
    with pytest.raises(ManifestError) as info:
        load_manifest(tmp_path / "nope.am")
    assert info.value.filename == str(tmp_path / "nope.am")
    assert "cannot read the manifest" in info.value.first.message


def test_app_uri_that_urlsplit_rejects_still_has_a_name():
    text = (
        '<lc:applicationManifest lc:appUri="http://www.contoso.com]/Silent" '
        'xmlns:lc="http://schemas.microsoft.com/lcs/2006/05">'
        "<lc:splScript><![CDATA[ ; ]]></lc:splScript></lc:applicationManifest>"
    )
    manifest = parse_manifest(text, filename="odd.am")
    assert manifest.name == "Silent"
    assert "Silent" in repr(manifest)
