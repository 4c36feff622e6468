"""Notebooks 07-10 and their support code: every solution passes, typical wrong answers get the hint
that fixes them, the capstone battery tells good from bad applications, the widgets work without a
browser, and the notebooks keep the series' shape."""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from mspl_lite.course import EXERCISES, SOLUTIONS, check_exercise, show_solution
from mspl_lite.course import answering_exercises as answering
from mspl_lite.course import capstone
from mspl_lite.course import debugging_exercises as debugging
from mspl_lite.course import managed_exercises as managed
from mspl_lite.course.lab_apps import FileDeclaration, critical_lines, lab_app, learner_app, manifest_text
from mspl_lite.course.variants import variant
from mspl_lite.course.workshop_widgets import (CapstoneBench, CriticalErrorBench, DispatchLab, bench_html,
                                               case_html, dispatch_html)
from mspl_lite.frontend import FrontEnd

ROOT = Path(__file__).resolve().parent.parent
MODULES = (answering, debugging, managed, capstone)
IDS = [row[0] for m in MODULES for row in m.EXERCISE_ROWS]


def solution_answer(exercise: str):
    """The answer a learner would give for the stored solution (Python ones are executed)."""
    solution = SOLUTIONS[exercise]
    if solution.language != "python":
        return solution.code
    namespace: dict = {}
    exec(solution.code, namespace)
    name = "answer_" + exercise.replace(".", "_")
    if name in namespace:
        return namespace[name]
    return next(v for k, v in namespace.items() if callable(v) and not k.startswith("__"))


def text_of(page: str) -> str:
    import html

    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


# --- the registry --------------------------------------------------------------------------------

def test_exercises_and_solutions_of_07_to_10_are_registered_with_their_notebooks():
    for module in MODULES:
        for row in module.EXERCISE_ROWS:
            entry = EXERCISES[row[0]]
            assert entry.check is row[4] and entry.notebook == row[1]
            assert (ROOT / "notebooks" / f"{entry.notebook}.ipynb").exists()
        for row in module.SOLUTION_ROWS:
            assert SOLUTIONS[row[0]].code == row[2]
    assert set(IDS) <= set(EXERCISES) and set(IDS) <= set(SOLUTIONS)


@pytest.mark.parametrize("exercise", IDS)
def test_every_solution_passes_its_check(exercise):
    feedback = check_exercise(exercise, solution_answer(exercise))
    assert feedback.passed, feedback.text()


@pytest.mark.parametrize("exercise", IDS)
def test_solutions_stay_hidden_until_asked_for(exercise):
    solution = show_solution(exercise)
    page = solution._repr_html_()
    assert page.startswith("<details><summary>") and "hidden" in repr(solution)
    first_code_line = solution.code.strip().splitlines()[0]
    assert first_code_line not in repr(solution)


# --- 7.x -----------------------------------------------------------------------------------------

BOARDROOM = '''
if (sipRequest) {
  if (EqualString(GetUserAtHost(sipRequest.RequestUri), "boardroom@contoso.com", true)) {
    %s
    return;
  }
}'''


@pytest.mark.parametrize("body, message, hint", [
    ('Respond(403, "Forbidden", "ms-diagnostics: 99001");', "critical error", '"Name=value"'),
    ('AddHeader("ms-diagnostics", "99001;reason=\\"x\\""); Respond(403, "Forbidden");',
     "without an ms-diagnostics header", "NOT included in the response"),
    ('Respond(404, "Not Found");', "answered 404", "403 Forbidden"),
    ('Respond(403, "Forbidden", "ms-diagnostics=99001;reason=\\"x\\";source=\\"pool01.contoso.com\\"");',
     "source is pool01.contoso.com", "FQDN"),
    ('Respond(403, "Forbidden", "ms-diagnostics=99001;source=\\"fe01.contoso.com\\"");', "no reason", "reason="),
    ('Respond(403, "Forbidden", "ms-diagnostics=99001;reason=\\"x\\";source=\\"fe01.contoso.com\\"");',
     "an IM to the boardroom", "sipRequest.Method"),
])
def test_boardroom_wrong_answers_get_the_hint_that_fixes_them(body, message, hint):
    feedback = check_exercise("7.1", BOARDROOM % body)
    assert not feedback.passed
    assert message in feedback.message and hint in feedback.hint


