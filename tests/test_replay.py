"""`mspl-lite replay`: captured messages through the chain (issue 13).

Captures are built here from the shipped sample messages, as the capture readers yield them
(CapturedMessage); the readers themselves are tested in tests/test_capture*.py.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from mspl_lite.capture import CapturedMessage
from mspl_lite.replay import engine, replay
from mspl_lite.replay import run as replay_run

ROOT = Path(__file__).resolve().parents[1]
MESSAGES = ROOT / "mspl_lite" / "data" / "messages"
APPS = ROOT / "mspl_lite" / "data" / "apps"
FE = "fe01.contoso.com"


def sample(name: str) -> str:
    return (MESSAGES / name).read_text(encoding="utf-8").replace("\r\n", "\n")


def crlf(text: str) -> bytes:
    """SIP's line ends: the samples are CRLF throughout, bodies included (their Content-Length counts them)."""
    return text.replace("\n", "\r\n").encode()


def cm(text: str | bytes, where: str, i: int = 0, direction: str | None = None) -> CapturedMessage:
    data = crlf(text) if isinstance(text, str) else text
    return CapturedMessage(data=data, where=where, index=i, time=None, transport="log" if direction else "file",
                           src=None, dst=None, direction=direction, path=where.split(":")[0], line=None)


def header(text: str, name: str) -> str:
    return re.search(rf"^{name}: (.*)$", text, re.M | re.I).group(1)


def with_body(text: str, body: str) -> str:
    head = text.split("\n\n", 1)[0]
    head = re.sub(r"^Content-Length: .*$", f"Content-Length: {len(body.encode())}", head, flags=re.M)
    return head + "\n\n" + body


def renamed(text: str, n: int) -> str:
    """A copy of a sample as another call: its own Call-ID and Via branch."""
    text = re.sub(r"^(Call-ID: .*)$", rf"\1-{n}", text, flags=re.M)
    return re.sub(r"(branch=[^;\s]+)", rf"\1-{n}", text)


def forwarded(request: str, uri: str | None = None) -> str:
    """The request as the Front End sent it on: its own Via on top (RFC 3261 16.6 step 8)."""
    first, rest = request.split("\n", 1)
    if uri:
        first = f"{first.split()[0]} {uri} SIP/2.0"
    return f"{first}\nVia: SIP/2.0/TLS {FE}:5061;branch=z9hG4bK-fe-{zlib.crc32(request.encode())}\n{rest}"


def response(request: str, status: int, reason: str, *, fe_via: bool, to_tag: str = "callee1") -> str:
    """A response to ``request``: with the Front End's Via on top (on its way back to the Front End) or not
    (the Front End's answer to the client)."""
    vias = re.findall(r"^Via: .*$", request, re.M)
    lines = [f"SIP/2.0 {status} {reason}"]
    if fe_via:
        lines.append(f"Via: SIP/2.0/TLS {FE}:5061;branch=z9hG4bK-fe-1")
    lines += vias
    to = header(request, "To")
    lines += [f"From: {header(request, 'From')}", f"To: {to};tag={to_tag}" if status > 100 else f"To: {to}",
              f"Call-ID: {header(request, 'Call-ID')}", f"CSeq: {header(request, 'CSeq')}", "Content-Length: 0"]
    return "\n".join(lines) + "\n\n"


def bye_in_dialog(invite: str, to_tag: str) -> str:
    return "\n".join([
        "BYE sip:192.0.2.11:50210;transport=tls SIP/2.0",
        "Via: SIP/2.0/TLS 192.0.2.31:50250;branch=z9hG4bK-bye-1",
        "Max-Forwards: 70",
        f"From: {header(invite, 'From')}",
        f"To: {header(invite, 'To')};tag={to_tag}",
        f"Call-ID: {header(invite, 'Call-ID')}",
        "CSeq: 2 BYE",
        f"Route: <sip:{FE}:5061;transport=tls;lr>",
        "Content-Length: 0", "", ""])


BLOCK_WORD = (str(APPS / "block-word.am"), None)


# ---------------------------------------------------------------------------------------------
# What each message did


