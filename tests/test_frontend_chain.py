"""Registering applications like New-CsServerApplication, and listing them like Get-CsServerApplication."""
from __future__ import annotations

import pytest

from _frontend_support import app, im
from mspl_lite.errors import RegistrationRefused, UsageError
from mspl_lite.frontend import FrontEnd, PythonApplication
from mspl_lite.frontend.builtins import BUILTIN_ORDER
from mspl_lite.manifest import parse_manifest

DOCUMENTED_ORDER = ["ClientVersionFilter", "TranslationService", "IncomingFederation", "UserServices",
                    "InterClusterRouting", "IIMFilter", "UserPinService", "DefaultRouting", "ExumRouting",
                    "OutboundRouting", "QoEAgent", "OutgoingFederation", "AcpRouting"]


def names(fe):
    return [row["Name"] for row in fe.apps]


def test_default_chain_is_the_documented_order_with_priorities_from_zero():
    fe = FrontEnd()
    assert names(fe) == DOCUMENTED_ORDER
    assert [row["Priority"] for row in fe.apps] == list(range(13))
    assert [cls.name for cls in BUILTIN_ORDER] == DOCUMENTED_ORDER


def test_listing_looks_like_get_csserverapplication_and_flags_the_guesses():
    fe = FrontEnd()
    text = fe.listing()
    assert "Identity   : service:Registrar:pool01.contoso.com/UserServices" in text
    assert "Uri        : http://www.microsoft.com/LCS/QoEAgent" in text
    guessed = {row["Name"] for row in fe.apps if row["OrderGuessed"]}
    assert guessed == {"DefaultRouting", "ExumRouting", "OutboundRouting"}
    assert "Priority number inferred" in text and "decision D10" in text


def _block(text, name):
    return next(b for b in text.split("\n\n") if f"Name       : {name}\n" in b)


def test_listing_says_what_is_inferred_and_never_places_defaultrouting_against_itself():
    text = FrontEnd().listing()
    assert "relative to DefaultRouting is a guess" not in text
    own = _block(text, "DefaultRouting")
    assert "listed before ExumRouting and OutboundRouting (Gg182575)" in own
    assert "critical (Gg182598), and that cannot be changed" in own
    assert "listed after DefaultRouting (Gg182575)" in _block(text, "OutboundRouting")
    # Method filters: documented for QoEAgent (SERVICE, Gg182575), inferred for the rest.
    assert "methods it handles: Gg182575" in _block(text, "QoEAgent")
    assert "inferred from its role, decision D51" in _block(text, "IIMFilter")
    assert "gg398812" in _block(text, "ClientVersionFilter")
    assert "Critical value not documented (decision D50)" in _block(text, "UserServices")


def test_defaultrouting_is_critical_and_that_cannot_be_changed():
    fe = FrontEnd()
    rows = {row["Name"]: row for row in fe.apps}
    assert rows["DefaultRouting"]["Critical"] is True
    with pytest.raises(UsageError) as err:
        fe.chain.replace("DefaultRouting", critical=False)
    assert "Gg182598" in str(err.value) and "cannot be changed" in str(err.value)
    assert fe.chain.get("DefaultRouting").critical is True
    fe.chain.replace("DefaultRouting", critical=True, enabled=True)      # no change: allowed
    fe.chain.replace("IIMFilter", critical=True)                          # any other application: allowed
    assert fe.chain.get("IIMFilter").critical is True


def test_an_application_below_defaultrouting_is_registered_with_dn439078s_warning():
    fe = FrontEnd()
    fe.register(app("block-word.am"), 9)
    dr = fe.chain.index("DefaultRouting")
    assert fe.chain.index("BlockWord") == 9 > dr
    warning = {row["Name"]: row for row in fe.apps}["BlockWord"]["Warning"]
    assert "must be set higher than the DefaultRouting application" in warning and "Dn439078" in warning
    assert f"register it at priority {dr} or less" in warning
    assert "Warning    : BlockWord is at priority 9" in fe.listing()
    assert "!" in fe.chain.table_text().splitlines()[10]
    trace = fe.send(im("sip:jennyl@contoso.com", "hello"))
    notes = [(n.kind, n.source) for n in trace.notes]
    assert ("documented", "Dn439078") in notes
    assert any(n.kind == "hint" and "below DefaultRouting" in n.text and "decision D52" in n.text
               for n in trace.notes)
    # At DefaultRouting's own priority it goes above it: no warning.
    above = FrontEnd()
    above.register(app("block-word.am"), above.chain.index("DefaultRouting"))
    assert above.chain.placement_warnings() == []
    assert not any(n.source == "Dn439078" for n in above.send(im("sip:jennyl@contoso.com", "hello")).notes)


