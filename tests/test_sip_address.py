"""URI and address helpers behind MSPL's GetUri, GetUserName, ... (None is MSPL null)."""
from __future__ import annotations

import pytest

from mspl_lite.errors import UsageError
from mspl_lite.sip import (
    SipUri,
    get_display_name,
    get_host_name,
    get_parameter_value,
    get_scheme,
    get_uri,
    get_uri_parameter,
    get_user_at_host,
    get_user_name,
    parse_uri,
)

# The example of the MSPL reference (GetUri, L13 dn439166) and its siblings.
DOC_EXAMPLE = '"Display Name" <sip:someone@example.com>;lr'

GARBAGE = ["", "   ", "garbage", "someone@example.com", "<sip:>", "<sip:a@b", '"unterminated <sip:a@b>', "sip:a b@c", None, 42]


def test_the_reference_example():
    assert get_uri(DOC_EXAMPLE) == "sip:someone@example.com"
    assert get_display_name(DOC_EXAMPLE) == "Display Name"
    assert get_user_name(DOC_EXAMPLE) == "someone"
    assert get_host_name(DOC_EXAMPLE) == "example.com"
    assert get_user_at_host(DOC_EXAMPLE) == "someone@example.com"
    assert get_scheme(DOC_EXAMPLE) == "sip"


@pytest.mark.parametrize(
    "fn",
    [get_uri, get_display_name, get_user_name, get_host_name, get_user_at_host, get_scheme],
)
@pytest.mark.parametrize("text", GARBAGE, ids=repr)
def test_garbage_gives_null(fn, text):
    assert fn(text) is None


@pytest.mark.parametrize("text", GARBAGE, ids=repr)
def test_garbage_gives_null_for_parameters_and_parse_uri(text):
    assert get_uri_parameter(text, "transport") is None
    assert parse_uri(text) is None


@pytest.mark.parametrize(
    "address, uri, display",
    [
        ("<sip:bob@contoso.com>;tag=1", "sip:bob@contoso.com", None),
        ("Bob Smith <sip:bob@contoso.com>", "sip:bob@contoso.com", "Bob Smith"),
        ("caller<sip:caller@example.com>;tag=323", "sip:caller@example.com", "caller"),
        ('"J Rosenberg \\\\\\"" <sip:jdrosen@example.com>;tag=98asjd8', "sip:jdrosen@example.com", 'J Rosenberg \\"'),
        ('"" <sip:anon@contoso.com>', "sip:anon@contoso.com", ""),
        ('"Bell, Alexander" <sip:a.g.bell@example.com>;tag=43', "sip:a.g.bell@example.com", "Bell, Alexander"),
        ("  <sips:bob@contoso.com:5061;transport=tls>  ", "sips:bob@contoso.com:5061;transport=tls", None),
        ("sip:bob@contoso.com", "sip:bob@contoso.com", None),
        ("<sip:a@b>, <sip:c@d>", "sip:a@b", None),  # a list: the first address
        ("<http://www.example.com>", "http://www.example.com", None),
    ],
)
def test_uri_and_display_name(address, uri, display):
    assert get_uri(address) == uri
    assert get_display_name(address) == display


def test_a_bare_uri_is_read_in_full_so_its_params_are_uri_params():
    text = "sip:bob@contoso.com;transport=tls;maddr=10.0.0.1"
    assert get_uri(text) == text
    assert get_uri_parameter(text, "transport") == "tls"
    assert get_parameter_value(text, "maddr") == "10.0.0.1"


def test_user_host_and_user_at_host():
    assert get_user_name("sip:alice@contoso.com:5061") == "alice"
    assert get_host_name("sip:alice@contoso.com:5061") == "contoso.com"
    assert get_user_at_host("<sip:alice@contoso.com:5061;transport=tls>;tag=1") == "alice@contoso.com"
    assert get_host_name("sip:[2001:db8::1]:5060") == "[2001:db8::1]"
    assert get_user_name("sip:user;par=u%40example.net@example.com") == "user;par=u%40example.net"  # escapes kept


def test_uri_without_user_has_null_user_name():
    assert get_user_name("sip:pool01.contoso.com;transport=tls") is None
    assert get_user_at_host("<sip:pool01.contoso.com>") is None
    assert get_host_name("sip:pool01.contoso.com;transport=tls") == "pool01.contoso.com"


def test_other_schemes_have_a_scheme_but_no_user_or_host():
    for text in ("<http://www.example.com>", "isbn:2983792873", "<urn:uuid:9A4E3B82>"):
        assert get_scheme(text) is not None
        assert get_user_name(text) is None
        assert get_host_name(text) is None
        assert parse_uri(get_uri(text)) is None
    assert get_scheme("SIPS:bob@contoso.com") == "sips"


