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
    assert "RedirectApp above the routing applications" in proxy and "RedirectApp last in the chain" in proxy
    lab.disposition.value = "RetargetRequest"
    retarget = _verdict(lab)
    assert retarget != proxy
    assert retarget.startswith("What changed: RedirectApp did not run with RedirectApp last in the chain")
    a, b = lab.traces
    assert a.hop("RedirectApp").ran and not b.hop("RedirectApp").ran
    assert b.hop("RedirectApp").why == "routed"


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
