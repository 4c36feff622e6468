"""The course support code: every solution passes its check, typical wrong answers get the right hint,
the environment check and the widgets say what a learner needs."""
from __future__ import annotations

import html
import re

import pytest

from mspl_lite.course import (EXERCISES, SOLUTIONS, check_exercise, course_message, environment_check,
                              show_solution, try_script)
from mspl_lite.course import environment as env_module
from mspl_lite.course.environment import Check
from mspl_lite.course.language_exercises import delegates_manifest
from mspl_lite.course.sip_exercises import BROKEN_INVITE
from mspl_lite.course.widgets import (FilterExplorer, MessageExplorer, ScriptPlayground, explain_field,
                                      filter_report, run_report)
from mspl_lite.errors import UsageError
from mspl_lite.sip import Request, get_parameter_value, get_uri_parameter, get_user_at_host


def solution_answer(exercise: str):
    """The answer a learner would pass for the stored solution (a function for Python ones)."""
    solution = SOLUTIONS[exercise]
    if solution.language == "python":
        namespace = {"Request": Request, "get_user_at_host": get_user_at_host,
                     "get_parameter_value": get_parameter_value}
        exec(solution.code, namespace)
        answer = f"answer_{exercise.replace('.', '_')}"
        if answer in namespace:
            return namespace[answer]
        return next(v for k, v in namespace.items() if callable(v) and k not in
                    ("Request", "get_user_at_host", "get_parameter_value"))
    if solution.language == "sip":
        return solution.code.lstrip("\n")
    return solution.code


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


# --- registry and solutions ----------------------------------------------------------------------

def test_every_exercise_has_a_solution_and_the_solution_passes():
    assert set(EXERCISES) == set(SOLUTIONS)
    for exercise in EXERCISES:
        feedback = check_exercise(exercise, solution_answer(exercise))
        assert feedback.passed, feedback.text()
        assert feedback.text().startswith(f"Exercise {exercise}: passed -- ")


ODD_ANSWERS = (None, 0, -1, 10**30, True, 3.5, "", "...", "if (", "<?xml", '"', b"INVITE", [], ["x"], [1], {},
               {"a": 1}, ("x", "y"), lambda *args: None, lambda *args: 1 / 0)


@pytest.mark.parametrize("exercise", sorted(EXERCISES))
def test_an_answer_of_any_shape_gets_feedback_never_a_traceback(exercise):
    for answer in ODD_ANSWERS:
        feedback = check_exercise(exercise, answer)
        assert not feedback.passed and feedback.message and feedback.text().startswith(f"Exercise {exercise}: ")


def test_every_check_judges_the_exercise_it_is_registered_for():
    for exercise, entry in EXERCISES.items():
        assert entry.check.exercise == exercise, entry


def test_unknown_exercise_is_a_usage_error_listing_the_known_ones():
    with pytest.raises(UsageError, match="known: 0.1, 1.1, 1.2"):
        check_exercise("9.9", "")
    with pytest.raises(UsageError, match="no solution for exercise '9.9'"):
        show_solution("9.9")


def test_solution_stays_collapsed_until_clicked_and_prints_in_full():
    solution = show_solution("3.1")
    page = solution._repr_html_()
    assert page.startswith("<details><summary>") and "</summary>" in page
    assert page.index("Respond(480") > page.index("</summary>")       # the code is inside the fold
    assert "hidden" in repr(solution) and "Respond" not in repr(solution)
    assert "Respond(480, \"Adam is on leave\")" in str(solution)


def test_starter_answers_are_not_yet_and_say_so():
    feedback = check_exercise("3.1", "if (sipRequest) {\n    // your code here\n}\n")
    assert not feedback.passed and "still the starter" in feedback.message


def test_feedback_html_names_the_verdict_in_words():
    bad = check_exercise("3.1", 'Respond(480, "x");')
    assert "not yet" in bad._repr_html_() and "Hint:" in bad._repr_html_()
    assert not bool(bad) and bool(check_exercise("3.1", solution_answer("3.1")))


# --- 0.1: the chain ------------------------------------------------------------------------------

