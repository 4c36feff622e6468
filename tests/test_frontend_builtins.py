"""Each built-in application does its documented job, so that skipping it visibly costs something."""
from __future__ import annotations

from _frontend_support import im, invite, request
from mspl_lite.frontend import FrontEnd, default_lab_text, parse_lab
from mspl_lite.frontend.builtins.services import PIN_CONTENT_TYPE


def lab_with(old: str, new: str):
    text = default_lab_text()
    assert old in text, old
    return parse_lab(text.replace(old, new, 1), filename="variant.toml")


def register(user: str, ua: str, epid: str, expires: str | None = None) -> str:
    extra = [f"Contact: <sip:192.0.2.99:50999;transport=tls>;methods=\"INVITE, MESSAGE, BYE\""]
    if expires is not None:
        extra.append(f"Expires: {expires}")
    return request("REGISTER", "sip:contoso.com", frm=f"<sip:{user}>", to=f"<sip:{user}>", user_agent=ua,
                   extra=tuple(extra)).replace("epid=7c2e5f3a01", f"epid={epid}")


LYNC_2013 = "UCCAPI/15.0.4481.1000 OC/15.0.4481.1000 (Microsoft Lync)"


# -- ClientVersionFilter ---------------------------------------------------------------------

def test_client_version_filter_blocks_an_old_client_with_warning_314_and_17002():
    trace = FrontEnd().send(register("robinc@contoso.com", "UCCAPI/3.5.6907.0 OC/3.5.6907.0 (Office Communicator)",
                                     "a15b8c6d01"))
    assert trace.outcome.decided_by == "ClientVersionFilter" and trace.outcome.status == 403
    assert 'Warning: 314 lcs.microsoft.com "Check Microsoft Update for the newest version."' in trace.outcome.response
    assert "ms-diagnostics: 17002;" in trace.outcome.response
    assert trace.hop("UserServices").why == "not-reached"


def test_client_version_filter_allows_with_url_adding_warning_313_to_the_200():
    fe = FrontEnd()
    trace = fe.send(register("jennyl@contoso.com", "OCPhone/4.0.7577.4398 (Microsoft Lync 2010 Phone Edition)",
                             "5f3a7c9e09"))
    assert trace.outcome.decided_by == "UserServices" and trace.outcome.status == 200
    assert "Warning: 313 lcs.microsoft.com https://lyncupdates.contoso.com/phone" in trace.outcome.response
    assert "17004" in trace.outcome.response
    cvf = [r for r in trace.responses if r.app == "ClientVersionFilter"][0]
    assert cvf.ran and "313" in cvf.action


# -- UserServices: registrar and reverse number lookup --------------------------------------

def test_register_adds_an_endpoint_that_later_calls_fork_to_and_expires_0_removes_it():
    fe = FrontEnd()
    ok = fe.send(register("nuriag@contoso.com", LYNC_2013, "6b1d4e2f99"))
    assert ok.outcome.status == 200 and "gruu=" in ok.outcome.response
    assert "epid:6b1d4e2f99;gruu" in ok.outcome.response
    assert len(fe.registrations["nuriag@contoso.com"]) == 2
    call = fe.send(invite("sip:nuriag@contoso.com"))
    assert len(call.branches) == 2 and call.hop("DefaultRouting").effect == "forked"
    fe.send(register("nuriag@contoso.com", LYNC_2013, "6b1d4e2f99", expires="0"))
    fe.send(register("nuriag@contoso.com", LYNC_2013, "6b1d4e2f01", expires="0"))
    assert fe.registrations["nuriag@contoso.com"] == ()
    assert fe.send(im("sip:nuriag@contoso.com", "hi")).outcome.status == 480


def test_register_of_an_unknown_user_gets_404_with_4005():
    trace = FrontEnd().send(register("nobody@contoso.com", LYNC_2013, "0000000001"))
    assert trace.outcome.status == 404 and "4005" in trace.outcome.response


def test_reverse_number_lookup_sends_a_call_to_the_number_owner():
    trace = FrontEnd().send(invite("sip:+14255550101@contoso.com;user=phone"))
    assert "reverse number lookup" in trace.hop("UserServices").action
    assert trace.outcome.decided_by == "DefaultRouting"
    assert trace.outcome.destination_kind == "endpoint"


