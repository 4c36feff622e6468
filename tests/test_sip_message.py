"""SIP messages: parsing, header access, mutation and serialisation (mspl_lite.sip)."""
from __future__ import annotations

import pytest

from mspl_lite.errors import SipParseError, UsageError
from mspl_lite.sip import Header, Message, Request, Response, parse_message

INVITE = (
    b"INVITE sip:bob@contoso.com SIP/2.0\r\n"
    b"Via: SIP/2.0/TLS 192.168.10.21:51432;branch=z9hG4bKb3a4f61c;ms-received-port=51432\r\n"
    b"Max-Forwards: 70\r\n"
    b'From: "Alice Smith" <sip:alice@contoso.com>;tag=0f3d8a2c71;epid=5a1b2c3d4e\r\n'
    b"To: <sip:bob@contoso.com>\r\n"
    b"Call-ID: 7f3a9c2e5b8d4f1a\r\n"
    b"CSeq: 1 INVITE\r\n"
    b"Contact: <sip:alice@contoso.com;opaque=user:epid:lB3qS8eH0lC0wgTGtL9ZRAAA;gruu>\r\n"
    b"Supported: ms-dialog-route-set-update, timer\r\n"
    b"Supported: 100rel\r\n"
    b"Content-Type: text/plain\r\n"
    b"Content-Length: 5\r\n"
    b"\r\n"
    b"Hello"
)

