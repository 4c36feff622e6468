"""`mspl-lite serve` against a real SIP tool: SIPp (Debian's sip-tester) calls through the chain.

Every test starts the server (127.0.0.1, a port it picks) and one SIPp per party, each by PID with a
timeout, on loopback only, and asserts both SIPp's exit status (the scenario's own checks: who
answered, which final response) and what the server's --trace-dir JSON says crossed the wire. The
scenarios are in tests/sipp/ (each checked SIPp to SIPp first, but uas-answer-late.xml, whose 200
follows the server's CANCEL); the applications are the shipped samples, and two of tests/sipp/ (an
application that answers with Respond, one that proxies to an address no lab user has); the mixed
fork runs the shipped lab with one of Jenny's endpoints a real contact. Without SIPp the tests
skip; under CI (CI=true, .ci/run installs it) they fail.
"""
from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "sipp"))
from sipp_support import DOMAIN, HERE, ServeProcess, Sipp, free_port, sipp_missing  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
APPS = ROOT / "mspl_lite" / "data" / "apps"
JENNY, NURIA = "sip:jennyl@contoso.com", "sip:nuriag@contoso.com"


def _under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.fixture(autouse=True)
def _needs_sipp():
    missing = sipp_missing()
    if missing:
        if _under_ci():
            pytest.fail(missing)
        pytest.skip(missing)


@pytest.fixture
def work(tmp_path):
    """A folder for one test's SIPp logs and the server's traces; any SIPp the test left running
    (a failed assertion before its stop) is stopped by its PID afterwards."""
    (tmp_path / "traces").mkdir()
    first = len(Sipp.started)
    yield tmp_path
    for party in Sipp.started[first:]:
        party.stop()
    del Sipp.started[first:]


def serve(work: Path, *apps: Path | str, contacts: dict[str, int] = ()) -> ServeProcess:
    args = []
    for app in apps:
        args += ["--app", str(app)]
    return ServeProcess(args, contacts=dict(contacts), trace_dir=work / "traces")


def uac(scenario: str, work: Path, server: ServeProcess, callee: str, expect: str | None = None, **kw) -> Sipp:
    sets = {"expect": expect} if expect is not None else {}
    return Sipp.start(scenario, workdir=work, remote=server.address, service=callee,
                      keys={"domain": DOMAIN, "caller": "terrya", **kw.pop("keys", {})}, sets=sets,
                      **{"extra": ["-d", "100"] if scenario == "uac-call.xml" else [], **kw})


def uas(scenario: str, work: Path, party: str, port: int, **kw) -> Sipp:
    return Sipp.start(scenario, workdir=work, port=port, keys={"party": party}, name=f"uas-{party}", **kw)


def finish(server: ServeProcess, *parties: Sipp) -> list[dict]:
    """Wait for the callers, stop whatever still runs (by PID), stop the server; its traces."""
    for p in parties:
        p.wait()
    status = server.stop()
    assert status == 0, "mspl-lite serve did not exit 0 on SIGINT:\n" + "\n".join(server.output)
    return server.traces()


def the(traces: list[dict], method: str) -> dict:
    found = [t for t in traces if t.get("method") == method]
    assert found, f"no {method} trace among {[t.get('method') for t in traces]}"
    return found[0]


def sent_to(trace: dict, port: int, first_word: str) -> list[dict]:
    """The messages the server sent to 127.0.0.1:port whose first line starts with first_word."""
    return [m for m in trace["wire"]["messages"]
            if m["direction"] == "out" and m["peer"] == f"127.0.0.1:{port}" and m["first_line"].startswith(first_word)]


def assert_loopback_only(traces: list[dict]) -> None:
    """The issue's rule: no packet to an address outside 127.0.0.0/8 (or ::1) unless configured."""
    for t in traces:
        for m in t["wire"]["messages"]:
            host = m["peer"].rsplit(":", 1)[0].strip("[]")
            assert ipaddress.ip_address(host).is_loopback, (t.get("method"), m["peer"], m["first_line"])


def ran(trace: dict, app: str) -> dict:
    return next(h for h in trace["hops"] if h["app"] == app)


def ok(party: Sipp, status: int = 0) -> None:
    assert party.proc.returncode == status, party.explain()