def test_0_1_the_answer_comes_from_the_simulator_and_wrong_names_get_hints():
    assert check_exercise("0.1", " userservices ").passed
    assert "passes an up-to-date client on" in check_exercise("0.1", "ClientVersionFilter").hint
    assert "not an application of this chain" in check_exercise("0.1", "Registrar").message
    assert "registrar" in check_exercise("0.1", "IIMFilter").hint
    assert "as a string" in check_exercise("0.1", "...").message


def test_1_3_typographic_quotes_are_named():
    assert "typographic quotes" in check_exercise("1.3", BROKEN_INVITE).hint


# --- 1.x: SIP -----------------------------------------------------------------------------------

def test_1_1_reading_the_to_header_is_told_the_server_routes_on_the_request_uri():
    def by_to(message):
        if not isinstance(message, Request):
            return None
        return get_user_at_host(message.get("To"))

    feedback = check_exercise("1.1", by_to)
    assert not feedback.passed
    assert "retargeted INVITE" in feedback.message and "'jennyl@contoso.com'" in feedback.message
    assert "The server routes on the Request-URI" in feedback.hint


def test_1_1_returning_the_whole_uri_is_told_to_use_user_at_host():
    feedback = check_exercise("1.1", lambda m: m.request_uri if isinstance(m, Request) else None)
    assert "get_user_at_host" in feedback.hint


def test_1_1_forgetting_responses_gets_the_if_sip_request_parallel():
    feedback = check_exercise("1.1", lambda m: get_user_at_host(m.request_uri))
    assert "raised AttributeError" in feedback.message
    assert "if (sipRequest)" in feedback.hint


def test_1_1_a_call_instead_of_a_function_is_explained():
    feedback = check_exercise("1.1", "jennyl@contoso.com")
    assert "pass the function itself" in feedback.message


def test_1_2_uri_parameter_instead_of_header_parameter():
    def wrong(message):
        return (message.get("Call-ID"), get_uri_parameter(message.get("From"), "tag"),
                get_uri_parameter(message.get("To"), "tag"))

    feedback = check_exercise("1.2", wrong)
    assert "header parameter" in feedback.hint and "get_parameter_value" in feedback.hint


def test_1_2_remembering_the_invites_tags_for_the_bye_is_caught():
    def remembered(message):
        call_id = message.get("Call-ID")
        if message.get("CSeq").endswith("BYE"):
            return (call_id, "1a2b3c4d", "9f8e7d6c")
        return (call_id, get_parameter_value(message.get("From"), "tag"),
                get_parameter_value(message.get("To"), "tag"))

    feedback = check_exercise("1.2", remembered)
    assert "Jenny's BYE" in feedback.message and "tags travel with the parties" in feedback.hint


def test_1_2_a_to_tag_on_the_invite_is_refused():
    feedback = check_exercise("1.2", lambda m: (m.get("Call-ID"), get_parameter_value(m.get("From"), "tag"), ""))
    assert "no To tag yet" in feedback.hint


def test_1_3_the_broken_message_reports_the_parsers_first_error_with_its_line():
    feedback = check_exercise("1.3", BROKEN_INVITE)
    assert not feedback.passed
    assert feedback.message.startswith("the parser still finds 3 problems; the first is on line 5")
    assert any("^" in d for d in feedback.details)


def test_1_3_fixing_the_syntax_but_cutting_the_body_is_caught():
    fixed = (BROKEN_INVITE.replace("\u201c", '"').replace("\u201d", '"')
             .replace("Call-ID call", "Call-ID: call").replace("Content-Length: 30", "Content-Length: 10"))
    feedback = check_exercise("1.3", fixed)
    assert "the body is now 'Hello, thi'" in feedback.message and "Content-Length" in feedback.hint


def test_1_3_changing_the_call_id_is_caught():
    fixed = (BROKEN_INVITE.replace("\u201c", '"').replace("\u201d", '"')
             .replace("Call-ID call-jenny-10", "Call-ID: x").replace("Content-Length: 30", "Content-Length: 24"))
    assert "keep the value call-jenny-10" in check_exercise("1.3", fixed).hint


# --- 3.x: first application ----------------------------------------------------------------------