def test_an_application_that_answers_changes_the_fate_compared_with_the_built_ins_only():
    im = with_body(sample("im-to-nuriag.sip"), "my password is hunter2")
    result = replay([cm(im, "cap: packet 1"), cm(renamed(sample("im-to-nuriag.sip"), 2), "cap: packet 2")],
                    [BLOCK_WORD])
    first, second = result.messages
    block = next(a for a in first.apps if a.app == "BlockWord")
    assert block.effects == ("responded",) and "403" in first.outcome
    assert first.changed and "proxied" in first.baseline
    assert not second.changed and "proxied" in second.outcome
    s = result.summary
    assert s.changed == 1 and s.per_app["BlockWord"]["responded"] == 1 and s.per_app["BlockWord"]["ran"] == 2
    assert s.examples["fate changed by the applications"][0].startswith("#0 cap: packet 1")
    assert "Fate changed by the applications (compared with only the built-in ones): 1" in s.text()


def test_a_changed_header_or_body_is_shown_with_the_change():
    result = replay([cm(sample("im-with-link.sip"), "a.sip")], [(str(APPS / "redirect-im-retarget.am"), None)])
    r = result.messages[0]
    retarget = next(a for a in r.apps if a.app == "RedirectImRetarget")
    assert "retargeted" in retarget.effects and "modified" in retarget.effects
    assert any(c.startswith("Request-URI: sip:jennyl@contoso.com -> sip:nuriag@contoso.com") for c in retarget.changes)
    iim = next(a for a in r.apps if a.app == "IIMFilter")
    assert any(c.startswith("body:") for c in iim.changes)
    assert "RedirectImRetarget (request): retargeted, modified" in r.line()


def test_malformed_messages_are_counted_with_a_located_diagnostic_and_the_replay_goes_on():
    bad = b"INVITE sip:bob@contoso.com SIP/2.0\r\nVia SIP/2.0/TLS nowhere\r\n\r\n"
    result = replay([cm(bad, "calls.pcap: packet 3"), cm(sample("im-to-nuriag.sip"), "calls.pcap: packet 4")], [])
    bad_r, good = result.messages
    assert bad_r.role == "malformed" and bad_r.faults[0].kind == "malformed"
    assert bad_r.faults[0].message.startswith("calls.pcap: packet 3:2:")   # the packet, then line 2 of it
    assert "hint:" in bad_r.faults[0].message
    assert good.role == "replayed" and "proxied" in good.outcome
    assert result.summary.faults == {"malformed": 1}
    assert result.summary.examples["fault: malformed"][0].startswith("#0 calls.pcap: packet 3")


def test_a_retransmission_is_skipped_and_names_the_original():
    invite = sample("invite-jennyl.sip")
    result = replay([cm(invite, "p1"), cm(invite, "p2")], [])
    assert [m.role for m in result.messages] == ["replayed", "retransmission"]
    assert result.messages[1].matched == 0


# ---------------------------------------------------------------------------------------------
# Transactions and dialogs


def test_a_captured_response_answers_the_replay_and_a_response_filter_sees_it_exactly_once():
    im = with_body(sample("im-to-nuriag.sip"), "hello")
    app = (str(APPS / "watch-4xx.am"), None)
    capture = [cm(im, "c:1"), cm(forwarded(im), "c:2"), cm(response(im, 486, "Busy Here", fe_via=True), "c:3"),
               cm(response(im, 486, "Busy Here", fe_via=False), "c:4")]
    result = replay(capture, [app])
    req, fwd, real, answer = result.messages
    # the lab's Nuria would answer 200; the capture's 486 answers the replay instead (D108)
    assert req.role == "replayed" and req.outcome.endswith("-> 486 Busy Here")
    assert req.answer == "captured 486 Busy Here (#2)"
    assert req.trace.outcome.status == 486 and req.trace.branches[0].response.startswith("SIP/2.0 486")
    watch = [a for m in result.messages for a in m.apps if a.app == "Watch4xx" and a.step != "request"]
    assert len(watch) == 1                                   # the response path ran once, on the 486
    assert watch[0].step == "response" and "modified" in watch[0].effects
    assert any("X-Seen-By: Watch4xx" in c for c in watch[0].changes)
    assert result.summary.per_app["Watch4xx"]["response: modified"] == 1
    assert "X-Seen-By: Watch4xx" in req.trace.outcome.response
    assert fwd.role == "observed" and fwd.matched == 0 and fwd.agree is True
    assert real.role == "answer" and real.matched == 0 and not real.apps and not real.faults
    assert answer.role == "observed" and answer.matched == 0
    assert answer.observed == "486 Busy Here" and answer.agree is True      # predicted from the real one
    assert result.summary.answers == {"captured": 1}
    assert "1 from the capture, 0 simulated" in result.summary.text()


