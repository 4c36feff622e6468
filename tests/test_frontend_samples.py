"""The samples shipped in mspl_lite/data load and run, so notebooks can rely on them."""
from __future__ import annotations

from mspl_lite.frontend import FrontEnd, sample_path
from mspl_lite.manifest import load_manifest

EXPECTED = {
    "im-with-link.sip": ("proxied", 200),
    "im-to-nuriag.sip": ("proxied", 200),
    "im-invite-jennyl.sip": ("proxied", 200),
    "invite-jennyl.sip": ("proxied", 200),
    "invite-kima.sip": ("responded", 480),
    "invite-adamb.sip": ("proxied", 200),
    "invite-pstn.sip": ("proxied", 200),
    "invite-extension.sip": ("proxied", 200),
    "invite-helpdesk.sip": ("proxied", 200),
    "invite-fabrikam.sip": ("proxied", 200),
    "register-robinc.sip": ("responded", 403),
    "register-nuriag.sip": ("responded", 200),
    "qoe-report.sip": ("responded", 200),
    "file-transfer-exe.sip": ("responded", 403),
}


def test_every_sample_message_gives_its_expected_outcome():
    names = sorted(p.name for p in sample_path("messages").iterdir() if p.name.endswith(".sip"))
    assert names == sorted(EXPECTED)
    for name in names:
        trace = FrontEnd().send(sample_path(f"messages/{name}").read_text(encoding="utf-8"), filename=name)
        assert (trace.outcome.kind, trace.outcome.status) == EXPECTED[name], (name, trace.outcome.summary())


#: The RetargetRequest samples must sit above UserServices (Dn439073); their ProxyRequest twins
#: sit in the same place so that the comparison is like for like.
ABOVE_USER_SERVICES = {"redirect-im-retarget.am", "redirect-im-proxy.am",
                       "redirect-call-retarget.am", "redirect-call-proxy.am"}


def test_every_sample_app_registers_on_the_default_front_end():
    for path in sorted(sample_path("apps").iterdir()):
        if path.name.endswith(".am"):
            fe = FrontEnd()
            manifest = load_manifest(str(path))
            row = fe.register(str(path))
            assert row.name == manifest.name
            above = path.name in ABOVE_USER_SERVICES
            assert manifest.allow_registration_before_user_services is above, path.name
            us = fe.chain.index("UserServices")
            assert fe.chain.index(row.name) == (us - 1 if above else us + 1), path.name


def test_every_sample_app_that_calls_retargetrequest_declares_allow_registration_before_user_services():
    from mspl_lite.check import check_file

    for path in sorted(sample_path("apps").iterdir()):
        if path.name.endswith(".am"):
            assert [d.code for d in check_file(path) if d.code == "retarget-below-userservices"] == [], path.name


def test_a_gruu_reaches_only_its_endpoint():
    text = sample_path("messages/im-to-nuriag.sip").read_text().replace(
        "MESSAGE sip:nuriag@contoso.com", "MESSAGE sip:jennyl@contoso.com;opaque=user:epid:5f3a7c9e02;gruu")
    trace = FrontEnd().send(text)
    assert len(trace.branches) == 1 and trace.branches[0].target.startswith("sip:192.0.2.12:")


def test_a_response_entering_the_server_climbs_the_whole_chain():
    response = ("SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS fe01.contoso.com:5061;branch=z9hG4bKx\r\n"
                "Via: SIP/2.0/TLS 192.0.2.31:50250;branch=z9hG4bK-1\r\nFrom: <sip:terrya@contoso.com>;tag=1\r\n"
                "To: <sip:jennyl@contoso.com>;tag=2\r\nCall-ID: c\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n")
    fe = FrontEnd()
    fe.register(str(sample_path("apps/watch-4xx.am")))
    trace = fe.send(response)
    assert [r.priority for r in trace.responses] == list(range(len(fe.chain) - 1, -1, -1))
    watch = [r for r in trace.responses if r.app == "Watch4xx"][0]
    assert not watch.ran and watch.why == "response-filter"
    assert trace.outcome.status == 200 and "192.0.2.31" in trace.outcome.destination


def test_sample_comparison_sends_one_sample_through_the_proxyrequest_sample_and_its_retarget_twin():
    from mspl_lite.frontend import sample_comparison

    proxied, retargeted = sample_comparison()
    assert proxied.hop("RedirectImProxy").ran and retargeted.hop("RedirectImRetarget").ran
    # ProxyRequest(uri) routes at once: IIMFilter never sees the link; RetargetRequest lets it run.
    assert not proxied.hop("IIMFilter").ran and retargeted.hop("IIMFilter").ran
    assert "look at http://www.fabrikam.com" in proxied.outcome.forwarded
    assert "look at _http://www.fabrikam.com" in retargeted.outcome.forwarded  # neutralised
    assert sample_comparison() == (proxied, retargeted)  # a fresh Front End each time: same traces
    other, _ = sample_comparison("im-to-nuriag.sip")
    assert other.request_uri == "sip:nuriag@contoso.com"
