#!/usr/bin/env python3
"""How fast is a transaction through the simulated Front End chain? (issue 3, "Performance")

    python bench/bench_chain.py            # about 15 s
    python bench/bench_chain.py --quick    # about 3 s (CI smoke run)

Three tables, every figure measured side by side in this one run:

1. The default chain with one MSPL application that retargets IMs for one user (the scenario-1
   script), against the same chain where that application is a hand-written Python function doing
   the same work (a PythonApplication). Aim: the MSPL chain at most 3x slower.
2. The cost growth with 1, 10 and 50 registered applications (each one a small MSPL script that
   reads the Request-URI and passes the request on), relative to one application.
3. One transaction of an IM through the default chain (built-ins only, the message text parsed
   as the CLI does), against a parse of the same message: the cost of the simulation itself,
   trace included, in parses (issue 13 aims at 10 at most). The two take turns in every round.

The timing is wall clock (time.perf_counter), best of several rounds, so a busy machine shows
lower figures but the same ratios.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mspl_lite.frontend import FrontEnd, PythonApplication  # noqa: E402
from mspl_lite.manifest import parse_manifest  # noqa: E402
from mspl_lite.sip import parse_message  # noqa: E402

REDIRECT = """<?xml version="1.0"?>
<r:applicationManifest r:appUri="http://www.contoso.com/{name}" xmlns:r="http://schemas.microsoft.com/lcs/2006/05">
  <r:requestFilter methodNames="MESSAGE" strictRoute="false"/>
  <r:responseFilter reasonCodes="NONE"/>
  <r:proxyByDefault action="true"/>
  <r:scriptOnly/>
  <r:splScript><![CDATA[
if (sipRequest) {{
    if (EqualString(GetUserAtHost(sipRequest.RequestUri), "{user}", true)) {{
        RetargetRequest("sip:nuriag@contoso.com");
    }}
}}
]]></r:splScript>
</r:applicationManifest>
"""

MESSAGE = ("MESSAGE sip:jennyl@contoso.com SIP/2.0\r\n"
           "Via: SIP/2.0/TLS 192.0.2.31:50250;branch=z9hG4bK-bench\r\n"
           "Max-Forwards: 70\r\n"
           "From: \"Terry Adams\" <sip:terrya@contoso.com>;tag=1a2b3c4d;epid=7c2e5f3a01\r\n"
           "To: <sip:jennyl@contoso.com>\r\n"
           "Call-ID: bench-1\r\n"
           "CSeq: 1 MESSAGE\r\n"
           "Content-Type: text/plain; charset=UTF-8\r\n"
           "Content-Length: 59\r\n\r\n"
           "Have a look at http://www.fabrikam.com/offer before Friday!")


def mspl_app(name: str, user: str):
    return parse_manifest(REDIRECT.format(name=name, user=user), filename=f"{name}.am")


def python_app(name: str, user: str) -> PythonApplication:
    """The same work as the script, written by hand in Python."""
    from mspl_lite.manifest import RequestFilter, ResponseFilter
    from mspl_lite.sip import get_user_at_host

    def handler(message, api):
        if hasattr(message, "method"):
            aor = get_user_at_host(message.request_uri)
            if aor is not None and aor.lower() == user:
                api.retarget_request("sip:nuriag@contoso.com")

    return PythonApplication(name=name, handler=handler,
                             request_filter=RequestFilter(method_names=frozenset({"MESSAGE"}), all_methods=False),
                             response_filter=ResponseFilter(all_codes=False, classes=frozenset()))


def front_end(kind: str, count: int) -> FrontEnd:
    """A Front End with ``count`` applications; the first retargets jennyl, the others pass on."""
    fe = FrontEnd()
    for i in range(count):
        user = "jennyl@contoso.com" if i == 0 else f"nobody{i}@contoso.com"
        name = f"App{i}"
        fe.register(mspl_app(name, user) if kind == "mspl" else python_app(name, user))
    return fe


def rate(fe: FrontEnd, seconds: float, rounds: int) -> float:
    """Transactions per second, best of ``rounds`` (the message is parsed each time, as the CLI does)."""
    trace = fe.send(MESSAGE)
    assert trace.outcome.kind == "proxied"
    best = 0.0
    for _ in range(rounds):
        n = 0
        start = time.perf_counter()
        deadline = start + seconds / rounds
        while True:
            fe.send(MESSAGE)
            n += 1
            now = time.perf_counter()
            if now >= deadline:
                break
        best = max(best, n / (now - start))
    return best


def side_by_side(fns, seconds: float, rounds: int) -> list[float]:
    """Calls per second of each function: best of ``rounds``, the functions taking turns in every
    round (so that a busy machine slows them alike), each for ``seconds / rounds`` a round."""
    best = [0.0] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            n = 0
            start = time.perf_counter()
            deadline = start + seconds / rounds
            while True:
                fn()
                n += 1
                now = time.perf_counter()
                if now >= deadline:
                    break
            best[i] = max(best[i], n / (now - start))
    return best


def transaction_vs_parse(seconds: float, rounds: int) -> tuple[float, float]:
    """(transactions per second, parses per second) of MESSAGE, side by side."""
    fe = FrontEnd()
    trace = fe.send(MESSAGE)
    # The whole trace is there to be read: every hop, branch, response hop, note and its text.
    assert trace.outcome.kind == "proxied" and len(trace.hops) == len(fe.chain) and trace.branches
    assert trace.text() and trace.to_json()["hops"]
    return tuple(side_by_side([lambda: fe.send(MESSAGE), lambda: parse_message(MESSAGE)], seconds, rounds))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short run (CI smoke test)")
    args = parser.parse_args(argv)
    per = 0.3 if args.quick else 1.5
    rounds = 3

    empty = rate(FrontEnd(), per, rounds)
    one_mspl = rate(front_end("mspl", 1), per, rounds)
    one_py = rate(front_end("python", 1), per, rounds)
    # Sanity: both applications did the same thing.
    a, b = front_end("mspl", 1).send(MESSAGE), front_end("python", 1).send(MESSAGE)
    assert a.outcome == b.outcome and a.hop("App0").effect == b.hop("App0").effect == "retargeted"

    print("1. One application in the default chain (transactions per second, best of 3)")
    print(f"   {'chain':<44}{'tx/s':>10}{'vs Python':>12}")
    print(f"   {'built-ins only (no application)':<44}{empty:>10.0f}{one_py / empty:>11.2f}x")
    print(f"   {'+ hand-written Python function':<44}{one_py:>10.0f}{1.0:>11.2f}x")
    print(f"   {'+ MSPL script (same work)':<44}{one_mspl:>10.0f}{one_py / one_mspl:>11.2f}x")
    ratio = one_py / one_mspl
    print(f"   a transaction with the MSPL application takes {ratio:.2f}x the time of one with the Python "
          f"stand-in (aim: <= 3x): {'OK' if ratio <= 3 else 'OVER'}")
    print()
    print("2. Cost growth with the number of registered applications")
    print(f"   {'applications':<14}{'MSPL tx/s':>11}{'cost vs 1':>11}{'Python tx/s':>13}{'cost vs 1':>11}{'MSPL/Py':>9}")
    base_m = base_p = None
    for count in (1, 10, 50):
        m = one_mspl if count == 1 else rate(front_end("mspl", count), per, rounds)
        p = one_py if count == 1 else rate(front_end("python", count), per, rounds)
        base_m = base_m or m
        base_p = base_p or p
        print(f"   {count:<14}{m:>11.0f}{base_m / m:>10.2f}x{p:>13.0f}{base_p / p:>10.2f}x{p / m:>8.2f}x")
        last = (count, m, p)
    count, m, p = last
    per_m = (1 / m - 1 / base_m) / (count - 1) * 1e6
    per_p = (1 / p - 1 / base_p) / (count - 1) * 1e6
    print(f"   each extra application costs about {per_m:.0f} us (MSPL) / {per_p:.0f} us (Python) per transaction")
    print()
    tx, parses = transaction_vs_parse(per * 2, 5)
    ratio = parses / tx
    print("3. One IM through the default chain against a parse of the same message (best of 5, taking turns)")
    print(f"   {'transaction (parse, chain, lab, trace)':<44}{tx:>10.0f} tx/s {1e6 / tx:>8.1f} us")
    print(f"   {'parse_message alone':<44}{parses:>10.0f} /s   {1e6 / parses:>8.1f} us")
    print(f"   a transaction costs {ratio:.1f} parses (aim: <= 10): {'OK' if ratio <= 10 else 'OVER'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