def test_a_request_with_no_captured_response_is_marked_simulated():
    im = with_body(sample("im-to-nuriag.sip"), "hello")
    result = replay([cm(im, "c:1"), cm(response(im, 200, "OK", fe_via=False), "c:2")],
                    [(str(APPS / "watch-4xx.am"), None)])
    req = result.messages[0]
    assert req.outcome.endswith("-> 200 OK")                 # the lab's Nuria answered
    assert req.answer.startswith("simulated")
    assert "response: simulated" in req.line() and req.to_json()["answer"] == req.answer
    assert not req.trace.branches[0].response
    assert result.summary.answers == {"simulated": 1}
    # a response only the Front End sent to its client is not a downstream answer: it stays observed
    assert result.messages[1].role == "observed" and result.messages[1].agree is True


RESPONSE_CRASH = """<?xml version="1.0"?>
<r:applicationManifest r:appUri="http://www.contoso.com/ResponseCrash" xmlns:r="http://schemas.microsoft.com/lcs/2006/05">
  <r:requestFilter methodNames="MESSAGE" strictRoute="false" registrarGenerated="false"/>
  <r:responseFilter reasonCodes="ALL"/>
  <r:proxyByDefault action="true"/>
  <r:scriptOnly/>
  <r:splScript><![CDATA[
if (sipResponse) {
    AddHeader("X-Bad", null);
}
]]></r:splScript>
</r:applicationManifest>
"""


def test_a_critical_error_in_a_response_handler_is_counted_once(tmp_path):
    app = tmp_path / "response-crash.am"
    app.write_text(RESPONSE_CRASH)
    im = with_body(sample("im-to-nuriag.sip"), "hello")
    capture = [cm(im, "c:1"), cm(forwarded(im), "c:2"), cm(response(im, 486, "Busy Here", fe_via=True), "c:3")]
    result = replay(capture, [(str(app), None)])
    assert result.summary.critical_errors["ResponseCrash"] == 1
    crit = [c for m in result.messages for a in m.apps for c in a.critical]
    assert [c.count for c in crit] == [1] and "null passed to AddHeader" in crit[0].message
    assert result.messages[0].trace.outcome.status == 486     # on the captured response, not a made-up 200


def test_a_copy_an_application_sends_elsewhere_is_not_answered_by_the_capture():
    im = with_body(sample("im-to-nuriag.sip"), "hello")
    capture = [cm(im, "c:1"), cm(forwarded(im, "sip:jennyl@contoso.com"), "c:2"),
               cm(response(im, 486, "Busy Here", fe_via=True), "c:3")]
    result = replay(capture, [])
    req = result.messages[0]
    # the simulator sends it to Nuria (its Request-URI); the capture's Front End sent it to Jenny
    assert req.answer.startswith("simulated: the simulator sends it to Nuria")
    assert "sip:jennyl@contoso.com" in req.answer and req.outcome.endswith("200 OK")
    assert result.messages[2].role == "replayed"       # Jenny's 486 climbs on its own, as a late one would


def test_a_final_response_beyond_the_look_ahead_climbs_on_its_own(monkeypatch):
    from mspl_lite.replay import ahead

    monkeypatch.setattr(ahead, "LOOKAHEAD", 2)
    monkeypatch.setattr(replay_run, "LOOKAHEAD", 2)
    im = with_body(sample("im-to-nuriag.sip"), "hello")
    other = renamed(sample("im-to-nuriag.sip"), 2)
    capture = [cm(im, "c:1"), cm(other, "c:2"), cm(renamed(sample("im-to-nuriag.sip"), 3), "c:3"),
               cm(response(im, 486, "Busy Here", fe_via=True), "c:4")]
    result = replay(capture, [(str(APPS / "watch-4xx.am"), None)])
    assert result.messages[0].answer.startswith("simulated") and "200" in result.messages[0].outcome
    late = result.messages[3]
    assert late.role == "replayed" and late.matched == 0 and late.outcome == "passed up the chain -> 486 Busy Here"
    assert [a.app for a in late.apps if a.app == "Watch4xx"] == ["Watch4xx"]