OK_200 = (
    b"SIP/2.0 200 OK\r\n"
    b"Via: SIP/2.0/TLS 192.168.10.21:51432;branch=z9hG4bKb3a4f61c\r\n"
    b"From: <sip:alice@contoso.com>;tag=0f3d8a2c71\r\n"
    b"To: <sip:bob@contoso.com>;tag=77aa\r\n"
    b"Call-ID: 7f3a9c2e5b8d4f1a\r\n"
    b"CSeq: 1 INVITE\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)


@pytest.fixture
def invite() -> Request:
    msg = parse_message(INVITE)
    assert isinstance(msg, Request)
    return msg


# ---- parsing and round trip ------------------------------------------------------------------

def test_request_fields(invite):
    assert invite.method == "INVITE"
    assert invite.request_uri == "sip:bob@contoso.com"
    assert invite.sip_version == "SIP/2.0"
    assert invite.body == b"Hello"
    assert invite.content == "Hello"
    assert invite.headers[0] == Header("Via", "SIP/2.0/TLS 192.168.10.21:51432;branch=z9hG4bKb3a4f61c;ms-received-port=51432")
    assert [h.name for h in invite.headers][:3] == ["Via", "Max-Forwards", "From"]


def test_response_fields():
    msg = parse_message(OK_200)
    assert isinstance(msg, Response) and isinstance(msg, Message)
    assert (msg.status_code, msg.reason) == (200, "OK")
    assert msg.body == b""


@pytest.mark.parametrize("data", [INVITE, OK_200])
def test_canonical_input_round_trips_byte_identical(data):
    assert parse_message(data).to_bytes() == data


def test_odd_spelling_and_spacing_survive_the_round_trip():
    data = (
        b"OPTIONS sip:bob@contoso.com SIP/2.0\r\n"
        b"TO :\r\n sip:bob@contoso.com ;  tag = 1\r\n"
        b"f:<sip:alice@contoso.com>;tag=2\r\n"
        b"cseq:   7   OPTIONS  \r\n"
        b"Subject:\r\n"
        b"l: 0\r\n\r\n"
    )
    msg = parse_message(data)
    assert msg.to_bytes() == data
    assert msg.get("To") == "sip:bob@contoso.com ;  tag = 1"
    assert msg.get("CSeq") == "7   OPTIONS"
    assert msg.get("Subject") == ""


@pytest.mark.parametrize("line", [b"X-A:v", b"X-A: v ", b"X-A:  v", b"X-A:\tv", b"X-A: v\t", b"X-A:", b"X-A: "])
def test_a_header_line_not_written_name_colon_space_value_round_trips(line):
    data = b"OPTIONS sip:b@c SIP/2.0\r\n" + line + b"\r\nl: 0\r\n\r\n"
    msg = parse_message(data)
    assert msg.get("X-A") == line.partition(b":")[2].strip(b" \t").decode()
    assert msg.to_bytes() == data


def test_only_changed_headers_are_rewritten():
    data = b"OPTIONS sip:bob@contoso.com SIP/2.0\r\nf:<sip:a@b>;tag=2\r\nX-Odd :  v  \r\nl: 0\r\n\r\n"
    msg = parse_message(data)
    msg.set_header("X-Odd", "w")
    assert msg.to_bytes() == b"OPTIONS sip:bob@contoso.com SIP/2.0\r\nf:<sip:a@b>;tag=2\r\nX-Odd: w\r\nl: 0\r\n\r\n"


def test_bare_lf_text_is_normalised_to_crlf():
    text = "MESSAGE sip:bob@contoso.com SIP/2.0\nTo: <sip:bob@contoso.com>\nContent-Type: text/plain\n\nHi there\n"
    msg = parse_message(text)
    assert msg.get("To") == "<sip:bob@contoso.com>"
    assert msg.body == b"Hi there\r\n"  # from text, the body is taken whole, with CRLF
    assert msg.get("Content-Length") is None  # and no Content-Length is invented
    assert msg.to_bytes() == text.replace("\n", "\r\n").encode()


def test_bare_lf_bytes_keep_their_body_untouched():
    msg = parse_message(b"MESSAGE sip:b@c SIP/2.0\nContent-Length: 3\n\na\nb")
    assert msg.body == b"a\nb"
    assert msg.to_bytes() == b"MESSAGE sip:b@c SIP/2.0\r\nContent-Length: 3\r\n\r\na\nb"


def test_text_input_with_content_length_takes_that_many_bytes():
    msg = parse_message("MESSAGE sip:b@c SIP/2.0\nContent-Length: 5\n\nHello\n")
    assert msg.body == b"Hello"


def test_leading_blank_lines_and_a_missing_final_blank_line_are_tolerated():
    msg = parse_message("\n\nOPTIONS sip:bob@contoso.com SIP/2.0\nTo: <sip:bob@contoso.com>")
    assert msg.get("To") == "<sip:bob@contoso.com>"
    assert msg.body == b""


def test_str_of_a_message_is_its_sip_text(invite):
    assert str(invite) == INVITE.decode()
    assert bytes(invite) == INVITE


def test_str_of_a_binary_body_is_printable():
    msg = parse_message(b"MESSAGE sip:b@c SIP/2.0\r\nContent-Length: 2\r\n\r\n\xff\xfe")
    assert str(msg).endswith("\ufffd\ufffd")
    assert msg.to_bytes().endswith(b"\xff\xfe")


def test_non_utf8_header_bytes_are_kept():
    data = b"MESSAGE sip:b@c SIP/2.0\r\nSubject: caf\xe9\r\n\r\n"
    assert parse_message(data).to_bytes() == data


def test_extra_octets_after_the_body_are_ignored():
    msg = parse_message(b"MESSAGE sip:b@c SIP/2.0\r\nContent-Length: 2\r\n\r\nHiINVITE sip:x SIP/2.0\r\n")
    assert msg.body == b"Hi"


def test_reprs():
    assert repr(parse_message(INVITE)) == "<Request INVITE sip:bob@contoso.com>"
    assert repr(parse_message(OK_200)) == "<Response 200 OK>"
    assert repr(parse_message(b"SIP/2.0 100 \r\n\r\n")) == "<Response 100>"
    assert repr(Header("To", "<sip:bob@contoso.com>")) == "Header('To', '<sip:bob@contoso.com>')"


# ---- header access -----------------------------------------------------------------------------

def test_get_is_case_insensitive_and_knows_compact_forms():
    msg = parse_message(
        b"OPTIONS sip:b@c SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\ni: abc\r\nm: <sip:x@y>\r\n"
        b"f: <sip:a@b>;tag=1\r\nt: <sip:b@c>\r\nl: 0\r\nk: timer\r\ns: hi\r\no: presence\r\nMAX-forwards: 70\r\n\r\n"
    )
    assert msg.get("Call-ID") == msg.get("call-id") == msg.get("I") == "abc"
    assert msg.get("contact") == "<sip:x@y>"
    assert msg.get("FROM") == "<sip:a@b>;tag=1"
    assert msg.get("To") == "<sip:b@c>"
    assert msg.get("Via") == "SIP/2.0/UDP h;branch=z9hG4bK1"
    assert msg.get("Content-Length") == "0"
    assert msg.get("Supported") == "timer"
    assert msg.get("Subject") == "hi"
    assert msg.get("Event") == "presence"
    assert msg.get("Max-Forwards") == "70"
    assert msg.get("X-Missing") is None


def test_long_names_find_compact_headers_and_back():
    msg = Request("OPTIONS", "sip:b@c", [("Contact", "<sip:x@y>")])
    assert msg.get("m") == "<sip:x@y>"


def test_get_all_splits_lists_across_headers(invite):
    assert invite.get_all("Supported") == ["ms-dialog-route-set-update", "timer", "100rel"]


def test_get_all_keeps_commas_inside_quotes_and_angle_brackets():
    msg = Request(
        "REGISTER",
        "sip:contoso.com",
        [
            ("Contact", '"Bell, Alexander" <sip:a,2@b;x=1>;methods="INVITE, MESSAGE", <sip:c@d>'),
            ("Contact", "<sip:e@f>"),
        ],
    )
    assert msg.get_all("m") == ['"Bell, Alexander" <sip:a,2@b;x=1>;methods="INVITE, MESSAGE"', "<sip:c@d>", "<sip:e@f>"]


def test_get_all_never_splits_headers_whose_grammar_has_commas():
    msg = Request(
        "INVITE",
        "sip:b@c",
        [
            ("Date", "Sat, 13 Nov 2010 23:29:00 GMT"),
            ("Authorization", 'Digest realm="x", nonce="y", response="z"'),
            ("User-Agent", "UCCAPI/15.0 (Microsoft Lync, 2013)"),
        ],
    )
    assert msg.get_all("Date") == ["Sat, 13 Nov 2010 23:29:00 GMT"]
    assert msg.get_all("authorization") == ['Digest realm="x", nonce="y", response="z"']
    assert msg.get_all("User-Agent") == ["UCCAPI/15.0 (Microsoft Lync, 2013)"]


def test_get_all_drops_empty_elements_and_returns_empty_list_when_absent():
    msg = Request("OPTIONS", "sip:b@c", [("Allow", "INVITE,, ACK ,")])
    assert msg.get_all("Allow") == ["INVITE", "ACK"]
    assert msg.get_all("Accept") == []


def test_folded_header_value_is_unfolded():
    msg = parse_message(
        "OPTIONS sip:b@c SIP/2.0\r\nSubject: one\r\n two\r\n\tthree\r\nAccept: a/b,\r\n  c/d\r\n\r\n"
    )
    assert msg.get("Subject") == "one two three"
    assert msg.get_all("Accept") == ["a/b", "c/d"]


# ---- mutation ----------------------------------------------------------------------------------

def test_add_set_remove_header(invite):
    invite.add_header("X-Route-Hint", "pool2")
    assert invite.headers[-1] == Header("X-Route-Hint", "pool2")
    invite.set_header("supported", "gruu-10")  # replaces both, in the first one's place and spelling
    assert invite.get_all("Supported") == ["gruu-10"]
    names = [h.name for h in invite.headers]
    assert names.count("Supported") == 1 and names.index("Supported") == 7
    invite.set_header("X-New", "1")  # absent: appended
    assert invite.headers[-1] == Header("X-New", "1")
    assert invite.remove_header("x-route-hint") == 1
    assert invite.remove_header("X-Route-Hint") == 0
    assert invite.get("X-Route-Hint") is None


def test_set_header_on_a_compact_header_keeps_its_compact_name():
    msg = parse_message(b"OPTIONS sip:b@c SIP/2.0\r\nl: 0\r\n\r\n")
    msg.set_header("Content-Length", "0")
    assert msg.to_bytes() == b"OPTIONS sip:b@c SIP/2.0\r\nl: 0\r\n\r\n"


def test_header_names_and_values_are_checked():
    msg = Request("OPTIONS", "sip:b@c")
    with pytest.raises(UsageError):
        msg.add_header("Bad Name", "x")
    with pytest.raises(UsageError):
        msg.add_header("X-Injected", "a\r\nVia: evil")
    with pytest.raises(UsageError):
        Request("OPTIONS", "sip:b@c", ["To: x"])


def test_set_header_param_replaces_adds_and_removes(invite):
    assert invite.set_header_param("From", "epid", "99") is True
    assert invite.get("From") == '"Alice Smith" <sip:alice@contoso.com>;tag=0f3d8a2c71;epid=99'
    assert invite.set_header_param("To", "tag", "abc") is True
    assert invite.get("To") == "<sip:bob@contoso.com>;tag=abc"
    assert invite.set_header_param("From", "tag", "") is True
    assert invite.get("From") == '"Alice Smith" <sip:alice@contoso.com>;epid=99'
    assert invite.set_header_param("From", "epid", None) is True
    assert invite.get("From") == '"Alice Smith" <sip:alice@contoso.com>'


def test_set_header_param_touches_only_header_params_of_the_first_element():
    msg = Request(
        "REGISTER",
        "sip:contoso.com",
        [("Contact", '<sip:a@b;expires=1>;q="x;expires=2", <sip:c@d>;expires=3'), ("Contact", "<sip:e@f>")],
    )
    assert msg.set_header_param("Contact", "expires", "60")
    assert msg.headers[0].value == '<sip:a@b;expires=1>;q="x;expires=2";expires=60, <sip:c@d>;expires=3'
    assert msg.headers[1].value == "<sip:e@f>"


def test_set_header_param_false_cases(invite):
    assert invite.set_header_param("X-Missing", "a", "b") is False
    assert invite.set_header_param("To", "", "b") is False
    assert invite.set_header_param("To", "absent", "") is True  # removing what is not there: no change
    assert invite.get("To") == "<sip:bob@contoso.com>"


def test_set_body_updates_content_length_and_type(invite):
    invite.set_body("Hi, Bob!", content_type="text/plain; charset=UTF-8")
    assert invite.body == b"Hi, Bob!"
    assert invite.get("Content-Length") == "8"
    assert invite.get("Content-Type") == "text/plain; charset=UTF-8"
    assert invite.to_bytes().endswith(b"Content-Length: 8\r\n\r\nHi, Bob!")
    reparsed = parse_message(invite.to_bytes())
    assert reparsed.body == b"Hi, Bob!"


def test_assigning_content_or_body_keeps_content_length_right(invite):
    invite.content = "caf\u00e9"
    assert invite.body == "caf\u00e9".encode() and invite.get("Content-Length") == "5"
    invite.body = b""
    assert invite.get("Content-Length") == "0"


def test_set_body_adds_content_length_when_absent():
    msg = Request("MESSAGE", "sip:b@c")
    msg.set_body(b"x")
    assert msg.headers == [Header("Content-Length", "1")]


def test_request_uri_is_settable_and_checked(invite):
    invite.request_uri = "sip:bob@contoso.com;opaque=user:epid:abc;gruu"
    assert invite.to_bytes().startswith(b"INVITE sip:bob@contoso.com;opaque=user:epid:abc;gruu SIP/2.0\r\n")
    for bad in ("", "sip:a b", "<sip:a@b>", None):
        with pytest.raises(UsageError):
            invite.request_uri = bad


def test_copy_is_independent(invite):
    other = invite.copy()
    other.add_header("X-Copy", "1")
    other.set_header_param("To", "tag", "x")
    other.request_uri = "sip:carol@contoso.com"
    other.set_body("changed")
    assert invite.get("X-Copy") is None and invite.get("To") == "<sip:bob@contoso.com>"
    assert invite.request_uri == "sip:bob@contoso.com" and invite.body == b"Hello"
    assert invite.to_bytes() == INVITE
    assert repr(other) == "<Request INVITE sip:carol@contoso.com>"


def test_copy_keeps_the_original_text_of_headers():
    data = b"OPTIONS sip:b@c SIP/2.0\r\nTO :  <sip:b@c>\r\n\r\n"
    assert parse_message(data).copy().to_bytes() == data


# ---- construction ------------------------------------------------------------------------------

def test_build_a_request_and_response_by_hand():
    req = Request("MESSAGE", "sip:bob@contoso.com", [("To", "<sip:bob@contoso.com>"), Header("CSeq", "1 MESSAGE")], body="Hi")
    assert req.to_bytes() == b"MESSAGE sip:bob@contoso.com SIP/2.0\r\nTo: <sip:bob@contoso.com>\r\nCSeq: 1 MESSAGE\r\n\r\nHi"
    resp = Response(486, "Busy Here", [("CSeq", "1 MESSAGE")])
    assert str(resp) == "SIP/2.0 486 Busy Here\r\nCSeq: 1 MESSAGE\r\n\r\n"
    with pytest.raises(UsageError):
        Response(99, "Too small")
    with pytest.raises(UsageError):
        Request("IN VITE", "sip:b@c")


def test_create_response_copies_the_dialog_headers(invite):
    resp = invite.create_response(486, "Busy Here", headers=[("Retry-After", "60")])
    assert isinstance(resp, Response)
    assert [h.name for h in resp.headers] == ["Via", "From", "To", "Call-ID", "CSeq", "Retry-After", "Content-Length"]
    assert resp.get("Via") == invite.get("Via")
    assert resp.get("From") == invite.get("From")
    assert resp.get("Call-ID") == "7f3a9c2e5b8d4f1a" and resp.get("CSeq") == "1 INVITE"
    assert resp.get("Content-Length") == "0"
    assert repr(resp) == "<Response 486 Busy Here>"
    assert parse_message(resp.to_bytes()).get("Retry-After") == "60"


def test_create_response_adds_a_deterministic_to_tag(invite):
    tag = invite.create_response(200, "OK").get("To")
    assert tag.startswith("<sip:bob@contoso.com>;tag=")
    assert invite.copy().create_response(486, "Busy Here").get("To") == tag  # same request, same tag
    other = parse_message(INVITE.replace(b"Call-ID: 7f3a9c2e5b8d4f1a", b"Call-ID: another"))
    assert other.create_response(200, "OK").get("To") != tag
    assert invite.create_response(100, "Trying").get("To") == "<sip:bob@contoso.com>"  # 100 needs no tag


def test_create_response_keeps_an_existing_to_tag_and_all_vias():
    req = parse_message(
        b"BYE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TLS p1;branch=z9hG4bK1\r\nVia: SIP/2.0/TLS p2;branch=z9hG4bK2\r\n"
        b"To: <sip:a@b>;tag=keep\r\nCSeq: 2 BYE\r\n\r\n"
    )
    resp = req.create_response(200, "OK")
    assert resp.get_all("Via") == ["SIP/2.0/TLS p1;branch=z9hG4bK1", "SIP/2.0/TLS p2;branch=z9hG4bK2"]
    assert resp.get("To") == "<sip:a@b>;tag=keep"
    with pytest.raises(UsageError):
        req.create_response(700, "Nope")


# ---- learner mistakes ------------------------------------------------------------------------------

def test_missing_colon_names_the_line_and_says_what_to_write():
    text = "INVITE sip:bob@contoso.com SIP/2.0\nVia: SIP/2.0/TLS 192.0.2.1;branch=z9hG4bK1\nFrom sip:alice@contoso.com\n"
    with pytest.raises(SipParseError) as info:
        parse_message(text, filename="message.sip")
    err = info.value
    assert (err.filename, err.line, err.column) == ("message.sip", 3, 1)
    assert str(err).startswith("message.sip:3:1: error: header line has no ':' (got 'From sip:alice@contoso.com')")
    assert "From: sip:alice@contoso.com" in err.first.hint
    assert err.first.source == "From sip:alice@contoso.com"


def test_error_inside_a_folded_header_points_at_the_continuation_line():
    text = "INVITE sip:bob@contoso.com SIP/2.0\nTo: Bob\n  Smith <sip:bob@contoso.com>;tag=1;;x\n"
    with pytest.raises(SipParseError) as info:
        parse_message(text)
    d = info.value.first
    assert (d.line, d.column) == (3, 36)
    assert d.source[d.column - 1] == ";"
    assert "extraneous ';'" in d.message


def test_every_fault_is_reported_in_order():
    text = "OPTIONS sip:b@c SIP/2.0\nMax-Forwards: 300\nTo: Alice sip:alice@contoso.com\nContent Type: x\n"
    with pytest.raises(SipParseError) as info:
        parse_message(text)
    found = [(d.line, d.message) for d in info.value.diagnostics]
    assert [line for line, _ in found] == [2, 3, 4]
    assert "Max-Forwards 300" in found[0][1]
    assert "enclosed in <>" in found[1][1]
    assert "contains whitespace" in found[2][1]


def test_at_most_twenty_faults_are_reported_the_first_twenty_in_message_order():
    text = "OPTIONS sip:b@c SIP/2.0\n" + "".join(f"Max-Forwards: {300 + k}\n" for k in range(30))
    with pytest.raises(SipParseError) as info:
        parse_message(text)
    assert [d.line for d in info.value.diagnostics] == list(range(2, 22))


def test_text_that_is_not_utf8_points_at_the_whole_line():
    with pytest.raises(SipParseError) as info:
        parse_message("OPTIONS sip:b@c SIP/2.0\nSubject: a\fb\ud800\n\n")
    d = info.value.first
    assert (d.line, d.column) == (2, 13)
    assert d.source == "Subject: a\fb\\ud800"  # printable (text.shown): the caret still points at it


def test_indented_text_gets_a_dedent_hint():
    with pytest.raises(SipParseError) as info:
        parse_message("\n    OPTIONS sip:b@c SIP/2.0\n    To: <sip:b@c>\n")
    assert info.value.line == 2
    assert "textwrap.dedent" in info.value.first.hint


@pytest.mark.parametrize("data", [b"", "", b"\r\n\r\n", "   "])
def test_empty_input_is_an_error_not_a_crash(data):
    with pytest.raises(SipParseError) as info:
        parse_message(data)
    assert info.value.first.hint


def test_wrong_argument_type_is_a_usage_error():
    with pytest.raises(UsageError):
        parse_message(42)
