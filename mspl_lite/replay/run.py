"""Running a replay on every core, with results identical to a one-process run (decision D109).

Theory of operation. The capture streams in *windows* of ``WINDOW_PER_JOB * jobs`` messages.
Inside a window, messages are partitioned by Call-ID: a call's transactions and dialogs stay in
one worker, which replays them in capture order from a snapshot of the state at the window's
start (both Front Ends' registrations, critical error counts, enabled flags, and the Book of the
calls it gets). Two things cross calls, and both are checked when the window comes back:

* registrations: a REGISTER that changes who is signed in changes where every later request to
  that user goes. A worker reports whether any message changed them;
* the critical error count per application (ten disable it, hh347152): counts are renumbered in
  capture order; if an application reaches the limit inside the window, it would have been
  disabled part-way.

When either happens, the window's parallel results are thrown away and the window is replayed
again in one process, in capture order, from the same snapshot. Otherwise the results are merged
in capture order, the counts renumbered, and the workers' Books taken back. Either way the output
equals a one-process run; a test checks it.

A request is answered by the responses the capture holds for it (decision D108), found in the
look-ahead: the next ``ahead.LOOKAHEAD`` messages of its call. The stream is read that far beyond
the message being replayed (one process) or beyond the window (each worker gets, besides its calls'
messages, their messages in the look-ahead after the window), so both see the same responses. The first ``keep_traces`` messages (whose full traces
are kept) always run in one process. Where multiprocessing does not exist (Pyodide, so
JupyterLite) or ``jobs`` is 1, everything runs in one process.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Iterator

from ..errors import UsageError
from ..frontend.simulate import CRITICAL_ERROR_LIMIT
from .ahead import LOOKAHEAD, Ahead
from .engine import Book, ReplayConfig, Replayer, call_key
from .model import MessageResult, Summary

__all__ = ["replay", "replay_stream", "ReplayResult", "WINDOW_PER_JOB", "default_jobs"]

#: Messages per worker in one window. A window costs one round trip to the workers (pickling
#: its messages and results, ~1 ms per 100 messages); 2,000 keeps that under a few per cent of
#: the replay and bounds what one window holds in memory (a few MB per worker).
WINDOW_PER_JOB = 2000
#: Messages between two purges of the Book in one process: purging walks every open call, so it runs
#: now and then; what it drops is already ignored (engine.MAX_TRANSACTION_AGE), so results do not change.
PURGE_EVERY = 10_000


def default_jobs() -> int:
    """All cores; 1 where there are no processes to start (Pyodide)."""
    if sys.platform == "emscripten":
        return 1
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _multiprocessing():
    """The multiprocessing module, or None where processes cannot be started (Pyodide: no fork, no spawn)."""
    if sys.platform == "emscripten":
        return None
    try:
        import multiprocessing
        multiprocessing.get_context()
        return multiprocessing
    except (ImportError, OSError, ValueError):
        return None


@dataclass
class ReplayResult:
    """A whole replay: its summary and every MessageResult (use replay_stream for a large capture)."""

    summary: Summary
    messages: list[MessageResult] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"summary": self.summary.to_json(), "messages": [m.to_json() for m in self.messages]}

    def text(self) -> str:
        return "\n".join([self.summary.text(), "", *(m.line() for m in self.messages)])


def replay(messages: Iterable[Any], apps: Iterable[tuple[str, int | None]] = (), *, lab: Any = None,
           server_addresses: Iterable[str] = (), jobs: int | None = 1, keep_traces: int | None = None,
           window_per_job: int = WINDOW_PER_JOB) -> ReplayResult:
    """Replay ``messages`` (CapturedMessage values) with ``apps`` ((manifest, priority) pairs) registered."""
    from .engine import KEEP_TRACES, load_config

    config = load_config(apps, lab, server_addresses, KEEP_TRACES if keep_traces is None else keep_traces)
    summary = Summary()
    results = list(replay_stream(messages, config, jobs=jobs, summary=summary, window_per_job=window_per_job))
    return ReplayResult(summary=summary, messages=results)


def replay_stream(messages: Iterable[Any], config: ReplayConfig, *, jobs: int | None = None,
                  summary: Summary | None = None, window_per_job: int = WINDOW_PER_JOB) -> Iterator[MessageResult]:
    """Yield one MessageResult per message, in capture order, adding each to ``summary``."""
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise UsageError(f"jobs is a whole number 1 or more (or None: every core), not {jobs!r}")
    jobs = default_jobs() if jobs is None else jobs
    mp = _multiprocessing() if jobs > 1 else None
    if mp is None:
        jobs = 1
    summary = summary if summary is not None else Summary()
    summary.jobs = jobs
    main = Replayer(config)
    ahead = main.ahead = Ahead(LOOKAHEAD)
    stream = enumerate(messages)
    state = {"ended": False, "next": 0}

    def read_to(end: int) -> None:
        """Read the stream into the look-ahead until it holds every message before position ``end``."""
        while not state["ended"] and state["next"] < end:
            item = next(stream, None)
            if item is None:
                state["ended"] = True
                return
            ahead.add(*item)
            state["next"] = item[0] + 1

    def in_order(count: int | None) -> Iterator[MessageResult]:
        """Replay the next ``count`` messages (None: all) in this process, one at a time."""
        done = 0
        while count is None or done < count:
            read_to((ahead.queue[0][0] if ahead.queue else state["next"]) + 1 + LOOKAHEAD)
            if not ahead.queue:
                return
            i, cm = ahead.drop()     # first out of the window: step() looks only at later messages
            r = main.step(cm, i)
            done += 1
            if (i + 1) % PURGE_EVERY == 0:
                main.book.purge(i + 1)
            yield r

    if jobs == 1:
        for r in in_order(None):     # memory is bounded by the look-ahead, not the capture
            summary.add(r)
            yield r
        return
    for r in in_order(config.keep_traces):
        summary.add(r)
        yield r
    index = state["next"] - len(ahead)
    pool = None
    try:
        while True:
            size = window_per_job * jobs
            read_to(index + size + LOOKAHEAD)
            window = ahead.head(size)
            if not window:
                break
            if pool is None:
                try:
                    pool = mp.get_context().Pool(jobs, initializer=_init_worker, initargs=(config,))
                except (OSError, ImportError, NotImplementedError):  # no processes here after all
                    pool = False
            results = None
            if pool is not False:
                summary.parallel_windows += 1
                results = _parallel_window(pool, main, window, list(ahead.queue)[len(window):], index, jobs)
            if results is None:
                if pool is not False:
                    summary.sequential_windows += 1
                results = list(in_order(len(window)))
            else:
                for _ in window:
                    ahead.drop()
                main.forget_parsed(index + len(window))
            index += len(window)
            main.book.purge(index)
            for r in results:
                summary.add(r)
                yield r
    finally:
        if pool:
            pool.terminate()
            pool.join()


# ---------------------------------------------------------------------------------------------
# One window on the workers


def _partition(window: list[tuple[int, Any]], later: list[tuple[int, Any, str]],
               jobs: int) -> list[tuple[list[tuple[int, Any]], list[tuple[int, Any]]]]:
    """Calls to workers: each call whole to one worker, the least loaded so far (deterministic), with
    the messages of its calls in the look-ahead after the window (``later``: index, message, call key)."""
    parts: list[list[tuple[int, Any]]] = [[] for _ in range(jobs)]
    owner: dict[str, int] = {}
    for i, cm in window:
        key = call_key(cm)
        k = owner.get(key)
        if k is None:
            k = owner[key] = min(range(jobs), key=lambda j: len(parts[j]))
        parts[k].append((i, cm))
    after: list[list[tuple[int, Any]]] = [[] for _ in range(jobs)]
    for i, cm, key in later:
        k = owner.get(key)
        if k is not None:
            after[k].append((i, cm))
    return [(p, a) for p, a in zip(parts, after) if p]


def _snapshot(main: Replayer, call_ids: set[str]) -> dict:
    return {"critical": dict(main.fe.critical_errors),
            "enabled": {a.name: a.enabled for a in main.fe.chain},
            "registrations": dict(main.fe.registrations),
            "base_registrations": dict(main.base.registrations),
            "same_state": main.same_state,
            "calls": {cid: main.book.calls[cid] for cid in call_ids if cid in main.book.calls}}


def _parallel_window(pool, main: Replayer, window: list[tuple[int, Any]], later: list[tuple[int, Any, str]],
                     index: int, jobs: int) -> list[MessageResult] | None:
    """The window's results in capture order, or None when it must run again in one process."""
    parts = _partition(window, later, jobs)
    tasks = []
    for part, after in parts:
        call_ids = {call_key(cm) for _, cm in part}
        tasks.append((_snapshot(main, call_ids), part, after))
    answers = pool.map(_run_part, tasks)
    if any(changed for _, changed, _ in answers):
        return None
    merged = sorted((r for results, _, _ in answers for r in results), key=lambda r: r.index)
    counts = dict(main.fe.critical_errors)
    renumbered = []
    for r in merged:
        if r.critical_count:
            apps = []
            for a in r.apps:
                crit = []
                for c in a.critical:
                    counts[a.app] = counts.get(a.app, 0) + 1
                    if counts[a.app] >= CRITICAL_ERROR_LIMIT:
                        return None  # the application would be disabled part-way through the window
                    crit.append(replace(c, count=counts[a.app]))
                apps.append(replace(a, critical=tuple(crit)))
            r = replace(r, apps=tuple(apps))
        renumbered.append(r)
    main.fe.critical_errors.clear()
    main.fe.critical_errors.update(counts)
    for _, _, calls in answers:
        main.book.calls.update(calls)
    return renumbered