def test_a_retransmitted_final_response_is_skipped():
    im = sample("im-to-nuriag.sip")
    back = response(im, 486, "Busy Here", fe_via=True)
    result = replay([cm(im, "1"), cm(back, "2"), cm(back, "3")], [])
    assert [m.role for m in result.messages] == ["replayed", "answer", "retransmission"]
    assert result.messages[2].matched == 1


def test_a_response_filter_that_does_not_accept_the_status_keeps_the_application_out():
    im = sample("im-to-nuriag.sip")
    result = replay([cm(im, "c:1"), cm(response(im, 200, "OK", fe_via=True), "c:2")],
                    [(str(APPS / "watch-4xx.am"), None)])
    req, back = result.messages
    assert back.role == "answer" and req.answer == "captured 200 OK (#1)"
    assert not [a for a in req.apps if a.app == "Watch4xx" and a.step != "request"]
    assert req.trace.responses  # the response hops are in the kept trace


def test_a_response_with_no_request_and_an_unknown_dialog_are_counted_and_located():
    invite = sample("invite-jennyl.sip")
    result = replay([cm(response(invite, 200, "OK", fe_via=True), "x.pcap: packet 9"),
                     cm(bye_in_dialog(invite, "nobody"), "x.pcap: packet 10")], [])
    lost, bye = result.messages
    assert lost.faults[0].kind == "response-without-request" and lost.faults[0].where == "x.pcap: packet 9"
    assert "call-jenny-1" in lost.faults[0].message
    assert bye.faults[0].kind == "unknown-dialog" and bye.role == "replayed"
    assert result.summary.faults == {"response-without-request": 1, "unknown-dialog": 1}


def test_an_in_dialog_request_is_matched_to_the_invite_whose_2xx_set_up_the_dialog():
    invite = sample("invite-jennyl.sip")
    result = replay([cm(invite, "1"), cm(response(invite, 200, "OK", fe_via=True, to_tag="jl7"), "2"),
                     cm(bye_in_dialog(invite, "jl7"), "3")], [])
    assert result.messages[2].matched == 0 and not result.messages[2].faults


def test_a_server_log_sets_what_really_happened_beside_the_prediction():
    invite = sample("invite-helpdesk.sip")
    log = [cm(invite, "fe01.log: line 1", direction="incoming"),
           cm(response(invite, 500, "Internal Server Error", fe_via=False), "fe01.log: line 30",
              direction="outgoing")]
    result = replay(log, [])
    req, out = result.messages
    assert req.role == "replayed" and out.role == "observed" and out.matched == 0
    assert out.observed == "500 Internal Server Error" and out.predicted == req.outcome and out.agree is False
    assert "DIFFERS" in out.line()


def test_a_transaction_older_than_the_replay_keeps_is_forgotten_and_said(monkeypatch):
    monkeypatch.setattr(engine, "MAX_TRANSACTION_AGE", 2)
    im = sample("im-to-nuriag.sip")
    filler = [cm(renamed(sample("invite-kima.sip"), n), f"f{n}") for n in range(3)]
    result = replay([cm(im, "first"), *filler, cm(response(im, 200, "OK", fe_via=True), "late")], [])
    fault = result.messages[-1].faults[0]
    assert fault.kind == "response-without-request" and fault.where == "late" and "last 2 messages" in fault.message


# ---------------------------------------------------------------------------------------------
# Every core, the same results


CRASHY = """<?xml version="1.0"?>
<r:applicationManifest r:appUri="http://www.contoso.com/Crashy" xmlns:r="http://schemas.microsoft.com/lcs/2006/05">
  <r:requestFilter methodNames="MESSAGE" strictRoute="false" registrarGenerated="false"/>
  <r:responseFilter reasonCodes="NONE"/>
  <r:proxyByDefault action="true"/>
  <r:scriptOnly/>
  <r:splScript><![CDATA[
if (ContainsString(sipMessage.Content, "crash", true)) {
    Respond(403, "Forbidden", "no-equals-sign");
}
]]></r:splScript>
</r:applicationManifest>
"""


