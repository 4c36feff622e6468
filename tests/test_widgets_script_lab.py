"""The script lab, driven without a browser: set values, click Run, read the HTML shown."""
from __future__ import annotations

import re

import pytest

pytest.importorskip("ipywidgets")

from mspl_lite.view.widgets import DEFAULT_SCRIPT, ScriptLab  # noqa: E402
from mspl_lite.view.widgets.common import OWN_MESSAGE, sample_messages  # noqa: E402

BROKEN = DEFAULT_SCRIPT.replace("RetargetRequest(", "RetargetRequst(")


@pytest.fixture(scope="module")
def lab():
    return ScriptLab()


def _svg_titles(html: str) -> list[str]:
    return re.findall(r"<title>([^<]*)</title>", html)


def test_first_run_shows_outcome_and_transaction_diagram(lab):
    lab.script.value = DEFAULT_SCRIPT
    lab.view.value = "transaction"
    lab.message_picker.value = "im-with-link.sip"
    trace = lab.run()
    assert trace is not None and "LabApp" in trace.ran
    html = lab.result.value
    assert "<b>Outcome:</b> DefaultRouting sent it to Nuria Gonzalez -&gt; 200 OK" in html
    assert "<svg " in html and "<title>transaction</title>" in html
    assert "&lt;?xml" not in html and "<?xml" not in html  # inlined cleanly
    assert "[LabApp] Debugr: sip:jennyl@contoso.com (line 2)" in html  # the log
    assert lab.status.value.startswith("ran in")


def test_broken_script_shows_diagnostic_with_line_and_caret_and_keeps_the_text(lab):
    lab.script.value = BROKEN
    lab.run_button.click()
    html = lab.result.value
    assert "<svg" not in html
    assert "script.mspl:4:9: error: unknown function RetargetRequst" in html
    caret_block = re.search(r"<pre[^>]*>(.*?)</pre>", html, re.S).group(1)
    lines = caret_block.splitlines()
    source = next(i for i, line in enumerate(lines) if "RetargetRequst(" in line)
    assert lines[source + 1].index("^") == lines[source].index("RetargetRequst")
    assert "did you mean RetargetRequest?" in html
    assert lab.script.value == BROKEN  # the learner's text is untouched
    assert lab.status.value.startswith("error")
    # Fixing it brings the diagram back: the widget kept working.
    lab.script.value = DEFAULT_SCRIPT
    lab.run_button.click()
    assert "<title>transaction</title>" in lab.result.value and "error" not in lab.status.value


def test_diagnostics_are_html_escaped(lab):
    lab.script.value = 'if (sipRequest) {\n    x = "<b>" + ;\n}\n'
    lab.run_button.click()
    assert "&lt;b&gt;" in lab.result.value and "<b>\"" not in lab.result.value
    lab.script.value = DEFAULT_SCRIPT


def test_a_bad_manifest_setting_is_shown_in_place(lab):
    lab.script.value = DEFAULT_SCRIPT
    lab.method_names.value = "MESAGE"
    lab.run_button.click()
    assert "MESAGE" in lab.result.value and "<svg" not in lab.result.value
    lab.method_names.value = "MESSAGE"
    lab.run_button.click()
    assert "<svg" in lab.result.value


def test_the_server_refuses_a_place_above_userservices_until_the_manifest_allows_it(lab):
    lab.script.value = DEFAULT_SCRIPT
    lab.priority.value = 1
    lab.allow_before.value = False
    lab.run_button.click()
    assert "allowRegistrationBeforeUserServices" in lab.result.value and "<svg" not in lab.result.value
    lab.allow_before.value = True
    trace = lab.run()
    assert trace is not None and trace.hops[1].app == "LabApp"
    lab.priority.value = 4
    lab.allow_before.value = False


def test_settings_change_what_the_application_sees(lab):
    lab.script.value = DEFAULT_SCRIPT
    lab.method_names.value = "INVITE"
    trace = lab.run()
    assert trace.hop("LabApp").why == "filter"
    assert "Nuria" not in lab.result.value.split("<svg")[0]  # not retargeted any more
    lab.method_names.value = "MESSAGE"


def test_a_broken_message_shows_its_error_and_the_message_is_kept(lab):
    lab.script.value = DEFAULT_SCRIPT
    lab.message.value = "MESSAGE sip:jennyl@contoso.com SIP/2.0\r\nFrom: nobody\r\n\r\n"
    assert lab.message_picker.value == OWN_MESSAGE  # editing makes it the learner's own
    lab.run_button.click()
    assert "message.sip:" in lab.result.value and "<svg" not in lab.result.value
    assert lab.message.value.startswith("MESSAGE sip:jennyl@contoso.com SIP/2.0")


def test_the_message_picker_never_loses_the_learners_message(lab):
    mine = sample_messages()["invite-jennyl.sip"].replace("jennyl", "nuriag")
    lab.message_picker.value = "invite-jennyl.sip"
    lab.message.value = mine
    assert lab.message_picker.value == OWN_MESSAGE
    lab.message_picker.value = "im-with-link.sip"
    assert lab.message.value == sample_messages()["im-with-link.sip"]
    lab.message_picker.value = OWN_MESSAGE
    assert lab.message.value == mine
    lab.message_picker.value = "im-with-link.sip"


def test_a_critical_error_is_shown_with_its_line_and_caret():
    lab = ScriptLab(script='if (sipRequest) {\n    x = GetUserName("not a uri");\n    Log("Debugr", false, x);\n}\n')
    html = lab.result.value
    assert "script.mspl:3:5: error: critical error: null passed to Log" in html
    assert "<svg" in html and "CRITICAL ERROR line 3" in html  # and the diagram still shows it


def test_ladder_view(lab):
    lab.script.value = DEFAULT_SCRIPT
    lab.run()
    lab.view.value = "ladder"
    assert "SIP ladder: MESSAGE sip:jennyl@contoso.com" in _svg_titles(lab.result.value)
    lab.view.value = "transaction"
    assert "transaction" in _svg_titles(lab.result.value)


def test_repr_is_stable():
    lab = ScriptLab(run=False)
    assert repr(lab) == "<ScriptLab LabApp at priority 3, message im-with-link.sip>"
    assert lab.result.value == ""


def test_default_places_the_retargeting_sample_above_userservices_as_the_sdk_requires():
    lab = ScriptLab()
    assert lab.allow_before.value is True
    trace = lab.last_trace
    names = [h.app for h in trace.hops]
    assert names.index("LabApp") < names.index("UserServices")
    assert not any(n.source == "Dn439073" and "UserServices" in n.text for n in trace.notes)
    assert "retarget-below-userservices" not in lab.result.value
