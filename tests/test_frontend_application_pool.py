"""The trusted application pool's UCMA platform matches requests to endpoints as Dn466043 says."""
from __future__ import annotations

import pytest

from mspl_lite.errors import LabError, UsageError
from mspl_lite.frontend import FrontEnd, default_lab_text, load_lab, parse_lab
from mspl_lite.frontend.application_pool import in_dialog, platform_match
from mspl_lite.frontend.lab import ApplicationEndpoint, TrustedApplication
from mspl_lite.frontend.managed import Header, RequestReceivedEventArgs
from mspl_lite.sip import parse_message

HELPDESK = ApplicationEndpoint(uri="sip:helpdesk@contoso.com", conversations=("C-1",))
SALES = ApplicationEndpoint(uri="sip:sales@contoso.com", conversations=("C-2",))
CATCHALL = ApplicationEndpoint(uri="sip:catchall@contoso.com", default_routing=True)
APP = TrustedApplication(name="Bot", fqdn="apppool.contoso.com", port=6001, computers=("app1.contoso.com",),
                         endpoints=(HELPDESK, SALES))


def request(uri="sip:helpdesk@contoso.com", to="<sip:terrya@contoso.com>", frm="<sip:nuriag@contoso.com>;tag=1",
            method="INVITE", **headers):
    extra = "".join(f"{k.replace('_', '-')}: {v}\r\n" for k, v in headers.items())
    return parse_message(f"{method} {uri} SIP/2.0\r\nVia: SIP/2.0/TLS 192.0.2.1;branch=z9hG4bK1\r\n"
                         f"From: {frm}\r\nTo: {to}\r\nCall-ID: c\r\nCSeq: 1 {method}\r\n{extra}"
                         "Content-Length: 0\r\n\r\n")


def test_to_names_the_owner_uri():
    match = platform_match(APP, request(to="<sip:sales@contoso.com>"))
    assert match.endpoint == SALES and match.rule == "To"


def test_ms_application_aor_overrides_to():
    match = platform_match(APP, request(to="<sip:sales@contoso.com>", ms_application_aor="<sip:helpdesk@contoso.com>"))
    assert match.endpoint == HELPDESK and match.rule == "ms-application-aor"


def test_retargeted_request_matches_no_endpoint_and_is_rejected_500():
    # Request-URI = the owner URI, To = the original user: the Request-URI is not matched (decision D70).
    match = platform_match(APP, request())
    assert not match.delivered and match.status == 500 and "in no dialog" in match.sentence()


def test_in_a_dialog_the_rejection_is_481():
    req = request(to="<sip:terrya@contoso.com>;tag=abc", method="BYE")
    assert in_dialog(req)
    assert platform_match(APP, req).status == 481


def test_default_routing_endpoint_takes_what_matches_nothing():
    app = TrustedApplication(name="Bot", fqdn="apppool.contoso.com", port=6001, endpoints=(HELPDESK, CATCHALL))
    match = platform_match(app, request())
    assert match.endpoint == CATCHALL and match.rule == "default routing endpoint"


def test_instance_gruu_without_the_header_goes_by_conversation_id():
    match = platform_match(APP, request(uri=APP.instance_gruu, Ms_Conversation_ID="C-2"))
    assert match.endpoint == SALES and match.rule == "conversation ID"
    # To is not used for the instance GRUU (Dn466043's note): a To naming helpdesk changes nothing.
    match = platform_match(APP, request(uri=APP.instance_gruu, to="<sip:helpdesk@contoso.com>"))
    assert not match.delivered and match.status == 500


def test_instance_gruu_with_the_header_goes_by_the_header():
    match = platform_match(APP, request(uri=APP.instance_gruu, ms_application_aor="<sip:sales@contoso.com>",
                                        Ms_Conversation_ID="C-1"))
    assert match.endpoint == SALES and match.rule == "ms-application-aor"


def test_two_endpoints_in_one_conversation_the_one_that_is_not_the_caller():
    a = ApplicationEndpoint(uri="sip:a@contoso.com", conversations=("X",))
    b = ApplicationEndpoint(uri="sip:b@contoso.com", conversations=("X",))
    c = ApplicationEndpoint(uri="sip:c@contoso.com", conversations=("X",))
    app = TrustedApplication(name="Bot", fqdn="p.contoso.com", port=6001, endpoints=(a, b))
    assert platform_match(app, request(uri=app.instance_gruu, frm="<sip:a@contoso.com>;tag=1",
                                       Ms_Conversation_ID="X")).endpoint == b
    crowded = TrustedApplication(name="Bot", fqdn="p.contoso.com", port=6001, endpoints=(a, b, c))
    match = platform_match(crowded, request(uri=crowded.instance_gruu, Ms_Conversation_ID="X"))
    assert not match.delivered and "ambiguous" in match.sentence()


def test_epid_picks_among_endpoints_of_one_owner_uri():
    one = ApplicationEndpoint(uri="sip:q@contoso.com", epid="aaa1")
    two = ApplicationEndpoint(uri="sip:q@contoso.com", epid="bbb2")
    app = TrustedApplication(name="Bot", fqdn="p.contoso.com", port=6001, endpoints=(one, two))
    assert platform_match(app, request(to="<sip:q@contoso.com>;epid=bbb2")).endpoint == two
    assert not platform_match(app, request(to="<sip:q@contoso.com>")).delivered