GATEKEEPER = """<?xml version="1.0"?>
<r:applicationManifest r:appUri="http://www.contoso.com/Gatekeeper" xmlns:r="http://schemas.microsoft.com/lcs/2006/05">
  <r:allowRegistrationBeforeUserServices/>
  <r:requestFilter methodNames="REGISTER" strictRoute="false" registrarGenerated="false"/>
  <r:responseFilter reasonCodes="NONE"/>
  <r:proxyByDefault action="true"/>
  <r:scriptOnly/>
  <r:splScript><![CDATA[
if (ContainsString(sipRequest.From, "tag=g", true)) {
    Respond(403, "Forbidden");
}
]]></r:splScript>
</r:applicationManifest>
"""


def mixed_capture(n_calls: int, registers: bool = True) -> list[CapturedMessage]:
    """Calls of every kind, REGISTERs that change who is signed in, an app's critical errors, and final
    responses that come back a few calls later (so a look-ahead crosses windows, D108)."""
    out = []
    later: list[tuple[int, str]] = []
    names = ["im-to-nuriag.sip", "invite-jennyl.sip", "invite-kima.sip", "im-with-link.sip", "invite-pstn.sip"]
    for n in range(n_calls + 3):
        for due, back in [x for x in later if x[0] <= n]:
            later.remove((due, back))
            out.append(cm(back, f"cap: packet {len(out)}"))
        if n >= n_calls:
            continue
        text = renamed(sample(names[n % len(names)]), n)
        if n % 7 == 3:
            text = with_body(renamed(sample("im-to-nuriag.sip"), n), "please crash now")
        out.append(cm(text, f"cap: packet {len(out)}"))
        if n % 4 == 0:
            later.append((n + n % 3, response(text, 200 if n % 8 else 486, "OK" if n % 8 else "Busy Here",
                                              fe_via=True, to_tag=f"t{n}")))
        if registers and n % 9 == 5:  # a new endpoint for Nuria; every other one refused by Gatekeeper (not by the baseline)
            out.append(cm(renamed(sample("register-nuriag.sip"), n).replace("3c4d5e", f"x{n}")
                          .replace("6b1d4e2f02", f"e{n}").replace("tag=5e6f7a", "tag=g1" if n % 2 else "tag=h1"),
                          f"cap: packet {len(out)}"))
        if n % 11 == 2:
            out.append(cm(b"junk\r\n\r\n", f"cap: packet {len(out)}"))
    return out


def comparable(result) -> tuple:
    summary = result.summary.to_json()
    summary.pop("jobs")
    summary.pop("windows_rerun_in_order")
    summary.pop("windows_on_workers")
    return summary, [m.to_json() for m in result.messages]