def test_boardroom_critical_error_is_shown_at_the_learners_own_line():
    feedback = check_exercise("7.1", BOARDROOM % 'Respond(403, "Forbidden", "ms-diagnostics: 99001");')
    assert feedback.details[0].startswith("exercise-7.1.mspl:4:5: error: critical error: Respond: header argument 3")


GUARD = '''
if (sipRequest) {
    if (EqualString(GetUserAtHost(sipRequest.RequestUri), "jennyl@contoso.com", true)) {
        if (%s) {
            Respond(403, "Forbidden");
            return;
        }
    }
    %s
}'''


def test_internal_ims_without_proxyrequest_are_dropped_and_the_hint_says_so():
    feedback = check_exercise("7.2", GUARD % ('GetHostName(sipMessage.From) != "contoso.com"', ""))
    assert not feedback.passed and "dropped" in feedback.message and "32 s" in feedback.message
    assert 'ProxyRequest("")' in feedback.hint


def test_internal_ims_case_sensitive_host_test_refuses_a_colleague():
    feedback = check_exercise("7.2", GUARD % ('GetHostName(sipMessage.From) != "contoso.com"', 'ProxyRequest("");'))
    assert not feedback.passed and "capitals" in feedback.message and "EqualString" in feedback.hint


def test_internal_ims_refusing_every_outside_im_is_caught():
    script = '''
if (sipRequest) {
    if (!EqualString(GetHostName(sipMessage.From), "contoso.com", true)) { Respond(403, "Forbidden"); return; }
    ProxyRequest("");
}'''
    feedback = check_exercise("7.2", script)
    assert not feedback.passed and "Al's IM to Nuria" in feedback.message


def test_response_path_answers():
    assert check_exercise("7.3", ["FailWatch", "CallAudit"]).passed
    wrong_order = check_exercise("7.3", ["CallAudit", "FailWatch"])
    assert "wrong order" in wrong_order.message and "reverse order" in wrong_order.hint
    late = check_exercise("7.3", ["LateWatch", "FailWatch", "CallAudit"])
    assert "LateWatch never saw the INVITE" in late.message
    filtered = check_exercise("7.3", ["SuccessWatch", "FailWatch", "CallAudit"])
    assert "reasonCodes=2XX" in filtered.message
    assert "missing" in check_exercise("7.3", ["FailWatch"]).message
    assert "not one of the four" in check_exercise("7.3", ["Audit"]).message
    assert not check_exercise("7.3", ["..."]).passed


def test_response_path_front_end_places_the_watchers_as_the_notebook_says():
    fe = answering.response_path_front_end()
    names = [a.name for a in fe.chain]
    assert names.index("CallAudit") == names.index("UserServices") + 1
    assert names.index("FailWatch") == names.index("InterClusterRouting") + 1
    assert names.index("SuccessWatch") < names.index("DefaultRouting") < names.index("LateWatch")


RECEPTION = '''
if (sipRequest) {
  if (EqualString(GetUserAtHost(sipRequest.RequestUri), "reception@contoso.com", true)) {
   %s
  }
}'''