def test_default_priority_is_just_below_userservices_or_just_above_it_when_allowed():
    fe = FrontEnd()
    us = fe.chain.index("UserServices")
    fe.register(app("block-word.am"))                  # no allowRegistrationBeforeUserServices
    assert fe.chain.index("BlockWord") == us + 1
    fe.register(app("first.am"))                       # declares allowRegistrationBeforeUserServices
    assert fe.chain.index("First") == us
    assert fe.chain.index("UserServices") == us + 1
    assert fe.chain.index("BlockWord") == us + 2


def test_the_retargetrequest_samples_and_their_proxyrequest_twins_go_just_above_userservices():
    # Dn439073: an application calling RetargetRequest must be above UserServices.
    for name, app_name in [("redirect-im-retarget.am", "RedirectImRetarget"),
                           ("redirect-im-proxy.am", "RedirectImProxy"),
                           ("redirect-call-retarget.am", "RedirectCallRetarget"),
                           ("redirect-call-proxy.am", "RedirectCallProxy")]:
        fe = FrontEnd()
        us = fe.chain.index("UserServices")
        fe.register(app(name))
        assert fe.chain.index(app_name) == us, name
        assert fe.chain.index("UserServices") == us + 1, name


def test_inserting_renumbers_the_applications_below():
    fe = FrontEnd()
    before = names(fe)
    fe.register(app("redirect-im-retarget.am"), priority=5)
    after = names(fe)
    assert after[5] == "RedirectImRetarget"
    assert after[:5] == before[:5] and after[6:] == before[5:]
    assert fe.apps[6]["Priority"] == 6 and fe.apps[6]["Name"] == before[5]
    fe.remove("RedirectImRetarget")
    assert names(fe) == before


def test_a_priority_past_the_end_places_the_application_last():
    fe = FrontEnd()
    fe.register(app("silent.am"), priority=500)
    assert names(fe)[-1] == "Silent" and fe.apps[-1]["Priority"] == 13


def test_registering_above_userservices_without_the_manifest_element_is_refused_with_the_reason():
    fe = FrontEnd()
    with pytest.raises(RegistrationRefused) as err:
        fe.register(app("block-word.am"), priority=0)
    assert "allowRegistrationBeforeUserServices" in str(err.value)
    assert "UserServices" in str(err.value)
    assert names(fe) == DOCUMENTED_ORDER                # nothing changed


def test_the_manifest_element_allows_priority_zero():
    fe = FrontEnd()
    fe.register(app("first.am"), priority=0)
    assert names(fe)[0] == "First"
    trace = fe.send(im("sip:nuriag@contoso.com", "hi"))
    assert trace.hops[0].app == "First" and trace.hops[0].ran
    assert trace.log[0].text == "first"


def test_a_second_application_with_the_same_name_is_refused():
    fe = FrontEnd()
    fe.register(app("silent.am"))
    with pytest.raises(RegistrationRefused, match="already exists"):
        fe.register(app("silent.am"))


def test_server_filter_roles_that_exclude_the_front_end_are_refused():
    text = open(app("silent.am")).read().replace('<r:scriptOnly/>', '<r:serverFilter roles="AccessProxy"/>\n  <r:scriptOnly/>')
    manifest = parse_manifest(text, filename="edge-only.am")
    with pytest.raises(RegistrationRefused, match="serverFilter"):
        FrontEnd().register(manifest)


def test_disabled_applications_are_skipped_with_why_disabled():
    fe = FrontEnd()
    fe.register(app("redirect-im-retarget.am"), enabled=False)
    trace = fe.send(im("sip:jennyl@contoso.com", "hello"))
    hop = trace.hop("RedirectImRetarget")
    assert not hop.ran and hop.why == "disabled"
    assert trace.outcome.destination == fe.registrations["jennyl@contoso.com"][0].contact


def test_a_disabled_builtin_costs_its_job():
    fe = FrontEnd()
    fe.set_enabled("IIMFilter", False)
    trace = fe.send(im("sip:nuriag@contoso.com", "see http://www.fabrikam.com"))
    assert trace.hop("IIMFilter").why == "disabled"
    assert "_http" not in trace.forwarded


def test_python_stand_in_application_behaves_like_the_script():
    def redirect(message, api):
        if hasattr(message, "method") and "jennyl@contoso.com" in message.request_uri.lower():
            api.retarget_request("sip:nuriag@contoso.com")

    fe_py, fe_am = FrontEnd(), FrontEnd()
    fe_py.register(PythonApplication(name="RedirectImRetarget", handler=redirect,
                                     allow_registration_before_user_services=True))
    fe_am.register(app("redirect-im-retarget.am"))
    message = im("sip:jennyl@contoso.com", "see http://www.fabrikam.com")
    t_py, t_am = fe_py.send(message), fe_am.send(message)
    assert t_py.outcome == t_am.outcome
    assert [(h.app, h.ran, h.why, h.effect) for h in t_py.hops] == [(h.app, h.ran, h.why, h.effect) for h in t_am.hops]
    assert fe_py.apps[3]["Name"] == "RedirectImRetarget" and fe_py.apps[3]["Kind"] == "python"
    assert not any("UserServices" in n.text for n in t_py.notes + t_am.notes)   # both placed right