# --- calls to lab users that SIPp plays ------------------------------------------------------------

def test_a_call_through_the_chain_reaches_the_lab_user_a_sipp_uas_plays(work):
    port = free_port()
    jenny = uas("uas-call.xml", work, "jennyl", port)
    with serve(work, contacts={JENNY: port}) as server:
        caller = uac("uac-call.xml", work, server, "jennyl", expect="jennyl")
        traces = finish(server, caller, jenny)
    ok(caller)
    ok(jenny)
    invite = the(traces, "INVITE")
    assert invite["outcome"]["decided_by"] == "DefaultRouting" and invite["outcome"]["status"] == 200
    assert len(sent_to(invite, port, "INVITE")) == 1
    assert [line.split(" ", 1)[0] for line in jenny.received()] == ["INVITE", "ACK", "BYE"]
    assert_loopback_only(traces)


def test_sipps_built_in_uac_and_uas_call_through_the_server_unchanged(work):
    port = free_port()
    jenny = Sipp.start("-sn uas", workdir=work, port=port, name="builtin-uas")
    with serve(work, contacts={JENNY: port}) as server:
        # -sn uac calls sip:jennyl@<the server's address>: the server takes its own address for the pool's
        caller = Sipp.start("-sn uac", workdir=work, remote=server.address, service="jennyl", name="builtin-uac")
        traces = finish(server, caller, jenny)
    ok(caller)
    ok(jenny)
    invite = the(traces, "INVITE")
    assert invite["outcome"]["decided_by"] == "DefaultRouting" and invite["outcome"]["status"] == 200
    assert len(sent_to(invite, port, "INVITE")) == 1
    assert {"ACK", "BYE"} <= {t.get("method") for t in traces}
    assert_loopback_only(traces)


def test_sipps_built_in_uac_calls_a_simulated_lab_user_and_hangs_up_with_200(work):
    """Nobody plays Jenny: her simulated desk answers inside the server, whose 200 names the server as
    her Contact; SIPp's ACK is absorbed and its BYE answered 200 by the server in her place (D122)."""
    with serve(work) as server:
        caller = Sipp.start("-sn uac", workdir=work, remote=server.address, service="jennyl", name="builtin-uac")
        traces = finish(server, caller)
    ok(caller)                                  # its scenario ends with the BYE's 200
    invite = the(traces, "INVITE")
    assert invite["outcome"]["status"] == 200 and "192.0.2." in invite["outcome"]["destination"]
    answer = next(m for m in invite["wire"]["messages"] if m["direction"] == "out"
                  and m["first_line"].startswith("SIP/2.0 200"))
    host, port = server.address.rsplit(":", 1)
    assert f"\r\nContact: <sip:jennyl@{host}:{port};transport=udp>\r\n" in answer["message"]
    bye = the(traces, "BYE")
    assert [m["first_line"] for m in bye["wire"]["messages"]][-1] == "SIP/2.0 200 OK"
    assert "outcome" not in bye and any("decision D122" in n for n in bye["wire"]["notes"])   # not the chain's
    ack = the(traces, "ACK")
    assert [m["direction"] for m in ack["wire"]["messages"]] == ["in"]        # absorbed: nothing sent on
    assert_loopback_only(traces)


def test_a_caller_that_expects_a_header_is_failed_by_sipp_when_another_party_answers(work):
    """The X-Answered-By check of uac-call.xml can fail: SIPp's built-in uas adds no such header."""
    port = free_port()
    jenny = Sipp.start("-sn uas", workdir=work, port=port, name="builtin-uas")
    with serve(work, contacts={JENNY: port}) as server:
        wrong = uac("uac-call.xml", work, server, "jennyl", expect="jennyl")
        finish(server, wrong, jenny)
    ok(wrong, 1)
    assert "answered-by: \n" in wrong.log("logs")