def test_3_1_matching_on_the_to_header_answers_the_register_too():
    script = '''
    if (sipRequest) {
        if (ContainsString(sipMessage.To, "adamb@contoso.com", true)) {
            Respond(480, "Adam is on leave");
        }
    }
    '''
    feedback = check_exercise("3.1", script)
    assert "answered Adam's REGISTER too" in feedback.message
    assert "test sipRequest.Method" in feedback.hint


def test_3_1_answering_every_request_to_adam_catches_the_im():
    script = '''
    if (sipRequest) {
        if (GetUserAtHost(sipRequest.RequestUri) == "adamb@contoso.com") { Respond(480, "Adam is on leave"); }
    }
    '''
    feedback = check_exercise("3.1", script)
    assert "answered Terry's IM to Adam too" in feedback.message


def test_3_1_without_if_sip_request_the_response_is_a_critical_error():
    script = '''
    if (sipRequest.Method == "INVITE") {
        if (GetUserAtHost(sipRequest.RequestUri) == "adamb@contoso.com") { Respond(480, "Adam is on leave"); return; }
    }
    ProxyRequest("");
    '''
    feedback = check_exercise("3.1", script)
    assert not feedback.passed
    assert feedback.message.startswith("on Adam's 486 Busy Here (a response) the script stopped with a critical error")
    assert "if (sipRequest)" in feedback.hint


def test_3_1_testing_the_user_before_the_method_stops_on_the_registers_null():
    script = '''
    if (sipRequest) {
        if (EqualString(GetUserAtHost(sipRequest.RequestUri), "adamb@contoso.com", true)) {
            if (sipRequest.Method == "INVITE") { Respond(480, "Adam is on leave"); }
        }
    }
    '''
    feedback = check_exercise("3.1", script)
    assert "on Adam's REGISTER the script stopped" in feedback.message
    assert "GetUserAtHost returns null" in feedback.hint and "null passed to EqualString" in feedback.details[0]


def test_3_1_an_explicit_proxy_request_empty_is_passing_on():
    assert check_exercise("3.1", SOLUTIONS["3.1"].code + "\nif (sipRequest) { ProxyRequest(\"\"); }\n").passed


def test_3_1_wrong_status_and_routing_get_their_own_hints():
    busy = 'if (sipRequest) { if (sipRequest.Method == "INVITE") { if (GetUserAtHost(sipRequest.RequestUri) == "adamb@contoso.com") { Respond(486, "Busy"); } } }'
    assert "480 Temporarily Unavailable" in check_exercise("3.1", busy).hint
    route = busy.replace('Respond(486, "Busy")', 'ProxyRequest("sip:nuriag@contoso.com")')
    assert "don't route it" in check_exercise("3.1", route).hint
    everyone = 'if (sipRequest) { if (sipRequest.Method == "INVITE") { Respond(480, "Away"); } }'
    assert "call to Jenny" in check_exercise("3.1", everyone).message


def test_3_1_a_compile_error_shows_the_diagnostic_with_caret():
    feedback = check_exercise("3.1", 'if (sipRequest) { Respnd(480, "x"); }')
    assert "does not compile" in feedback.message
    assert "exercise-3.1.mspl:1:19: error: unknown function Respnd" in feedback.details[0]
    assert "did you mean Respond?" in feedback.details[0]


MANIFEST_3_2 = SOLUTIONS["3.2"].code.lstrip("\n")


def test_3_2_missing_response_filter_and_proxy_by_default_false_are_explained():
    no_response_filter = MANIFEST_3_2.replace('  <r:responseFilter reasonCodes="NONE"/>\n', "")
    feedback = check_exercise("3.2", no_response_filter)
    assert "every response" in feedback.message and 'reasonCodes="NONE"' in feedback.hint
    dropped = MANIFEST_3_2.replace('action="true"', 'action="false"')
    assert "would be dropped" in check_exercise("3.2", dropped).message
    not_script_only = MANIFEST_3_2.replace("  <r:scriptOnly/>\n", "")
    assert "ServerAgent" in check_exercise("3.2", not_script_only).message