# -- TranslationService --------------------------------------------------------------------

def test_translation_service_normalises_an_extension_then_the_call_reaches_its_owner():
    fe = FrontEnd()
    trace = fe.send(invite("sip:0102;phone-context=Redmond@contoso.com;user=phone"))
    ts = trace.hop("TranslationService")
    assert ts.effect == "modified" and "+14255550102" in ts.action
    assert ts.changes.request_uri_after == "sip:+14255550102@contoso.com;user=phone"
    assert trace.outcome.destination == fe.registrations["nuriag@contoso.com"][0].contact


def test_without_translation_service_the_dialled_digits_go_nowhere():
    fe = FrontEnd()
    fe.set_enabled("TranslationService", False)
    trace = fe.send(invite("sip:0102;phone-context=Redmond@contoso.com;user=phone"))
    assert trace.outcome.status == 484 and "12002" in trace.outcome.response


# -- Federation ------------------------------------------------------------------------------

def test_incoming_federation_allows_partners_and_refuses_blocked_domains():
    fe = FrontEnd()
    ok = fe.send(im("sip:jennyl@contoso.com", "hello", frm="<sip:bob@fabrikam.com>"))
    assert ok.hop("IncomingFederation").ran and ok.outcome.status == 200
    blocked = fe.send(im("sip:jennyl@contoso.com", "hello", frm="<sip:eve@litwareinc.com>"))
    assert blocked.outcome.decided_by == "IncomingFederation" and blocked.outcome.status == 403
    unknown = fe.send(im("sip:jennyl@contoso.com", "hello", frm="<sip:al@northwind.example>"))
    assert unknown.outcome.status == 403


def test_outgoing_federation_sends_partners_to_the_edge_and_refuses_the_rest():
    fe = FrontEnd()
    ok = fe.send(invite("sip:bob@fabrikam.com"))
    assert ok.outcome.decided_by == "OutgoingFederation"
    assert ok.outcome.destination_kind == "edge" and "edge01.contoso.com" in ok.outcome.destination
    no_policy = fe.send(invite("sip:bob@fabrikam.com", frm="<sip:kima@contoso.com>"))
    assert no_policy.outcome.status == 403 and "1002" in no_policy.outcome.response
    blocked = fe.send(invite("sip:eve@litwareinc.com"))
    assert blocked.outcome.status == 504 and "1005" in blocked.outcome.response


# -- InterClusterRouting ---------------------------------------------------------------------

def test_intercluster_routing_sends_calls_to_the_home_pool():
    trace = FrontEnd().send(invite("sip:claudiaf@contoso.com"))
    assert trace.outcome.decided_by == "InterClusterRouting"
    assert trace.outcome.destination.startswith("sip:pool02.contoso.com")
    assert trace.outcome.status == 200


def test_intercluster_routing_reroutes_over_the_pstn_when_the_pool_is_down():
    lab = lab_with('backup = "pool01.contoso.com"        # backup Registrar pool (Topology Builder pairing)\navailable = true',
                   'backup = "pool01.contoso.com"\navailable = false')
    trace = FrontEnd(lab).send(invite("sip:claudiaf@contoso.com"))
    assert "PSTN" in trace.hop("InterClusterRouting").action
    assert trace.outcome.destination_kind == "gateway"
    assert "+14255550108" in trace.forwarded.split("\r\n", 1)[0]


# -- IIMFilter -------------------------------------------------------------------------------

def test_iim_filter_block_action_refuses_the_im():
    lab = lab_with('action = "Allow"                     # Allow', 'action = "Block"                     # Allow')
    trace = FrontEnd(lab).send(im("sip:nuriag@contoso.com", "see http://www.fabrikam.com/x"))
    assert trace.outcome.decided_by == "IIMFilter" and trace.outcome.status == 403


def test_iim_filter_warn_action_prefixes_the_warning_and_keeps_links_active():
    lab = lab_with('action = "Allow"                     # Allow', 'action = "Warn"                     # Allow')
    trace = FrontEnd(lab).send(im("sip:nuriag@contoso.com", "see http://www.fabrikam.com/x"))
    body = trace.forwarded.split("\r\n\r\n", 1)[1]
    assert body.startswith("Be careful with links") and "see http://www.fabrikam.com/x" in body


