"""`mspl-lite replay` of a request the capture's Front End forked: each copy answered by the capture's copy
to the same endpoint (decision D121).

The fixture (tools/make_captures.py, forked_call) is one call terrya -> jennyl that fe01 forks to Jenny's
two endpoints by their GRUUs: both ring, the phone answers 200, the Front End cancels the desktop's copy,
which answers 200 to the CANCEL and 487 to the INVITE, and the Front End ACKs that 487. The default lab
has the same two endpoints, but says the desktop answers and the phone rings out: whatever the record
says came from the capture cannot be the lab's.
"""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from mspl_lite.capture import CapturedMessage, read_capture
from mspl_lite.replay import replay

ROOT = Path(__file__).resolve().parents[1]
CAPTURES = ROOT / "tests" / "data" / "captures"
LAB = ROOT / "mspl_lite" / "data" / "lab.toml"
DESK = "sip:jennyl@contoso.com;opaque=user:epid:5f3a7c9e01;gruu"
PHONE = "sip:jennyl@contoso.com;opaque=user:epid:5f3a7c9e02;gruu"
# The positions of the fixture's messages (the order tools/make_captures.py writes them in)
INVITE, TRYING, COPY_DESK, COPY_PHONE, RING_DESK, RING_DESK_OUT, RING_PHONE, RING_PHONE_OUT, OK_PHONE, OK_OUT, \
    CANCEL, OK_CANCEL, TERMINATED, ACK_487, ACK, ACK_OUT = range(16)

WATCH = """<?xml version="1.0"?>
<r:applicationManifest r:appUri="http://www.contoso.com/WatchCalls" xmlns:r="http://schemas.microsoft.com/lcs/2006/05">
  <r:requestFilter methodNames="INVITE" strictRoute="false" registrarGenerated="false"/>
  <r:responseFilter reasonCodes="ALL"/>
  <r:proxyByDefault action="true"/>
  <r:scriptOnly/>
  <r:splScript><![CDATA[
if (sipResponse) {
    AddHeader("X-Seen-By", "WatchCalls");
}
]]></r:splScript>
</r:applicationManifest>
"""


def fork() -> list[CapturedMessage]:
    return list(read_capture(CAPTURES / "forked-call.pcap"))


def story(result) -> list[tuple]:
    return [(m.role, m.first_line, m.outcome, m.baseline, m.observed, m.agree, m.matched, m.answer,
             [f.kind for f in m.faults]) for m in result.messages]


def test_each_copy_is_answered_by_the_captured_copy_to_the_same_endpoint():
    result = replay(fork(), [])
    req = result.messages[INVITE]
    desk, phone = req.trace.branches
    # the lab's desktop would answer and its phone ring out; the capture's phone answered, the desktop was cancelled
    assert phone.party.endswith("(captured)") and phone.responses == ((180, "Ringing"), (200, "OK"))
    assert f"the capture's copy to {PHONE} (#{COPY_PHONE})" in phone.note
    assert f"#{RING_PHONE}, #{OK_PHONE}" in phone.note and phone.response.startswith("SIP/2.0 200 OK")
    assert desk.party.endswith("(captured)") and desk.responses == ((180, "Ringing"), (487, "Request Terminated"))
    assert desk.cancelled and f"the capture's copy to {DESK} (#{COPY_DESK})" in desk.note
    assert req.trace.outcome.destination == phone.target and "192.0.2.12:50211" in req.outcome
    assert req.outcome.endswith("-> 200 OK") and "tag=9h0e0002" in req.trace.outcome.response   # the phone's own 200
    assert req.answer == (f"captured 200 OK (#{OK_PHONE}) from {PHONE}, "
                          f"487 Request Terminated (#{TERMINATED}) from {DESK}")
    assert result.summary.answers == {"captured": 1}
    assert result.messages[OK_OUT].agree is True            # the Front End's 200 to the caller: as predicted


