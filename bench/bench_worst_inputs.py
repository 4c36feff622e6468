"""How the worst inputs of issue 14's fuzz campaign scale: each class timed at n, 2n and 4n in one run.

    .venv/bin/python bench/bench_worst_inputs.py [--repeats 3]

A linear parser shows a time ratio t(4n)/t(n) near 4 (2 to 6 on a noisy machine); a quadratic
one near 16; the exponential header-parameter backtracking of the old parser never finished its
4n case. Classes whose work is bounded by a budget or a limit (a script run, a diagram) show a
ratio near 1: the cost stops growing with the input. The figures are ratios measured side by side
in one run, so machine noise cancels out; absolute times are printed for reference only.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mspl_lite.errors import InputError  # noqa: E402
from mspl_lite.frontend import FrontEnd, PythonApplication  # noqa: E402
from mspl_lite.language import check_script, compile_script, parse_script  # noqa: E402
from mspl_lite.manifest import parse_manifest  # noqa: E402
from mspl_lite.sip import get_uri, parse_message  # noqa: E402
from mspl_lite.view import transaction_diagram  # noqa: E402

HEAD = ("INVITE sip:bob@contoso.com SIP/2.0\r\nVia: SIP/2.0/TLS 10.0.0.1;branch=z9hG4bK1\r\n"
        "To: <sip:bob@contoso.com>\r\nCall-ID: 1\r\nCSeq: 1 INVITE\r\n")
TAIL = "Content-Length: 0\r\n\r\n"
MANIFEST = ('<?xml version="1.0"?>\n<lc:applicationManifest lc:appUri="http://contoso.com/A" '
            'xmlns:lc="http://schemas.microsoft.com/lcs/2006/05">\n{body}<lc:splScript><![CDATA[\n{script}\n'
            ']]></lc:splScript>\n</lc:applicationManifest>\n')


def sip(extra: str) -> Callable[[], object]:
    text = HEAD + extra + TAIL
    return lambda: _quiet(parse_message, text)


def _quiet(fn, *args):
    try:
        return fn(*args)
    except InputError as err:   # the verdict is a located error: that is the expected outcome
        return err


def forking(branches: int) -> Callable[[], object]:
    uris = [f"sip:u{i}@fabrikam.com" for i in range(branches)]
    fe = FrontEnd()
    fe.register(PythonApplication(name="Forker", handler=lambda message, api: api.fork(*uris)))
    message = HEAD.replace("INVITE", "MESSAGE") + "From: <sip:alice@contoso.com>;tag=1\r\n" + TAIL
    return lambda: transaction_diagram(fe.send(message)).svg


def _index_of_string(n: int) -> Callable[[], object]:
    """One run that builds a string of n U+0130 and searches it case-insensitively."""
    doublings = max(n.bit_length() - 1, 1)
    script = compile_script('big = "\\u0130";' + "big = Concatenate(big, big);" * doublings
                            + 'x = IndexOfString(big, "z", true);')
    message = HEAD + "From: <sip:a@b>;tag=1\r\n" + TAIL
    return lambda: script.run(parse_message(message))


def _searches(n: int) -> Callable[[], object]:
    """One run that searches a 512 KB string case-insensitively n times."""
    script = compile_script('big = "a";' + "big = Concatenate(big, big);" * 19
                            + f'i = 0; while (i < {n}) {{ i = i + 1; ContainsString(big, "b", true); }}')
    message = HEAD + "From: <sip:a@b>;tag=1\r\n" + TAIL
    return lambda: script.run(parse_message(message))


# name, n, builder(size) -> a callable that does the work once
CLASSES: list[tuple[str, int, Callable[[int], Callable[[], object]]]] = [
    ("SIP: From with n ';p=abc' then '<'", 1_000, lambda n: sip("From: <sip:a@b>" + ";p=abc" * n + "<\r\n")),
    ("address: GetUri on n ';p=abc' then '<'", 1_000, lambda n: lambda: get_uri("<sip:a@b>" + ";p=abc" * n + "<")),
    ("SIP: Contact of n bare 'sip:a,' URIs", 5_000, lambda n: sip("From: <sip:a@b>;tag=1\r\nContact: " + "sip:a," * n + "sip:a\r\n")),
    ("SIP: n blanks folded into Subject", 20_000, lambda n: sip("From: <sip:a@b>;tag=1\r\nSubject: a" + " " * n + "b\r\n c\r\n")),
    ("SIP: n continuation lines", 10_000, lambda n: sip("From: <sip:a@b>;tag=1\r\nSubject: a\r\n" + " b\r\n" * n)),
    ("manifest: n duplicate elements", 1_000, lambda n: lambda: _quiet(
        parse_manifest, MANIFEST.format(body='<lc:scriptOnly/>\n' * n, script=""))),
    ("manifest: CDATA script of n statements", 5_000, lambda n: lambda: _quiet(
        parse_manifest, MANIFEST.format(body='<lc:scriptOnly/>\n', script='x = "abc";\n' * n))),
    ("checker: n unused assignments (warnings)", 1_000, lambda n: lambda: check_script(parse_script(
        "".join(f"v{i} = 1;\n" for i in range(n))))),
    ("script run: IndexOfString(ignoreCase) on n x U+0130", 16_384, lambda n: _index_of_string(n)),
    ("script run: n searches of 512 KB (the work budget stops it)", 200, lambda n: _searches(n)),
    ("diagram: a fork to n branches (drawn: at most 20)", 40, forking),
]


def best_time(fn: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per size; the best is kept")
    args = parser.parse_args(argv)
    print(f"{'class':56} {'n':>7} {'t(n) ms':>9} {'t(2n)/t(n)':>11} {'t(4n)/t(n)':>11}")
    for name, n, build in CLASSES:
        times = [best_time(build(n * k), args.repeats) for k in (1, 2, 4)]
        base = max(times[0], 1e-6)
        print(f"{name:56} {n:>7} {times[0] * 1000:>9.2f} {times[1] / base:>11.1f} {times[2] / base:>11.1f}")
    print("linear: about 2 and 4; quadratic: 4 and 16; bounded by a budget or a limit: about 1 and 1")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