def test_the_retargeting_sample_sends_jennys_call_to_nurias_uas_and_keeps_the_to_header(work):
    jenny_port, nuria_port = free_port(), free_port()
    jenny = uas("uas-call.xml", work, "jennyl", jenny_port)
    nuria = uas("uas-call.xml", work, "nuriag", nuria_port)
    with serve(work, APPS / "redirect-im-retarget.am", contacts={JENNY: jenny_port, NURIA: nuria_port}) as server:
        caller = uac("uac-call.xml", work, server, "jennyl", expect="nuriag")
        caller.wait()
        nuria.wait()
        traces = finish(server, caller)
    jenny.stop()
    assert jenny.received() == [], "Jenny's phone rang: " + repr(jenny.received())
    ok(caller)
    ok(nuria)
    invite = the(traces, "INVITE")
    assert ran(invite, "RedirectImRetarget")["action"] == "retargeted to sip:nuriag@contoso.com"
    assert invite["outcome"]["decided_by"] == "DefaultRouting"          # the chain routed it (D5)
    assert len(sent_to(invite, nuria_port, "INVITE")) == 1 and not sent_to(invite, jenny_port, "INVITE")
    invite_at_nuria = nuria.log("messages").split("\nINVITE ", 1)[1].split("\n\n", 1)[0]
    assert invite_at_nuria.startswith(f"sip:127.0.0.1:{nuria_port}")     # her contact: the chain routed it
    assert "\nTo: <sip:jennyl@contoso.com>\n" in invite_at_nuria          # To keeps Jenny (Dn439073, D5)
    assert_loopback_only(traces)


def test_the_proxyrequest_sample_sends_jennys_call_to_nuria_and_skips_the_routing_applications(work):
    jenny_port, nuria_port = free_port(), free_port()
    jenny = uas("uas-call.xml", work, "jennyl", jenny_port)
    nuria = uas("uas-call.xml", work, "nuriag", nuria_port)
    with serve(work, APPS / "redirect-im-proxy.am", contacts={JENNY: jenny_port, NURIA: nuria_port}) as server:
        caller = uac("uac-call.xml", work, server, "jennyl", expect="nuriag")
        caller.wait()
        nuria.wait()
        traces = finish(server, caller)
    jenny.stop()
    assert jenny.received() == []
    ok(caller)
    ok(nuria)
    invite = the(traces, "INVITE")
    assert invite["outcome"]["decided_by"] == "RedirectImProxy"
    assert not ran(invite, "DefaultRouting")["ran"]                     # routed above it (D1)
    assert len(sent_to(invite, nuria_port, "INVITE")) == 1
    assert_loopback_only(traces)


def test_proxyrequest_reaches_a_uas_that_no_built_in_application_would_have_chosen(work):
    jenny_port, probe_port = free_port(), free_port()
    app = work / "proxy-to-probe.am"
    app.write_text((HERE / "proxy-to-address.am.in").read_text().replace("@PORT@", str(probe_port)))
    jenny = uas("uas-call.xml", work, "jennyl", jenny_port)
    probe = uas("uas-call.xml", work, "probe", probe_port)
    with serve(work, app, contacts={JENNY: jenny_port}) as server:
        caller = uac("uac-call.xml", work, server, "jennyl", expect="probe")
        caller.wait()
        probe.wait()
        traces = finish(server, caller)
    jenny.stop()
    assert jenny.received() == []
    ok(caller)
    ok(probe)
    invite = the(traces, "INVITE")
    assert invite["outcome"]["decided_by"] == "ProxyToProbe"
    assert [m["first_line"] for m in sent_to(invite, probe_port, "INVITE")] == \
        [f"INVITE sip:probe@127.0.0.1:{probe_port} SIP/2.0"]
    assert_loopback_only(traces)


def test_an_application_that_answers_with_respond_rings_no_phone(work):
    port = free_port()
    jenny = uas("uas-call.xml", work, "jennyl", port)
    with serve(work, HERE / "respond-busy.am", contacts={JENNY: port}) as server:
        caller = uac("uac-busy.xml", work, server, "jennyl")
        traces = finish(server, caller)
    jenny.stop()
    assert jenny.received() == []
    ok(caller)
    invite = the(traces, "INVITE")
    assert invite["outcome"]["kind"] == "responded" and invite["outcome"]["decided_by"] == "JennyIsBusy"
    assert invite["outcome"]["status"] == 486
    assert not [m for m in invite["wire"]["messages"] if m["direction"] == "out" and m["first_line"].startswith("INVITE")]
    assert_loopback_only(traces)


