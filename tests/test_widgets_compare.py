"""The comparison lab, driven without a browser: the verdict and both diagrams follow the controls."""
from __future__ import annotations

import re

import pytest

pytest.importorskip("ipywidgets")

from mspl_lite.view.widgets import CompareLab  # noqa: E402
from mspl_lite.view.widgets.compare_lab import redirect_script  # noqa: E402


def _verdict(lab: CompareLab) -> str:
    return re.sub(r"<[^>]+>", "", lab.verdict.value)


def test_proxyrequest_vs_retargetrequest_side_by_side_with_verdict():
    lab = CompareLab()
    assert _verdict(lab).startswith("What changed: IIMFilter did not run with ProxyRequest (already routed above)")
    html = lab.result.value
    assert "<title>comparison</title>" in html and "<title>cluster_a</title>" in html and "<title>cluster_b</title>" in html
    a, b = lab.traces
    assert a.outcome.decided_by == "RedirectApp" and b.outcome.decided_by == "DefaultRouting"
    assert lab.disposition.disabled and not lab.position.disabled


def test_switching_to_position_and_between_dispositions_changes_the_verdict():
    lab = CompareLab()
    first = _verdict(lab)
    lab.vary.value = "position"
    proxy = _verdict(lab)
    assert proxy != first and lab.position.disabled and not lab.disposition.disabled
    # Where the application sits is what differs: the verdict says where, and what ran first.
    assert proxy == ("What changed: Placed last in the chain, RedirectApp never ran: DefaultRouting had already "
                     "routed the IM to Jenny Lee; placed above DefaultRouting, it proxied the IM to "
                     "sip:nuriag@contoso.com, so the IM reached Nuria Gonzalez.")
    lab.disposition.value = "RetargetRequest"
    retarget = _verdict(lab)
    assert retarget == ("What changed: Placed last in the chain, RedirectApp never ran: DefaultRouting had already "
                        "routed the IM to Jenny Lee; placed above DefaultRouting, it retargeted the IM to "
                        "sip:nuriag@contoso.com, then DefaultRouting sent it to Nuria Gonzalez.")
    a, b = lab.traces
    assert a.hop("RedirectApp").ran and not b.hop("RedirectApp").ran
    assert b.hop("RedirectApp").why == "routed"


def test_position_verdict_follows_the_message_and_the_target():
    # A REGISTER is answered by UserServices, not routed: the sentence says so, from the traces.
    lab = CompareLab(vary="position", disposition="RetargetRequest", message="register-nuriag.sip",
                     target="sip:terrya@contoso.com")
    assert _verdict(lab) == ("What changed: Placed last in the chain, RedirectApp never ran: UserServices had "
                             "already answered the REGISTER (200 OK); placed above UserServices, it retargeted "
                             "the REGISTER to sip:terrya@contoso.com, then UserServices answered 200 OK.")
    # A call to a phone number is routed by OutboundRouting: that is the application named.
    lab.message_picker.value = "invite-pstn.sip"
    assert _verdict(lab).startswith("What changed: Placed last in the chain, RedirectApp never ran: OutboundRouting "
                                    "had already routed the call to gateway gw01.contoso.com")
    assert "placed above OutboundRouting, it retargeted the call to sip:terrya@contoso.com" in _verdict(lab)


def test_every_choice_and_description_is_shown_whole():
    # ipywidgets cuts a ToggleButtons choice to its fixed button width ("above the routin...") and a
    # description to 80 px: the choices size to their text, the descriptions are given room.
    lab = CompareLab()
    for control in (lab.vary, lab.disposition, lab.position):
        assert control.style.button_width == "auto", control.description
        assert control.style.description_width, control.description
        # the description on the buttons' line, left of them (ipywidgets 8 puts it on a line above)
        assert control.layout.flex_flow == "row" and "widget-inline-hbox" in control._dom_classes
    assert {c.style.description_width for c in (lab.vary, lab.disposition, lab.position)} == {"6.5em"}


def test_message_and_target_controls_redraw_both_sides():
    lab = CompareLab()
    lab.message_picker.value = "invite-jennyl.sip"
    a, b = lab.traces
    assert a.method == b.method == "INVITE"
    # An INVITE carries no IM text: the verdict is about who routed it, not about IIMFilter.
    assert _verdict(lab) == ("What changed: With ProxyRequest, RedirectApp sent it to Nuria Gonzalez; with "
                             "RetargetRequest, DefaultRouting sent it to Nuria Gonzalez; 4 application(s) ran "
                             "only with RetargetRequest.")
    lab.target.value = "sip:terrya@contoso.com"
    assert "sent it to Terry Adams" in _verdict(lab)
    assert 'ProxyRequest(&quot;sip:terrya@contoso.com&quot;)' in lab.result.value


def test_a_target_with_quotes_is_escaped_in_the_generated_script():
    script = redirect_script("ProxyRequest", 'sip:"odd"@contoso.com')
    assert 'ProxyRequest("sip:\\"odd\\"@contoso.com");' in script
    lab = CompareLab(target='sip:"odd"@contoso.com')
    assert lab.last_error is None and lab.traces is not None


def test_stored_plain_text_tells_the_reader_to_run_the_cell():
    from mspl_lite.view.widgets import ChainEditor, ScriptLab

    for widget, name in ((CompareLab(), "CompareLab"), (ScriptLab(), "ScriptLab"), (ChainEditor(), "ChainEditor")):
        bundle = widget._repr_mimebundle_()
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        assert data["text/plain"].startswith(f"{name}: run this cell")
        assert "application/vnd.jupyter.widget-view+json" in data
