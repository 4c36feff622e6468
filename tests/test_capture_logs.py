"""Lync Server SIPStack logs and Lync and Skype for Business client UccApi logs as captures (lync_log.py, uccapi_log.py)."""
from __future__ import annotations

import pytest

from mspl_lite.capture import read_capture, textlog
from mspl_lite.capture.lync_log import record_time
from mspl_lite.sip import parse_message
from test_capture_formats import DATA, SESSION, gen, read

CLIENT, FE = gen.CLIENT, gen.FRONT_END

# The excerpt of a Microsoft support article (sources.md: ms-sipstack-log), addresses rewritten.
ARTICLE_RECORD = """TL_INFO(TF_PROTOCOL) [0]06E4.0EB4::01/18/2012-05:00:43.101.00005386 (SIPStack,SIPAdminLog::TraceProtocolRecord:SIPAdminLog.cpp(125))$$begin_record
Trace-Correlation-Id: 2003888399
Instance-Id: 0000C23F
Direction: incoming;source="internal edge";destination="external edge"
Peer: lyncserver.contoso.com:61182
Message-Type: request
Start-Line: OPTIONS sip:Options_User@fabrikam.com SIP/2.0
To: <sip:Options_User@fabrikam.com>
CSeq: 1 OPTIONS
Call-ID: 017b06f397b14886bba5edf97ea206bd
MAX-FORWARDS: 70
VIA: SIP/2.0/TLS 192.0.2.10:61182;branch=z9hG4bK6de49c9a
ROUTE: <sip:accessedge.fabrikam.com;transport=tls;lr>;ms-edge-route
CONTACT: <sip:lyncserver.contoso.com;transport=Tls>
CONTENT-LENGTH: 0
USER-AGENT: RTCC/4.0.0.0
Message-Body: -
$$end_record
TL_ERROR(TF_COMPONENT) [0]0860.0CDC::01/18/2012-05:07:42.622.000d0b31 (SIPStack,CSIPRequest::GetNextHopByRouteHeader:SIPRequest.cpp(2440))( 00000000028FDD70 ) Exit - route headers from untrusted source. Result 0xC3E93C5E(SIPPROXY_E_ROUTING)
LogType: diagnostic
Severity: warning
Text: Cannot process Route headers from a non-trusted source
SIP-Start-Line: OPTIONS sip:Options_User@fabrikam.com SIP/2.0
$$end_record
"""


def front_end_side():
    """(direction, peer side, message) of every message the Front End sent or received, in order."""
    out = []
    for src, dst, message in SESSION + gen.helpdesk_call():
        if FE in (src, dst):
            out.append(("incoming" if dst == FE else "outgoing", src if dst == FE else dst, message))
    return out


def test_the_published_record_form(tmp_path):
    path = tmp_path / "edge.log"
    path.write_text(ARTICLE_RECORD.replace("\n", "\r\n"), encoding="utf-8")
    cap = read_capture(path)
    [m] = list(cap)
    message = parse_message(m.data, filename=m.where)
    assert message.method == "OPTIONS" and message.get("Route").endswith(";ms-edge-route")
    assert (m.direction, m.src, m.dst, m.transport, m.line) == ("incoming", "lyncserver.contoso.com:61182", None,
                                                                 "log", 1)
    assert m.time == pytest.approx(1326862843.101)     # 01/18/2012 05:00:43.101, read as UTC (decision D106)
    assert m.where == f"{path}: line 1"
    assert not cap.stats.diagnostics                    # the TF_COMPONENT entry and its $$end_record: no record


def test_every_front_end_message_is_rebuilt_byte_for_byte():
    cap, messages = read("sipstack.log")
    expected = front_end_side()
    del expected[3]                                     # the fixture's fourth record lost its $$end_record
    assert [m.data for m in messages] == [m for _d, _p, m in expected]
    assert [m.direction for m in messages] == [d for d, _p, _m in expected]
    peers = {"192.0.2.10": "fe01.contoso.com", "192.0.2.40": "apppool01.contoso.com"}
    assert [m.src or m.dst for m in messages] == [f"{peers.get(p[0], p[0])}:{p[1]}" for _d, p, _m in expected]
    assert cap.stats.non_sip == 1                       # the TF_DIAG record


def test_a_record_without_end_record_is_located_and_reading_goes_on():
    cap, messages = read("sipstack.log")
    [d] = cap.stats.diagnostics
    lines = (DATA / "sipstack.log").read_text().splitlines()
    assert d.code == "no-end-record" and d.line == 71 and "$$begin_record" in lines[70]
    assert d.column == lines[70].index("$$begin_record") + 1 and d.source == lines[70]
    assert "line 87 starts another record" in d.message
    assert messages[3].line == 87
    assert "71:" in d.render().splitlines()[0]


def test_a_record_cut_by_the_end_of_the_file(tmp_path):
    path = tmp_path / "cut.log"
    path.write_text(ARTICLE_RECORD.split("Message-Body")[0])
    cap = read_capture(path)
    assert list(cap) == []
    assert [d.code for d in cap.stats.diagnostics] == ["no-end-record"]
    assert "the file ends" in cap.stats.diagnostics[0].message


def test_a_utf16_log_is_read_as_text(tmp_path):
    path = tmp_path / "unicode.log"
    path.write_bytes(b"\xff\xfe" + (DATA / "sipstack.log").read_text().encode("utf-16-le"))
    assert read_capture(path).format == "lync-log"
    assert [m.data for m in read_capture(path)] == [m.data for m in read_capture(DATA / "sipstack.log")]


