"""The error contract of docs/ARCHITECTURE.md as assertions, and the per-example time and memory guard.

Every fuzz test runs the code under test inside ``guard(...)``: wall time and the tracemalloc peak
are measured for that one example and asserted, and a SIGALRM at the hard limit turns a hang into a
failure (``Hung``) instead of a frozen test run (CPython's regex engine and Python loops both check
for signals, so catastrophic backtracking is interrupted too). ``Hung`` is an AssertionError, so
hypothesis shrinks it to a minimal example like any failure (it does not shrink a BaseException);
should library code swallow it (the widgets catch Exception), the time assertion still fails.
Where the kernel allows it (Linux), the block also runs under an address-space limit a few GiB above
what the process uses: an unbounded read (``/dev/zero`` on the old code) then fails as MemoryError in
the test instead of calling the OOM killer onto the shared machine (measured: that happened).
"""
from __future__ import annotations

import os
import signal
import threading
import time
import tracemalloc
from contextlib import contextmanager
from typing import Iterator

from hypothesis import settings

try:
    import resource
except ImportError:  # Windows: no rlimits; the tracemalloc peak is still asserted
    resource = None

from mspl_lite.errors import Diagnostic, InputError

MB = 1 << 20
#: str(err) of any InputError stays below this (the campaign's inputs are at most ~100 KB; issue 14
#: saw 10,000 manifest errors render into 387 MB).
MAX_RENDERED = 256 * 1024
#: A run's text (CLI output, widget HTML) stays below this.
MAX_OUTPUT = 4 * MB
#: Address space a guarded block may add: far above any peak the limits allow, far below the
#: machine's 24 GiB (the kernel refuses more with MemoryError).
ADDRESS_SPACE_HEADROOM = 4 << 30
#: Words that show an internal failure reached the learner.
BUG_WORDS = ("Traceback (most recent call last)", "internal error", "mspl-lite bug")


class Hung(AssertionError):
    """The example ran past its hard time limit and was interrupted."""


def examples(fraction: float) -> int:
    """A share of the profile's max_examples, for targets that cost more per example (at least 3)."""
    return max(3, int(settings.default.max_examples * fraction))


def _address_space() -> int | None:
    """This process's virtual size in bytes (Linux /proc), or None where it cannot be read."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


@contextmanager
def _address_space_limit() -> Iterator[None]:
    """RLIMIT_AS at the current size plus ADDRESS_SPACE_HEADROOM for the block, where settable."""
    size = _address_space() if resource is not None else None
    if size is None:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = size + ADDRESS_SPACE_HEADROOM
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@contextmanager
def guard(what: str, *, seconds: float, megabytes: float) -> Iterator[None]:
    """Assert that the block finishes within ``seconds`` and peaks below ``megabytes`` (tracemalloc).

    The hard limit (2x ``seconds``) interrupts a hang with ``Hung``; the soft one is asserted after.
    """
    main = threading.current_thread() is threading.main_thread()
    hard = seconds * 2

    def on_alarm(_signum, _frame):
        raise Hung(f"{what}: still running after {hard:.1f} s (limit {seconds} s): a hang")

    previous = signal.signal(signal.SIGALRM, on_alarm) if main else None
    if main:
        signal.setitimer(signal.ITIMER_REAL, hard)
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    start = time.perf_counter()
    try:
        with _address_space_limit():
            yield
    except MemoryError:
        raise AssertionError(f"{what}: ran out of memory (more than {ADDRESS_SPACE_HEADROOM >> 30} GiB of "
                             "address space): unbounded memory") from None
    finally:
        elapsed = time.perf_counter() - start
        if main:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        peak = tracemalloc.get_traced_memory()[1]
        if not tracing:
            tracemalloc.stop()
    assert elapsed < seconds, f"{what}: took {elapsed:.2f} s (limit {seconds} s)"
    assert peak < megabytes * MB, f"{what}: peak memory {peak / MB:.1f} MB (limit {megabytes} MB)"


def line_count(text: str | bytes | None) -> int:
    if not text:
        return 0
    return len(text.splitlines()) or 1


def assert_diagnostic(d: Diagnostic, *, lines: int | None = None) -> None:
    """One diagnostic is sane: severity, types, 0 <= column, 0 <= line (<= the input's lines + 1)."""
    assert isinstance(d, Diagnostic), d
    assert d.severity in ("error", "warning", "note"), d
    assert isinstance(d.message, str) and d.message.strip(), d
    assert isinstance(d.line, int) and isinstance(d.column, int), d
    assert d.line >= 0 and d.column >= 0, d
    if lines is not None and lines:
        assert d.line <= lines + 1, f"line {d.line} past the input's {lines} lines: {d}"
    rendered = d.render()
    assert len(rendered) < MAX_RENDERED, f"one diagnostic renders into {len(rendered)} characters"


def assert_input_error(err: BaseException, *, kind: type[InputError] = InputError,
                       text: str | bytes | None = None, filename: str | None = None) -> None:
    """Bad input: an InputError subclass with at least one located diagnostic, rendered bounded.

    ``text`` is the input, ``filename`` the name it was given: a diagnostic about that file lies
    within its lines, and when it has lines the first error about it is on one (line >= 1). A
    diagnostic about another file (a flat file the manifest names) is only checked for sanity.
    """
    assert isinstance(err, kind), f"expected {kind.__name__}, got {type(err).__name__}: {err!r}"[:2000]
    assert err.diagnostics, f"{type(err).__name__} without a diagnostic"
    lines = line_count(text) if text is not None else None
    for d in err.diagnostics:
        assert_diagnostic(d, lines=lines if filename is None or d.filename == filename else None)
    about_input = [d for d in err.diagnostics if filename is None or d.filename == filename]
    if lines and about_input:
        errors = [d for d in about_input if d.severity == "error"] or about_input
        assert errors[0].line >= 1, f"input of {lines} line(s) but the error has no line: {errors[0]}"
    rendered = str(err)
    assert len(rendered) < MAX_RENDERED, f"str(err) is {len(rendered)} characters"
    for word in BUG_WORDS:
        assert word not in rendered, f"{word!r} in a diagnostic: {rendered[:500]}"


def assert_no_bug_words(text: str, what: str) -> None:
    assert len(text) < MAX_OUTPUT, f"{what}: {len(text)} characters of output"
    for word in BUG_WORDS:
        assert word not in text, f"{what}: {word!r} shown: {text[:1500]}"