def test_iim_filter_ignores_intranet_links_and_blocks_links_to_listed_file_types():
    fe = FrontEnd()
    local = fe.send(im("sip:nuriag@contoso.com", "wiki: http://intranet.contoso.com/page"))
    assert "_http" not in local.forwarded
    exe = fe.send(im("sip:nuriag@contoso.com", "get http://www.fabrikam.com/tools/setup.exe now"))
    assert exe.outcome.status == 403 and ".exe" in exe.hop("IIMFilter").sentence


def test_iim_filter_blocks_an_exe_file_transfer_and_allows_a_text_file():
    sdp = ("v=0\r\no=- 0 0 IN IP4 192.0.2.31\r\ns=session\r\nc=IN IP4 192.0.2.31\r\nt=0 0\r\n"
           "m=application 5350 TCP/TLS/MSRP *\r\na=file-selector:name:\"{}\" type:application/octet-stream\r\n")
    fe = FrontEnd()
    exe = fe.send(request("INVITE", "sip:nuriag@contoso.com", body=sdp.format("setup.exe"), content_type="application/sdp"))
    assert exe.outcome.decided_by == "IIMFilter" and exe.outcome.status == 403
    txt = fe.send(request("INVITE", "sip:nuriag@contoso.com", body=sdp.format("notes.txt"), content_type="application/sdp"))
    assert txt.outcome.status == 200


# -- DefaultRouting and ExumRouting -----------------------------------------------------------

def test_default_routing_answers_480_when_nobody_is_signed_in_and_404_for_unknown_users():
    fe = FrontEnd()
    kim = fe.send(invite("sip:kima@contoso.com"))
    assert kim.outcome.decided_by == "DefaultRouting" and kim.outcome.status == 480
    nobody = fe.send(invite("sip:nobody@contoso.com"))
    assert nobody.outcome.status == 404 and "4005" in nobody.outcome.response


def test_default_routing_forks_and_the_first_answer_cancels_the_other_branch():
    fe = FrontEnd()
    trace = fe.send(invite("sip:jennyl@contoso.com"))
    assert trace.hop("DefaultRouting").effect == "forked"
    first, second = trace.branches
    assert first.final == (200, "OK") and not first.cancelled
    assert second.cancelled and second.final == (487, "Request Terminated")
    assert trace.outcome.destination == first.target


def test_a_busy_callee_gives_486():
    assert FrontEnd().send(invite("sip:bens@contoso.com")).outcome.status == 486


def test_exum_routing_sends_an_unanswered_call_of_a_um_user_to_voice_mail():
    trace = FrontEnd().send(invite("sip:adamb@contoso.com"))
    assert [b.kind for b in trace.branches] == ["endpoint", "voicemail"]
    assert trace.branches[0].cancelled
    exum = trace.hop("ExumRouting")
    assert exum.ran and "voice mail" in exum.action
    assert trace.outcome.destination_kind == "voicemail" and trace.outcome.status == 200
    assert [r.app for r in trace.responses][:2] == ["ExumRouting", "DefaultRouting"]


def test_after_the_voice_mail_failover_the_outcome_names_exum_routing_and_keeps_default_routing():
    trace = FrontEnd().send(invite("sip:adamb@contoso.com"))
    o = trace.outcome
    assert o.kind == "proxied" and o.decided_by == "ExumRouting"
    assert o.first_routed_by == "DefaultRouting" and o.failed_over
    assert o.summary() == ("proxied to sip:um01.contoso.com:5065;transport=tls by ExumRouting "
                           "(failover after DefaultRouting) -> 200 OK")
    assert o.to_json()["decided_by"] == "ExumRouting" and o.to_json()["first_routed_by"] == "DefaultRouting"
    # Without a failover the first router is the one that decided; an answer has no router.
    plain = FrontEnd().send(invite("sip:jennyl@contoso.com"))
    assert plain.outcome.first_routed_by == plain.outcome.decided_by == "DefaultRouting"
    assert not plain.outcome.failed_over and "failover" not in plain.outcome.summary()
    fe = FrontEnd()
    fe.set_enabled("ExumRouting", False)
    fe.registrations["adamb@contoso.com"] = ()
    answered = fe.send(invite("sip:adamb@contoso.com")).outcome
    assert answered.kind == "responded" and answered.first_routed_by is None and not answered.failed_over