def test_3_2_wide_method_names_and_xml_errors():
    all_methods = MANIFEST_3_2.replace('methodNames="INVITE"', 'methodNames="ALL"')
    assert 'methodNames="INVITE"' in check_exercise("3.2", all_methods).hint
    two = MANIFEST_3_2.replace('methodNames="INVITE"', 'methodNames="INVITE,MESSAGE"')
    assert "methodNames is INVITE,MESSAGE" in check_exercise("3.2", two).message
    curly = MANIFEST_3_2.replace('methodNames="INVITE"', "methodNames=\u201cINVITE\u201d")
    feedback = check_exercise("3.2", curly)
    assert "does not load" in feedback.message and "exercise-3.2.am:4:" in feedback.details[0]


def test_3_2_the_filter_spares_the_script_a_method_test_but_not_a_user_test():
    # With methodNames="INVITE" the server never hands the script a REGISTER or an IM.
    no_method_test = MANIFEST_3_2
    assert check_exercise("3.2", no_method_test).passed
    everyone = MANIFEST_3_2.replace('EqualString(GetUserAtHost(sipRequest.RequestUri), "adamb@contoso.com", true)',
                                    "true")
    feedback = check_exercise("3.2", everyone)
    assert "its script is not yet" in feedback.message and "call to Jenny" in feedback.message


def test_3_3_log_levels_and_case():
    base = '''
    if (sipRequest) {
        if (ContainsString(sipMessage.Content, "password", IGNORE)) { Log(LEVEL, DETAIL, "password from ", sipMessage.From); }
    }
    '''

    def script(level='"Event"', detail="false", ignore="true"):
        return base.replace("LEVEL", level).replace("DETAIL", detail).replace("IGNORE", ignore)

    assert check_exercise("3.3", script()).passed
    assert "debug log (ApiLogger.exe)" in check_exercise("3.3", script(level='"Debugr"')).message
    assert "an error in the event log" in check_exercise("3.3", script(level='"Error"')).message
    assert "whole message" in check_exercise("3.3", script(detail="true")).message
    caps = check_exercise("3.3", script(ignore="false"))
    assert "'PASSWORD'" in caps.message and "ignores case" in caps.hint
    anonymous = script().replace(', sipMessage.From', "")
    assert "does not say who sent" in check_exercise("3.3", anonymous).message
    every_im = 'if (sipRequest) { Log("Event", false, sipMessage.From); }'
    assert "ContainsString" in check_exercise("3.3", every_im).hint


# --- 4.x: the language ---------------------------------------------------------------------------

def test_4_1_passing_null_on_is_explained_with_the_tel_uri():
    feedback = check_exercise("4.1", 'if (sipRequest) { AddHeader("X-Caller-Host", GetHostName(sipMessage.From)); }')
    assert not feedback.passed
    assert "GetHostName returned null" in feedback.message and "host != null" in feedback.hint
    assert "critical error" in feedback.details[0]


def test_4_1_whole_uri_and_responses():
    whole = 'if (sipRequest) { u = GetUri(sipMessage.From); AddHeader("X-Caller-Host", u); }'
    assert "GetHostName gives the host alone" in check_exercise("4.1", whole).hint
    everywhere = 'h = GetHostName(sipMessage.From); if (h != null) { AddHeader("X-Caller-Host", h); }'
    assert "if (sipRequest)" in check_exercise("4.1", everywhere).hint


def test_4_2_missing_break_case_and_foreach():
    no_break = '''
    foreach (v in GetHeaderValues("Supported")) {
        if (EqualString(v, "ms-early-media", true)) { Log("Debugr", false, "early media"); }
    }'''
    feedback = check_exercise("4.2", no_break)
    assert "twice" in feedback.message and "break" in feedback.hint
    case_sensitive = '''
    foreach (v in GetHeaderValues("Supported")) {
        if (v == "ms-early-media") { Log("Debugr", false, "early media"); break; }
    }'''
    assert "EqualString" in check_exercise("4.2", case_sensitive).hint
    no_loop = 'if (ContainsString(sipMessage.Content, "x", true)) { Log("Debugr", false, "early media"); }'
    assert "no foreach" in check_exercise("4.2", no_loop).message


