"""The loopback proxy and registrar end to end with Python user agents (no SIPp): real packets
on 127.0.0.1, the FrontEnd's chain deciding, the Trace of each transaction."""
from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from mspl_lite.errors import UsageError
from mspl_lite.frontend import FrontEnd
from mspl_lite.frontend.labfile import parse_lab
from mspl_lite.sip import parse_message
from mspl_lite.wire import Server, Timing
from mspl_lite.wire import proxy as proxy_module
from mspl_lite.wire.addresses import is_loopback
from mspl_lite.wire.agent import UserAgent

#: Fast timers for the tests (T1 = 50 ms): retransmissions come quickly, Timer B/F after 3.2 s.
FAST = Timing(t1=0.05, t2=0.4, t4=0.5, d=0.5)
DEFAULT_LAB = (Path(__file__).resolve().parents[1] / "mspl_lite" / "data" / "lab.toml").read_text()
MANIFEST = """<?xml version="1.0"?>
<r:applicationManifest r:appUri="http://www.contoso.com/{name}" xmlns:r="http://schemas.microsoft.com/lcs/2006/05">
  <r:allowRegistrationBeforeUserServices/>
  <r:requestFilter methodNames="INVITE" strictRoute="false" registrarGenerated="false"/>
  <r:responseFilter reasonCodes="ALL"/>
  <r:proxyByDefault action="true"/>
  <r:scriptOnly/>
  <r:splScript><![CDATA[
{script}
]]></r:splScript>
</r:applicationManifest>
"""


def app(tmp_path, name, script):
    path = tmp_path / f"{name}.am"
    path.write_text(MANIFEST.replace("{name}", name).replace("{script}", script))
    return path


