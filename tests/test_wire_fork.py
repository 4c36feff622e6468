"""A fork with simulated and real parties under ``mspl-lite serve`` (decision D100): the branch that
wins gets the call, every real branch still ringing gets CANCEL once the 2xx went up (RFC 3261 16.7
step 10), and a real branch that answers 2xx after another won gets an ACK and a BYE from the server.
The trace says of a real branch only what it had answered when the caller's response went up, and
shows its end once it came."""
from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import pytest

from mspl_lite.frontend import FrontEnd
from mspl_lite.frontend.labfile import parse_lab
from mspl_lite.sip import parse_message
from mspl_lite.wire import Server, Timing
from mspl_lite.wire.agent import UserAgent

FAST = Timing(t1=0.05, t2=0.4, t4=0.5, d=0.5)
LAB = (Path(__file__).resolve().parents[1] / "mspl_lite" / "data" / "lab.toml").read_text()
DESK = 'address = "192.0.2.11:50210"'      # Jenny's desk: simulated, answers at once (listed first)
PHONE = 'address = "192.0.2.12:50211"'     # Jenny's phone: simulated, rings (listed second)


def wait_for(predicate, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def methods(agent):
    return list(dict.fromkeys(r.method for r in agent.received))


@pytest.fixture
def agents():
    made = []

    def make(user, **kw):
        ua = UserAgent(user, timing=FAST, **kw)
        made.append(ua)
        return ua
    yield make
    for ua in made:
        ua.close()


def mixed_lab(port: int, *, real_first: bool = False) -> FrontEnd:
    """Jenny with one simulated endpoint that answers and one real contact at ``port``."""
    if real_first:      # the real one is the desk; the simulated phone answers too
        text = LAB.replace(DESK, f'contact = "127.0.0.1:{port}"').replace(
            PHONE + '\n  answers = "ring"', PHONE + '\n  answers = "answer"')
    else:
        text = LAB.replace(PHONE, f'contact = "127.0.0.1:{port}"')
    fe = FrontEnd(parse_lab(text))
    assert [bool(e.wire) for e in fe.registrations["jennyl@contoso.com"]] == [real_first, not real_first]
    return fe


class RawPhone:
    """Jenny's real contact as a bare UDP socket, so that a test decides when each answer is sent."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(5)
        self.port = self.sock.getsockname()[1]
        self.proxy = None

    def receive(self, method: str):
        """The next request ``method`` that arrives (responses and other requests are skipped)."""
        while True:
            data, self.proxy = self.sock.recvfrom(65535)
            message = parse_message(data)
            if getattr(message, "method", "") == method:
                return message

    def send(self, message) -> None:
        self.sock.sendto(message.to_bytes(), self.proxy)

    def close(self) -> None:
        self.sock.close()


def call_in_background(caller, server):
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("call", caller.invite("sip:jennyl@contoso.com",
                                                                                      server.address)))
    thread.start()
    return thread, result


def test_the_simulated_answer_wins_at_once_and_the_ringing_real_branch_is_cancelled(agents):
    phone = agents("sip:jennyl@contoso.com", ring=30)           # would ring for 30 s
    caller = agents("sip:nuriag@contoso.com")
    with Server(mixed_lab(phone.port), timing=FAST) as server:
        began = time.monotonic()
        call = caller.invite("sip:jennyl@contoso.com", server.address)
        took = time.monotonic() - began
        assert call.status == 200 and took < FAST.timeout       # not the 20 s ring time: 16.7 step 5
        assert phone.contact not in (call.final.get("Contact") or "")
        assert wait_for(lambda: methods(phone) == ["INVITE", "CANCEL", "ACK"])    # the 487's ACK, hop by hop
        trace = server.traces[0]
        assert trace.branches[0].final == (200, "OK") and trace.branches[1].cancelled
        assert [r.status_code for r in call.responses].count(200) == 1


def test_the_trace_shows_a_real_loser_as_cancel_sent_and_its_487_only_once_it_came(agents, tmp_path):
    """No 487 the party has not sent: until it answers the CANCEL, the trace has what came back so far (the
    simulated 200 goes up at once, usually before the 180 arrives) and 'CANCEL sent'."""
    phone = RawPhone()
    caller = agents("sip:nuriag@contoso.com")
    try:
        with Server(mixed_lab(phone.port), timing=FAST, trace_dir=tmp_path) as server:
            thread, result = call_in_background(caller, server)
            invite = phone.receive("INVITE")
            phone.send(invite.create_response(180, "Ringing"))
            cancel = phone.receive("CANCEL")
            thread.join(10)
            assert result["call"].status == 200
            real = server.traces[0].branches[1]
            assert real.final is None and real.cancelled and real.responses in ((), ((180, "Ringing"),))
            assert "CANCEL sent" in real.note and "487" not in real.note
            assert wait_for((tmp_path / "000001-INVITE.json").exists)            # --trace-dir: on its own thread
            written = json.loads((tmp_path / "000001-INVITE.json").read_text())
            assert written["branches"][1]["final"] is None
            phone.send(cancel.create_response(200, "OK"))
            phone.send(invite.create_response(487, "Request Terminated"))
            assert wait_for(lambda: server.traces[0].branches[1].final == (487, "Request Terminated"))
            real = server.traces[0].branches[1]
            assert real.responses == ((180, "Ringing"), (487, "Request Terminated"))
            assert "after the trace was written" in real.note
            assert server.traces[0].branches[0].final == (200, "OK")        # the winner, as it was
            assert phone.receive("ACK").get("CSeq") == invite.get("CSeq").replace("INVITE", "ACK")
        written = json.loads((tmp_path / "000001-INVITE.json").read_text())
        assert written["branches"][1]["final"] == 487                       # the file was written again
    finally:
        phone.close()


def test_a_real_branch_that_answers_after_the_simulated_one_won_gets_ack_then_bye(agents):
    phone = agents("sip:jennyl@contoso.com", answer=(200,))     # answers at once, no provisional
    caller = agents("sip:nuriag@contoso.com")
    with Server(mixed_lab(phone.port), timing=FAST) as server:
        call = caller.invite("sip:jennyl@contoso.com", server.address)
        assert call.status == 200 and phone.contact not in (call.final.get("Contact") or "")
        assert wait_for(lambda: methods(phone) == ["INVITE", "ACK", "BYE"])
        invite, ack, bye = (next(r for r in phone.received if r.method == m) for m in ("INVITE", "ACK", "BYE"))
        assert "tag=" in ack.get("To") and ack.get("To") == bye.get("To")
        assert ack.get("Call-ID") == bye.get("Call-ID") == invite.get("Call-ID")
        assert ack.get("CSeq") == "1 ACK" and bye.get("CSeq") == "2 BYE"
        assert ack.request_uri == bye.request_uri == phone.contact          # the 2xx's Contact
        exchange = server.exchanges[0]
        assert wait_for(lambda: any("got 200 OK" in n for n in exchange.notes))
        assert any("decision D100" in n for n in exchange.notes)
        assert wait_for(lambda: "the BYE got 200 OK" in server.traces[0].branches[1].note)
        real = server.traces[0].branches[1]
        assert real.responses == ((200, "OK"),) and "ACK, then BYE" in real.note   # its own 200, never a 487
        time.sleep(0.3)
        assert [r.status_code for r in call.responses].count(200) == 1      # one 2xx reached the caller


def test_a_2xx_that_crosses_the_cancel_is_acked_again_when_retransmitted(agents):
    """A UAS that answers 200 although it got CANCEL (the two cross on the wire), then retransmits it."""
    raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    raw.bind(("127.0.0.1", 0))
    raw.settimeout(5)
    caller = agents("sip:nuriag@contoso.com")
    try:
        with Server(mixed_lab(raw.getsockname()[1]), timing=FAST) as server:
            result = {}

            def call():
                result["call"] = caller.invite("sip:jennyl@contoso.com", server.address)
            t = threading.Thread(target=call)
            t.start()
            data, proxy = raw.recvfrom(65535)
            invite = parse_message(data)
            assert invite.method == "INVITE"
            raw.sendto(invite.create_response(180, "Ringing").to_bytes(), proxy)
            got = []
            while not any(m.method == "CANCEL" for m in got):
                got.append(parse_message(raw.recvfrom(65535)[0]))
            cancel = next(m for m in got if m.method == "CANCEL")
            t.join(10)
            before = server.traces[0].branches[1]       # written when the caller's 200 went up
            assert before.final is None and before.responses in ((), ((180, "Ringing"),))
            assert "CANCEL sent" in before.note
            raw.sendto(cancel.create_response(200, "OK").to_bytes(), proxy)
            ok = invite.create_response(200, "OK")
            ok.add_header("Contact", f"<sip:jenny@127.0.0.1:{raw.getsockname()[1]}>")
            raw.sendto(ok.to_bytes(), proxy)
            seen = []
            while "BYE" not in seen:
                message = parse_message(raw.recvfrom(65535)[0])
                seen.append(getattr(message, "method", "response"))
                if seen[-1] == "BYE":
                    raw.sendto(message.create_response(200, "OK").to_bytes(), proxy)
            assert [m for m in seen if m in ("ACK", "BYE")][:2] == ["ACK", "BYE"]   # retransmissions aside
            raw.sendto(ok.to_bytes(), proxy)                        # the 200 again: our ACK was lost
            again = parse_message(raw.recvfrom(65535)[0])
            while getattr(again, "method", "") != "ACK":
                again = parse_message(raw.recvfrom(65535)[0])
            assert again.get("To") == ok.get("To")
            after = server.traces[0].branches[1]
            assert after.responses == ((180, "Ringing"), (200, "OK")) and after.cancelled
            assert "crossed the CANCEL" in after.note and "ACK, then BYE" in after.note
            call = result["call"]
            assert call.status == 200
            time.sleep(0.2)
            assert [r.status_code for r in call.responses].count(200) == 1  # neither 200 reached the caller
    finally:
        raw.close()


def test_a_real_branch_listed_first_still_wins_when_it_answers(agents):
    """Decision D66's order: the simulated phone answers too, but the real desk is listed first."""
    desk = agents("sip:jennyl@contoso.com", ring=0.3)
    caller = agents("sip:nuriag@contoso.com")
    with Server(mixed_lab(desk.port, real_first=True), timing=FAST) as server:
        call = caller.invite("sip:jennyl@contoso.com", server.address)
        assert call.status == 200 and call.final.get("Contact") == f"<{desk.contact}>"
        trace = server.traces[0]
        assert trace.branches[0].final == (200, "OK") and trace.branches[1].cancelled
        assert trace.branches[1].final == (487, "Request Terminated")      # a simulated loser answers 487
        assert "BYE" not in methods(desk)


def test_when_the_real_branch_listed_first_declines_the_simulated_answer_wins(agents):
    desk = agents("sip:jennyl@contoso.com", answer=(180, 486))
    caller = agents("sip:nuriag@contoso.com")
    with Server(mixed_lab(desk.port, real_first=True), timing=FAST) as server:
        call = caller.invite("sip:jennyl@contoso.com", server.address)
        assert call.status == 200 and desk.contact not in (call.final.get("Contact") or "")
        assert wait_for(lambda: methods(desk) == ["INVITE", "ACK"])     # the 486's ACK; no CANCEL, no BYE
        trace = server.traces[0]
        assert trace.branches[0].final == (486, "Busy Here") and trace.branches[1].final == (200, "OK")