def test_4_3_switch_without_request_guard_and_without_default():
    unguarded = SOLUTIONS["4.3"].code.replace("if (sipRequest) {", "{")
    feedback = check_exercise("4.3", unguarded)
    assert "200 OK" in feedback.message and "reads false" in feedback.hint
    no_default = SOLUTIONS["4.3"].code.replace('default:\n            Log("Debugr", false, "other");\n            break;', "")
    assert "add a default" in check_exercise("4.3", no_default).hint
    fall_through = SOLUTIONS["4.3"].code.replace('Log("Debugr", false, "call");\n            break;',
                                                 'Log("Debugr", false, "call");')
    feedback = check_exercise("4.3", fall_through)
    assert "does not compile" in feedback.message and "does not end with 'break;'" in feedback.details[0]
    ifs = 'if (sipRequest) { if (sipRequest.Method == "INVITE") { Log("Debugr", false, "call"); } }'
    assert "no switch" in check_exercise("4.3", ifs).message


def test_4_4_null_lookup_function_and_contact_hints():
    no_null_test = '''
    function DelegateOf(aor) { return Concatenate("sip:", delegates[aor].delegate); }
    if (sipRequest) {
        if (sipRequest.Method == "INVITE") {
            Respond(302, "Moved Temporarily", Concatenate("Contact=<", DelegateOf(GetUserAtHost(sipRequest.RequestUri)), ">"));
        }
    }'''
    feedback = check_exercise("4.4", no_null_test)
    assert "terrya@contoso.com has no row" in feedback.message
    no_function = 'if (sipRequest) { Respond(302, "Moved", "Contact=<sip:nuriag@contoso.com>"); }'
    assert "no function DelegateOf" in check_exercise("4.4", no_function).message
    bad_contact = SOLUTIONS["4.4"].code.replace('Concatenate("Contact=<", target, ">")', "target")
    feedback = check_exercise("4.4", bad_contact)
    assert not feedback.passed and '"Name=value"' in feedback.hint
    typo = SOLUTIONS["4.4"].code.replace(".delegate;", ".delegat;")
    assert "has no column delegat" in check_exercise("4.4", typo).details[0]


def test_delegates_manifest_reads_its_flat_file():
    manifest = delegates_manifest()
    assert manifest.files["delegates"].lookup("JENNYL@contoso.com")["delegate"] == "nuriag@contoso.com"


# --- environment check --------------------------------------------------------------------------

def test_environment_check_is_all_ok_here_and_deterministic():
    report = environment_check()
    assert report.ok, report.text()
    assert report.text() == environment_check().text()
    assert report.text().splitlines()[-1] == "Everything is ready. Go on to 01-sip-in-fifteen-minutes.ipynb."
    assert "/" not in report.text().replace("01-sip", "")   # no paths on a good machine


def test_environment_check_says_what_to_fix(monkeypatch):
    monkeypatch.setattr(env_module, "CHECKS", (lambda: Check(True, "Python 3.10 or newer"),
                                               lambda: Check(False, "ipywidgets 7.6.5 is installed; the series "
                                                                    "needs 8.x", "pip install ipywidgets==8.1.9")))
    report = env_module.environment_check()
    assert not report.ok
    assert "FIX  ipywidgets 7.6.5" in report.text() and "fix: pip install ipywidgets==8.1.9" in report.text()
    assert report.text().endswith("1 thing to fix (see 'fix:' above), then run this cell again.")
    assert "&#10008; fix" in report._repr_html_()


def test_renderer_check_reports_a_missing_graphviz_pure(monkeypatch):
    from mspl_lite.view import render as render_module
    monkeypatch.setenv(render_module.RENDERER_ENV, "/nonexistent/dot")
    render_module._render_cached.cache_clear()
    check = env_module._renderer()
    assert not check.ok and "graphviz-pure" in check.fix


# --- widgets -------------------------------------------------------------------------------------

