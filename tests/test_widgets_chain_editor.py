"""The chain editor, driven without a browser: moving or disabling an application changes the path."""
from __future__ import annotations

import re

import pytest

pytest.importorskip("ipywidgets")

from mspl_lite.frontend import FrontEnd, sample_path  # noqa: E402
from mspl_lite.view.widgets import ChainEditor  # noqa: E402


def _path(editor: ChainEditor) -> str:
    return re.sub(r"<[^>]+>", " ", editor.path.value)


def test_moving_the_custom_application_below_defaultrouting_changes_the_path():
    editor = ChainEditor()
    assert "RedirectImRetarget" in _path(editor) and "sent it to Nuria Gonzalez" in _path(editor)
    editor.apps.value = "RedirectImRetarget"
    while editor.chain.index("RedirectImRetarget") < editor.chain.index("DefaultRouting"):
        editor.down.click()
    assert editor.apps.value == "RedirectImRetarget"  # the selection follows the application
    assert "RedirectImRetarget" not in _path(editor).split("Outcome")[0]
    assert "sent it to Jenny Lee" in _path(editor)
    assert editor.last_trace.hop("RedirectImRetarget").why == "routed"
    labels = [label for label, _ in editor.apps.options]
    assert labels[editor.chain.index("RedirectImRetarget")].strip().startswith(
        f"{editor.chain.index('RedirectImRetarget')}  RedirectImRetarget")
    assert "<title>transaction</title>" in editor.result.value
    # Dn439078: every application must be above DefaultRouting; the editor says so and marks it.
    assert "Warning:" in editor.path.value and "must be set higher than the DefaultRouting" in editor.path.value
    assert "! below DefaultRouting" in labels[editor.chain.index("RedirectImRetarget")]


def test_disabling_an_application_and_enabling_it_again():
    editor = ChainEditor()
    editor.apps.value = "IIMFilter"
    editor.toggle.click()
    assert editor.last_trace.hop("IIMFilter").why == "disabled"
    assert "IIMFilter  (disabled)" in dict((v, k) for k, v in editor.apps.options)["IIMFilter"]
    editor.toggle.click()
    assert editor.last_trace.hop("IIMFilter").ran


def test_a_move_the_server_refuses_is_shown_and_undone():
    fe = FrontEnd()
    fe.register(str(sample_path("apps/block-word.am")))  # no allowRegistrationBeforeUserServices
    editor = ChainEditor(fe)
    before = [a.name for a in editor.chain]
    editor.apps.value = "BlockWord"
    assert editor.chain.index("BlockWord") == editor.chain.index("UserServices") + 1
    editor.up.click()
    assert [a.name for a in editor.chain] == before
    assert "allowRegistrationBeforeUserServices" in editor.path.value
    assert editor.status.value == "the server refused the move"
    # The editor still works afterwards.
    editor.down.click()
    assert editor.chain.index("BlockWord") == before.index("BlockWord") + 1


def test_the_callers_front_end_is_not_changed():
    fe = FrontEnd()
    order = [a.name for a in fe.chain]
    editor = ChainEditor(fe)
    editor.apps.value = "DefaultRouting"
    editor.up.click()
    editor.toggle.click()
    assert [a.name for a in fe.chain] == order and fe.chain.get("DefaultRouting").enabled


def test_chain_and_ladder_views_and_the_message_picker():
    editor = ChainEditor()
    editor.view.value = "chain"
    assert "<title>chain</title>" in editor.result.value
    editor.view.value = "ladder"
    assert "SIP ladder" in editor.result.value
    editor.message_picker.value = "invite-pstn.sip"
    assert "OutboundRouting sent it to" in _path(editor)


def test_first_and_last_cannot_move_further():
    editor = ChainEditor()
    editor.apps.value = editor.chain[0].name
    editor.up.click()
    assert editor.status.value.endswith("is already first")


def test_notebook_02_task_iimfilter_below_defaultrouting_leaves_the_link_live():
    # Notebook 02 shows ChainEditor(FrontEnd(), message="im-with-link.sip") and asks: move IIMFilter
    # below DefaultRouting; is the link still neutralised when the IM reaches Jenny?
    editor = ChainEditor(FrontEnd(), message="im-with-link.sip")
    assert "Changed the request: IIMFilter (neutralised 1 link(s)" in " ".join(_path(editor).split())
    editor.apps.value = "IIMFilter"
    while editor.chain.index("IIMFilter") < editor.chain.index("DefaultRouting"):
        editor.down.click()
    hop = editor.last_trace.hop("IIMFilter")
    assert not hop.ran and hop.why == "routed"
    assert "IIMFilter" not in _path(editor).split("Outcome")[0]
    assert "Changed the request: no application" in " ".join(_path(editor).split())
    assert "http://www.fabrikam.com/offer" in editor.last_trace.outcome.forwarded
    assert "_http://" not in editor.last_trace.outcome.forwarded
    # Then: pick register-nuriag.sip and disable UserServices: who answers Nuria's REGISTER?
    editor.message_picker.value = "register-nuriag.sip"
    assert editor.last_trace.outcome.decided_by == "UserServices"
    editor.apps.value = "UserServices"
    editor.toggle.click()
    assert editor.last_trace.hop("UserServices").why == "disabled"
    assert editor.last_trace.outcome.kind == "responded" and editor.last_trace.outcome.decided_by != "UserServices"


def test_without_a_renderer_the_path_is_still_told_and_the_diagram_says_why(monkeypatch):
    from mspl_lite.view.render import RENDERER_ENV

    monkeypatch.setenv(RENDERER_ENV, "/nonexistent/dot")
    editor = ChainEditor()
    assert editor.last_error is None and editor.last_trace is not None
    assert "sent it to Nuria Gonzalez" in _path(editor)
    assert "The diagram cannot be drawn:" in editor.result.value and RENDERER_ENV in editor.result.value
