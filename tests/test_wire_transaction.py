"""RFC 3261 17 transactions with a fake clock: what is sent when, over UDP and over TCP."""
from __future__ import annotations

import heapq
import itertools

from mspl_lite.sip import parse_message
from mspl_lite.wire.transaction import ClientTransaction, ServerTransaction, Timing, ack_for, cancel_for, server_key

INVITE = ("INVITE sip:nuriag@127.0.0.1:5071 SIP/2.0\r\n"
          "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-abc;rport\r\n"
          "Max-Forwards: 69\r\nRoute: <sip:127.0.0.9;lr>\r\n"
          "From: <sip:jennyl@contoso.com>;tag=j1\r\nTo: <sip:nuriag@contoso.com>\r\n"
          "Call-ID: c1@127.0.0.1\r\nCSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n")


class Clock:
    """call_later on a fake clock: advance(t) runs what is due, in time order."""

    def __init__(self):
        self.now = 0.0
        self._queue = []
        self._ids = itertools.count()

    def call_later(self, delay, callback):
        entry = [self.now + delay, next(self._ids), callback, False]
        heapq.heappush(self._queue, entry)

        class Handle:
            def cancel(self_inner):
                entry[3] = True
        return Handle()

    def advance(self, until):
        while self._queue and self._queue[0][0] <= until:
            when, _, callback, cancelled = heapq.heappop(self._queue)
            self.now = when
            if not cancelled:
                callback()
        self.now = until


def request(text=INVITE, method="INVITE"):
    return parse_message(text.replace("INVITE", method))


def response(req, status, reason, to_tag="n1"):
    r = req.create_response(status, reason)
    if to_tag and status > 100:
        r.set_header("To", f"<sip:nuriag@contoso.com>;tag={to_tag}")
    return r


def client(req, reliable=False, timing=Timing()):
    clock = Clock()
    sent, got, timeouts = [], [], []
    txn = ClientTransaction(req, lambda d: sent.append((clock.now, d)), reliable=reliable, timing=timing,
                            scheduler=clock, on_response=got.append, on_timeout=lambda: timeouts.append(clock.now))
    txn.start()
    return txn, clock, sent, got, timeouts