def test_message_explorer_shows_null_for_a_register_request_uri():
    page = text_of(explain_field("register-adamb", "Request-URI"))
    assert "REGISTER sip:contoso.com SIP/2.0" in page
    assert "GetUserName null" in page and 'GetHostName "contoso.com"' in page
    assert "no Request-URI" in text_of(explain_field("ok-jennyl", "Request-URI"))


def test_message_explorer_updates_when_the_controls_change():
    explorer = MessageExplorer()
    assert 'GetParameterValue(..., "epid") "7c2e5f3a01"' in text_of(explorer.view.value)
    explorer.message.value = "bye-from-jennyl"
    explorer.field.value = "Request-URI"
    assert 'GetUserAtHost "terrya@contoso.com"' in text_of(explorer.view.value)
    assert repr(explorer).startswith("MessageExplorer: run this cell")
    assert explorer._repr_mimebundle_()["text/plain"] == repr(explorer)


def test_filter_explorer_shows_what_the_script_sees():
    page = text_of(filter_report("INVITE", "", True))
    assert "INVITE Terry -> Jenny sees it sees the 200" in page
    assert "MESSAGE Terry -> Adam not seen: requestFilter methodNames=INVITE does not include MESSAGE" in page
    widget = FilterExplorer()
    widget.proxy_by_default.value = False
    assert "dropped by FirstApp" in text_of(widget.view.value)
    widget.reason_codes.value = "NONE"
    assert "not seen: the 200" in text_of(filter_report("ALL", "NONE", True))
    widget.method_names.value = "INVIT"
    assert "did you mean INVITE?" in text_of(widget.view.value)


def test_script_playground_runs_and_reports_errors_in_place():
    page = text_of(run_report('n = 5; n = "7"; Log("Debugr", false, n + 1);', "invite-jennyl"))
    assert "[Debugr] line 1: 8" in page and "(no routing action)" in page
    broken = text_of(run_report("x = 2 * 3;", "invite-jennyl"))
    assert "Does not compile" in broken and "MSPL has no '*' operator" in broken
    playground = ScriptPlayground()
    playground.script.value = 'i = 0; while (true) { i = i + 1; }'
    playground.run_button.click()
    assert "while loop exceeded 500 iterations" in text_of(playground.view.value)
    playground.message.value = "ok-jennyl"
    assert "Critical error" in playground.view.value


def test_try_script_shows_decisions_log_errors_and_added_headers():
    shown = repr(try_script('AddHeader("X-Test", "1"); Log("Debugr", false, "hi");'))
    assert "[Debugr] line 1: hi" in shown and "headers added or changed: X-Test: 1" in shown
    assert repr(try_script("x = 1 * 2;")).startswith("does not compile:\nsnippet.mspl:1:7: error:")
    null = repr(try_script('Log("Debugr", false, GetUserName(sipRequest.RequestUri));', "register-adamb"))
    assert "critical error: null passed to Log" in null


def test_course_messages_are_fresh_copies():
    first = course_message("invite-jennyl")
    first.add_header("X-Test", "1")
    assert course_message("invite-jennyl").get("X-Test") is None


# --- 2.x: the chain ------------------------------------------------------------------------------

def test_2_1_priorities_are_judged_by_registering_and_sending():
    assert check_exercise("2.1", 4).passed and check_exercise("2.1", 7).passed
    refused = check_exercise("2.1", 2)
    assert "the server refuses priority 2" in refused.message and "allowRegistrationBeforeUserServices" in refused.hint
    below = check_exercise("2.1", 9)
    assert "never sees the IM: DefaultRouting already routed" in below.message and "above DefaultRouting" in below.hint
    assert "whole number" in check_exercise("2.1", "5").message


CMDLET = SOLUTIONS["2.2"].code.strip()