@pytest.mark.parametrize("body, found", [
    ('ProxyRequest("sip:jennyl@contoso.com"); ProxyRequest("sip:nuriag@contoso.com");', "one final decision"),
    ('BeginFork(false, 0); Fork("sip:jennyl@contoso.com"); Fork("sip:nuriag@contoso.com");', "call EndFork()"),
    ('Fork("sip:jennyl@contoso.com"); Fork("sip:nuriag@contoso.com"); EndFork();', "BeginFork(false, 0); then"),
    ('BeginFork(false, 0); Fork("sip:jennyl@contoso.com"); EndFork();', 'Fork("sip:nuriag@contoso.com")'),
    ('ProxyRequest("sip:jennyl@contoso.com");', "to ring two people at once, fork"),
    ('RetargetRequest("sip:jennyl@contoso.com");', "to ring two people at once, fork"),
])
def test_reception_fork_mistakes(body, found):
    feedback = check_exercise("7.4", RECEPTION % body)
    assert not feedback.passed and found in feedback.hint


def test_reception_fork_that_forks_every_call_is_caught():
    feedback = check_exercise("7.4", 'BeginFork(false, 0); Fork("sip:jennyl@contoso.com"); '
                                     'Fork("sip:nuriag@contoso.com"); EndFork();')
    assert not feedback.passed and "Terry's call to Jenny" in feedback.message


def test_a_script_that_does_not_compile_says_where():
    feedback = check_exercise("7.4", "if (sipRequest) { ProxyRequst(\"\"); }")
    assert not feedback.passed and "does not compile" in feedback.message
    assert "exercise-7.4.mspl:1:19" in feedback.details[0]


# --- 8.x -----------------------------------------------------------------------------------------

def test_the_sdk_sample_is_kept_verbatim():
    assert debugging.SDK_DEFAULT_ROUTING == (ROOT / "tests/data/check/default_routing.am").read_text()


def test_the_published_sample_faults_on_every_first_invite_and_ten_faults_disable_it():
    fe = FrontEnd()
    fe.register(debugging.default_routing_app())
    for n in range(1, 11):
        trace = fe.send(variant("invite-jennyl"))
        hop = trace.hop("DefaultRoutingScript")
        assert hop.critical_errors[0].line == 46 and hop.critical_errors[0].count == n
        assert trace.outcome.decided_by == "DefaultRouting" and trace.outcome.status == 200
    assert hop.disabled_after
    assert fe.send(variant("invite-jennyl")).hop("DefaultRoutingScript").why == "disabled"


@pytest.mark.parametrize("edits, message, hint", [
    ((), "critical error at line 46", "Log cannot take null"),
    ((('Log( "Debugr", 1, "EPID - ", requestEPID );', ""),), "skipped because of EPID", "requestEPID != null"),
    ((('Log( "Debugr", 1, "EPID - ", requestEPID );', ""), ('if (requestEPID != "") {', "if (requestEPID != null) {")),
     "got no epid", "requestEPID == null"),
    ((('ProxyRequest( bestContactInfo );', 'ProxyRequest( "" );'),), "line 46", "Log"),
])
def test_default_routing_findings_come_one_at_a_time(edits, message, hint):
    text = debugging.SDK_DEFAULT_ROUTING
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    feedback = check_exercise("8.2", text)
    assert not feedback.passed and message in feedback.message and hint in feedback.hint


def test_default_routing_epid_branch_must_survive():
    text = debugging.SDK_DEFAULT_ROUTING.replace('Log( "Debugr", 1, "EPID - ", requestEPID );', "")
    text = text.replace('if (requestEPID != "") {', "if (false) {").replace('if (requestEPID == "") {',
                                                                             "if (requestEPID == null) {")
    feedback = check_exercise("8.2", text)
    assert not feedback.passed and "epid=5f3a7c9e01" in feedback.message


def test_default_routing_bad_xml_is_a_load_error():
    feedback = check_exercise("8.2", debugging.SDK_DEFAULT_ROUTING.replace("</lc:applicationManifest>", ""))
    assert not feedback.passed and "does not load" in feedback.message


