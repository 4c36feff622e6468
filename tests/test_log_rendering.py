"""One Log call reads as one clean line wherever it is shown; the server's lines stay in ``text``.

Log("Debugr", false, "call to ", uri) writes "call to " and the URI on lines of their own
(gg439513). Shown on one line they used to read "call to  | sip:kima@..." (the trailing space,
then a separator): notebook 03 stored exactly that. Every place that shows a log entry on one
line goes through language.run.log_line, so each is checked here.
"""
from __future__ import annotations

import re

import pytest

from mspl_lite.course import course_message
from mspl_lite.frontend import FrontEnd, sample_path
from mspl_lite.language import compile_script
from mspl_lite.language.run import LogEntry, log_line
from mspl_lite.manifest import parse_manifest

CALL_WATCH = """<?xml version="1.0"?>
<r:applicationManifest r:appUri="http://www.contoso.com/CallWatch"
                       xmlns:r="http://schemas.microsoft.com/lcs/2006/05">
  <r:requestFilter methodNames="INVITE" strictRoute="false" registrarGenerated="false"/>
  <r:responseFilter reasonCodes="4XX,5XX,6XX"/>
  <r:proxyByDefault action="true"/>
  <r:scriptOnly/>
  <r:splScript><![CDATA[
if (sipRequest) {
    Log("Debugr", false, "call to ", sipRequest.RequestUri);
}
if (sipResponse) {
    Log("Event", false, "call failed: ", sipResponse.StatusCode, sipResponse.StatusReasonPhrase);
}
]]></r:splScript>
</r:applicationManifest>
"""

#: What a stray rendering looks like: a double space, or a separator between the strings.
UNCLEAN = re.compile(r"\S  +\S| \| ")


def _call_to_kima():
    fe = FrontEnd()
    fe.register(parse_manifest(CALL_WATCH, filename="CallWatch.am"))
    return fe.send(sample_path("messages/invite-kima.sip").read_text())


def test_log_line_joins_the_parts_of_a_sentence_with_one_space():
    assert log_line(["call to ", "sip:kima@contoso.com"]) == "call to sip:kima@contoso.com"
    assert log_line(["call failed: ", "480", "Temporarily Unavailable"]) == "call failed: 480 Temporarily Unavailable"
    assert log_line(["terrya@contoso.com", " calls ", "jennyl"]) == "terrya@contoso.com calls jennyl"
    assert log_line(["only one"]) == "only one"
    assert log_line(["[", "", "]"]) == "[ ]"          # an empty string leaves no double space
    assert log_line(["a\r\nb", "c"]) == "a b c"       # a string of several lines stays on one line
    assert log_line([]) == ""


def test_the_front_end_log_reads_cleanly_and_keeps_the_servers_lines():
    trace = _call_to_kima()
    shown = [str(entry) for entry in trace.log]
    assert shown == ["[CallWatch] Debugr: call to sip:kima@contoso.com (line 10)",
                     "[CallWatch] Event: call failed: 480 Temporarily Unavailable (line 13)"]
    # The server writes each string on its own line: the data keeps them so.
    assert trace.log[0].text == "call to \nsip:kima@contoso.com"
    described = str(trace)
    assert "call to sip:kima@contoso.com" in described
    assert "log Debugr: call to sip:kima@contoso.com" in described
    for line in described.splitlines():
        if "call to" in line or "call failed" in line:
            assert not UNCLEAN.search(line.strip()), line


def test_a_script_runs_log_reads_cleanly():
    script = compile_script('Log("Debugr", false, "method: ", sipRequest.Method, " to ", sipRequest.RequestUri);')
    run = script.run(course_message("invite-jennyl"))
    assert str(run.log[0]) == "[Debugr] line 1: method: INVITE to sip:jennyl@contoso.com"
    assert "[Debugr] line 1: method: INVITE to sip:jennyl@contoso.com" in run.describe()
    assert run.log[0].lines == ("method: ", "INVITE", " to ", "sip:jennyl@contoso.com")


def test_an_entry_with_no_strings_has_no_trailing_space():
    entry = LogEntry(level="Event", name="Event", detail=False, lines=(), line=3)
    assert str(entry) == "[Event] line 3:"


def test_the_widgets_show_the_same_clean_line():
    pytest.importorskip("ipywidgets")
    from mspl_lite.course.widgets import run_report
    from mspl_lite.view.widgets import ScriptLab

    report = run_report('Log("Debugr", false, "method: ", sipRequest.Method);', "invite-jennyl")
    assert "[Debugr] line 1: method: INVITE" in report and " | " not in report
    lab = ScriptLab('if (sipRequest) { Log("Debugr", false, "to ", sipRequest.RequestUri); }')
    assert "[LabApp] Debugr: to sip:jennyl@contoso.com (line 1)" in lab.result.value