def test_exum_routing_takes_the_call_of_a_um_user_who_is_not_signed_in():
    fe = FrontEnd()
    fe.registrations["adamb@contoso.com"] = ()
    trace = fe.send(invite("sip:adamb@contoso.com"))
    assert trace.outcome.decided_by == "ExumRouting" and trace.outcome.destination_kind == "voicemail"


def test_without_exum_routing_nobody_takes_the_call_of_an_offline_um_user():
    fe = FrontEnd()
    fe.set_enabled("ExumRouting", False)
    fe.registrations["adamb@contoso.com"] = ()
    trace = fe.send(invite("sip:adamb@contoso.com"))
    assert trace.hop("ExumRouting").why == "disabled"
    assert trace.outcome.kind == "responded" and trace.outcome.decided_by == "Front End"
    assert trace.outcome.status == 404


def test_a_disabled_or_removed_exum_routing_takes_no_voice_mail_when_the_call_rings_out():
    disabled = FrontEnd()
    disabled.set_enabled("ExumRouting", False)
    removed = FrontEnd()
    removed.remove("ExumRouting")
    for fe in (disabled, removed):
        trace = fe.send(invite("sip:adamb@contoso.com"))         # his desk phone rings out
        assert [b.kind for b in trace.branches] == ["endpoint"]
        assert trace.outcome.decided_by == "DefaultRouting" and trace.outcome.status == 480
        assert not any("ExumRouting routes unanswered calls" in n.text for n in trace.notes)
        assert "ExumRouting" not in trace.ran


# -- OutboundRouting ---------------------------------------------------------------------------

def test_outbound_routing_refuses_a_caller_without_pstn_usage_with_12001():
    trace = FrontEnd().send(invite("sip:+12065550123@contoso.com;user=phone", frm="<sip:robinc@contoso.com>"))
    assert trace.outcome.status == 403
    assert 'ms-diagnostics: 12001;reason="User Policy does not contain phone route usage"' in trace.outcome.response


def test_outbound_routing_with_no_matching_route_gives_12004():
    trace = FrontEnd().send(invite("sip:+442071234567@contoso.com;user=phone"))
    assert trace.outcome.decided_by == "OutboundRouting" and "12004" in trace.outcome.response


def test_outbound_routing_busy_number_and_failed_gateway():
    assert FrontEnd().send(invite("sip:+12065550100@contoso.com;user=phone")).outcome.status == 486
    lab = lab_with('answers = "connect"', 'answers = "fail"')
    trace = FrontEnd(lab).send(invite("sip:+12065550123@contoso.com;user=phone"))
    assert trace.outcome.status == 503 and "12000" in trace.outcome.response
    # The 503 is OutboundRouting's own answer, not the gateway's 503 relayed (which would be a 500).
    assert trace.outcome.client_experience == ("gets 503 Service Unavailable (from OutboundRouting: "
                                               "no gateway could take the call)")


# -- QoEAgent, UserPinService, AcpRouting ---------------------------------------------------------

def test_qoe_agent_accepts_a_report():
    trace = FrontEnd().send(request("SERVICE", "sip:pool01.contoso.com", body="<VQReportEvent/>",
                                    content_type="application/vq-rtcpxr+xml"))
    assert trace.outcome.decided_by == "QoEAgent" and trace.outcome.status == 200
    assert "mon01.contoso.com" in trace.hop("QoEAgent").sentence


def test_user_pin_service_checks_the_pin():
    fe = FrontEnd()
    good = fe.send(request("SERVICE", "sip:pool01.contoso.com", content_type=PIN_CONTENT_TYPE,
                           body='<pin user="sip:jennyl@contoso.com" value="80437"/>'))
    bad = fe.send(request("SERVICE", "sip:pool01.contoso.com", content_type=PIN_CONTENT_TYPE,
                          body='<pin user="sip:jennyl@contoso.com" value="11111"/>'))
    assert good.outcome.status == 200 and bad.outcome.status == 403
    assert good.outcome.decided_by == bad.outcome.decided_by == "UserPinService"


def test_acp_routing_sends_conference_calls_to_the_acp_gateway():
    trace = FrontEnd().send(invite("sip:conf4711@acp.adatum.net"))
    assert trace.outcome.decided_by == "AcpRouting"
    assert "acpgw.adatum.net" in trace.outcome.destination