def test_read_trace_hints():
    good = solution_answer("8.1")
    assert check_exercise("8.1", good).passed
    assert "Left the server" in check_exercise("8.1", {**good, "status": 180}).hint
    routed = check_exercise("8.1", {**good, "filtered_out": ["ClientVersionFilter", "ExumRouting"]})
    assert "already routed" in routed.message
    assert "did see the INVITE" in check_exercise("8.1", {**good, "filtered_out": ["IIMFilter"]}).message
    assert "Event" in check_exercise("8.1", {**good, "event_log": "DefaultRouting"}).hint
    assert "keys" in check_exercise("8.1", {"routed_by": "DefaultRouting"}).hint


def test_quiet_checker_lists_the_warnings_then_finds_the_null_at_run_time():
    first = check_exercise("8.3", debugging.KIM_AWAY_BUGGY)
    assert "4 warnings" in first.message and len(first.details) == 4
    no_warnings_but_null = '''
if (sipRequest) {
    callee = GetUserAtHost(sipRequest.RequestUri);
    if (EqualString(callee, "kima@contoso.com", true)) {
        Respond(480, "Kim is away");
        return;
    }
    Log("Debugr", false, "call to ", callee);
}'''
    feedback = check_exercise("8.3", no_warnings_but_null)
    assert "REGISTER" in feedback.message and "!= null" in feedback.hint
    silent = check_exercise("8.3", '''
if (sipRequest) {
    if (sipRequest.Method == "INVITE") {
        callee = GetUserAtHost(sipRequest.RequestUri);
        if (callee != null) {
            if (EqualString(callee, "kima@contoso.com", true)) {
                Respond(480, "Kim is away");
                return;
            }
        }
    }
}''')
    assert "was not logged" in silent.message


# --- 9.x -----------------------------------------------------------------------------------------

def test_handler_variants_reach_the_endpoint_only_with_ms_application_aor():
    status = {label: managed.helpdesk_trace(handler).outcome.status
              for label, (handler, _) in managed.HANDLER_VARIANTS.items()}
    assert status == {"Retarget, send on": 500, "Retarget + ms-application-aor": 200,
                      "RequestUri = the instance GRUU": 500,
                      "RequestUri = the instance GRUU + ms-application-aor": 200,
                      "Answer 486 from managed code": 486}


@pytest.mark.parametrize("label, status, rule", [
    ("call to the contact's phone number", 200, "(ms-application-aor)"),   # Lync adds the header (D70)
    ("in-dialog BYE, conversation gone", 481, "belongs to a dialog"),
    ("MESSAGE for a hosted conversation", 200, "(conversation ID)"),
])
def test_pool_requests_show_each_documented_dispatch_rule(label, status, rule):
    trace = managed.pool_trace(label)
    assert trace.outcome.status == status and rule in trace.branches[0].note
    if label.startswith("call"):
        assert "ms-application-aor: <sip:helpdesk@contoso.com>" in trace.forwarded


def test_default_routing_endpoint_takes_the_retargeted_call():
    trace = managed.helpdesk_trace(managed.HANDLER_VARIANTS["Retarget, send on"][0],
                                   lab=managed.lab_with_default_routing_endpoint())
    assert trace.outcome.status == 200 and "(default routing endpoint)" in trace.branches[0].note
    assert any(n.source == "Dn466043" and "default routing endpoint" in n.text for n in trace.notes)


def _retarget(e):
    e.Request.Retarget("sip:helpdesk@contoso.com")
    e.ServerTransaction.CreateBranch().SendRequest(e.Request)


def _raises(e):
    return e.Reqest


def _nothing(e):
    return None


def _answers(e):
    e.ServerTransaction.SendResponse(e.Request.CreateResponse(486))


def _send_response_int(e):
    e.ServerTransaction.SendResponse(486)


def _add_header(e):
    e.Request.AddHeader("ms-application-aor", "<sip:helpdesk@contoso.com>")


def _pass_on(e):
    e.ServerTransaction.CreateBranch().SendRequest(e.Request)