_WORKER: Replayer | None = None


def _init_worker(config: ReplayConfig) -> None:
    global _WORKER
    _WORKER = Replayer(config)


def _run_part(task: tuple[dict, list[tuple[int, Any]], list[tuple[int, Any]]]) -> tuple[list[MessageResult], bool, dict]:
    snapshot, part, after = task
    w = _WORKER
    assert w is not None
    w.fe.critical_errors.clear()
    w.fe.critical_errors.update(snapshot["critical"])
    for app in list(w.fe.chain):
        want = snapshot["enabled"].get(app.name, app.enabled)
        if app.enabled != want:
            w.fe.chain.replace(app.name, enabled=want)
    w.fe.registrations.clear()
    w.fe.registrations.update(snapshot["registrations"])
    w.base.registrations.clear()
    w.base.registrations.update(snapshot["base_registrations"])
    w.same_state = snapshot["same_state"]
    w.book = Book()
    w.book.calls.update(snapshot["calls"])
    w.ahead = Ahead(LOOKAHEAD)
    w.forget_parsed(1 << 62)
    for i, cm in (*part, *after):
        w.ahead.add(i, cm)
    results = []
    changed = False
    for i, cm in part:
        before, base_before = dict(w.fe.registrations), dict(w.base.registrations)
        w.ahead.drop()
        results.append(w.step(cm, i))
        if w.fe.registrations != before or w.base.registrations != base_before:
            changed = True
            break  # the window runs again in one process: the rest would be thrown away
    return results, changed, w.book.calls
