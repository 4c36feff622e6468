#!/usr/bin/env python3
"""How much slower is a compiled MSPL script than the same logic written by hand in Python?

    .venv/bin/python bench/bench_script.py [--runs N]

A typical 30-line message filter (method filter, header reads, GetUri/GetUserAtHost on From and
To, foreach over GetHeaderValues, a flat-file key lookup, Log, ProxyRequest) runs on one MESSAGE
many times, side by side with a hand-written Python function that does the same work on the same
message objects with the same SIP helpers and builds the same records (LogEntry, Disposition).
It prints runs per second for both and the ratio (issue 13 aims at 1.5x at most), by the wall
clock and by the CPU time of this thread (which a busy machine disturbs less: time spent waiting
for a core is not counted). Each figure is the best of many short rounds, the two functions taking
turns, so that a moment of load elsewhere spoils a round, not the result.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mspl_lite.language import Disposition, LogEntry, ScriptEnvironment, compile_script  # noqa: E402
from mspl_lite.manifest import FlatFile  # noqa: E402
from mspl_lite.sip import address, parse_message  # noqa: E402

SCRIPT = r'''
if (!sipRequest) {
    return;
}
if (sipRequest.Method != StandardMethod.Message) {
    ProxyRequest("");
    return;
}
fromUri = GetUri(sipRequest.From);
toUri = GetUri(sipRequest.To);
fromUser = GetUserAtHost(fromUri);
toUser = GetUserAtHost(toUri);
lync = false;
foreach (agent in GetHeaderValues(StandardHeader.UserAgent)) {
    if (ContainsString(agent, "Microsoft Lync", true)) {
        lync = true;
        break;
    }
}
hops = 0;
foreach (via in GetHeaderValues("Via")) {
    hops = hops + 1;
}
action = policy[toUser].action;
if (action == "drop") {
    Log("Event", false, "dropped IM from ", fromUser, " to ", toUser);
    Respond(403, "Forbidden");
    return;
}
pool = policy[toUser].pool;
Log("Debugr", false, "IM ", fromUser, " -> ", toUser, " via ", hops, " hops, lync=", lync);
ProxyRequest(Concatenate("sip:", toUser, ";maddr=", pool));
'''

MESSAGE = (
    "MESSAGE sip:jennyl@contoso.com SIP/2.0\r\n"
    "Via: SIP/2.0/TLS 192.168.0.22:51234;branch=z9hG4bK1;ms-received-port=51234\r\n"
    "Via: SIP/2.0/TLS 10.0.0.5:5061;branch=z9hG4bK0\r\n"
    "Max-Forwards: 70\r\n"
    'From: "Nuria Gonzalez" <sip:nuriag@contoso.com>;tag=1a2b;epid=7a6b5c4d3e\r\n'
    "To: <sip:jennyl@contoso.com>\r\n"
    "Call-ID: 8f2c11\r\n"
    "CSeq: 2 MESSAGE\r\n"
    "User-Agent: UCCAPI/15.0.4420.1017 OC/15.0.4420.1017 (Microsoft Lync)\r\n"
    "Content-Type: text/plain; charset=UTF-8\r\n"
    "Content-Length: 5\r\n"
    "\r\n"
    "hello"
)

POLICY = FlatFile(name="policy", path="policy.csv", columns=("user", "action", "pool"), key_column="user",
                  ignore_case=True, loaded=True, rows=(
                      {"user": "jennyl@contoso.com", "action": "allow", "pool": "pool01.contoso.com"},
                      {"user": "carol@contoso.com", "action": "drop", "pool": "pool01.contoso.com"}))

APP_URI = "http://www.contoso.com/ImRouter"
ENV = ScriptEnvironment(flat_files={"policy": POLICY}, app_uri=APP_URI)


def by_hand(message, policy=POLICY, app_uri=APP_URI):
    """The same filter as plain Python: returns (dispositions, log) like a ScriptRun holds."""
    dispositions: list[Disposition] = []
    log: list[LogEntry] = []
    if not hasattr(message, "request_uri"):
        return dispositions, log
    if message.method.upper() != "MESSAGE":
        dispositions.append(Disposition(kind="proxy", line=6, column=5, uri=""))
        return dispositions, log
    from_uri = address.get_uri(message.get("From") or "")
    to_uri = address.get_uri(message.get("To") or "")
    from_user = address.get_user_at_host(from_uri)
    to_user = address.get_user_at_host(to_uri)
    lync = False
    for agent in message.get_all("User-Agent"):
        if "microsoft lync" in agent.casefold():
            lync = True
            break
    hops = 0
    for _via in message.get_all("Via"):
        hops += 1
    row = policy.lookup(to_user)
    action = row["action"] if row else None
    summary = (f"Application: {app_uri}", f"Method: {message.method}", f"Request-Uri: {message.request_uri}",
               f"From: {message.get('From') or ''}", f"To: {message.get('To') or ''}")
    if action == "drop":
        log.append(LogEntry(level="Event", name="Event", detail=False,
                            lines=("dropped IM from ", from_user, " to ", to_user), summary=summary, line=25, column=5))
        dispositions.append(Disposition(kind="respond", line=26, column=5, status=403, reason="Forbidden"))
        return dispositions, log
    row = policy.lookup(to_user)
    pool = row["pool"] if row else None
    log.append(LogEntry(level="Debugr", name="Debugr", detail=False,
                        lines=("IM ", from_user, " -> ", to_user, " via ", str(hops), " hops, lync=",
                               "true" if lync else "false"), summary=summary, line=30, column=1))
    dispositions.append(Disposition(kind="proxy", line=31, column=1, uri=f"sip:{to_user};maddr={pool}"))
    return dispositions, log


def measure(fns, runs: int, rounds: int = 100) -> tuple[list[float], list[float]]:
    """Runs per second of each function, by the wall clock and by this thread's CPU time: best
    of ``rounds``, the functions taking turns in every round so that a busy machine slows them
    alike."""
    wall = [float("inf")] * len(fns)
    cpu = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            start, start_cpu = time.perf_counter(), time.thread_time()
            for _ in range(runs):
                fn()
            cpu[i] = min(cpu[i], time.thread_time() - start_cpu)
            wall[i] = min(wall[i], time.perf_counter() - start)
    return [runs / b for b in wall], [runs / b for b in cpu]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000, help="runs of each function per round")
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args(argv)

    script = compile_script(SCRIPT, filename="bench.am")
    message = parse_message(MESSAGE)

    # Both must do the same thing before their speed means anything.
    run = script.run(message, ENV)
    dispositions, log = by_hand(message)
    assert not run.aborted, run
    assert [(d.kind, d.uri) for d in run.dispositions] == [(d.kind, d.uri) for d in dispositions], run
    assert [e.lines for e in run.log] == [e.lines for e in log], (run.log, log)
    assert [e.summary for e in run.log] == [e.summary for e in log]

    (mspl, python), (mspl_cpu, python_cpu) = measure(
        [lambda: script.run(message, ENV), lambda: by_hand(message)], args.runs, args.rounds)
    print(f"script: {len(SCRIPT.strip().splitlines())} lines, {run.steps} steps per run, "
          f"{args.runs} runs a round (best of {args.rounds} rounds, taking turns)")
    print(f"  MSPL (compiled closures): {mspl:10,.0f} runs/s  {1e6 / mspl:7.1f} us/run"
          f"  (CPU time: {1e6 / mspl_cpu:7.1f} us/run)")
    print(f"  hand-written Python:      {python:10,.0f} runs/s  {1e6 / python:7.1f} us/run"
          f"  (CPU time: {1e6 / python_cpu:7.1f} us/run)")
    print(f"  ratio: MSPL is {python / mspl:.2f}x slower than hand-written Python by the wall clock, "
          f"{python_cpu / mspl_cpu:.2f}x by CPU time (aim: <= 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