def _empty_target(e):
    e.Request.Retarget("")


@pytest.mark.parametrize("handler, message, hint", [
    (_retarget, "no ApplicationEndpoint took it", "ms-application-aor"),
    (_raises, "AttributeError", "e.Request"),
    (_nothing, "neither sent the request on nor answered it", "CreateBranch().SendRequest"),
    (_answers, "answered 486", "instead of answering"),
    (_pass_on, "never reached HelpdeskBot", "Retarget"),
    (_empty_target, "refused", "SIP URI"),
    (_send_response_int, "SendResponse takes a Response", "Microsoft.Rtc.Sip"),
    (_add_header, "AllHeaders.Add", "AllHeaders.Add(Header(name, value))"),
    ("def on_invite(e): pass", "not str", "def on_invite"),
])
def test_helpdesk_handler_mistakes(handler, message, hint):
    feedback = check_exercise("9.1", handler)
    assert not feedback.passed and message in feedback.message and hint in feedback.hint


def test_documented_or_inferred_names_the_source_of_the_wrong_one():
    answer = dict(solution_answer("9.2"), d="documented")
    feedback = check_exercise("9.2", answer)
    assert not feedback.passed and "d (" in feedback.message and "decision D70" in feedback.hint
    assert "neither" in check_exercise("9.2", dict(answer, a="yes")).message


# --- 10: the capstone ----------------------------------------------------------------------------

def test_reference_passes_every_case_and_the_feedback_lists_them():
    feedback = capstone.check_capstone(capstone.REFERENCE_MANIFEST, capstone.REFERENCE_EXCEPTIONS)
    assert feedback.passed and len(feedback.details) == len(capstone.CASES) == 11
    assert all(line.startswith("ok") for line in feedback.details)


def _broken(old: str, new: str) -> str:
    assert old in capstone.REFERENCE_MANIFEST
    return capstone.REFERENCE_MANIFEST.replace(old, new)


@pytest.mark.parametrize("manifest, exceptions, failing, hint", [
    (_broken('if (GetParameterValue(sipRequest.To, "tag") != null) {', "if (false) {"),
     capstone.REFERENCE_EXCEPTIONS, "a re-INVITE", "Dn439073"),
    (_broken('ignoreCase="true"', 'ignoreCase="false"'), capstone.REFERENCE_EXCEPTIONS, "in capitals", "ignoreCase"),
    (_broken("    if (caller != null) {\n", "    {\n"), capstone.REFERENCE_EXCEPTIONS, "from the PSTN", "null"),
    (_broken('if (state == null || !EqualString(state, "closed", true)) {',
             'if (!EqualString(state, "closed", true)) {'), capstone.REFERENCE_EXCEPTIONS, "hours.txt empty",
     "null"),
    (capstone.REFERENCE_MANIFEST, "", "Terry (on the exception list) calls Jenny", "exception list"),
    (_broken('RetargetRequest("sip:nuriag@contoso.com");', 'ProxyRequest("sip:jennyl@contoso.com");'),
     capstone.REFERENCE_EXCEPTIONS, "Ben calls Jenny", "RetargetRequest"),
    (_broken('ProxyRequest("sip:um01.contoso.com:5065;transport=tls");', 'RetargetRequest("sip:adamb@contoso.com");'),
     capstone.REFERENCE_EXCEPTIONS, "Ben calls Adam", "desk phone"),
    (_broken('    if (sipRequest.Method != "INVITE") {\n        return;\n    }\n', "").replace(
        'methodNames="INVITE"', 'methodNames="INVITE,MESSAGE"'),
     capstone.REFERENCE_EXCEPTIONS, "IM to Jenny", "only calls"),
])
def test_capstone_names_the_first_failing_case_and_its_hint(manifest, exceptions, failing, hint):
    feedback = capstone.check_capstone(manifest, exceptions)
    assert not feedback.passed
    assert failing in feedback.message and hint in feedback.hint
    assert any(line.startswith("FAIL") and failing in line for line in feedback.details)


