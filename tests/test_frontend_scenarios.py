"""The six scenarios of issue 3, as behaviours a learner relies on."""
from __future__ import annotations

import pytest

from _frontend_support import app, im, invite
from mspl_lite.frontend import FrontEnd
from mspl_lite.frontend.managed import Header

LINK_IM = im("sip:jennyl@contoso.com", "Have a look at http://www.fabrikam.com/offer before Friday!")
CALL_0199 = invite("sip:+14255550199@contoso.com;user=phone")


def body_of(text: str) -> str:
    return text.split("\r\n\r\n", 1)[1]


# -- 1. ProxyRequest vs RetargetRequest around the IIM filter ----------------------------------

def test_proxyrequest_above_iimfilter_delivers_the_url_untouched_and_the_filter_never_runs():
    fe = FrontEnd()
    fe.register(app("redirect-im-proxy.am"))          # just above UserServices, like its RetargetRequest twin
    assert fe.chain.index("RedirectImProxy") < fe.chain.index("IIMFilter")
    trace = fe.send(LINK_IM)
    iim = trace.hop("IIMFilter")
    assert not iim.ran and iim.why == "routed"
    assert trace.outcome.kind == "proxied"
    assert trace.outcome.decided_by == "RedirectImProxy"
    # Nuria's endpoint (from the lab) gets the message with its link still clickable.
    nuria = fe.registrations["nuriag@contoso.com"][0]
    assert trace.outcome.destination == nuria.contact
    assert "http://www.fabrikam.com/offer" in body_of(trace.forwarded)
    assert "_http://" not in body_of(trace.forwarded)
    assert trace.outcome.status == 200


def test_retargetrequest_above_iimfilter_lets_the_filter_neutralise_the_url_and_normal_routing_deliver_it():
    fe = FrontEnd()
    fe.register(app("redirect-im-retarget.am"))
    trace = fe.send(LINK_IM)
    hop = trace.hop("RedirectImRetarget")
    assert hop.effect == "retargeted"
    assert hop.changes.request_uri_after == "sip:nuriag@contoso.com"
    iim = trace.hop("IIMFilter")
    assert iim.ran and iim.changes.body_changed
    assert "_http://www.fabrikam.com/offer" in body_of(trace.forwarded)
    routing = trace.hop("DefaultRouting")
    assert routing.ran and routing.effect == "proxied"
    assert trace.outcome.decided_by == "DefaultRouting"
    assert trace.outcome.destination == fe.registrations["nuriag@contoso.com"][0].contact
    # The To header keeps the original user (decision D5; Dn439073).
    assert "To: <sip:jennyl@contoso.com>" in trace.forwarded


# -- 1b. The same comparison on an IM session: INVITE, then MESSAGE in the dialog (decision D16) ----

@pytest.mark.parametrize("sample, routed_by", [("redirect-im-proxy.am", "RedirectImProxy"),
                                               ("redirect-im-retarget.am", "DefaultRouting")])
def test_an_im_session_redirects_the_invite_and_the_message_follows_the_dialog(sample, routed_by):
    from mspl_lite.frontend.samples import sample_session

    session = sample_session(sample)
    invite_hop = session.invite.hop({"redirect-im-proxy.am": "RedirectImProxy",
                                     "redirect-im-retarget.am": "RedirectImRetarget"}[sample])
    assert invite_hop.effect in ("proxied", "retargeted")
    assert session.invite.outcome.decided_by == routed_by and session.established
    nuria = FrontEnd().registrations["nuriag@contoso.com"][0]
    assert session.invite.outcome.destination == nuria.contact
    (message,) = session.messages
    # Inside the dialog: Request-URI = Nuria's GRUU, a Route to this Front End, the INVITE's Call-ID.
    assert message.request_uri == nuria.gruu
    assert "Route: <sip:fe01.contoso.com:5061;transport=tls;lr>" in message.message
    assert "Call-ID: im-session-1" in message.message and "CSeq: 2 MESSAGE" in message.message
    # The redirecting application never sees it (strictRoute="false", dn439115) ...
    skipped = message.hop(invite_hop.app)
    assert not skipped.ran and skipped.why == "filter" and "Route header pointing to this server" in skipped.sentence
    # ... so the MESSAGE reaches Nuria the same way in both cases, its link neutralised by IIMFilter,
    # and without the Route that named this server (RFC 3261 16.4).
    assert message.outcome.destination == nuria.contact and message.outcome.status == 200
    assert "_http://www.fabrikam.com/offer" in body_of(message.outcome.forwarded)
    assert "Route:" not in message.outcome.forwarded
    assert any(n.source == "decision D16" for n in message.notes)