def test_a_busy_phone_486_comes_back_and_the_server_acks_it_hop_by_hop(work):
    port = free_port()
    jenny = uas("uas-busy.xml", work, "jennyl", port)
    with serve(work, contacts={JENNY: port}) as server:
        caller = uac("uac-busy.xml", work, server, "jennyl")
        traces = finish(server, caller, jenny)
    ok(caller)
    ok(jenny)                                  # its scenario ends only once an ACK for the 486 came
    invite = the(traces, "INVITE")
    assert invite["outcome"]["status"] == 486
    assert len(sent_to(invite, port, "ACK")) == 1      # the server's own ACK (RFC 3261 17.1.1.3)
    assert_loopback_only(traces)


# --- registrar, CANCEL, UDP retransmission -----------------------------------------------------------

def test_register_then_call_reaches_the_registered_contact(work):
    port = free_port()
    with serve(work) as server:
        # Kim is signed in nowhere in the lab: before she registers a call gets 480 from DefaultRouting.
        signin = Sipp.start("uac-register.xml", workdir=work, remote=server.address, port=port, service="kima",
                            keys={"domain": DOMAIN, "expires": "600"}, name="register-kima")
        ok_status = signin.wait()
        kim = uas("uas-call.xml", work, "kima", port)
        caller = uac("uac-call.xml", work, server, "kima", expect="kima")
        traces = finish(server, caller, kim)
    assert ok_status == 0, signin.explain()
    assert f"127.0.0.1:{port}" in signin.log("logs")                    # the 200 lists the binding
    ok(caller)
    ok(kim)
    invite = the(traces, "INVITE")
    assert invite["outcome"]["status"] == 200 and invite["outcome"]["decided_by"] == "DefaultRouting"
    assert len(sent_to(invite, port, "INVITE")) == 1
    assert_loopback_only(traces)


def test_cancel_before_answer_ends_the_call_with_487(work):
    port = free_port()
    jenny = uas("uas-ring.xml", work, "jennyl", port)
    with serve(work, contacts={JENNY: port}) as server:
        caller = uac("uac-cancel.xml", work, server, "jennyl")
        traces = finish(server, caller, jenny)
    ok(caller)                      # 180, CANCEL, 200 for it, 487, ACK
    ok(jenny)                       # the CANCEL reached the phone, and so did the ACK for its 487
    invite = the(traces, "INVITE")
    assert invite["outcome"]["status"] == 487
    assert sent_to(invite, port, "CANCEL") or sent_to(the(traces, "CANCEL"), port, "CANCEL")
    assert_loopback_only(traces)


def test_a_udp_retransmission_gets_the_call_through_when_the_first_invite_is_lost(work):
    port = free_port()
    jenny = uas("uas-lose-first-invite.xml", work, "jennyl", port)
    with serve(work, contacts={JENNY: port}) as server:
        caller = uac("uac-call.xml", work, server, "jennyl", expect="jennyl")
        traces = finish(server, caller, jenny)
    ok(caller)
    ok(jenny)
    invite = the(traces, "INVITE")
    copies = sent_to(invite, port, "INVITE")
    assert len(copies) >= 2, [m["first_line"] for m in invite["wire"]["messages"]]     # Timer A fired
    assert copies[1]["time"] - copies[0]["time"] >= 0.4                     # T1 = 500 ms (RFC 3261 17.1.1.2)
    assert invite["outcome"]["status"] == 200
    assert_loopback_only(traces)


def test_a_caller_over_tcp_reaches_a_udp_phone_through_the_server(work):
    port = free_port()
    jenny = uas("uas-call.xml", work, "jennyl", port)
    with serve(work, contacts={JENNY: port}) as server:
        caller = uac("uac-call.xml", work, server, "jennyl", expect="jennyl", extra=["-d", "100", "-t", "t1"])
        traces = finish(server, caller, jenny)
    ok(caller)
    ok(jenny)
    invite = the(traces, "INVITE")
    assert {m["transport"] for m in invite["wire"]["messages"] if m["peer"] != f"127.0.0.1:{port}"} == {"tcp"}
    assert {m["transport"] for m in sent_to(invite, port, "")} == {"udp"}
    assert invite["outcome"]["status"] == 200
    assert_loopback_only(traces)