# Case 6 with ignoreCase already set: the learner compares the caller with == instead of looking it up.
_COMPARED = _broken("        if (exceptions[caller].caller != null) {",
                    '        if (caller == "terrya@contoso.com") {')


@pytest.mark.parametrize("manifest, exceptions, failing, hint, not_in_hint", [
    (_COMPARED, capstone.REFERENCE_EXCEPTIONS, "in capitals", 'already has keyColumnName="caller" and ignoreCase',
     'give the exceptions file ignoreCase'),
    (_broken('ignoreCase="true"', 'ignoreCase="false"'), capstone.REFERENCE_EXCEPTIONS, "in capitals",
     'give the exceptions file ignoreCase="true"', "already"),
    (capstone.REFERENCE_MANIFEST, "kima@contoso.com,colleague\n", "Terry (on the exception list) calls Jenny",
     "no line for terrya@contoso.com", "look the caller up"),
    (capstone.REFERENCE_MANIFEST.replace('methodNames="INVITE"', 'methodNames="INVITE,MESSAGE"').replace(
        '    if (sipRequest.Method != "INVITE") {\n        return;\n    }\n', ""),
     capstone.REFERENCE_EXCEPTIONS, "IM to Jenny", 'lets IMs in (methodNames="INVITE,MESSAGE")',
     "only calls are forwarded: methodNames"),
])
def test_capstone_hints_look_at_the_learners_manifest_first(manifest, exceptions, failing, hint, not_in_hint):
    feedback = capstone.check_capstone(manifest, exceptions)
    assert not feedback.passed and failing in feedback.message
    assert hint in feedback.hint and not_in_hint not in feedback.hint
    failed = [line for line in feedback.details if line.startswith("FAIL") and failing in line][0]
    assert hint in failed       # the report's line and the bench show the same hint
    index = next(i for i, case in enumerate(capstone.CASES) if failing in case.name)
    assert html.escape(hint) in case_html(manifest, exceptions, index)


@pytest.mark.parametrize("manifest, exceptions, message, hint", [
    (capstone.STARTER_MANIFEST, "", "still the starter", "your code here"),
    (capstone.REFERENCE_MANIFEST.replace("AfterHours", "Afterhours"), "", "called Afterhours", "appUri"),
    (_broken('<r:file name="hours"', '<r:file name="clock"').replace("hours[0]", "clock[0]"), "",
     "no flat file named hours", "hours.txt"),
    (_broken("  <r:allowRegistrationBeforeUserServices/>\n", ""), "", "above UserServices", "Dn439073"),
    (capstone.REFERENCE_MANIFEST, "terrya@contoso.com,CEO\nterrya@contoso.com,again\n", "does not load", None),
    (_broken("state = hours[0].state;", "state = hours[0].status;"), "", "does not compile", None),
    (42, "", "two strings", "check_capstone"),
])
def test_capstone_load_problems(manifest, exceptions, message, hint):
    feedback = capstone.check_capstone(manifest, exceptions)
    assert not feedback.passed and message in feedback.message
    if hint:
        assert hint in feedback.hint


def test_capstone_proxying_to_the_delegate_passes_with_a_note():
    manifest = _broken('RetargetRequest("sip:nuriag@contoso.com");', 'ProxyRequest("sip:nuriag@contoso.com");')
    feedback = capstone.check_capstone(manifest, capstone.REFERENCE_EXCEPTIONS)
    assert feedback.passed and "RetargetRequest lets the rest of the chain" in feedback.message


def test_capstone_registry_form_needs_a_pair():
    assert "pair" in check_exercise("10.1", capstone.REFERENCE_MANIFEST).message
    assert check_exercise("10.1", (capstone.REFERENCE_MANIFEST, capstone.REFERENCE_EXCEPTIONS)).passed


