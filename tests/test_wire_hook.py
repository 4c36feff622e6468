"""FrontEnd.send(downstream=...): real parties beside simulated ones, with the simulator's semantics."""
from __future__ import annotations

from mspl_lite.frontend import FrontEnd
from mspl_lite.frontend.lab import Endpoint
from mspl_lite.frontend.trace import Branch
from mspl_lite.sip import parse_message

INVITE = ("INVITE sip:nuriag@contoso.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5072;branch=z9hG4bK-h1\r\n"
          "Max-Forwards: 70\r\nFrom: <sip:jennyl@contoso.com>;tag=j1\r\nTo: <sip:nuriag@contoso.com>\r\n"
          "Call-ID: hook1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")


class Recording:
    """A downstream that answers real endpoints with a 200 of its own (To tag, Contact, body)."""

    def __init__(self):
        self.calls = []

    def deliver(self, copies, ctx, sent_by):
        self.calls.append([(t.uri, c.request_uri) for t, c in copies])
        out = []
        for target, copy in copies:
            if not getattr(target.party, "wire", ""):
                out.append(None)
                continue
            answer = copy.create_response(200, "OK")
            answer.set_header("To", "<sip:nuriag@contoso.com>;tag=real-tag")
            answer.add_header("Contact", "<sip:nuria@127.0.0.1:5071>")
            answer.set_body(b"v=0\r\n", "application/sdp")
            out.append(Branch(target=target.uri, kind=target.kind, sent_by=sent_by, party="real",
                              responses=((180, "Ringing"), (200, "OK")), request=str(copy), response=str(answer)))
        return out


def test_without_real_parties_the_trace_is_the_same_with_or_without_the_hook():
    plain = FrontEnd().send(INVITE)
    hooked = FrontEnd().send(INVITE, downstream=Recording())
    assert plain == hooked and plain.to_json() == hooked.to_json() and plain.text() == hooked.text()


def test_the_real_final_response_climbs_the_chain_to_the_caller():
    fe = FrontEnd()
    fe.registrations["nuriag@contoso.com"] = (Endpoint(epid="e1", aor="nuriag@contoso.com", user_agent="",
                                                       address="127.0.0.1:5071", wire="udp"),)
    downstream = Recording()
    trace = fe.send(INVITE, downstream=downstream)
    assert downstream.calls == [[("sip:127.0.0.1:5071;transport=udp", "sip:127.0.0.1:5071;transport=udp")]]
    response = parse_message(trace.outcome.response)
    assert response.get("To").endswith("tag=real-tag") and response.get("Contact") == "<sip:nuria@127.0.0.1:5071>"
    assert response.body == b"v=0\r\n"
    # the server's own Via is gone: the caller's is the only one (RFC 3261 16.7 step 3)
    assert response.get_all("Via") == ["SIP/2.0/UDP 127.0.0.1:5072;branch=z9hG4bK-h1"]
    assert [r.app for r in trace.responses if r.ran][0] == "DefaultRouting"
    assert trace.branches[0].to_json()["response"].startswith("SIP/2.0 200 OK")


def test_a_fork_hands_every_copy_of_an_attempt_to_the_downstream_at_once():
    fe = FrontEnd()
    real = Endpoint(epid="e2", aor="jennyl@contoso.com", user_agent="", address="127.0.0.1:5073", wire="udp")
    fe.registrations["jennyl@contoso.com"] = fe.registrations["jennyl@contoso.com"] + (real,)
    downstream = Recording()
    trace = fe.send(INVITE.replace("nuriag", "jennyl"), downstream=downstream)
    assert len(downstream.calls) == 1 and len(downstream.calls[0]) == 3     # Jenny's two lab clients + the real one
    assert trace.outcome.status == 200