def test_the_sip_folder_and_the_pcap_of_the_fork_replay_alike():
    folder = replay(read_capture(CAPTURES / "forked-call"), [])
    pcap = replay(fork(), [])
    assert story(folder) == story(pcap)


def test_every_final_that_answered_a_copy_is_an_answer_row_and_the_front_ends_own_requests_are_observed():
    result = replay(fork(), [])
    roles = [m.role for m in result.messages]
    assert [i for i, r in enumerate(roles) if r == "answer"] == [OK_PHONE, TERMINATED]
    for i, copy in ((OK_PHONE, PHONE), (TERMINATED, DESK)):
        m = result.messages[i]
        assert m.matched == INVITE and not m.apps and f"its copy to {copy}" in m.outcome
    # the ringing climbs on its own (a provisional response, D108); nothing is a fault
    assert roles[RING_DESK] == roles[RING_PHONE] == "replayed"
    assert not [m for m in result.messages if m.faults]
    # the CANCEL and the ACK the Front End sent on the desktop's copy, and the desktop's 200 to that CANCEL
    for i, words in ((CANCEL, "CANCEL of its copy to"), (OK_CANCEL, "200 OK to the Front End's CANCEL"),
                     (ACK_487, "ACK of the final response on its copy to")):
        m = result.messages[i]
        assert m.role == "observed" and m.matched == INVITE and words in m.observed and DESK in m.observed
    assert result.messages[ACK].role == "replayed" and result.messages[ACK].matched == INVITE  # the caller's ACK
    assert roles.count("replayed") == 4


def test_a_retransmitted_final_of_one_copy_is_a_retransmission_of_that_copys_answer():
    capture = fork()
    capture.insert(TERMINATED + 1, capture[TERMINATED])      # the desktop sends its 487 again
    capture.insert(OK_PHONE + 1, capture[OK_PHONE])          # and the phone its 200
    result = replay(capture, [])
    again_ok, again_487 = result.messages[OK_PHONE + 1], result.messages[TERMINATED + 2]
    assert again_ok.role == "retransmission" and again_ok.matched == OK_PHONE
    assert again_487.role == "retransmission" and again_487.matched == TERMINATED + 1
    assert [m.role for m in result.messages].count("answer") == 2


def test_a_200_on_the_other_copy_is_not_taken_for_a_retransmission():
    capture = fork()
    # the desktop's copy answered 200 as well (its 2xx crossed the CANCEL) where the capture had its 487
    text = bytes(capture[TERMINATED].data).replace(b"487 Request Terminated", b"200 OK")
    capture[TERMINATED] = replace(capture[TERMINATED], data=text)
    result = replay(capture, [])
    assert result.messages[TERMINATED].role == "answer"
    assert result.messages[INVITE].answer == \
        f"captured 200 OK (#{OK_PHONE}) from {PHONE}, 200 OK (#{TERMINATED}) from {DESK}"


def lab_with_a_third_endpoint(tmp_path: Path) -> Path:
    text = LAB.read_text(encoding="utf-8")
    phone = '  address = "192.0.2.12:50211"\n  answers = "ring"\n'
    assert text.count(phone) == 1
    third = phone + ('\n  [[users.endpoints]]\n  epid = "5f3a7c9e03"\n'
                     '  user_agent = "UCCAPI/16.0.4266.1001 OC/16.0.4266.1001 (Skype for Business)"\n'
                     '  address = "192.0.2.13:50212"\n  answers = "busy"\n')
    path = tmp_path / "lab.toml"
    path.write_text(text.replace(phone, third), encoding="utf-8")
    return path


def test_a_copy_to_an_endpoint_the_capture_did_not_fork_to_is_simulated_and_said_why(tmp_path):
    result = replay(fork(), [], lab=lab_with_a_third_endpoint(tmp_path))
    req = result.messages[INVITE]
    desk, phone, third = req.trace.branches
    assert desk.party.endswith("(captured)") and phone.party.endswith("(captured)")
    assert not third.party.endswith("(captured)") and not third.response
    assert third.responses == ((486, "Busy Here"),)                       # the lab's answer
    assert req.answer.startswith(f"captured 200 OK (#{OK_PHONE}) from {PHONE}, 487")
    assert req.answer.endswith("; simulated: Jenny Lee: Skype for Business "
                               "(the capture's Front End sent no copy there)")
    assert req.outcome.endswith("-> 200 OK")