def test_capstone_cases_are_deterministic():
    a = [r.line() for r in capstone.run_cases(capstone.REFERENCE_MANIFEST, capstone.REFERENCE_EXCEPTIONS)]
    b = [r.line() for r in capstone.run_cases(capstone.REFERENCE_MANIFEST, capstone.REFERENCE_EXCEPTIONS)]
    assert a == b and not any(" at 0x" in line for line in a)


# --- support modules -----------------------------------------------------------------------------

def test_lab_app_is_a_real_manifest_and_learner_app_keeps_the_learners_lines():
    text = manifest_text("Demo", "\nLog(\"Debugr\", false, \"x\");\n", methods="MESSAGE", proxy_by_default=False,
                         above_user_services=True, files=[FileDeclaration("hours", "hours.txt", ("state",))])
    assert "<r:allowRegistrationBeforeUserServices/>" in text and 'action="false"' in text
    manifest = lab_app("Demo", "", files=[FileDeclaration("hours", "hours.txt", ("state",))],
                       flat_file_texts={"hours": "closed\n"})
    assert manifest.files["hours"].row(0) == {"state": "closed"}
    script = '\nif (sipRequest) {\n    Fork("sip:a@contoso.com");\n}\n'
    fe = FrontEnd()
    fe.register(learner_app("0.0", "Forker", script))
    trace = fe.send(variant("invite-jennyl"))
    (line,) = critical_lines(trace, "Forker", script, "exercise-0.0.mspl")
    assert line.startswith("exercise-0.0.mspl:3:5: error: critical error: Fork without BeginFork (1 of 10)")
    assert 'Fork("sip:a@contoso.com");' in line


def test_variants_change_one_thing_and_keep_tags():
    m = variant("invite-jennyl", callee="sip:boardroom@contoso.com", caller='"Al" <sip:al@fabrikam.com>',
                to_tag="abc")
    assert m.request_uri == "sip:boardroom@contoso.com"
    assert m.get("To") == "<sip:boardroom@contoso.com>;tag=abc"
    assert m.get("From") == '"Al" <sip:al@fabrikam.com>;tag=1a2b3c4d'
    assert variant("invite-jennyl").get("To") == '"Jenny Lee" <sip:jennyl@contoso.com>'


# --- widgets (driven without a browser) -------------------------------------------------------

def test_critical_error_bench_disables_after_ten_and_reenables():
    bench = CriticalErrorBench()
    for _ in range(10):
        sent = bench.send()
    assert "10 of 10" in sent.app_did and "now disabled" in sent.app_did
    assert "disabled after 10 critical errors" in bench.send().app_did
    assert "10 critical errors so far" in text_of(bench.view.value) and "disabled" in text_of(bench.view.value)
    bench.enable()
    bench.message.value = 1                       # To names the desktop's epid: no fault
    assert bench.send().app_did.startswith("proxied to")
    assert "0 critical errors so far" in text_of(bench.view.value)
    bench.reset_button.click()
    assert bench.sends == [] and "Nothing sent yet" in bench.view.value
    assert repr(bench).startswith("CriticalErrorBench: run this cell")
    assert bench_html([], "App", 0, True).count("Enabled") == 1


def test_dispatch_lab_default_routing_endpoint_catches_the_call():
    lab = DispatchLab()
    assert "500 Server Internal Error" in text_of(lab.view.value) and "<svg" in lab.view.value
    lab.default_endpoint.value = True
    assert "(default routing endpoint)" in text_of(lab.view.value)
    lab.handler.value = "Answer 486 from managed code"
    assert "486 Busy Here" in text_of(lab.view.value)
    assert "SendResponse(e.Request.CreateResponse(486))" in text_of(dispatch_html("Answer 486 from managed code", False))