def test_an_unanswered_invite_sets_up_no_dialog_so_no_message_is_sent():
    from mspl_lite.frontend.samples import sample_session

    session = sample_session(None, "hello", invite="im-invite-jennyl.sip")
    assert session.established and len(session.messages) == 1
    fe = FrontEnd()
    text = session.invite.message.replace("sip:jennyl@contoso.com SIP/2.0", "sip:kima@contoso.com SIP/2.0")
    refused = fe.send_session(text, "hello")
    assert not refused.established and refused.messages == ()


def test_send_session_wants_an_invite():
    from mspl_lite.errors import UsageError

    with pytest.raises(UsageError, match="INVITE"):
        FrontEnd().send_session(LINK_IM, "hello")


# -- 2. ProxyRequest vs RetargetRequest around OutboundRouting ---------------------------------

def test_proxyrequest_of_a_call_never_reaches_the_gateway():
    fe = FrontEnd()
    fe.register(app("redirect-call-proxy.am"))
    trace = fe.send(CALL_0199)
    assert trace.hop("OutboundRouting").why == "routed"
    assert trace.outcome.destination == "sip:+12065550123@contoso.com;user=phone"
    assert all(b.kind != "gateway" for b in trace.branches)
    assert "gw01" not in (trace.forwarded or "")


def test_retargetrequest_of_a_call_lets_outboundrouting_pick_the_gateway_route_for_the_new_number():
    fe = FrontEnd()
    fe.register(app("redirect-call-retarget.am"))
    trace = fe.send(CALL_0199)
    out = trace.hop("OutboundRouting")
    assert out.ran and out.effect == "proxied"
    assert "North America" in out.action          # +1206... is not Redmond Local
    assert trace.outcome.destination_kind == "gateway"
    assert trace.outcome.destination.startswith("sip:gw01.contoso.com")
    assert trace.forwarded.startswith("INVITE sip:+12065550123@gw01.contoso.com;user=phone SIP/2.0")
    assert trace.outcome.status == 200


def test_without_any_application_the_unassigned_number_routes_by_its_own_digits():
    trace = FrontEnd().send(CALL_0199)
    assert "Redmond Local" in trace.hop("OutboundRouting").action


# -- 3. Registered below the routing applications ---------------------------------------------

def test_an_application_below_the_routing_applications_is_never_reached_and_the_trace_says_why():
    fe = FrontEnd()
    fe.register(app("redirect-call-retarget.am"), priority=99)   # past the end: last
    assert fe.chain.index("RedirectCallRetarget") == len(fe.chain) - 1
    trace = fe.send(CALL_0199)
    hop = trace.hop("RedirectCallRetarget")
    assert not hop.ran and hop.why == "routed"
    assert "OutboundRouting already routed" in hop.sentence
    assert trace.outcome.destination_kind == "gateway"
    assert trace.forwarded.startswith("INVITE sip:+14255550199@")   # the original number went out


def test_below_defaultrouting_an_im_application_is_skipped_as_routed():
    fe = FrontEnd()
    fe.register(app("redirect-im-retarget.am"), priority=fe.chain.index("DefaultRouting") + 1)
    trace = fe.send(LINK_IM)
    assert trace.hop("RedirectImRetarget").why == "routed"
    assert trace.outcome.destination == fe.registrations["jennyl@contoso.com"][0].contact


# -- 4. proxyByDefault false and no action ------------------------------------------------------