def test_a_copy_whose_final_is_beyond_the_capture_is_simulated_and_said_why():
    capture = [m for i, m in enumerate(fork()) if i not in (TERMINATED, ACK_487)]   # the desktop's 487 never came
    result = replay(capture, [])
    req = result.messages[INVITE]
    desk, phone = req.trace.branches
    assert phone.party.endswith("(captured)") and not desk.party.endswith("(captured)")
    assert req.answer == (f"captured 200 OK (#{OK_PHONE}) from {PHONE}; simulated: Jenny Lee: Microsoft Lync "
                          f"(no final response came back on the capture's copy to {DESK} (#{COPY_DESK}) within "
                          "the look-ahead); the caller's 200 is the simulator's (the best of the copies' responses, "
                          "RFC 3261 16.7)")
    # the lab's desktop answers at once and is listed first (D66): its 200, not the phone's, goes to the caller
    assert "192.0.2.11:50210" in req.outcome and not req.trace.outcome.response.count("9h0e0002")
    assert [m.role for m in result.messages].count("answer") == 1


def test_the_baseline_gets_the_same_answers(tmp_path):
    app = tmp_path / "watch-calls.am"
    app.write_text(WATCH)
    result = replay(fork(), [(str(app), None)])
    req = result.messages[INVITE]
    assert any(a.app == "WatchCalls" for a in req.apps)          # a user application saw it: the baseline ran
    assert req.baseline == req.outcome and not req.changed and "192.0.2.12:50211" in req.baseline
    watch = [a for a in req.apps if a.app == "WatchCalls" and a.step != "request"]
    assert [a.step for a in watch] == ["response"]               # on the captured 200, not a predicted one
    assert "X-Seen-By: WatchCalls" in req.trace.outcome.response


def renamed(capture: list[CapturedMessage], n: int) -> list[CapturedMessage]:
    """The fork as another call: its own Call-ID, tags and branches (headers only: the bodies keep their length)."""
    out = []
    for m in capture:
        text = bytes(m.data).decode()
        text = text.replace("Call-ID: replay-fork-1", f"Call-ID: replay-fork-1-{n}")
        text = re.sub(r"(branch=z9hG4bK-[0-9a-z-]+)", rf"\1-{n}", text)
        text = re.sub(r"(tag=[0-9a-z]+)", rf"\1x{n}", text)
        out.append(replace(m, data=text.encode(), where=f"{m.where} (call {n})"))
    return out


def test_several_processes_give_the_same_results_on_forked_calls():
    calls = [renamed(fork(), n) for n in range(12)]
    capture = []
    # interleaved: each call starts while the one before is still ringing, so calls cross windows
    for step in range(16 + 3 * len(calls)):
        for n, call in enumerate(calls):
            at = step - 3 * n
            if 0 <= at < len(call):
                capture.append(call[at])
    one = replay(capture, [], jobs=1)
    many = replay(capture, [], jobs=2, keep_traces=3, window_per_job=7)
    assert many.summary.parallel_windows > 1
    assert one.summary.to_json()["roles"] == many.summary.to_json()["roles"] == \
        {"answer": 24, "observed": 120, "replayed": 48}
    assert [m.to_json() for m in one.messages] == [m.to_json() for m in many.messages]
    assert one.summary.answers == {"captured": 12}