def test_capstone_bench_shows_a_case_or_why_the_application_does_not_load():
    bench = CapstoneBench(capstone.REFERENCE_MANIFEST, capstone.REFERENCE_EXCEPTIONS)
    assert "This case passes" in text_of(bench.view.value) and "<svg" in bench.view.value
    bench.case.value = 8
    assert "re-INVITE" in bench.case.label and "This case passes" in text_of(bench.view.value)
    starter = text_of(case_html(capstone.STARTER_MANIFEST, "", 0))
    assert "does not load" in starter and "still the starter" in starter
    broken = _broken('if (GetParameterValue(sipRequest.To, "tag") != null) {', "if (false) {")
    assert "Hint:" in text_of(case_html(broken, capstone.REFERENCE_EXCEPTIONS, 8))


# --- the notebooks ---------------------------------------------------------------------------

NOTEBOOKS = {
    "07": "07-answering-blocking-and-filtering.ipynb",
    "08": "08-logging-monitoring-and-debugging.ipynb",
    "09": "09-managed-code.ipynb",
    "10": "10-workshop-capstone.ipynb",
}
NEXT = {"07": "08-logging-monitoring-and-debugging.ipynb", "08": "09-managed-code.ipynb",
        "09": "10-workshop-capstone.ipynb", "10": "00-start-here.ipynb"}


def _cells(name: str) -> list[dict]:
    return json.loads((ROOT / "notebooks" / name).read_text(encoding="utf-8"))["cells"]


@pytest.mark.parametrize("number", sorted(NOTEBOOKS))
def test_notebook_has_the_series_shape(number):
    name = NOTEBOOKS[number]
    nb = json.loads((ROOT / "notebooks" / name).read_text(encoding="utf-8"))
    cells = nb["cells"]
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    assert "".join(cells[0]["source"]).startswith(f"# {number} · ")
    assert "What you will learn" in markdown or "What you will build" in markdown
    assert "## Recap" in markdown
    assert f"]({NEXT[number]})" in markdown and (ROOT / "notebooks" / NEXT[number]).exists()
    assert "Before you play" in markdown and "Before you run" in markdown
    ids = [row[0] for m in MODULES for row in m.EXERCISE_ROWS if row[1] == name[:-6]]
    assert ids, "every notebook has exercises"
    for exercise in ids:
        assert any(f'show_solution("{exercise}")' in c for c in code)
        assert any(f'check_exercise("{exercise}"' in c or "check_capstone(" in c for c in code)
    # Stored as tools/notebooks.py writes it: run, no widget state, nothing machine-specific.
    assert "widgets" not in nb["metadata"]
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        assert cell["execution_count"] is not None
        assert "NBVAL_IGNORE_OUTPUT" not in "".join(cell["source"])
        for output in cell["outputs"]:
            assert output["output_type"] != "error"
            text = json.dumps(output)
            assert " at 0x" not in text and "/work/" not in text and "application/vnd.jupyter.widget-view" not in text


@pytest.mark.parametrize("number", sorted(NOTEBOOKS))
def test_each_question_comes_before_what_answers_it(number):
    cells = _cells(NOTEBOOKS[number])
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "markdown" and "**Before you" in "".join(cell["source"]):
            following = cells[i + 1]
            assert following["cell_type"] == "code", f"cell {i}: a question must be followed by the cell to run"


def test_the_capstone_starter_in_the_notebook_is_the_modules_starter():
    code = ["".join(c["source"]) for c in _cells(NOTEBOOKS["10"]) if c["cell_type"] == "code"]
    cell = next(c for c in code if c.startswith("manifest_10 = "))
    assert capstone.STARTER_MANIFEST in cell


def test_a_script_holding_the_end_of_a_cdata_section_still_registers():
    script = SOLUTIONS["7.4"].code.replace("return;", 'Log("Debugr", false, "a]]>b"); return;')
    assert lab_app("Reception", script).script == script  # the manifest holds the script unchanged
    assert check_exercise("7.4", script).passed
