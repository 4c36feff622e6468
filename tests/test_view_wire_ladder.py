"""The ladder of what crossed the wire (mspl_lite.view.wire_ladder, Server.ladder_diagram)."""
from __future__ import annotations

import subprocess
import sys
import time

from mspl_lite.frontend import FrontEnd
from mspl_lite.view.wire_ladder import MAX_WIRE_PEERS, MAX_WIRE_ROWS, wire_ladder_diagram
from mspl_lite.wire import Server, Timing
from mspl_lite.wire.agent import UserAgent
from mspl_lite.wire.record import Exchange, WireEvent

FAST = Timing(t1=0.05, t2=0.4, t4=0.5, d=0.5)
TERRY, NURIA = "127.0.0.1:40001", "127.0.0.1:40002"
NAMES = {TERRY: "Terry", NURIA: "Nuria"}


def event(t, direction, peer, first_line):
    return WireEvent(t, direction, "udp", peer, first_line, first_line + "\r\n\r\n")


def call(start=0.0):
    x = Exchange(number=1, method="INVITE")
    for k, (d, peer, line) in enumerate([
            ("in", TERRY, "INVITE sip:jennyl@127.0.0.1:5060 SIP/2.0"), ("out", TERRY, "SIP/2.0 100 Trying"),
            ("out", NURIA, "INVITE sip:nuriag@127.0.0.1:40002;transport=udp SIP/2.0"),
            ("in", NURIA, "SIP/2.0 180 Ringing"), ("out", TERRY, "SIP/2.0 180 Ringing"),
            ("in", NURIA, "SIP/2.0 200 OK"), ("out", TERRY, "SIP/2.0 200 OK")]):
        x.add(event(start + k * 0.01, d, peer, line))
    return x


def test_lifelines_are_named_as_given_caller_left_of_the_server_and_no_port_is_drawn():
    d = wire_ladder_diagram([call()], NAMES)
    assert d.kind == "ladder" and d.fmt == "svg"
    svg = d.svg()
    assert svg.index(">Terry<") < svg.index(">mspl-lite<") < svg.index(">Nuria<")
    assert "40001" not in svg and "40002" not in svg and "5060" not in svg
    assert d.description[0] == "1. request Terry -> mspl-lite: INVITE"
    assert d.description[3] == "4. response Nuria -> mspl-lite: 180 Ringing"
    assert len(d.description) == 7 and "7 messages between Terry, mspl-lite, Nuria" in d.alt
    assert 'stroke-dasharray="6 3"' in svg        # responses dashed: not told apart by colour only (D119)


def test_the_same_exchanges_give_the_same_bytes_and_times_only_when_asked():
    a, b = wire_ladder_diagram([call()], NAMES), wire_ladder_diagram([call(5.0)], NAMES)
    assert a.svg() == b.svg() and a.html() == b.html()       # times differ, the picture does not
    timed = wire_ladder_diagram([call()], NAMES, times=True)
    assert "(+0.020 s)" in timed.description[2] and timed.svg() != a.svg()


def test_unnamed_peers_are_numbered():
    d = wire_ladder_diagram([call()])
    assert d.description[0] == "1. request peer 1 -> mspl-lite: INVITE"
    assert "peer 2" in d.alt


def test_limits_are_said_never_silent():
    x = Exchange(number=1, method="MESSAGE")
    peers = [f"127.0.0.1:{41000 + i}" for i in range(MAX_WIRE_PEERS + 3)]
    many = [x]
    for i, peer in enumerate(peers * 20):
        y = Exchange(number=i + 2, method="MESSAGE")
        y.add(event(i, "in", peer, "MESSAGE sip:a@contoso.com SIP/2.0"))
        many.append(y)
    x.events_dropped = 5
    d = wire_ladder_diagram(many)
    lanes = [line for line in d.description if "other peers" in line]
    assert lanes and "3 other peers" in d.alt
    assert any(f"{len(peers) * 20 - MAX_WIRE_ROWS} more messages not drawn" in line for line in d.description)
    assert any("5 more messages the server did not keep" in line for line in d.description)
    assert sum(1 for line in d.description if "request" in line) == MAX_WIRE_ROWS


def test_nothing_yet_is_a_picture_that_says_so():
    d = wire_ladder_diagram([])
    assert "nothing crossed the wire yet" in " ".join(d.description)


def test_server_ladder_diagram_draws_what_server_ladder_lists():
    fe = FrontEnd()
    with UserAgent("sip:nuriag@contoso.com", timing=FAST) as nuria, \
            UserAgent("sip:jennyl@contoso.com", timing=FAST) as jenny:
        with Server(fe, contacts={"sip:nuriag@contoso.com": f"127.0.0.1:{nuria.port}"}, timing=FAST) as server:
            assert jenny.invite("sip:nuriag@contoso.com", server.address).status == 200
            end = time.monotonic() + 5
            while len(server.exchanges) < 2 and time.monotonic() < end:
                time.sleep(0.02)
            names = {f"127.0.0.1:{nuria.port}": "Nuria", f"127.0.0.1:{jenny.port}": "Jenny"}
            rows, d = server.ladder(names), server.ladder_diagram(names)
    assert [line.split(". ", 1)[1] for line in d.description] == [
        f"{'request' if not label[0].isdigit() else 'response'} {a} -> {b}: {label}" for a, b, label in rows]
    assert str(nuria.port) not in d.svg() and str(jenny.port) not in d.svg()


def test_the_wire_layer_does_not_import_the_view():
    code = ("import sys, mspl_lite.wire, mspl_lite.wire.server\n"
            "print(any(m.startswith('mspl_lite.view') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