def test_a_body_keeps_its_own_last_line_end():
    _cap, messages = read("sipstack.log")
    invite = messages[0].data
    assert invite.endswith(b"a=accept-types:text/plain\r\n")          # SDP lines end in CRLF
    im = [m.data for m in messages if m.data.startswith(b"MESSAGE")][0]
    assert im.endswith(b"/q3")                                         # the text ends without one
    for m in messages:
        parse_message(m.data, filename=m.where)


def test_an_overlong_line_is_skipped_not_read_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(textlog, "MAX_LOG_LINE", 1000)
    text = ARTICLE_RECORD.replace("USER-AGENT: RTCC/4.0.0.0", "X-Huge: " + "y" * 5000)
    path = tmp_path / "long.log"
    path.write_text(text)
    cap = read_capture(path)
    [m] = list(cap)
    assert b"X-Huge" not in m.data
    assert [d.code for d in cap.stats.diagnostics] == ["long-line"]


def test_record_time():
    assert record_time("TL_INFO(TF_PROTOCOL) [0]0A3C.0B44::11/14/2023-22:13:20.250.00001000 (SIPStack)") == \
        pytest.approx(gen.T0 + 0.25)
    assert record_time("TL_INFO(TF_PROTOCOL) no time here") is None
    assert record_time("x::13/45/2023-99:13:20.250") is None


def client_side():
    out = []
    for src, dst, message in SESSION:
        if CLIENT in (src, dst):
            out.append((src == CLIENT, src, dst, message))
    return out


def test_uccapi_packets_sent_and_received():
    cap, messages = read("uccapi.log")
    expected = client_side()
    assert [m.data for m in messages] == [m for *_x, m in expected]
    assert {m.direction for m in messages} == {None}        # a client's log: not "as a server log says"
    assert [(m.src, m.dst) for m in messages] == [(f"{s[0]}:{s[1]}", f"{d[0]}:{d[1]}") for _o, s, d, _m in expected]
    assert messages[0].time == pytest.approx(gen.T0)
    assert messages[0].where == f"{DATA / 'uccapi.log'}: line 1"
    assert not cap.stats.diagnostics


def test_uccapi_plain_form_ended_by_its_end_line(tmp_path):
    message = SESSION[0][2]
    lines = message.decode().split("\r\n")[:-1]
    stamp = "11/14/2023|22:13:20.000 1C38:1D5C INFO  :: "
    text = [stamp + f"Sending Packet - 192.0.2.10:5060 (From Local Address: 192.0.2.31:50250) {len(message)} bytes:",
            stamp + lines[0]] + lines[1:] + \
           [stamp + "End of Sending Packet - 192.0.2.10:5060 (From Local Address: 192.0.2.31:50250) "
                    f"{len(message)} bytes"]
    path = tmp_path / "client.uccapilog"
    path.write_text("\r\n".join(text) + "\r\n")
    assert [m.data for m in read_capture(path)] == [message]


def _plain_packet(message: bytes, verb: str, side: str, dash: str) -> list[str]:
    """One packet of a UccApi log in the form ended by its end line; ``dash`` is what follows the dash."""
    lines = message.decode().split("\r\n")[:-1]
    stamp = "04/16/2013|03:17:31.555 1F68:C14 INFO :: "
    addresses = f"192.0.2.10:5060 ({side} Local Address: 192.0.2.31:50250) {len(message)} bytes"
    return [stamp + f"{verb} -{dash}{addresses}:", stamp + lines[0]] + lines[1:] + \
           [stamp + f"End of {verb} -{dash}{addresses}"]


@pytest.mark.parametrize("sent_dash,received_dash", [(" ", ""), (" ", " "), ("", "")])
def test_uccapi_address_with_or_without_a_space_after_the_dash(tmp_path, sent_dash, received_dash):
    # A published excerpt (sources.md: msxfaq-parseuccapilog) has "End of Data Received -192.168..."
    # beside "End of Sending Packet - 192.168...": both packets are read, each the right way round.
    request, response = SESSION[0][2], SESSION[1][2]
    text = _plain_packet(request, "Sending Packet", "From", sent_dash) + \
        _plain_packet(response, "Data Received", "To", received_dash)
    path = tmp_path / "Lync-UccApi-0.UccApilog"
    path.write_text("\r\n".join(text) + "\r\n")
    cap = read_capture(path)
    messages = list(cap)
    assert cap.format == "uccapi-log"
    assert [m.data for m in messages] == [request, response]
    assert [(m.src, m.dst) for m in messages] == [("192.0.2.31:50250", "192.0.2.10:5060"),
                                                  ("192.0.2.10:5060", "192.0.2.31:50250")]
    assert not cap.stats.diagnostics


def test_uccapi_log_of_received_packets_only_is_told_by_its_content(tmp_path):
    # Nothing but received packets, written without the space: still told from a SIPStack log or a .sip file.
    response = SESSION[1][2]
    path = tmp_path / "received.txt"
    path.write_text("\r\n".join(_plain_packet(response, "Data Received", "To", "")) + "\r\n")
    cap = read_capture(path)
    assert cap.format == "uccapi-log"
    assert [m.data for m in cap] == [response]


def test_uccapi_packet_that_never_ends(tmp_path):
    text = (DATA / "uccapi.log").read_text().splitlines()
    cut = [line for line in text if "]]>" not in line][:20]
    path = tmp_path / "cut.uccapilog"
    path.write_text("\n".join(cut) + "\n")
    cap = read_capture(path)
    list(cap)
    assert "unfinished-packet" in [d.code for d in cap.stats.diagnostics]
    assert cap.stats.diagnostics[0].line == 1