def test_after_unregister_the_call_gets_480_and_the_old_contact_hears_nothing(work):
    port = free_port()
    with serve(work) as server:
        statuses = []
        for expires in ("600", "0"):                    # sign in, then out (RFC 3261 10.2.2)
            reg = Sipp.start("uac-register.xml", workdir=work, remote=server.address, port=port, service="kima",
                             keys={"domain": DOMAIN, "expires": expires}, name=f"register-kima-{expires}")
            statuses.append((reg.wait(), reg))
        kim = uas("uas-call.xml", work, "kima", port)
        caller = uac("uac-unavailable.xml", work, server, "kima")
        traces = finish(server, caller)
    kim.stop()
    for status, reg in statuses:
        assert status == 0, reg.explain()
    assert f"127.0.0.1:{port}" in statuses[0][1].log("logs")
    assert f"127.0.0.1:{port}" not in statuses[1][1].log("logs")          # no binding left
    ok(caller)
    assert kim.received() == []
    invite = the(traces, "INVITE")
    assert invite["outcome"]["status"] == 480 and invite["outcome"]["decided_by"] == "DefaultRouting"
    assert_loopback_only(traces)


def _fork_to_two_phones(work: Path) -> tuple[Sipp, Sipp, Sipp, dict, int, int]:
    """Kim signs in from two SIPp phones; Terry calls her: one answers, the other rings until cancelled."""
    answering, ringing = free_port(), free_port()
    with serve(work) as server:
        for port in (answering, ringing):
            reg = Sipp.start("uac-register.xml", workdir=work, remote=server.address, port=port, service="kima",
                             keys={"domain": DOMAIN, "expires": "600"}, name=f"register-{port}")
            assert reg.wait() == 0, reg.explain()
        pc = uas("uas-call.xml", work, "kima", answering)
        phone = Sipp.start("uas-ring.xml", workdir=work, port=ringing, keys={"party": "kima-phone"}, name="uas-ring")
        caller = uac("uac-call.xml", work, server, "kima", expect="kima")
        traces = finish(server, caller, pc, phone)
    return caller, pc, phone, the(traces, "INVITE"), answering, ringing


def test_a_call_forks_to_both_registered_contacts_and_the_loser_is_cancelled(work):
    caller, pc, phone, invite, answering, ringing = _fork_to_two_phones(work)
    ok(caller)
    ok(pc)
    ok(phone)                        # its scenario needs the CANCEL and the ACK for its 487
    assert [line.split(" ", 1)[0] for line in phone.received()] == ["INVITE", "CANCEL", "ACK"]
    assert len(sent_to(invite, answering, "INVITE")) == 1 and len(sent_to(invite, ringing, "INVITE")) == 1
    assert invite["outcome"]["status"] == 200


def test_the_2xx_of_one_branch_is_forwarded_before_the_other_branch_ends(work):
    caller, pc, phone, invite, answering, ringing = _fork_to_two_phones(work)
    out_200 = next(i for i, m in enumerate(invite["wire"]["messages"])
                   if m["direction"] == "out" and m["first_line"].startswith("SIP/2.0 200")
                   and m["peer"] not in (f"127.0.0.1:{answering}", f"127.0.0.1:{ringing}"))
    in_487 = next(i for i, m in enumerate(invite["wire"]["messages"])
                  if m["direction"] == "in" and m["first_line"].startswith("SIP/2.0 487"))
    assert out_200 < in_487


# --- a fork of a simulated endpoint and a real phone (decision D100) --------------------------------

LAB = ROOT / "mspl_lite" / "data" / "lab.toml"
DESK = 'address = "192.0.2.11:50210"'       # Jenny's desk: simulated, answers at once, listed first
PHONE = 'address = "192.0.2.12:50211"'      # Jenny's phone: played by a SIPp here


def mixed_lab(work: Path, port: int, *, real_desk: bool = False) -> Path:
    """The shipped lab with one of Jenny's endpoints a real contact at ``port`` (a lab `contact`, D97):
    her phone (after the simulated desk), or with ``real_desk`` her desk (listed first)."""
    text = LAB.read_text()
    real = DESK if real_desk else PHONE
    assert text.count(real) == 1
    path = work / "mixed-lab.toml"
    path.write_text(text.replace(real, f'contact = "127.0.0.1:{port}"'))
    return path