def test_ms_opaque_in_the_request_uri_identifies_the_endpoint():
    match = platform_match(APP, request(uri=f"sip:app1.contoso.com:6001;transport=tls;ms-opaque={SALES.opaque}"))
    assert match.endpoint == SALES and match.rule == "ms-opaque"


def test_trace_of_a_proxied_request_to_the_pool_shows_the_500_and_the_quoted_rule():
    fe = FrontEnd()
    trace = fe.send(str(request(uri="sip:helpdesk@contoso.com")))
    assert trace.outcome.status == 500 and trace.outcome.destination.startswith("sip:apppool01.contoso.com")
    branch = trace.branches[0]
    assert branch.kind == "application" and branch.final == (500, "Server Internal Error")
    quoted = [n for n in trace.notes if n.kind == "documented" and n.source == "Dn466043"]
    assert any("481 response code" in n.text for n in quoted)
    assert any(n.kind == "inferred" and "decision D70" in n.text for n in trace.notes)


def test_a_call_to_the_contacts_number_carries_ms_application_aor():
    trace = FrontEnd().send(str(request(uri="tel:+14255550170", to="<tel:+14255550170>")))
    assert trace.outcome.status == 200
    assert "ms-application-aor: <sip:helpdesk@contoso.com>" in trace.forwarded


# --- the managed API keeps only the reference's members ---------------------------------------

def _args():
    return RequestReceivedEventArgs(request(), "OnInvite")


def test_request_has_no_addheader_and_allheaders_add_works():
    e = _args()
    with pytest.raises(UsageError, match="AllHeaders.Add"):
        e.Request.AddHeader("X-A", "1")
    assert e.Request.AllHeaders.Add(Header("ms-application-aor", "<sip:helpdesk@contoso.com>")) >= 0
    assert e.Request.AllHeaders.FindFirst("ms-application-aor").Value == "<sip:helpdesk@contoso.com>"


def test_send_response_takes_a_response():
    e = _args()
    with pytest.raises(UsageError, match="CreateResponse"):
        e.ServerTransaction.SendResponse(486)
    response = e.Request.CreateResponse(486)
    response.ReasonPhrase = "Busy Here"
    e.ServerTransaction.SendResponse(response)
    assert e.ServerTransaction.responses[0].status_code == 486


def test_forking_is_enabled_by_default():
    e = _args()
    e.ServerTransaction.CreateBranch()
    e.ServerTransaction.CreateBranch()           # Dn439089: "By default, EnableForking is set to true."
    e.ServerTransaction.EnableForking = False
    with pytest.raises(UsageError, match="EnableForking is set to false"):
        e.ServerTransaction.CreateBranch()


# --- bad lab input: a located LabError -------------------------------------------------------

def _lab(replace_from: str, replace_to: str):
    text = default_lab_text()
    assert replace_from in text
    return text.replace(replace_from, replace_to)


@pytest.mark.parametrize("old, new, message, key", [
    ('uri = "sip:helpdesk@contoso.com"   #', 'uri = "helpdesk"   #', "is not a SIP URI", "uri"),
    ('uri = "sip:helpdesk@contoso.com"   #', 'uri = "sip:jennyl@contoso.com"   #', "user's address", "uri"),
    ('line_uri = "tel:+14255550170"', 'line_uri = "+1 425"', "not a tel: URI", "line_uri"),
    ("port = 6001", "port = 99999", "is not a TCP port", "port"),
    ('# default_routing = true ', 'default_routing = true\n  bogus = 1 #', "unknown key 'bogus'", "bogus"),
])
def test_bad_application_pool_input_points_at_the_line(old, new, message, key):
    text = _lab(old, new)
    with pytest.raises(LabError) as err:
        parse_lab(text, filename="lab.toml")
    diagnostic = err.value.diagnostics[0]
    assert message in diagnostic.message
    line = text.splitlines()[diagnostic.line - 1]
    assert key in line and "lab.toml:" in str(err.value)


def test_two_default_routing_endpoints_are_refused_with_dn466043():
    text = _lab("default_routing_endpoint = false", "default_routing_endpoint = true").replace(
        "# default_routing = true ", "default_routing = false #")
    text += ('\n[[trusted_applications]]\nname = "Two"\nfqdn = "p2.contoso.com"\n'
             '  [[trusted_applications.endpoints]]\n  uri = "sip:a@contoso.com"\n  default_routing = true\n'
             '  [[trusted_applications.endpoints]]\n  uri = "sip:b@contoso.com"\n  default_routing = true\n')
    with pytest.raises(LabError) as err:
        parse_lab(text, filename="lab.toml")
    assert "2 default routing endpoints" in str(err.value) and "Dn466043" in str(err.value)


def test_the_shipped_lab_has_a_pool_a_computer_and_one_contact():
    app = load_lab().trusted_applications[0]
    assert app.fqdn == "apppool01.contoso.com" and app.instances == ("app01.contoso.com",)
    assert app.default_routing_endpoint is None and app.endpoints[0].number == "+14255550170"