def test_proxybydefault_false_without_action_drops_the_message_and_the_sender_gets_nothing():
    fe = FrontEnd()
    fe.register(app("silent.am"))
    trace = fe.send(LINK_IM)
    silent = trace.hop("Silent")
    assert silent.ran and silent.effect == "dropped"
    later = trace.hops[silent.priority + 1:]
    assert later and all(not h.ran and h.why == "not-reached" for h in later)
    assert trace.outcome.kind == "dropped"
    assert trace.outcome.status is None and trace.forwarded is None
    assert trace.responses == () and trace.branches == ()
    assert "Timer F" in trace.outcome.client_experience and "408" in trace.outcome.client_experience
    assert any(n.kind == "inferred" and "RFC 3261" in n.text for n in trace.notes)
    assert [entry.text for entry in trace.log] == ["seen: \nsip:jennyl@contoso.com"]


def test_a_dropped_request_retransmits_only_over_udp():
    fe = FrontEnd()
    fe.register(app("silent.am"))
    over_tls = fe.send(LINK_IM).outcome.client_experience
    assert "does not retransmit" in over_tls and "Timer E" not in over_tls
    over_udp = fe.send(LINK_IM.replace("SIP/2.0/TLS", "SIP/2.0/UDP", 1)).outcome.client_experience
    assert "Timer E" in over_udp and "UDP" in over_udp


# -- 5. Respond: later skipped, the response goes back up in reverse order ----------------------

def test_respond_skips_later_applications_and_the_response_climbs_through_those_that_filter_for_it():
    fe = FrontEnd()
    fe.register(app("watch-2xx.am"), priority=4)
    fe.register(app("watch-4xx.am"), priority=4)      # above Watch2xx now
    fe.register(app("block-word.am"), priority=7)
    trace = fe.send(im("sip:nuriag@contoso.com", "my password is hunter2"))
    block = trace.hop("BlockWord")
    assert block.effect == "responded"
    assert all(h.why == "not-reached" for h in trace.hops[block.priority + 1:])
    assert trace.outcome.kind == "responded" and trace.outcome.status == 403
    assert "99999" in trace.outcome.response
    # Bottom to top: exactly the applications above BlockWord, in reverse priority order.
    assert [r.priority for r in trace.responses] == list(range(block.priority - 1, -1, -1))
    by_app = {r.app: r for r in trace.responses}
    assert by_app["Watch4xx"].ran                      # reasonCodes 4XX accepts 403
    assert not by_app["Watch2xx"].ran and by_app["Watch2xx"].why == "response-filter"
    assert by_app["ClientVersionFilter"].why == "not-in-path"
    assert "X-Seen-By: Watch4xx" in trace.outcome.response
    assert [entry.app for entry in trace.log] == ["Watch4xx"]


# -- 6. Dispatch + Request.Retarget towards an application endpoint -----------------------------

def _retarget_to_helpdesk(e):
    e.Request.Retarget("sip:helpdesk@contoso.com")
    e.ServerTransaction.CreateBranch().SendRequest(e.Request)


def test_dispatch_retarget_to_an_application_endpoint_reaches_the_app_but_no_endpoint_takes_it():
    fe = FrontEnd()
    fe.register(app("dispatch-helpdesk.am"))
    trace = fe.send(invite("sip:terrya@contoso.com", frm='"Nuria Gonzalez" <sip:nuriag@contoso.com>',
                           to='"Terry Adams" <sip:terrya@contoso.com>'),
                    dispatch_handlers={"OnInvite": _retarget_to_helpdesk})
    hop = trace.hop("HelpdeskRouter")
    assert hop.effect == "dispatched" and "Request.Retarget" in hop.sentence
    assert trace.hop("DefaultRouting").ran                       # the chain below routed it
    assert trace.outcome.destination_kind == "application"
    assert trace.outcome.destination.startswith("sip:apppool01.contoso.com:6001")   # the pool (Dn466043)
    assert "To: \"Terry Adams\" <sip:terrya@contoso.com>" in trace.forwarded
    assert trace.forwarded.startswith("INVITE sip:helpdesk@contoso.com ")
    assert trace.outcome.status == 500                          # the platform's rejection (Dn466043)
    text = trace.text()
    assert "[documented]" in text and "[inferred]" in text
    documented = " ".join(n.text + (n.source or "") for n in trace.notes if n.kind == "documented")
    assert "Dn439073" in documented and "msip-request" in documented and "Dn466043" in documented
    inferred = " ".join(n.text for n in trace.notes if n.kind == "inferred")
    assert "no ApplicationEndpoint gets it" in inferred
    assert any(n.kind == "hint" and "ms-application-aor" in n.text for n in trace.notes)