def mixed_fork(work: Path, phone_scenario: str, *, wait_for_phone: bool = True,
               **lab) -> tuple[Sipp, Sipp, dict, int]:
    """Terry calls Jenny, whose simulated desk answers at once and whose real phone is a SIPp."""
    port = free_port()
    phone = uas(phone_scenario, work, "jennyl", port)
    with ServeProcess(["--lab", str(mixed_lab(work, port, **lab))], trace_dir=work / "traces") as server:
        caller = Sipp.start("uac-call-simulated.xml", workdir=work, remote=server.address, service="jennyl",
                            keys={"domain": DOMAIN, "caller": "terrya"})
        if not wait_for_phone:
            caller.wait()
            phone.stop()
        traces = finish(server, caller, phone)
    assert_loopback_only(traces)
    return caller, phone, the(traces, "INVITE"), port


def to_caller(invite: dict, port: int, first_word: str) -> list[dict]:
    """What the server sent the caller (every peer but the phone at ``port``) in this transaction."""
    return [m for m in invite["wire"]["messages"] if m["direction"] == "out" and m["peer"] != f"127.0.0.1:{port}"
            and m["first_line"].startswith(first_word)]


def real_branch(invite: dict, port: int) -> dict:
    return next(b for b in invite["branches"] if f"127.0.0.1:{port}" in b["target"])


def test_a_real_phone_that_answers_after_the_simulated_desk_won_gets_ack_then_bye(work):
    caller, phone, invite, port = mixed_fork(work, "uas-answer-late.xml")
    ok(caller)          # one 200, the simulated desk's (no X-Answered-By), and no second one after it
    ok(phone)           # its scenario ends only once the server ACKed its 200 and sent the BYE
    assert list(dict.fromkeys(line.split(" ", 1)[0] for line in phone.received())) == ["INVITE", "CANCEL", "ACK", "BYE"]
    assert invite["outcome"]["status"] == 200 and "127.0.0.1" not in invite["outcome"]["destination"]
    answers = to_caller(invite, port, "SIP/2.0 200")
    assert len(answers) == 1 and "X-Answered-By" not in answers[0]["message"]
    ack, bye = sent_to(invite, port, "ACK")[0]["message"], sent_to(invite, port, "BYE")[0]["message"]
    assert "\r\nCSeq: 1 ACK\r\n" in ack and "\r\nCSeq: 2 BYE\r\n" in bye      # the INVITE's dialog (D100)
    real = real_branch(invite, port)        # the trace, as the server filed it once the BYE was answered
    assert [r["status"] for r in real["responses"]] == [180, 200] and real["cancelled"]
    assert "crossed the CANCEL" in real["note"] and "the BYE got 200 OK" in real["note"]
    assert any("decision D100" in n for n in invite["wire"]["notes"])


def test_a_real_phone_that_answers_the_cancel_with_487_shows_that_487_in_the_trace(work):
    caller, phone, invite, port = mixed_fork(work, "uas-ring.xml")
    ok(caller)
    ok(phone)           # the CANCEL reached it, and so did the ACK for its 487
    assert [line.split(" ", 1)[0] for line in phone.received()] == ["INVITE", "CANCEL", "ACK"]
    assert len(to_caller(invite, port, "SIP/2.0 200")) == 1
    real = real_branch(invite, port)
    assert [r["status"] for r in real["responses"]] == [180, 487] and real["final"] == 487
    assert "after the trace was written, the INVITE ended 487" in real["note"]
    assert not sent_to(invite, port, "BYE")


def test_the_caller_scenario_fails_when_the_real_phone_answers_instead(work):
    """uac-call-simulated.xml's check can fail: with the real phone listed first (D66), its 200 wins."""
    # the caller's failed call sends no BYE, so the phone would wait for one until its timeout
    caller, phone, invite, port = mixed_fork(work, "uas-call.xml", real_desk=True, wait_for_phone=False)
    ok(caller, 1)
    assert "Regexp matched but should not: looking in ' jennyl'" in caller.log("errors")   # its X-Answered-By
    assert invite["outcome"]["status"] == 200 and f"127.0.0.1:{port}" in invite["outcome"]["destination"]