def test_phone_numbers():
    assert get_user_name("tel:+14255550100") == "+14255550100"
    assert get_scheme("<tel:+14255550100;ext=100>") == "tel"
    assert get_uri_parameter("<tel:+14255550100;ext=100>", "ext") == "100"
    assert get_host_name("tel:+14255550100") is None
    assert get_user_at_host("tel:+14255550100") is None
    phone = "<sip:+14255550100@contoso.com;user=phone>"
    assert get_user_name(phone) == "+14255550100"
    assert get_uri_parameter(phone, "user") == "phone"
    assert parse_uri("tel:+14255550100").is_phone
    assert parse_uri("sip:+14255550100@contoso.com;user=phone").is_phone
    assert not parse_uri("sip:alice@contoso.com").is_phone


def test_get_uri_parameter_reads_inside_the_uri_only():
    gruu = '"Alice" <sip:alice@contoso.com;opaque=user:epid:lB3qS8eH0lC0wgTGtL9ZRAAA;gruu;Transport=TLS>;epid=5a1b'
    assert get_uri_parameter(gruu, "opaque") == "user:epid:lB3qS8eH0lC0wgTGtL9ZRAAA"
    assert get_uri_parameter(gruu, "transport") == "TLS"  # names match in any case
    assert get_uri_parameter(gruu, "gruu") is None  # valueless
    assert get_uri_parameter(gruu, "epid") is None  # a header parameter, outside <>
    assert get_uri_parameter(gruu, "missing") is None
    assert get_uri_parameter(gruu, "") is None
    assert get_uri_parameter("<sip:proxy.contoso.com;lr>", "lr") is None


def test_get_parameter_value_reads_header_params():
    frm = '"Alice" <sip:alice@contoso.com;transport=tls>;tag=0f3d8a2c71;epid=5a1b2c3d4e'
    assert get_parameter_value(frm, "tag") == "0f3d8a2c71"
    assert get_parameter_value(frm, "EPID") == "5a1b2c3d4e"
    assert get_parameter_value(frm, "transport") is None  # inside <>: a URI parameter
    assert get_parameter_value(frm, "missing") is None
    assert get_parameter_value("<sip:p.contoso.com>;lr", "lr") is None  # valueless is never returned
    assert get_parameter_value("<sip:p.contoso.com>;lr;x=1", "lr") is None
    assert get_parameter_value("SIP/2.0/TLS 10.0.0.1:5061;branch=z9hG4bK1;ms-received-port=5061", "branch") == "z9hG4bK1"
    assert get_parameter_value("sip:a@b ;  tag  =  98asjd8", "tag") == "98asjd8"
    assert get_parameter_value(None, "tag") is None
    assert get_parameter_value(frm, "") is None


def test_get_parameter_value_skips_quoted_text_and_keeps_quotes():
    contact = '<sip:a@b>;methods="INVITE;x=1, MESSAGE";+sip.instance="<urn:uuid:9A4E>";expires=7200'
    assert get_parameter_value(contact, "x") is None
    assert get_parameter_value(contact, "+sip.instance") == '"<urn:uuid:9A4E>"'
    assert get_parameter_value(contact, "expires") == "7200"


def test_parse_uri_takes_a_sip_uri_apart():
    uri = parse_uri("sips:alice:secret@contoso.com:5061;transport=tls;lr;maddr=10.0.0.1?Subject=hi&Priority=urgent")
    assert uri == SipUri(
        scheme="sips",
        user="alice",
        password="secret",
        host="contoso.com",
        port=5061,
        params=(("transport", "tls"), ("lr", None), ("maddr", "10.0.0.1")),
        headers=(("Subject", "hi"), ("Priority", "urgent")),
    )
    assert uri.param("TRANSPORT") == "tls"
    assert uri.param("lr") is None and uri.has_param("lr") and not uri.has_param("x")
    assert uri.user_at_host == "alice@contoso.com"
    assert str(uri) == "sips:alice:secret@contoso.com:5061;transport=tls;lr;maddr=10.0.0.1?Subject=hi&Priority=urgent"


@pytest.mark.parametrize(
    "text",
    [
        "sip:bob@contoso.com",
        "sip:contoso.com",
        "sip:192.0.2.4:5060;transport=udp",
        "sip:bob@contoso.com;opaque=user:epid:Xq1TzGnGjVOsnk5xDmBrSAAA;gruu",
        "sip:%75se%72@example.com",
        "tel:+1-425-555-0100;phone-context=contoso.com",
    ],
)
def test_parse_uri_round_trips(text):
    assert str(parse_uri(text)) == text


def test_sip_uri_checks_its_parts():
    with pytest.raises(UsageError):
        SipUri(scheme="http", host="example.com")
    with pytest.raises(UsageError):
        SipUri(scheme="sip")
    with pytest.raises(UsageError):
        SipUri(scheme="tel", user="+1", host="x")


def test_helpers_say_which_mspl_function_they_back():
    for fn, name in [
        (get_uri, "GetUri"),
        (get_display_name, "GetDisplayName"),
        (get_user_name, "GetUserName"),
        (get_host_name, "GetHostName"),
        (get_user_at_host, "GetUserAtHost"),
        (get_scheme, "GetScheme"),
        (get_uri_parameter, "GetUriParameter"),
        (get_parameter_value, "GetParameterValue"),
    ]:
        assert f"MSPL {name}" in fn.__doc__