def test_one_captured_copy_answers_the_simulators_copy_to_that_endpoint_only():
    # the capture's Front End sent the call to the phone alone, the simulator forks to desk and phone: the
    # capture answers the phone's copy, the lab the desktop's (D121); the lab's desktop answers 200 and is
    # listed first, so its 200 is the caller's (D66), and the record says so
    drop = {COPY_DESK, RING_DESK, RING_DESK_OUT, CANCEL, OK_CANCEL, TERMINATED, ACK_487}
    capture = [m for i, m in enumerate(fork()) if i not in drop]
    result = replay(capture, [])
    req = result.messages[0]
    assert req.answer.startswith("captured 200 OK (#5) from sip:jennyl@contoso.com;opaque=user:epid:5f3a7c9e02;gruu; "
                                 "simulated: Jenny Lee: ")
    assert "(the capture's Front End sent no copy there); the caller's 200 is the simulator's" in req.answer
    assert req.outcome.endswith("-> 200 OK") and "192.0.2.11:50210" in req.outcome     # the lab's desktop answered
    answers = [m for m in result.messages if m.role == "answer"]
    assert [m.matched for m in answers] == [req.index] and answers[0].first_line.startswith("SIP/2.0 200 OK")


def test_one_captured_copy_to_an_endpoint_the_simulator_does_not_ring_is_simulated():
    # the capture's Front End sent the call to a third endpoint the lab does not know: nothing to match (D121)
    capture = [replace(m, data=bytes(m.data).replace(b"5f3a7c9e02", b"77aa77aa77"))
               for i, m in enumerate(fork()) if i not in {COPY_DESK, RING_DESK, RING_DESK_OUT, CANCEL, OK_CANCEL,
                                                           TERMINATED, ACK_487}]
    result = replay(capture, [])
    req = result.messages[0]
    assert req.answer.startswith("simulated: the simulator's 2 copies go to none of the endpoints the capture's "
                                 "Front End sent it to")
    assert "answer" not in [m.role for m in result.messages]


def test_when_the_caller_cancels_both_copies_end_487_and_so_does_the_prediction():
    base = fork()

    def edited(i: int, *swaps: tuple[bytes, bytes]) -> CapturedMessage:
        data = bytes(base[i].data)
        for old, new in swaps:
            data = data.replace(old, new)
        return replace(base[i], data=data)

    desk_branch, phone_branch = b"branch=z9hG4bK-fe-fork-1a", b"branch=z9hG4bK-fe-fork-1b"
    to_phone = ((desk_branch, phone_branch), (b"5f3a7c9e01", b"5f3a7c9e02"), (b"tag=d35k0001", b"tag=9h0e0002"))
    caller_via = b"SIP/2.0/TCP 192.0.2.31:50250;branch=z9hG4bK-fork-1"
    # the caller's CANCEL: its INVITE's Via and branch (RFC 3261 9.1); the Front End's 487 to the caller
    caller_cancel = edited(CANCEL, (DESK.encode(), b"sip:jennyl@contoso.com"),
                           (b"SIP/2.0/TCP 192.0.2.10:5060;" + desk_branch, caller_via))
    terminated_out = edited(TERMINATED, (b"Via: SIP/2.0/TCP 192.0.2.10:5060;" + desk_branch + b"\r\n", b""))
    capture = [base[i] for i in (INVITE, TRYING, COPY_DESK, COPY_PHONE, RING_DESK, RING_PHONE)] + [
        caller_cancel, base[CANCEL], edited(CANCEL, *to_phone), base[OK_CANCEL], edited(OK_CANCEL, *to_phone),
        base[TERMINATED], edited(TERMINATED, *to_phone), terminated_out]
    result = replay(capture, [])
    req = result.messages[0]
    assert [b.cancelled for b in req.trace.branches] == [False, False]    # the caller cancelled, not the server
    assert req.outcome.endswith("-> 487 Request Terminated")
    assert req.answer == (f"captured 487 Request Terminated (#11) from {DESK}, "
                          f"487 Request Terminated (#12) from {PHONE}")
    assert [m.role for m in result.messages][6:] == ["replayed", "observed", "observed", "observed", "observed",
                                                     "answer", "answer", "observed"]
    assert result.messages[-1].agree is True      # the Front End's 487 to the caller, as predicted
    assert not [m for m in result.messages if m.faults]