def test_every_core_gives_the_same_results_as_one_process(tmp_path):
    crashy, gatekeeper = tmp_path / "crashy.am", tmp_path / "gatekeeper.am"
    crashy.write_text(CRASHY)
    gatekeeper.write_text(GATEKEEPER)
    apps = [(str(crashy), None), BLOCK_WORD, (str(gatekeeper), None)]
    capture = mixed_capture(160)
    one = replay(capture, apps, jobs=1)
    many = replay(capture, apps, jobs=3, keep_traces=4, window_per_job=6)
    assert comparable(one) == comparable(many)
    # captured responses answered replays, some of them from the window after their request's
    answers = [m for m in one.messages if m.role == "answer"]
    assert len(answers) >= 5 and one.summary.answers["captured"] == len(answers)
    assert any((m.index - 4) // 18 > (m.matched - 4) // 18 for m in answers)
    # both ways of a window were taken: merged from the workers, and re-run in order after a conflict
    windows = -(-(len(capture) - 4) // 18)
    assert 0 < many.summary.sequential_windows < windows
    # the critical errors crossed the limit: Crashy was disabled, counts run on in capture order
    counts = [c.count for m in one.messages for a in m.apps if a.app == "Crashy" for c in a.critical]
    assert counts == list(range(1, 11))
    assert one.summary.critical_errors["Crashy"] == 10
    # Gatekeeper refused sign-ins the baseline accepted: from then on the two Front Ends differ
    assert any(m.changed and "403" in m.outcome and "REGISTER" in m.first_line for m in one.messages)


def test_the_tenth_critical_error_inside_a_parallel_window_gives_the_same_results(tmp_path):
    crashy = tmp_path / "crashy.am"
    crashy.write_text(CRASHY)
    capture = mixed_capture(150, registers=False)
    one = replay(capture, [(str(crashy), None)], jobs=1)
    many = replay(capture, [(str(crashy), None)], jobs=2, keep_traces=0, window_per_job=10)
    assert comparable(one) == comparable(many)
    assert many.summary.sequential_windows == 1          # only the window where Crashy was disabled
    disabled = [m for m in one.messages if any(a.app == "Crashy" and c.count == 10 for a in m.apps for c in a.critical)]
    assert len(disabled) == 1 and not any(a.app == "Crashy" for m in one.messages[disabled[0].index + 1:]
                                          for a in m.apps)


def test_a_worker_finds_the_responses_that_come_back_after_its_window():
    capture = mixed_capture(60, registers=False)
    one = replay(capture, [BLOCK_WORD], jobs=1)
    many = replay(capture, [BLOCK_WORD], jobs=2, keep_traces=0, window_per_job=5)
    assert many.summary.sequential_windows == 0 and many.summary.parallel_windows > 1
    assert comparable(one) == comparable(many)
    crossing = [m for m in many.messages if m.role == "answer" and m.index // 10 > m.matched // 10]
    assert crossing                      # answered on a worker from the look-ahead past its window


def test_no_multiprocessing_means_one_process_silently(monkeypatch):
    monkeypatch.setattr(replay_run, "_multiprocessing", lambda: None)
    result = replay([cm(sample("im-to-nuriag.sip"), "1")], [], jobs=4)
    assert result.summary.jobs == 1 and result.messages[0].role == "replayed"
    monkeypatch.setattr(sys, "platform", "emscripten")
    assert replay_run.default_jobs() == 1


def test_jobs_must_be_a_whole_number():
    from mspl_lite.errors import UsageError

    with pytest.raises(UsageError, match="jobs"):
        replay([], [], jobs=0)


# ---------------------------------------------------------------------------------------------
# The command line


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "mspl_lite.cli", "replay", *args], capture_output=True, text=True,
                          timeout=120)


def test_cli_text_puts_the_summary_first_then_each_message(tmp_path):
    done = run_cli(str(MESSAGES), "--app", str(APPS / "block-word.am"), "--jobs", "1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Replayed 14 messages: 14 replayed")
    assert "(sip-folder)" in done.stdout.splitlines()[1]
    body = done.stdout.split("\n\n", 1)[1]
    assert body.lstrip().startswith("#0 ") and "#13 " in body


def test_cli_json_holds_the_summary_and_every_message(tmp_path):
    done = run_cli(str(MESSAGES), "--app", str(APPS / "block-word.am"), "--json", "--jobs", "2")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["summary"]["messages"] == 14 == len(data["messages"])
    assert data["summary"]["per_application"]["BlockWord"]["ran"] == 2
    assert {"index", "where", "role", "apps", "outcome", "baseline", "changed", "faults"} <= set(data["messages"][0])


def test_cli_report_is_one_self_contained_file(tmp_path):
    out = tmp_path / "r.html"
    done = run_cli(str(MESSAGES), "--report", str(out), "--jobs", "1")
    assert done.returncode == 0, done.stderr
    page = out.read_text(encoding="utf-8")
    assert page.count('<tr class="msg') == 14 and page.count("<template") == 14 and "<svg" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "<link" not in page and "@import" not in page


def test_cli_bad_input_is_a_message_and_exit_1_never_a_traceback(tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("shopping list\nmilk\n")
    for args in ([str(junk)], [str(tmp_path / "missing.pcap")], [str(MESSAGES), "--jobs", "0"],
                 [str(MESSAGES), "--app", str(tmp_path / "nope.am")]):
        done = run_cli(*args)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr and "error" in done.stderr


# ---------------------------------------------------------------------------------------------
# The shipped sample captures


CAPTURES = ROOT / "mspl_lite" / "data" / "captures"


def test_the_shipped_log_and_pcapng_of_one_session_replay_alike():
    from mspl_lite.capture import read_capture

    log = replay(read_capture(CAPTURES / "frontend-session-sipstack.log"), [])
    pcap = replay(read_capture(CAPTURES / "frontend-session.pcapng"), [])

    def story(result):
        return [(m.role, m.first_line, m.outcome, m.observed, m.agree, m.matched) for m in result.messages]

    assert story(log) == story(pcap)
    assert [m.answer for m in log.messages] == [m.answer for m in pcap.messages]
    # the log's 500 from the application pool answers the replay (where the lab's HelpdeskBot says 200),
    # so the Front End's 500 to the caller agrees with the prediction
    helpdesk = next(m for m in log.messages if m.first_line == "INVITE sip:helpdesk@contoso.com")
    assert helpdesk.answer.startswith("captured 500 Internal Server Error")
    assert "apppool01" in helpdesk.outcome and helpdesk.outcome.endswith("500 Internal Server Error")
    to_caller = [m for m in log.messages if m.role == "observed" and m.observed == "500 Internal Server Error"]
    assert len(to_caller) == 1 and to_caller[0].agree is True and to_caller[0].matched == helpdesk.index
    assert not [m for m in log.messages if m.agree is False]
    # the simulator forks to Jenny's two endpoints where the capture's Front End sent one copy, to her
    # desktop (its EPID in the GRUU): the capture answers that copy, the lab her phone (D121)
    first = log.messages[0]
    assert first.answer.startswith("captured 200 OK (#3) from sip:jennyl@contoso.com;opaque=user:epid:5f3a7c9e01")
    assert "simulated: Jenny Lee: Microsoft Lync 2013 for Windows Phone (the capture's Front End sent no copy " \
           "there)" in first.answer
    assert log.messages[3].role == "answer" and log.messages[3].matched == first.index
    assert log.messages[5].first_line.startswith("ACK") and log.messages[5].answer is None


def test_a_forwarded_copy_is_known_by_its_one_via_more_whatever_the_servers_address():
    im = sample("im-to-nuriag.sip")
    by_ip = forwarded(im).replace(f"Via: SIP/2.0/TLS {FE}:5061", "Via: SIP/2.0/TLS 10.1.2.3:5061")
    back = response(im, 200, "OK", fe_via=True).replace(f"Via: SIP/2.0/TLS {FE}:5061", "Via: SIP/2.0/TLS 10.1.2.3:5061")
    result = replay([cm(im, "1"), cm(by_ip, "2"), cm(back, "3")], [])
    assert [m.role for m in result.messages] == ["replayed", "observed", "answer"]
    assert result.messages[2].matched == 0 and not result.messages[2].faults


def test_the_replay_streams_a_capture_instead_of_loading_it(monkeypatch):
    from mspl_lite.replay.engine import load_config
    from mspl_lite.replay.run import replay_stream

    monkeypatch.setattr(replay_run, "LOOKAHEAD", 50)

    pulled = []

    def capture():
        for n in range(10_000):
            pulled.append(n)
            yield cm(renamed(sample("im-to-nuriag.sip"), n), f"p{n}")

    results = replay_stream(capture(), load_config(), jobs=1)
    next(results)
    assert len(pulled) == 51                     # the first result, and its look-ahead (D108)
    results.close()
    pulled.clear()
    results = replay_stream(capture(), load_config(keep_traces=3), jobs=2)
    next(results)
    assert len(pulled) == 51                     # several processes: the traced start, then windows
    results.close()


def test_every_torture_message_whole_or_cut_is_a_result_never_an_exception():
    torture = sorted(p for p in (ROOT / "tests" / "data" / "sip-torture").iterdir() if p.suffix not in (".tsv", ".md"))
    capture = []
    for p in torture:
        data = p.read_bytes()
        capture += [cm(data, p.name), cm(data, p.name + " (log)", direction="incoming"),
                    cm(data[: len(data) // 2], p.name + " (cut)")]
    result = replay(capture, [(str(APPS / "watch-4xx.am"), None), BLOCK_WORD])
    assert result.summary.messages == len(capture) == len(result.messages)
    assert result.summary.roles["malformed"] == result.summary.faults["malformed"] > 0
    assert all(f.where for m in result.messages for f in m.faults)