def test_setdestination_to_the_application_names_the_endpoint_that_receives_nothing():
    def handler(e):
        e.Request.SetDestination("sip:app01.contoso.com:6001;transport=tls")
        e.ServerTransaction.CreateBranch().SendRequest(e.Request)

    fe = FrontEnd()
    fe.register(app("dispatch-helpdesk.am"))
    trace = fe.send(invite("sip:terrya@contoso.com", frm="<sip:nuriag@contoso.com>"),
                    dispatch_handlers={"OnInvite": handler})
    inferred = " ".join(n.text for n in trace.notes if n.kind == "inferred")
    assert "no ApplicationEndpoint gets it" in inferred and "500" in inferred
    assert "None" not in inferred
    assert any(n.kind == "hint" and "sip:helpdesk@contoso.com" in n.text for n in trace.notes)


def test_with_an_ms_application_aor_header_the_application_endpoint_receives_it():
    def handler(e):
        e.Request.Retarget("sip:helpdesk@contoso.com")
        e.Request.AllHeaders.Add(Header("ms-application-aor", "<sip:helpdesk@contoso.com>"))
        e.ServerTransaction.CreateBranch().SendRequest(e.Request)

    fe = FrontEnd()
    fe.register(app("dispatch-helpdesk.am"))
    trace = fe.send(invite("sip:terrya@contoso.com", frm="<sip:nuriag@contoso.com>"),
                    dispatch_handlers={"OnInvite": handler})
    assert trace.outcome.status == 200
    assert "ms-application-aor" in trace.branches[0].note


def test_managed_handler_can_answer_on_the_server_transaction():
    fe = FrontEnd()
    fe.register(app("dispatch-helpdesk.am"))
    trace = fe.send(invite("sip:terrya@contoso.com"),
                    dispatch_handlers={"OnInvite": lambda e: e.ServerTransaction.SendResponse(e.Request.CreateResponse(486))})
    assert trace.outcome.kind == "responded" and trace.outcome.status == 486
    assert trace.outcome.decided_by == "HelpdeskRouter"


def test_dispatch_without_a_handler_is_said_in_the_trace():
    fe = FrontEnd()
    fe.register(app("dispatch-helpdesk.am"))
    trace = fe.send(invite("sip:terrya@contoso.com"))
    assert trace.outcome.kind == "dropped"
    assert any(n.kind == "hint" and "dispatch_handlers" in n.text for n in trace.notes)


# -- critical errors ------------------------------------------------------------------------

def test_ten_critical_errors_disable_the_application_and_the_state_survives_between_sends():
    fe = FrontEnd()
    fe.register(app("broken-at-runtime.am"))
    message = im("sip:nuriag@contoso.com", "hi")
    for n in range(1, 10):
        trace = fe.send(message)
        hop = trace.hop("Broken")
        assert hop.ran and hop.critical_errors[0].count == n and not hop.disabled_after
        assert trace.outcome.status == 200                 # proxyByDefault true: still delivered
    tenth = fe.send(message).hop("Broken")
    assert tenth.disabled_after and tenth.critical_errors[0].count == 10
    eleventh = fe.send(message).hop("Broken")
    assert not eleventh.ran and eleventh.why == "disabled" and "10 critical errors" in eleventh.sentence
    assert fe.chain.get("Broken").enabled is False
    fe.set_enabled("Broken")
    assert fe.send(message).hop("Broken").ran


def test_the_same_message_through_the_same_chain_gives_an_equal_trace():
    a, b = FrontEnd(), FrontEnd()
    for fe in (a, b):
        fe.register(app("redirect-im-retarget.am"))
    ta, tb = a.send(LINK_IM), b.send(LINK_IM)
    assert ta == tb and ta.text() == tb.text() and ta.to_json() == tb.to_json()
    assert "0x" not in repr(ta) and " at 0x" not in ta.text()
