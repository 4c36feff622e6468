"""A call through ``mspl-lite serve`` to a party the lab simulates can be hung up (decision D122): the
simulated party's 200 carries a Contact at the server (RFC 3261 12.1.1), its ACK is absorbed, a BYE
in its dialog gets 200 (15.1.2) and one in no dialog 481 (12.2.2); the dialogs are bounded. The
caller is a bare UDP socket, so that each test sees every datagram the server sends it."""
from __future__ import annotations

import socket
import time

import pytest

from mspl_lite.frontend import FrontEnd
from mspl_lite.sip import parse_message
from mspl_lite.wire import Server, Timing
from mspl_lite.wire import simulated as simulated_module
from mspl_lite.wire.agent import UserAgent

#: T1 = 200 ms: the 200 is sent again soon, yet a caller that ACKs at once always beats it.
TIMING = Timing(t1=0.2, t2=0.8, t4=0.5, d=0.5)
SDP = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n"


class Caller:
    """Terry as one UDP socket on 127.0.0.1: builds the requests of one call, reads what comes back."""

    def __init__(self, server, *, callee="jennyl@contoso.com", call_id=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server = server.address
        self.callee = callee
        self.call_id = call_id or f"dialog-{self.port}@127.0.0.1"
        self.branches = iter(range(1, 10_000))
        self.to = f"<sip:{callee}>"         # with the callee's tag once the 200 came

    def close(self):
        self.sock.close()

    def request(self, method, uri=None, *, cseq=1, body="", call_id=None, to=None, headers=()):
        lines = [f"{method} {uri or 'sip:' + self.callee} SIP/2.0",
                 f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK-t{self.port}-{next(self.branches)};rport",
                 "Max-Forwards: 70", f"From: <sip:terrya@contoso.com>;tag=terry{self.port}",
                 f"To: {to or self.to}", f"Call-ID: {call_id or self.call_id}",
                 f"CSeq: {cseq} {method}",
                 f"Contact: <sip:terrya@127.0.0.1:{self.port}>", *headers]
        if body:
            lines += ["Content-Type: application/sdp", f"Content-Length: {len(body)}", "", body]
        else:
            lines += ["Content-Length: 0", "", ""]
        self.sock.sendto("\r\n".join(lines).encode(), self.server)

    def read(self, timeout=5.0):
        """The next message, or None when nothing comes within ``timeout``."""
        self.sock.settimeout(timeout)
        try:
            return parse_message(self.sock.recvfrom(65535)[0])
        except socket.timeout:
            return None

    def final(self, timeout=5.0):
        while True:
            message = self.read(timeout)
            if message is None or message.status_code >= 200:
                return message

    def call(self):
        """INVITE, up to its 200; the To tag kept for the dialog's requests."""
        self.request("INVITE", body=SDP)
        ok = self.final()
        assert ok is not None and ok.status_code == 200, ok
        self.to = ok.get("To")
        return ok

    def remote_target(self, ok):
        contact = ok.get("Contact")
        return contact.split("<", 1)[1].split(">", 1)[0]


@pytest.fixture
def server():
    with Server(FrontEnd(), timing=TIMING) as running:
        yield running


@pytest.fixture
def callers(server):
    made = []

    def make(**kw):
        made.append(Caller(server, **kw))
        return made[-1]
    yield make
    for caller in made:
        caller.close()


def test_the_simulated_partys_200_names_the_server_and_the_call_hangs_up_with_200(server, callers):
    terry = callers()
    ok = terry.call()
    target = terry.remote_target(ok)
    assert target == f"sip:jennyl@127.0.0.1:{server.port};transport=udp"      # RFC 3261 12.1.1
    assert not ok.get_all("Record-Route")       # the server is the far end: no route set
    terry.request("ACK", target)
    assert terry.read(timeout=8 * TIMING.t1) is None       # absorbed: no response, and the 200 is not sent again
    terry.request("BYE", target, cseq=2)
    bye = terry.final()
    assert (bye.status_code, bye.get("CSeq"), bye.get("To")) == (200, "2 BYE", terry.to)
    terry.request("BYE", target, cseq=3)                # the dialog ended with the first BYE
    assert terry.final().status_code == 481
    assert server.ladder({f"127.0.0.1:{terry.port}": "Terry"})[-5:] == [        # what notebook 13 draws
        ("Terry", "mspl-lite", "ACK"), ("Terry", "mspl-lite", "BYE"), ("mspl-lite", "Terry", "200 OK"),
        ("Terry", "mspl-lite", "BYE"), ("mspl-lite", "Terry", "481 Call/Transaction Does Not Exist")]
    notes = [n for x in server.exchanges if x.method == "BYE" for n in x.notes]
    assert any("decision D122" in n and "answered 200 OK" in n for n in notes)


def test_a_proxy_before_the_server_keeps_its_record_route_in_the_200(server, callers):
    terry = callers()
    rr = ["Record-Route: <sip:127.0.0.9:5060;lr>", "Record-Route: <sip:127.0.0.8:5060;lr>"]
    terry.request("INVITE", body=SDP, headers=rr)
    ok = terry.final()
    assert ok.get_all("Record-Route") == ["<sip:127.0.0.9:5060;lr>", "<sip:127.0.0.8:5060;lr>"]   # 12.1.1, in order


def test_a_bye_with_an_unknown_call_id_or_tag_gets_481(server, callers):
    terry = callers()
    ok = terry.call()
    target = terry.remote_target(ok)
    terry.request("ACK", target)
    terry.request("BYE", target, cseq=2, call_id="nobody-knows@127.0.0.1")
    assert terry.final().status_code == 481
    terry.request("BYE", target, cseq=2, to="<sip:jennyl@contoso.com>;tag=not-hers")
    assert terry.final().status_code == 481
    terry.request("BYE", target, cseq=2)                 # the call itself is still up
    assert terry.final().status_code == 200


def test_over_udp_the_200_is_sent_again_until_the_ack_comes(server, callers):
    terry = callers()
    ok = terry.call()
    again = [terry.read(timeout=2.0) for _ in range(3)]     # T1, then 2*T1, 4*T1 (RFC 3261 13.3.1.4)
    assert [m.status_code if m else None for m in again] == [200, 200, 200]
    assert all(m.to_bytes() == ok.to_bytes() for m in again)
    terry.request("ACK", terry.remote_target(ok))
    time.sleep(2 * TIMING.t2)
    while (late := terry.read(timeout=0.01)) is not None:   # one may have crossed the ACK
        assert late.status_code == 200
    assert terry.read(timeout=4 * TIMING.t2) is None


def test_inside_the_dialog_an_offer_gets_488_and_what_changes_nothing_200(server, callers):
    terry = callers()
    target = terry.remote_target(terry.call())
    terry.request("ACK", target)
    terry.request("INVITE", target, cseq=2, body=SDP)      # a re-INVITE: no media to change
    refused = terry.final()
    assert refused.status_code == 488 and "no media" in refused.get("Warning")
    terry.request("ACK", target, cseq=2)                   # the 488's ACK, hop by hop
    answers = {}
    for cseq, method in enumerate(("INFO", "MESSAGE", "OPTIONS", "UPDATE", "REFER"), start=3):
        terry.request(method, target, cseq=cseq)
        answers[method] = terry.final()
    assert {m: r.status_code for m, r in answers.items()} == {"INFO": 200, "MESSAGE": 200, "OPTIONS": 200,
                                                              "UPDATE": 200, "REFER": 405}
    assert "BYE" in answers["REFER"].get("Allow") and "REFER" not in answers["REFER"].get("Allow")
    terry.request("INFO", target, cseq=4)                  # lower than the last CSeq: out of order (12.2.2)
    assert terry.final().status_code == 500
    terry.request("BYE", target, cseq=9)                   # the session survived the 488
    assert terry.final().status_code == 200


def test_a_bye_in_a_real_partys_dialog_is_still_forwarded_to_that_party():
    with UserAgent("sip:jennyl@contoso.com", timing=TIMING) as jenny, \
            UserAgent("sip:terrya@contoso.com", timing=TIMING) as terry, \
            Server(FrontEnd(), contacts={"sip:jennyl@contoso.com": f"127.0.0.1:{jenny.port}"},
                   timing=TIMING) as server:
        call = terry.invite("sip:jennyl@contoso.com", server.address)
        assert call.status == 200 and f"127.0.0.1:{jenny.port}" in call.final.get("Contact")
        assert len(server.core.simulated) == 0
        hangup = terry.bye(call, server.address)
        assert hangup.status == 200
        assert [r.method for r in jenny.received if r.method == "BYE"] == ["BYE"]
        # the ACK of the 2xx is a request of the dialog: Terry sends it to Jenny's Contact, the remote target
        # (RFC 3261 13.2.2.4, 12.2.1.1), not to her address of record, as he does the BYE
        contact = call.final.get("Contact").split("<", 1)[1].split(">", 1)[0]
        acks = [e.first_line for x in server.exchanges for e in x.events
                if e.direction == "in" and e.peer == f"127.0.0.1:{terry.port}" and e.first_line.startswith("ACK ")]
        assert acks == [f"ACK {contact} SIP/2.0"]
        assert hangup.request.request_uri == contact


def test_the_dialogs_kept_are_bounded_the_oldest_forgotten_first(server, callers, monkeypatch):
    monkeypatch.setattr(simulated_module, "MAX_SIMULATED_DIALOGS", 2)
    calls = [callers() for _ in range(3)]
    targets = []
    for terry in calls:
        ok = terry.call()
        targets.append(terry.remote_target(ok))
        terry.request("ACK", targets[-1])
    assert len(server.core.simulated) == 2
    statuses = []
    for terry, target in zip(calls, targets):
        terry.request("BYE", target, cseq=2)
        statuses.append(terry.final().status_code)
    assert statuses == [481, 200, 200]
    assert len(server.core.simulated) == 0


def test_a_dialog_nobody_uses_is_forgotten_after_its_idle_time(server, callers, monkeypatch):
    monkeypatch.setattr(simulated_module, "DIALOG_IDLE_SECONDS", 0.2)
    terry = callers()
    target = terry.remote_target(terry.call())
    terry.request("ACK", target)
    deadline = time.monotonic() + 5                      # the server sweeps once a second
    while len(server.core.simulated) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(server.core.simulated) == 0
    terry.request("BYE", target, cseq=2)
    assert terry.final().status_code == 481


def test_over_tcp_the_contact_says_tcp_and_the_200_comes_again_until_the_ack(server):
    sock = socket.create_connection(server.address, timeout=5)
    try:
        port = sock.getsockname()[1]
        invite = (f"INVITE sip:jennyl@contoso.com SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:{port};branch=z9hG4bK-tcp1\r\n"
                  f"Max-Forwards: 70\r\nFrom: <sip:terrya@contoso.com>;tag=t1\r\nTo: <sip:jennyl@contoso.com>\r\n"
                  f"Call-ID: tcp-{port}\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
        sock.sendall(invite.encode())
        data = b""
        while b"SIP/2.0 200" not in data or not data.endswith(b"\r\n\r\n"):
            data += sock.recv(65535)
        ok = parse_message(data[data.index(b"SIP/2.0 200"):])
        assert f"@127.0.0.1:{server.port};transport=tcp>" in ok.get("Contact")
        sock.settimeout(2.0)
        assert sock.recv(65535) == ok.to_bytes()         # 13.3.1.4: whatever the transport
        ack = (invite.replace("INVITE sip:jennyl@contoso.com", f"ACK sip:jennyl@127.0.0.1:{server.port};transport=tcp")
               .replace("z9hG4bK-tcp1", "z9hG4bK-tcp3").replace("To: <sip:jennyl@contoso.com>", f"To: {ok.get('To')}")
               .replace("1 INVITE", "1 ACK"))
        sock.sendall(ack.encode())
        time.sleep(2 * TIMING.t2)
        sock.settimeout(0.01)
        try:
            while sock.recv(65535).startswith(b"SIP/2.0 200"):     # one may have crossed the ACK
                pass
        except socket.timeout:
            pass
        sock.settimeout(4 * TIMING.t2)
        with pytest.raises(socket.timeout):
            sock.recv(65535)
        bye = (invite.replace("INVITE sip:jennyl@contoso.com", f"BYE sip:jennyl@127.0.0.1:{server.port};transport=tcp")
               .replace("z9hG4bK-tcp1", "z9hG4bK-tcp2").replace("To: <sip:jennyl@contoso.com>", f"To: {ok.get('To')}")
               .replace("1 INVITE", "2 BYE"))
        sock.sendall(bye.encode())
        sock.settimeout(5)
        answer = parse_message(sock.recv(65535))
        assert (answer.status_code, answer.get("CSeq")) == (200, "2 BYE")
    finally:
        sock.close()
