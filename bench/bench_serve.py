"""Calls per second through `mspl-lite serve`, against SIPp calling SIPp directly, in the same run.

    .venv/bin/python bench/bench_serve.py [--rates 25,50,100,200,300,400,800,1600] [--seconds 3]

Both paths run the same two SIPp scenarios (tests/sipp/uac-call.xml, uas-call.xml): a SIPp UAC
places calls at each rate (`-r`, `-m rate*seconds`): INVITE, 200, ACK, BYE, 200, and checks that
the callee's SIPp answered.

* ``direct``: UAC -> UAS, SIPp to SIPp (the baseline: what the machine and SIPp allow);
* ``serve``: UAC -> `mspl-lite serve` (default lab, one MSPL application registered:
  redirect-im-retarget.am, which retargets Jenny's calls to Nuria) -> UAS playing Nuria
  (``--contact sip:nuriag@contoso.com=127.0.0.1:PORT``), every message through the chain.

Per rate it prints the calls completed and failed (a call SIPp did not finish before its
-timeout counts as failed), then the highest rate with zero failed calls on each path. A path
stops climbing after two rates in a row with failures. Needs SIPp (`apt-get install sip-tester`).
Everything is on 127.0.0.1; both SIPp processes and the server share this machine's cores, so the
figures are for comparing the two paths, not a capacity statement.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "sipp"))

from sipp_support import DOMAIN, ServeProcess, Sipp, call_stats, free_port, sipp_missing  # noqa: E402

APP = ROOT / "mspl_lite" / "data" / "apps" / "redirect-im-retarget.am"
NURIA = "sip:nuriag@contoso.com"
#: A failing step has calls waiting on retransmissions (Timer B: 32 s); give up on them after this.
RECV_TIMEOUT_MS = 4000
#: Past the step's own length, how long SIPp may run to finish its last calls.
DRAIN_S = 8
#: Two failing rates in a row: the path is saturated, higher rates only take time.
MAX_FAILING_STEPS = 2


def one_step(target: str, rate: int, seconds: float, work: Path) -> tuple[int, int]:
    """One SIPp UAC run at `rate` calls/s to `target`: (completed, failed)."""
    calls = max(1, int(rate * seconds))
    stat = work / f"stat-{rate}-{time.monotonic_ns()}.csv"
    uac = Sipp.start("uac-call.xml", workdir=work, remote=target, service="jennyl", calls=calls, rate=rate,
                     keys={"domain": DOMAIN, "caller": "terrya"}, sets={"expect": "nuriag"},
                     timeout_s=seconds + DRAIN_S, name=f"uac-{rate}",
                     extra=["-trace_stat", "-stf", str(stat), "-fd", "1",
                            "-recv_timeout", str(RECV_TIMEOUT_MS), "-l", str(max(50, rate * 4))],
                     message_log=False)  # message logs of thousands of calls would measure the disk
    uac.wait(seconds + DRAIN_S + 10)
    try:
        ok, _failed = call_stats(stat)
    except (OSError, IndexError, ValueError):  # SIPp died before writing its statistics
        ok = 0
    return ok, calls - ok  # SIPp's failed calls, and those it had not finished by its -timeout


def ladder(path: str, rates: list[int], seconds: float, work: Path) -> dict[int, tuple[int, int]]:
    """Run the rates in order on one path ("direct" or "serve"); {rate: (completed, failed)}."""
    uas_port = free_port()
    uas = Sipp.start("uas-call.xml", workdir=work, port=uas_port, keys={"party": "nuriag"}, calls=None,
                     timeout_s=len(rates) * (seconds + DRAIN_S + 15), name=f"uas-{path}",
                     extra=["-recv_timeout", str(RECV_TIMEOUT_MS)], message_log=False)
    results: dict[int, tuple[int, int]] = {}
    server = None
    try:
        time.sleep(0.3)
        if path == "serve":
            server = ServeProcess(["--app", str(APP)], contacts={NURIA: uas_port}).__enter__()
            target = server.address
        else:
            target = f"127.0.0.1:{uas_port}"
        failing = 0
        for rate in rates:
            results[rate] = one_step(target, rate, seconds, work)
            print(f"  {path:<6} {rate:>5} calls/s: {results[rate][0]:>6} completed {results[rate][1]:>6} failed",
                  flush=True)
            failing = failing + 1 if results[rate][1] else 0
            if failing >= MAX_FAILING_STEPS:
                break
            time.sleep(1.0)  # let the last calls' timewait end before the next step
    finally:
        if server is not None:
            server.stop()
        uas.stop()
    return results


def sustained(results: dict[int, tuple[int, int]]) -> int:
    """The highest rate of the ladder with zero failed calls below and at it (0: none)."""
    best = 0
    for rate in sorted(results):
        if results[rate][1]:
            break
        best = rate
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rates", default="25,50,100,200,300,400,800,1600", help="calls per second, comma separated")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each step")
    parser.add_argument("--only", choices=("direct", "serve"), help="run one path (no comparison)")
    args = parser.parse_args()
    missing = sipp_missing()
    if missing:
        print(missing, file=sys.stderr)
        return 2
    rates = sorted({int(r) for r in args.rates.split(",") if r.strip()})
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        work = Path(tmp)
        print(f"SIPp UAC -> UAS, {args.seconds:g} s per rate; serve: one MSPL application ({APP.name})")
        direct = ladder("direct", rates, args.seconds, work / "direct") if args.only != "serve" else {}
        serve = ladder("serve", rates, args.seconds, work / "serve") if args.only != "direct" else {}
    print()
    print(f"{'calls/s':>8} | {'direct ok':>9} {'failed':>6} | {'serve ok':>9} {'failed':>6}")
    for rate in rates:
        d = direct.get(rate)
        s = serve.get(rate)
        cell = lambda r: f"{r[0]:>9} {r[1]:>6}" if r else f"{'-':>9} {'-':>6}"  # noqa: E731
        print(f"{rate:>8} | {cell(d)} | {cell(s)}")
    d_best, s_best = sustained(direct), sustained(serve)
    print(f"\nsustained with zero failed calls: direct {d_best} calls/s, serve {s_best} calls/s"
          + (f" (serve/direct {s_best / d_best:.2f})" if d_best else ""))
    if max(rates) in (d_best, s_best):
        print("(a path sustained the highest rate tried: pass higher --rates to find its limit)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