def test_invite_over_udp_is_retransmitted_by_timer_a_until_timer_b():
    txn, clock, sent, got, timeouts = client(request())
    clock.advance(40)
    # Timer A: T1, then doubling (17.1.1.2); Timer B at 64*T1 = 32 s ends it with a timeout
    assert [t for t, _ in sent] == [0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert timeouts == [32.0] and txn.state == "terminated"


def test_invite_over_tcp_is_sent_once_and_still_times_out():
    txn, clock, sent, got, timeouts = client(request(), reliable=True)
    clock.advance(40)
    assert len(sent) == 1 and timeouts == [32.0]


def test_a_provisional_stops_timer_a_and_b():
    req = request()
    txn, clock, sent, got, timeouts = client(req)
    clock.advance(0.7)
    txn.on_response(response(req, 180, "Ringing"))
    clock.advance(100)
    assert len(sent) == 2 and not timeouts and txn.state == "proceeding"
    assert [r.status_code for r in got] == [180]


def test_non_2xx_final_is_acked_hop_by_hop_and_retransmissions_are_re_acked():
    req = request()
    txn, clock, sent, got, timeouts = client(req)
    final = response(req, 486, "Busy Here")
    txn.on_response(final)
    txn.on_response(final)          # the UAS retransmits it: ACKed again, not passed up twice
    assert [r.status_code for r in got] == [486]
    acks = [parse_message(d) for _, d in sent[1:]]
    assert [a.method for a in acks] == ["ACK", "ACK"]
    ack = acks[0]
    # 17.1.1.3: same Request-URI, top Via (branch), Route and CSeq number; To from the response
    assert ack.request_uri == req.request_uri and ack.get("Via") == req.get("Via")
    assert ack.get("To").endswith("tag=n1") and ack.get("CSeq") == "7 ACK" and ack.get("Route") == req.get("Route")
    clock.advance(31.9)
    assert txn.state == "completed"           # Timer D (32 s over UDP) absorbs retransmissions
    clock.advance(32.1)
    assert txn.state == "terminated"


def test_2xx_ends_the_invite_client_transaction_at_once():
    req = request()
    txn, clock, sent, got, timeouts = client(req)
    txn.on_response(response(req, 200, "OK"))
    assert txn.state == "terminated" and len(sent) == 1      # the 2xx ACK is end to end, not the transaction's


def test_non_invite_timer_e_doubles_up_to_t2_and_is_t2_after_a_provisional():
    req = request(method="OPTIONS")
    txn, clock, sent, got, timeouts = client(req)
    clock.advance(12)
    assert [t for t, _ in sent] == [0, 0.5, 1.5, 3.5, 7.5, 11.5]   # 0.5, 1, 2, 4, 4 (capped at T2)
    txn.on_response(response(req, 100, "Trying", None))
    clock.advance(20)
    assert [t for t, _ in sent][6:] == [15.5, 19.5]                 # T2 from then on
    clock.advance(33)
    assert timeouts == [32.0]


def test_non_invite_final_then_timer_k():
    req = request(method="OPTIONS")
    txn, clock, sent, got, timeouts = client(req)
    txn.on_response(response(req, 200, "OK"))
    clock.advance(4.9)
    assert txn.state == "completed"
    clock.advance(5.1)
    assert txn.state == "terminated" and len(sent) == 1


def server(req, reliable=False):
    clock = Clock()
    sent, timeouts = [], []
    txn = ServerTransaction(req, lambda d: sent.append((clock.now, d)), reliable=reliable, timing=Timing(),
                            scheduler=clock, on_timeout=lambda t: timeouts.append(clock.now))
    return txn, clock, sent, timeouts


def test_server_absorbs_retransmitted_requests_with_the_last_response():
    req = request()
    txn, clock, sent, timeouts = server(req)
    txn.on_retransmission()                  # nothing sent yet: nothing to repeat
    assert sent == []
    txn.respond(req.create_response(100, "Trying"))
    txn.on_retransmission()
    assert [parse_message(d).status_code for _, d in sent] == [100, 100] and txn.absorbed == 2


def test_server_retransmits_a_non_2xx_invite_final_by_timer_g_until_the_ack():
    req = request()
    txn, clock, sent, timeouts = server(req)
    txn.respond(response(req, 486, "Busy Here"))
    clock.advance(8)
    assert [t for t, _ in sent] == [0, 0.5, 1.5, 3.5, 7.5]          # G: T1 doubling, capped at T2
    txn.on_ack()
    clock.advance(12)
    assert len(sent) == 5 and txn.state == "confirmed"
    clock.advance(13.6)                                                # Timer I = T4 after the ACK
    assert txn.state == "terminated" and not timeouts


def test_server_timer_h_without_ack():
    req = request()
    txn, clock, sent, timeouts = server(req)
    txn.respond(response(req, 404, "Not Found"))
    clock.advance(40)
    assert timeouts == [32.0] and txn.state == "terminated"


def test_server_over_tcp_does_not_retransmit_and_ends_on_ack():
    req = request()
    txn, clock, sent, timeouts = server(req, reliable=True)
    txn.respond(response(req, 486, "Busy Here"))
    clock.advance(10)
    assert len(sent) == 1
    txn.on_ack()
    clock.advance(10.001)
    assert txn.state == "terminated"


def test_server_non_invite_timer_j_over_udp_and_zero_over_tcp():
    req = request(method="OPTIONS")
    txn, clock, sent, _ = server(req)
    txn.respond(req.create_response(200, "OK"))
    assert txn.respond(req.create_response(500, "Server Internal Error")) is False   # one final only
    clock.advance(31.9)
    txn.on_retransmission()
    assert txn.state == "completed" and len(sent) == 2
    clock.advance(32.1)
    assert txn.state == "terminated"
    txn, clock, sent, _ = server(request(method="OPTIONS"), reliable=True)
    txn.respond(req.create_response(200, "OK"))
    clock.advance(0)
    assert txn.state == "terminated"


def test_after_a_2xx_the_invite_server_transaction_absorbs_retransmissions_for_timer_l():
    req = request()
    txn, clock, sent, _ = server(req)
    txn.respond(response(req, 200, "OK"))
    txn.on_retransmission()            # RFC 6026 7.1: absorbed, not answered, not a new request
    assert txn.state == "accepted" and len(sent) == 1
    clock.advance(32.1)
    assert txn.state == "terminated"


def test_transaction_keys_and_cancel():
    req = request()
    ack = ack_for(req, response(req, 486, "Busy Here"))
    cancel = cancel_for(req)
    assert server_key(ack) == server_key(req)              # the ACK matches its INVITE's transaction
    assert server_key(cancel)[:2] == server_key(req)[:2] and server_key(cancel)[2] == "CANCEL"
    assert cancel.get("CSeq") == "7 CANCEL" and cancel.get("To") == req.get("To")
