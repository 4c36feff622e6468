"""The Trace values: validation, the text form, the JSON form."""
from __future__ import annotations

import json

import pytest

from _frontend_support import app, im
from mspl_lite.frontend import FrontEnd, Hop, Outcome, Trace
from mspl_lite.frontend.trace import WHY, Changes, HeaderChange, Note


def test_hop_validates_its_why_and_effect():
    with pytest.raises(ValueError):
        Hop(app="X", priority=0, builtin=False, ran=False, why="because")
    with pytest.raises(ValueError):
        Hop(app="X", priority=0, builtin=False, ran=True, why="filter")
    with pytest.raises(ValueError):
        Hop(app="X", priority=0, builtin=False, ran=True, effect="teleported")
    with pytest.raises(ValueError):
        Outcome(kind="vanished", decided_by="X")
    with pytest.raises(ValueError):
        Note(kind="rumour", text="x")


def test_changes_describe_request_uri_headers_and_body():
    c = Changes(request_uri_before="sip:a@x", request_uri_after="sip:b@x",
                headers=(HeaderChange(name="X-A", before=None, after="1"),), body_before="a", body_after="b")
    assert not c.empty and c.request_uri_changed and c.body_changed
    assert c.headers[0].kind == "added"
    assert c.to_json()["request_uri"] == {"before": "sip:a@x", "after": "sip:b@x"}
    assert Changes(request_uri_before="u", request_uri_after="u").empty


def test_changes_between_two_messages_pair_a_changed_header_and_ignore_reordering():
    from mspl_lite.sip import parse_message

    before = parse_message(im("sip:jennyl@contoso.com", "hi"))
    after = before.copy()
    after.request_uri = "sip:nuriag@contoso.com"
    after.set_header("Max-Forwards", "69")
    after.add_header("X-Seen", "1")
    after.remove_header("User-Agent")
    c = Changes.between(before, after)
    assert c.request_uri_before == "sip:jennyl@contoso.com" and c.request_uri_after == "sip:nuriag@contoso.com"
    assert {(h.name, h.kind) for h in c.headers} == {("Max-Forwards", "changed"), ("X-Seen", "added"),
                                                     ("User-Agent", "removed")}
    assert not c.body_changed and c.body_before is None
    shuffled = before.copy()
    shuffled.headers = list(reversed(before.headers))
    assert Changes.between(before, shuffled).empty


def test_every_skipped_hop_uses_the_documented_vocabulary():
    fe = FrontEnd()
    fe.register(app("silent.am"))
    fe.set_enabled("IncomingFederation", False)
    trace = fe.send(im("sip:jennyl@contoso.com", "hi"))
    whys = {h.why for h in trace.hops if not h.ran}
    assert whys == {"filter", "disabled", "not-reached"}
    assert whys <= set(WHY)


def test_text_form_names_every_application_and_the_outcome():
    fe = FrontEnd()
    fe.register(app("redirect-im-retarget.am"))
    trace = fe.send(im("sip:jennyl@contoso.com", "see http://www.fabrikam.com/x"))
    text = str(trace)
    for hop in trace.hops:
        assert hop.app in text
    assert "Outcome: proxied to" in text and "Request-URI: sip:jennyl@contoso.com -> sip:nuriag@contoso.com" in text
    assert "Response 200 OK, bottom to top:" in text
    assert repr(trace).startswith("<Trace MESSAGE sip:jennyl@contoso.com: proxied to")


def test_json_form_round_trips_through_json():
    trace = FrontEnd().send(im("sip:jennyl@contoso.com", "hi"))
    data = json.loads(json.dumps(trace.to_json()))
    assert data["outcome"]["kind"] == "proxied" and data["forwarded"] == trace.forwarded
    assert [h["app"] for h in data["hops"]] == [h.app for h in trace.hops]
    assert data["responses"][0]["status"] == 200


def test_hop_lookup_and_ran():
    trace = FrontEnd().send(im("sip:jennyl@contoso.com", "hi"))
    assert trace.hop("iimfilter").app == "IIMFilter"
    assert "DefaultRouting" in trace.ran and "ClientVersionFilter" not in trace.ran
    with pytest.raises(KeyError):
        trace.hop("NoSuchApp")
    assert isinstance(trace, Trace)


def test_a_critical_note_points_into_its_script_with_a_caret():
    from mspl_lite.frontend.trace import CriticalNote

    note = CriticalNote(app="Forker", message="Fork without BeginFork", line=2, column=5, count=1)
    script = "if (sipRequest) {\n    Fork(\"sip:a@contoso.com\");\n}\n"
    d = note.diagnostic(script, "forker.mspl")
    assert d.render() == ("forker.mspl:2:5: error: critical error: Fork without BeginFork (1 of 10)\n"
                          "        Fork(\"sip:a@contoso.com\");\n"
                          "        ^")
    assert note.diagnostic(script, "forker.mspl", hint="fix it").render().endswith("\n    hint: fix it")


# -- what a trace labels as inferred (issue 9) -------------------------------------------------

def test_a_builtin_method_filter_is_labelled_with_its_basis():
    trace = FrontEnd().send(im("sip:jennyl@contoso.com", "hello"))
    cvf = trace.hop("ClientVersionFilter").sentence
    assert cvf.startswith("ClientVersionFilter handles REGISTER, not MESSAGE")
    assert "decision D51" in cvf and "gg398812" in cvf      # the Lync 2010 planning text says more
    # UserPinService's SERVICE is our reading of "verify user PINs"; QoEAgent's is Gg182575's own word.
    assert "inferred from its role, decision D51" in trace.hop("UserPinService").sentence
    nobody = FrontEnd().send(im("sip:nobody@fabrikam.com", "hello"))
    assert nobody.hop("QoEAgent").sentence.endswith("(Gg182575)")


def test_a_call_retargeted_to_a_phone_number_says_outboundrouting_routing_it_is_inferred():
    from test_frontend_scenarios import CALL_0199

    fe = FrontEnd()
    fe.register(app("redirect-call-retarget.am"))
    trace = fe.send(CALL_0199)
    inferred = [n for n in trace.notes if n.kind == "inferred" and n.source == "decision D5"]
    assert inferred and "no page says that OutboundRouting routes it" in inferred[0].text
    assert not [n for n in FrontEnd().send(CALL_0199).notes if n.source == "decision D5"]


def test_defaultrouting_status_codes_are_labelled_as_the_simulators_choice():
    trace = FrontEnd().send(im("sip:nobody@contoso.com", "hello"))
    assert trace.outcome.status == 404
    assert any(n.kind == "inferred" and "decision D54" in n.text for n in trace.notes)