def test_2_2_the_cmdlet_defaults_that_bite_are_explained():
    assert "default is False" in check_exercise("2.2", CMDLET.replace(" -Enabled $true", "")).message
    assert "does not start" in check_exercise("2.2", CMDLET.replace(" -Critical $false", "")).message
    assert "appUri" in check_exercise("2.2", CMDLET.replace("http://www.contoso.com/WatchIm", "http://x/y")).hint
    assert "service:Registrar:<pool FQDN>/<Name>" in check_exercise(
        "2.2", CMDLET.replace("service:Registrar:pool01.contoso.com/WatchIm", "WatchIm")).hint
    assert "bottom of the list" in check_exercise("2.2", CMDLET.replace(" -Priority 5", "")).hint
    assert "-Priority 12" in check_exercise("2.2", CMDLET.replace("-Priority 5", "-Priority 12")).message
    assert "Set-CsServerApplication changes" in check_exercise(
        "2.2", CMDLET.replace("New-CsServerApplication", "Set-CsServerApplication")).hint
    # PowerShell spellings: -Enabled:$true, single quotes, a bare switch
    assert check_exercise("2.2", CMDLET.replace("-Enabled $true", "-Enabled:$true").replace('"', "'")).passed


# --- 5.x / 6.x: routing ----------------------------------------------------------------------------

def test_5_1_the_wrong_routing_calls_get_their_own_hints():
    solution = SOLUTIONS["5.1"].code
    assert "new *user*" in check_exercise("5.1", solution.replace("ProxyRequest(", "RetargetRequest(")).hint
    empty = check_exercise("5.1", solution.replace('ProxyRequest("sip:room1@rooms.contoso.com")', 'ProxyRequest("")'))
    assert "hands the request on unchanged" in empty.message
    everyone = 'if (sipRequest) { ProxyRequest("sip:room1@rooms.contoso.com"); }'
    assert "Terry's call to Jenny" in check_exercise("5.1", everyone).message
    unguarded = 'if (EqualString(GetUserAtHost(sipRequest.RequestUri), "room1@contoso.com", true)) { ProxyRequest("sip:room1@rooms.contoso.com"); }'
    feedback = check_exercise("5.1", unguarded)
    assert not feedback.passed and "critical error" in feedback.message


def test_5_2_skipped_applications_and_missing_ones_without_giving_the_answer_away():
    late = check_exercise("5.2", ["TranslationService", "IncomingFederation", "RedirectImProxy", "IIMFilter"])
    assert "IIMFilter never runs" in late.message and "marks the request routed" in late.hint
    missing = check_exercise("5.2", ["RedirectImProxy"])
    assert missing.message == "2 applications that run are missing from your list."
    assert "ClientVersionFilter only REGISTER" in check_exercise(
        "5.2", ["ClientVersionFilter", "TranslationService", "IncomingFederation", "RedirectImProxy"]).hint
    assert "wrong order" in check_exercise(
        "5.2", ["IncomingFederation", "TranslationService", "RedirectImProxy"]).message


def test_6_1_proxy_instead_of_retarget_and_forwarding_everyone():
    proxied = check_exercise("6.1", SOLUTIONS["6.1"].code.replace("RetargetRequest", "ProxyRequest"))
    assert "IIMFilter never ran" in proxied.message and "RetargetRequest" in proxied.hint
    nothing = check_exercise("6.1", 'if (sipRequest) { Log("Debugr", false, "seen"); }')
    assert "not to Nuria" in nothing.message


def test_6_x_a_critical_error_points_into_the_learners_own_script():
    feedback = check_exercise("6.1", 'if (sipRequest) {\n  x = GetUserName("sip:contoso.com");\n'
                                     '  Log("Debugr", false, x);\n}')
    assert feedback.message.startswith("on Terry's IM your script stopped with a critical error")
    assert "!= null" in feedback.hint
    assert feedback.details[0].startswith("exercise-6.1.mspl:3:3: error: critical error: null passed to Log")
    assert '  Log("Debugr", false, x);' in feedback.details[0]


def test_6_2_proxy_bypasses_outbound_routing():
    proxied = check_exercise("6.2", SOLUTIONS["6.2"].code.replace("RetargetRequest", "ProxyRequest"))
    assert "OutboundRouting never ran" in proxied.message and "408" in proxied.message
    untouched = check_exercise("6.2", 'if (sipRequest) { Log("Debugr", false, "seen"); }')
    assert "still the retired number" in untouched.message
    broken = check_exercise("6.2", 'if (sipRequest) { RetargetRequest(GetUserName("sip:contoso.com")); }')
    assert "critical error" in broken.message