def wait_for(predicate, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


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


def methods(agent):
    """The methods an agent received, each once (a request the proxy retransmitted under load
    by Timer A/E counts once): the order of first arrival."""
    return list(dict.fromkeys(r.method for r in agent.received))


def serve(fe, **kw):
    kw.setdefault("timing", FAST)
    return Server(fe, **kw)


def test_a_call_reaches_the_agent_that_plays_a_lab_user(agents):
    nuria = agents("sip:nuriag@contoso.com")
    jenny = agents("sip:jennyl@contoso.com")
    fe = FrontEnd()
    with serve(fe, contacts={"sip:nuriag@contoso.com": f"127.0.0.1:{nuria.port}"}) as server:
        call = jenny.invite("sip:nuriag@contoso.com", server.address)
        assert call.summary() == "INVITE -> 100 Trying, 180 Ringing, 200 OK"
        invite = nuria.received[0]
        # the proxy's own Via on top (RFC 3261 16.6 step 8), Record-Route, Max-Forwards - 1
        assert invite.get_all("Via")[0].startswith(f"SIP/2.0/UDP 127.0.0.1:{server.port};branch=z9hG4bK")
        assert len(invite.get_all("Via")) == 2 and invite.get("Max-Forwards") == "69"
        assert invite.get("Record-Route") == f"<sip:127.0.0.1:{server.port};transport=udp;lr>"
        # the caller gets the real answer: the callee's To tag and Contact, one Via (its own)
        assert call.final.get("To") == call.final.get("To") and "tag=" in call.final.get("To")
        assert call.final.get("Contact") == f"<{nuria.contact}>" and len(call.final.get_all("Via")) == 1
        bye = jenny.bye(call, server.address)
        assert bye.summary() == "BYE -> 200 OK" and methods(nuria) == ["INVITE", "ACK", "BYE"]
        trace = server.traces[0]
        assert trace.outcome.decided_by == "DefaultRouting" and trace.outcome.status == 200
        assert trace.branches[0].response.startswith("SIP/2.0 200 OK")
        assert "a real user agent at 127.0.0.1" in trace.branches[0].party


def test_register_then_call_then_unregister(agents):
    nuria = agents("sip:nuriag@contoso.com")
    jenny = agents("sip:jennyl@contoso.com")
    fe = FrontEnd()
    with serve(fe) as server:
        registered = nuria.register(server.address, expires=300)
        assert registered.status == 200
        # the 200 names the Contact she registered (RFC 3261 10.3 step 8), with the Registrar's parameters
        assert registered.final.get("Contact").startswith(f"<{nuria.contact}>;expires=300;gruu=")
        (endpoint,) = fe.registrations["nuriag@contoso.com"]      # her simulated client is replaced (D96)
        assert endpoint.wire == "udp" and endpoint.address == f"127.0.0.1:{nuria.port}"
        assert jenny.invite("sip:nuriag@contoso.com", server.address).status == 200
        assert nuria.received[-1].method in ("INVITE", "ACK")
        assert nuria.register(server.address, expires=0).status == 200
        assert fe.registrations["nuriag@contoso.com"] == ()
        assert jenny.invite("sip:nuriag@contoso.com", server.address).status == 480


def test_a_registration_expires(agents):
    nuria = agents("sip:nuriag@contoso.com")
    fe = FrontEnd()
    with serve(fe) as server:
        assert nuria.register(server.address, expires=1).status == 200
        assert fe.registrations["nuriag@contoso.com"]
        assert wait_for(lambda: fe.registrations["nuriag@contoso.com"] == (), 5)


def test_retargeting_application_sends_the_call_to_another_agent(tmp_path, agents):
    nuria, jenny_ua = agents("sip:nuriag@contoso.com"), agents("sip:jennyl@contoso.com")
    caller = agents("sip:terryt@contoso.com")
    fe = FrontEnd()
    fe.register(app(tmp_path, "Forward", 'if (sipRequest && ContainsString(sipRequest.RequestUri, "jennyl", true)) '
                                         '{ RetargetRequest("sip:nuriag@contoso.com"); }'))
    contacts = {"sip:nuriag@contoso.com": f"127.0.0.1:{nuria.port}", "sip:jennyl@contoso.com": f"127.0.0.1:{jenny_ua.port}"}
    with serve(fe, contacts=contacts) as server:
        assert caller.invite("sip:jennyl@contoso.com", server.address).status == 200
        assert methods(nuria)[:1] == ["INVITE"] and jenny_ua.received == []
        trace = server.traces[0]
        assert trace.hop("Forward").effect == "retargeted" and trace.outcome.decided_by == "DefaultRouting"


def test_proxy_request_to_an_agent_no_builtin_would_choose(tmp_path, agents):
    uas = agents("sip:anyone@example.net")
    caller = agents("sip:jennyl@contoso.com")
    fe = FrontEnd()
    fe.register(app(tmp_path, "ToLab", f'if (sipRequest) {{ ProxyRequest("sip:lab@127.0.0.1:{uas.port}"); }}'))
    with serve(fe) as server:
        assert caller.invite("sip:nuriag@contoso.com", server.address).status == 200
        assert uas.received[0].request_uri == f"sip:lab@127.0.0.1:{uas.port}"
        assert server.traces[0].outcome.decided_by == "ToLab"


def test_an_application_answers_with_respond(tmp_path, agents):
    nuria, caller = agents("sip:nuriag@contoso.com"), agents("sip:jennyl@contoso.com")
    fe = FrontEnd()
    fe.register(app(tmp_path, "Busy", 'if (sipRequest) { Respond(486, "Busy Here"); }'))
    with serve(fe, contacts={"sip:nuriag@contoso.com": f"127.0.0.1:{nuria.port}"}) as server:
        call = caller.invite("sip:nuriag@contoso.com", server.address)
        assert call.summary() == "INVITE -> 100 Trying, 486 Busy Here" and nuria.received == []
        # the non-2xx ACK comes to the server transaction, which then stops retransmitting (17.2.1)
        assert wait_for(lambda: server.exchanges and
                        [e.first_line.split()[0] for e in server.exchanges[0].events].count("ACK") == 1)
        assert wait_for(lambda: server.core.server_txns == {})


def test_cancel_before_answer(agents):
    nuria = agents("sip:nuriag@contoso.com", ring=5)
    caller = agents("sip:jennyl@contoso.com")
    with serve(FrontEnd(), contacts={"sip:nuriag@contoso.com": f"127.0.0.1:{nuria.port}"}) as server:
        call = caller.invite("sip:nuriag@contoso.com", server.address, cancel_after=0.1)
        assert call.summary() == "INVITE -> 100 Trying, 180 Ringing, 487 Request Terminated"
        assert call.cancel.status == 200
        assert wait_for(lambda: methods(nuria) == ["INVITE", "CANCEL", "ACK"])


def test_the_ring_timer_cancels_a_call_nobody_answers(agents):
    nuria = agents("sip:nuriag@contoso.com", ring=30)
    caller = agents("sip:jennyl@contoso.com")
    fe = FrontEnd(parse_lab(DEFAULT_LAB.replace("ring_seconds = 20", "ring_seconds = 1")))
    with serve(fe, contacts={"sip:nuriag@contoso.com": f"127.0.0.1:{nuria.port}"}) as server:
        call = caller.invite("sip:nuriag@contoso.com", server.address)
        # the server cancelled its own branch: the caller gets 480 as from the simulator's ringing endpoints
        assert call.status == 480
        assert methods(nuria)[:2] == ["INVITE", "CANCEL"]


def raw_udp():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    return sock


def invite_text(port, branch="z9hG4bK-raw1", mf="70", via_host=None, call_id="raw1@127.0.0.1"):
    return (f"INVITE sip:nuriag@contoso.com SIP/2.0\r\nVia: SIP/2.0/UDP {via_host or '127.0.0.1:' + str(port)};"
            f"branch={branch};rport\r\nMax-Forwards: {mf}\r\nFrom: <sip:jennyl@contoso.com>;tag=r1\r\n"
            f"To: <sip:nuriag@contoso.com>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\n"
            f"Contact: <sip:jennyl@127.0.0.1:{port}>\r\nContent-Length: 0\r\n\r\n").encode()


def read(sock, n=1):
    return [parse_message(sock.recvfrom(65535)[0]) for _ in range(n)]


def test_a_retransmitted_invite_is_absorbed_and_the_callee_is_retransmitted_to():
    callee, caller = raw_udp(), raw_udp()
    fe = FrontEnd()
    with serve(fe, contacts={"sip:nuriag@contoso.com": f"127.0.0.1:{callee.getsockname()[1]}"}) as server:
        data = invite_text(caller.getsockname()[1])
        caller.sendto(data, server.address)
        (trying,) = read(caller)
        assert trying.status_code == 100
        first, again = read(callee, 2)           # no answer from the callee: Timer A sends it again
        assert first.to_bytes() == again.to_bytes()
        caller.sendto(data, server.address)      # the caller retransmits: the last response, not a new chain run
        (trying_again,) = read(caller)
        assert trying_again.status_code == 100
        callee.sendto(first.create_response(486, "Busy Here").to_bytes(), server.address)
        (busy,) = [m for m in read(caller, 1)]
        assert busy.status_code == 486
        assert len(server.traces) == 1
        seen = []
        while not seen or seen[-1].method != "ACK":       # the hop-by-hop ACK of the 486 (17.1.1.3)
            seen += read(callee)
        assert {m.method for m in seen} <= {"INVITE", "ACK"}
    callee.close()
    caller.close()


def test_a_malformed_datagram_gets_400_with_a_warning_and_garbage_is_only_logged():
    sock = raw_udp()
    logged = []
    with serve(FrontEnd(), log=logged.append) as server:
        port = sock.getsockname()[1]
        bad = invite_text(port).replace(b"Max-Forwards: 70", b"Max-Forwards: many")
        sock.sendto(bad, server.address)
        (answer,) = read(sock)
        assert answer.status_code == 400 and answer.get("Warning").startswith(f'399 127.0.0.1 "')
        assert "Max-Forwards" in answer.get("Warning")
        sock.sendto(b"\x00\xffnot sip at all", server.address)
        assert wait_for(lambda: logged) and "cannot be answered" in logged[0]
        sock.sendto(invite_text(port, branch="z9hG4bK-after").replace(b"INVITE", b"OPTIONS"), server.address)
        assert read(sock)[0].status_code in (200, 404)           # the server still serves
        assert server.core.bad == 2


def test_max_forwards_zero_and_a_loop():
    sock = raw_udp()
    with serve(FrontEnd()) as server:
        port = sock.getsockname()[1]
        sock.sendto(invite_text(port, mf="0"), server.address)
        assert read(sock)[0].status_code == 483
        looped = invite_text(port, branch="z9hG4bK-l2").replace(
            b"Max-Forwards", f"Via: SIP/2.0/UDP 127.0.0.1:{server.port};branch=z9hG4bKold\r\nMax-Forwards".encode())
        sock.sendto(looped, server.address)
        assert read(sock)[0].status_code == 482
    sock.close()


def test_a_flood_of_new_transactions_is_bounded(monkeypatch):
    monkeypatch.setattr(proxy_module, "MAX_TRANSACTIONS", 5)
    silent, caller = raw_udp(), raw_udp()           # a callee that never answers: transactions stay
    with serve(FrontEnd(), contacts={"sip:nuriag@contoso.com": f"127.0.0.1:{silent.getsockname()[1]}"}) as server:
        port = caller.getsockname()[1]
        for i in range(12):
            caller.sendto(invite_text(port, branch=f"z9hG4bK-f{i}", call_id=f"f{i}"), server.address)
        statuses = [m.status_code for m in read(caller, 12)]
        assert statuses.count(100) == 5 and statuses.count(503) == 7
        assert server.core.refused == 7 and len(server.core.server_txns) == 5
    silent.close()
    caller.close()


def test_never_sends_outside_loopback(tmp_path, agents):
    nuria, caller = agents("sip:nuriag@contoso.com"), agents("sip:jennyl@contoso.com")
    fe = FrontEnd()
    fe.register(app(tmp_path, "Away", 'if (sipRequest && ContainsString(sipRequest.RequestUri, "terry", true)) '
                                      '{ ProxyRequest("sip:terry@198.51.100.7:5060"); }'))
    with serve(fe, contacts={"sip:nuriag@contoso.com": f"127.0.0.1:{nuria.port}"}) as server:
        sent = []
        original = server._send
        server.core.sender = lambda peer, data: (sent.append(peer.host), original(peer, data))
        assert caller.invite("sip:terryt@contoso.com", server.address).status == 408   # simulated: nobody there
        assert caller.invite("sip:jennyl@contoso.com", server.address).status == 200   # her simulated clients
        assert caller.invite("sip:nuriag@contoso.com", server.address).status == 200   # real
        # a REGISTER naming a contact outside loopback creates no real endpoint
        register = caller.new_request("REGISTER", "sip:contoso.com", to="<sip:jennyl@contoso.com>")
        register.set_header("Contact", "<sip:jennyl@203.0.113.5:5060>")
        assert caller.send(register, server.address).status == 200
        assert caller.invite("sip:jennyl@contoso.com", server.address).status == 480
        assert sent and all(is_loopback(h) for h in sent)
    with pytest.raises(UsageError):
        Server(FrontEnd(), listen=("0.0.0.0", 0))


def tcp(server):
    sock = socket.create_connection(server.address, timeout=5)
    return sock


def read_tcp(sock, count):
    from mspl_lite.wire.framing import StreamFramer
    framer, out = StreamFramer(), []
    while len(out) < count:
        data = sock.recv(65536)
        if not data:
            break
        out += framer.feed(data)
    return [parse_message(m) for m in out]


def test_tcp_framing_two_messages_in_one_write_and_an_endless_header():
    with serve(FrontEnd()) as server:
        sock = tcp(server)
        port = sock.getsockname()[1]
        one = invite_text(port, branch="z9hG4bK-t1").replace(b"INVITE", b"OPTIONS").replace(b"/UDP", b"/TCP")
        two = one.replace(b"z9hG4bK-t1", b"z9hG4bK-t2")
        sock.sendall(b"\r\n\r\n" + one + two)          # a keep-alive ping, then two requests at once
        assert sock.recv(2) == b"\r\n"                  # the pong (decision D98)
        answers = read_tcp(sock, 2)
        assert [a.get("Via").split("branch=")[1].split(";")[0] for a in answers] == ["z9hG4bK-t1", "z9hG4bK-t2"]
        sock.close()
        sock = tcp(server)
        sock.sendall(b"OPTIONS sip:x SIP/2.0\r\n" + b"X-Forever: aaaaaaaaaa\r\n" * 4000)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        assert data.startswith(b"SIP/2.0 400 Bad Request") and server.bad_streams == 1
        sock.close()


def test_trace_dir_files(tmp_path, agents):
    nuria, caller = agents("sip:nuriag@contoso.com"), agents("sip:jennyl@contoso.com")
    with serve(FrontEnd(), trace_dir=tmp_path, contacts={"sip:nuriag@contoso.com": f"127.0.0.1:{nuria.port}"}) as server:
        call = caller.invite("sip:nuriag@contoso.com", server.address)
        caller.bye(call, server.address)
        assert wait_for(lambda: (tmp_path / "000003-BYE.json").exists())
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["000001-INVITE.json", "000001-INVITE.txt", "000002-ACK.json", "000002-ACK.txt",
                     "000003-BYE.json", "000003-BYE.txt"]
    invite = json.loads((tmp_path / "000001-INVITE.json").read_text())
    assert invite["outcome"]["status"] == 200 and invite["hops"]
    lines = [m["first_line"] for m in invite["wire"]["messages"]]
    assert lines[0].startswith("INVITE sip:nuriag@contoso.com") and "SIP/2.0 200 OK" in lines
    assert {m["direction"] for m in invite["wire"]["messages"]} == {"in", "out"}
    assert "On the wire:" in (tmp_path / "000001-INVITE.txt").read_text()


def test_ladder_names_peers_and_shows_no_port(agents):
    nuria, caller = agents("sip:nuriag@contoso.com"), agents("sip:jennyl@contoso.com")
    with serve(FrontEnd(), contacts={"sip:nuriag@contoso.com": f"127.0.0.1:{nuria.port}"}) as server:
        caller.invite("sip:nuriag@contoso.com", server.address)
        assert wait_for(lambda: len(server.exchanges) >= 2)
        rows = server.ladder({f"127.0.0.1:{nuria.port}": "Nuria", f"127.0.0.1:{caller.port}": "Jenny"})
    assert rows[:5] == [("Jenny", "mspl-lite", "INVITE"), ("mspl-lite", "Jenny", "100 Trying"),
                        ("mspl-lite", "Nuria", "INVITE"), ("Nuria", "mspl-lite", "180 Ringing"),
                        ("mspl-lite", "Jenny", "180 Ringing")]
    assert not any(str(nuria.port) in label for _, _, label in rows)


def test_a_lab_file_contact_binds_a_user(agents):
    nuria, caller = agents("sip:nuriag@contoso.com"), agents("sip:jennyl@contoso.com")
    text = DEFAULT_LAB.replace('address = "192.0.2.21:50230"', f'contact = "127.0.0.1:{nuria.port}"')
    fe = FrontEnd(parse_lab(text))
    assert fe.registrations["nuriag@contoso.com"][0].wire == "udp"
    with serve(fe) as server:
        assert caller.invite("sip:nuriag@contoso.com", server.address).status == 200
        assert nuria.received


def test_a_fork_to_two_real_agents_cancels_the_one_that_did_not_answer(agents):
    desk = agents("sip:jennyl@contoso.com", ring=0.3)          # answers after 0.3 s
    phone = agents("sip:jennyl@contoso.com", ring=30)          # would ring for 30 s
    caller = agents("sip:nuriag@contoso.com")
    text = DEFAULT_LAB.replace('address = "192.0.2.11:50210"', f'contact = "127.0.0.1:{desk.port}"').replace(
        'address = "192.0.2.12:50211"', f'contact = "127.0.0.1:{phone.port}"')
    with serve(FrontEnd(parse_lab(text))) as server:
        call = caller.invite("sip:jennyl@contoso.com", server.address)
        assert call.status == 200 and call.final.get("Contact") == f"<{desk.contact}>"
        assert [r.status_code for r in call.responses].count(180) == 2      # both rang; each 180 went up at once
        assert wait_for(lambda: methods(phone) == ["INVITE", "CANCEL", "ACK"])
        trace = server.traces[0]
        assert [b.final for b in trace.branches] == [(200, "OK"), (487, "Request Terminated")]
        assert trace.branches[1].cancelled


def test_a_fault_of_the_simulator_is_a_500_and_the_server_goes_on(agents):
    class Broken(FrontEnd):
        def send(self, message, **kw):
            if message.method == "INVITE":
                raise RuntimeError("boom")
            return super().send(message, **kw)
    logged = []
    caller = agents("sip:jennyl@contoso.com")
    with serve(Broken(), log=logged.append) as server:
        call = caller.invite("sip:nuriag@contoso.com", server.address)
        assert call.status == 500 and "simulator failed" in call.final.get("Warning")
        assert any("RuntimeError: boom" in line for line in logged)
        assert caller.request("OPTIONS", "sip:fe01.contoso.com", server.address).status == 200


def test_a_2xx_goes_up_at_once_while_another_branch_has_not_even_rung(agents):
    desk = agents("sip:jennyl@contoso.com")
    silent = raw_udp()                      # the other branch: no provisional, no answer (Timer B is 3.2 s here)
    caller = agents("sip:nuriag@contoso.com")
    text = DEFAULT_LAB.replace('address = "192.0.2.11:50210"', f'contact = "127.0.0.1:{desk.port}"').replace(
        'address = "192.0.2.12:50211"', f'contact = "127.0.0.1:{silent.getsockname()[1]}"')
    with serve(FrontEnd(parse_lab(text))) as server:
        began = time.monotonic()
        call = caller.invite("sip:jennyl@contoso.com", server.address)
        assert call.status == 200 and time.monotonic() - began < FAST.timeout   # RFC 3261 16.7 step 5
    silent.close()
