"""Running a replay on every core, with results identical to a one-process run (decision D109).

Theory of operation. Worker processes are started once per replay, each building its two Front
Ends (the applications compiled) once. The capture streams in *windows* of
``WINDOW_PER_JOB * jobs`` messages. Every call (Call-ID) has an *owner*: the worker that got it
first, the least loaded in that window; it stays the call's owner, so a call's Book (its
transactions and dialogs) lives in that worker from window to window and never crosses a pipe,
and each message is sent once, to its call's owner (a call's messages in the look-ahead past the
window go with it, so the owner finds the same captured responses as one process, D108). A
window costs one round trip per worker: the global state at its start (critical error counts,
enabled flags; registrations only after they may have changed), the new messages and the
indices to replay, out; the results, back. Two things cross calls, and both are checked:

* registrations: a REGISTER that changes who is signed in changes where every later request to
  that user goes. A worker reports whether any message changed them;
* the critical error count per application (ten disable it, hh347152): counts are renumbered in
  capture order; if an application reaches the limit inside the window, it would have been
  disabled part-way.

When either happens, every worker rolls its calls back to the window's start (each saved the
Books of the calls it was about to touch) and hands those Books over, and the window is replayed
again in this process, in capture order, from the same state; the Books stay here until their
call comes up in a later window, and go to its owner with that window. Otherwise the results are
merged in capture order and the counts renumbered. Either way the output equals a one-process
run; tests check it.

The first ``keep_traces`` messages (whose full traces are kept) always run in this process, while
the workers start. Where multiprocessing does not exist (Pyodide, so JupyterLite), processes
cannot be started, or ``jobs`` is 1, everything runs in one process.
"""
from __future__ import annotations

import gc
import io
import operator
import os
import pickle
import sys
from collections import deque
from dataclasses import dataclass, field, fields, replace
from typing import Any, Iterable, Iterator

from ..capture import CapturedMessage
from ..errors import UsageError
from ..frontend.simulate import CRITICAL_ERROR_LIMIT
from .ahead import LOOKAHEAD, Ahead
from .engine import MAX_DIALOG_AGE, ReplayConfig, Replayer
from .model import AppEffect, CriticalInfo, Fault, MessageResult, Summary

__all__ = ["replay", "replay_stream", "ReplayResult", "WINDOW_PER_JOB", "default_jobs"]

#: Messages per worker in one window. A window costs one round trip per worker (its messages out
#: and its results back, ~10 ms per 1,000 messages here, a few per cent of replaying them) and a
#: wait for the slowest worker; a window that must run again in order (D109) runs whole in one
#: process, so a smaller one loses less. 2,000 also bounds what a window holds (a few MB a worker).
WINDOW_PER_JOB = 2000
#: Messages between two purges of the Book in one process: purging walks every open call, so it runs
#: now and then; what it drops is already ignored (engine.MAX_TRANSACTION_AGE), so results do not change.
PURGE_EVERY = 10_000
#: Seconds a worker is given to end when told to, before it is terminated.
WORKER_STOP_TIMEOUT_S = 5


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
    read_to(config.keep_traces + 1)
    workers = _Workers.start(mp, config, jobs) if state["next"] > config.keep_traces else None
    try:
        for r in in_order(config.keep_traces):   # the workers start meanwhile
            summary.add(r)
            yield r
        index = state["next"] - len(ahead)
        calls = _Calls(jobs)
        done: list[MessageResult] = []   # the last window's results, handed on while the workers run the next
        while True:
            size = window_per_job * jobs
            read_to(index + size + LOOKAHEAD)
            if not ahead.queue:
                break
            end = min(index + size, state["next"])
            busy = None
            if workers is not None:
                summary.parallel_windows += 1
                busy = _send_window(workers, calls, main, ahead, index, end)
            for r in done:
                summary.add(r)
                yield r
            if busy is not None:
                read_to(end + size + LOOKAHEAD)     # the next window's messages, while the workers run
            results = None if busy is None else _collect_window(workers, busy, main, end)
            if results is None:
                if workers is not None:
                    summary.sequential_windows += 1
                results = list(in_order(end - index))
            else:
                while ahead.queue and ahead.queue[0][0] < end:
                    ahead.drop()
                main.forget_parsed(end)
            index = end
            main.book.purge(index)
            calls.forget_old(index)
            done = results
        for r in done:
            summary.add(r)
            yield r
    finally:
        if workers is not None:
            workers.stop()


# ---------------------------------------------------------------------------------------------
# The workers: started once per replay, each the owner of its calls


class _Calls:
    """Which worker owns each call, when the call was last seen, and which messages were sent."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.owner: dict[str, int] = {}
        self.seen: dict[str, int] = {}
        self.sent: set[int] = set()        # capture indices already sent to their call's owner
        self.pruned = 0

    def forget_old(self, now: int) -> None:
        """Forget calls not seen for longer than any lookup reaches back (their owners' purges dropped
        them, engine.MAX_DIALOG_AGE): a call that comes back then is a new one wherever it goes."""
        self.sent = {j for j in self.sent if j >= now}
        if now // PURGE_EVERY == self.pruned:
            return        # walking every call now and then is enough
        self.pruned = now // PURGE_EVERY
        old = now - MAX_DIALOG_AGE - 2 * PURGE_EVERY
        for key in [k for k, j in self.seen.items() if j < old]:
            del self.seen[key], self.owner[key]


class _Workers:
    """Worker processes, each holding a Replayer and its calls; one pipe each, one message a way."""

    def __init__(self, processes: list, pipes: list) -> None:
        self.processes = processes
        self.pipes = pipes
        self.regs_sent = [False] * len(pipes)     # the workers hold this process's registrations
        self.waiting = [0] * len(pipes)           # tasks sent and not answered yet

    @classmethod
    def start(cls, mp: Any, config: ReplayConfig, jobs: int) -> "_Workers | None":
        """``jobs`` workers, or None where processes cannot be started (the replay runs in one process)."""
        processes, pipes = [], []
        try:
            ctx = mp.get_context()
            for _ in range(jobs):
                here, there = ctx.Pipe()
                p = ctx.Process(target=_worker_main, args=(there, config), daemon=True)
                p.start()
                there.close()
                processes.append(p)
                pipes.append(here)
        except (OSError, ImportError, NotImplementedError, ValueError):   # no processes here after all
            cls(processes, pipes).stop()
            return None
        return cls(processes, pipes)

    def ask(self, k: int, task: tuple) -> None:
        self.pipes[k].send_bytes(_dumps(task))
        self.waiting[k] += 1

    def answer(self, k: int) -> Any:
        try:
            kind, value = pickle.loads(self.pipes[k].recv_bytes())
            self.waiting[k] -= 1
        except (EOFError, OSError):
            self.processes[k].join(WORKER_STOP_TIMEOUT_S)
            raise RuntimeError(f"replay worker {k + 1} ended unexpectedly "
                               f"(exit code {self.processes[k].exitcode})") from None
        if kind == "error":
            raise value
        return value

    def stop(self) -> None:
        """Tell idle workers to end; end at once those still busy (the replay was left, or failed)."""
        for k, pipe in enumerate(self.pipes):
            try:
                if self.waiting[k]:
                    self.processes[k].terminate()
                else:
                    pipe.send_bytes(_dumps(None))
            except (OSError, ValueError):
                pass
        for p in self.processes:
            p.join(WORKER_STOP_TIMEOUT_S)
            if p.is_alive():
                p.kill()
                p.join()
        for pipe in self.pipes:
            pipe.close()


def _send_window(workers: _Workers, calls: _Calls, main: Replayer, ahead: Ahead, index: int, end: int) -> list[int]:
    """Send messages ``index`` to ``end`` (excluded) to the owners of their calls; the workers sent to."""
    jobs = calls.jobs
    parts: list[list[int]] = [[] for _ in range(jobs)]
    books: list[dict] = [{} for _ in range(jobs)]
    sending: list[list] = [[] for _ in range(jobs)]
    owner, seen, sent = calls.owner, calls.seen, calls.sent
    reach = end + LOOKAHEAD     # the look-ahead of the window's last message ends before this
    for j, cm, key in ahead.queue:
        if j >= reach:
            break
        if j < end:
            k = owner.get(key)
            if k is None:   # a new call: to the worker with the fewest messages in this window so far
                k = owner[key] = min(range(jobs), key=lambda w: len(parts[w]))
            parts[k].append(j)
            seen[key] = j
            book = main.book.calls.pop(key, None)   # replayed here (earlier, or a window run again)
            if book is not None:
                books[k][key] = book
        else:
            k = owner.get(key)
            if k is None:
                continue       # no call of this window: sent with the window that holds it
            seen[key] = j
        if j not in sent:
            sent.add(j)
            sending[k].append((j, cm, key))
    state = {"critical": dict(main.fe.critical_errors),
             "enabled": {a.name: a.enabled for a in main.fe.chain},
             "same_state": main.same_state}
    busy = [k for k in range(jobs) if parts[k]]
    for k in busy:
        regs = None
        if not workers.regs_sent[k]:
            regs = (dict(main.fe.registrations), dict(main.base.registrations))
            workers.regs_sent[k] = True
        workers.ask(k, ("run", index, end, state, regs, books[k], sending[k], parts[k]))
    return busy


def _collect_window(workers: _Workers, busy: list[int], main: Replayer, end: int) -> list[MessageResult] | None:
    """The window's results in capture order; None when it must run again in this process (then the
    workers have rolled back, and the Books of its calls are here)."""
    answers = [workers.answer(k) for k in busy]
    results = None
    if not any(changed for _, changed in answers):
        results = _renumbered(main, sorted((r for rs, _ in answers for r in rs), key=lambda r: r.index))
    if results is None:
        for k in busy:
            workers.ask(k, ("rollback", end))
        for k in busy:
            main.book.calls.update(workers.answer(k))
        workers.regs_sent = [False] * len(workers.pipes)    # the run in order may change them
    return results


def _renumbered(main: Replayer, merged: list[MessageResult]) -> list[MessageResult] | None:
    """Critical error counts in capture order, or None when an application reaches the limit."""
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
    return renumbered


def _by_fields(cls: type) -> Any:
    """A dataclass rebuilt by its constructor: half the time of unpickling one with slots by its state."""
    values = operator.attrgetter(*(f.name for f in fields(cls)))
    return lambda obj: (cls, values(obj))


#: What crosses the pipes most: each message sent and each result come back, thousands a window.
_DISPATCH = {cls: _by_fields(cls) for cls in (CapturedMessage, MessageResult, AppEffect, CriticalInfo, Fault)
             if len(fields(cls)) > 1 and all(f.init for f in fields(cls))}


def _dumps(obj: Any) -> bytes:
    out = io.BytesIO()
    pickler = pickle.Pickler(out, pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _DISPATCH
    pickler.dump(obj)
    return out.getvalue()


class _Held:
    """A worker's look-ahead: the messages it was sent and has not replayed, by call (ahead.Ahead's
    ``later``). A call's messages arrive in capture order: all of a window's, and those past it, go
    to its owner together."""

    __slots__ = ("reach", "calls", "by_index")

    def __init__(self, reach: int = LOOKAHEAD) -> None:
        self.reach = reach
        self.calls: dict[str, deque[tuple[int, Any]]] = {}
        self.by_index: dict[int, tuple[Any, str]] = {}

    def add(self, index: int, cm: Any, key: str) -> None:
        self.by_index[index] = (cm, key)
        q = self.calls.get(key)
        if q is None:
            q = self.calls[key] = deque()
        q.append((index, cm))

    def key(self, index: int) -> str:
        return self.by_index[index][1]

    def take(self, index: int) -> Any:
        """Remove the message at ``index`` (the first held of its call) and return it."""
        cm, key = self.by_index.pop(index)
        q = self.calls[key]
        q.popleft()
        if not q:
            del self.calls[key]
        return cm

    def drop_before(self, end: int) -> None:
        for j in [j for j in self.by_index if j < end]:
            self.take(j)

    #: the same search as one process's look-ahead: the same ``reach`` and ``calls``, so the same answers
    later = Ahead.later


def _worker_main(conn: Any, config: ReplayConfig) -> None:
    """A worker's life: build the Front Ends once, then answer tasks until told to stop (None)."""
    try:
        worker = _Worker(config)
    except BaseException as err:  # noqa: BLE001 - handed to the main process, which raises it
        worker, failed = None, err
    gc.freeze()   # what a fork inherited is never collected here: the collector need not walk (and copy) it
    while True:
        try:
            task = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        if task is None:
            return
        try:
            if worker is None:
                raise failed
            answer = ("ok", worker.run(*task[1:]) if task[0] == "run" else worker.rollback(*task[1:]))
        except BaseException as err:  # noqa: BLE001
            answer = ("error", err)
        try:
            data = _dumps(answer)
        except Exception as err:  # noqa: BLE001 - e.g. an exception that does not pickle
            data = _dumps(("error", RuntimeError(f"replay worker: {type(err).__name__}: {err}")))
        conn.send_bytes(data)


class _Worker:
    """One worker process's Replayer, its calls' Books, and what it saved to roll a window back."""

    def __init__(self, config: ReplayConfig) -> None:
        self.replayer = Replayer(config)
        self.held = self.replayer.ahead = _Held(LOOKAHEAD)
        self.saved: dict[str, bytes | None] = {}
        self.purged = 0

    def run(self, start: int, end: int, state: dict, regs: tuple | None, books: dict,
            messages: list, part: list[int]) -> tuple[list[MessageResult], bool]:
        w = self.replayer
        w.fe.critical_errors.clear()
        w.fe.critical_errors.update(state["critical"])
        for app in list(w.fe.chain):
            want = state["enabled"].get(app.name, app.enabled)
            if app.enabled != want:
                w.fe.chain.replace(app.name, enabled=want)
        if regs is not None:
            for fe, value in zip((w.fe, w.base), regs):
                fe.registrations.clear()
                fe.registrations.update(value)
        w.same_state = state["same_state"]
        if start // PURGE_EVERY > self.purged:
            self.purged = start // PURGE_EVERY
            w.book.purge(start)
        w.book.calls.update(books)
        for j, cm, key in messages:
            self.held.add(j, cm, key)
        # what a rollback restores: the Books of this window's calls as they are now (copies)
        self.saved = saved = {}
        for j in part:
            key = self.held.key(j)
            if key not in saved:
                book = w.book.calls.get(key)
                saved[key] = None if book is None else pickle.dumps(book, pickle.HIGHEST_PROTOCOL)
        regs_now, base_now = dict(w.fe.registrations), dict(w.base.registrations)
        results = []
        for j in part:
            results.append(w.step(self.held.take(j), j))
            if w.fe.registrations != regs_now or w.base.registrations != base_now:
                return results, True   # the window runs again in order: the rest would be thrown away
        return results, False

    def rollback(self, end: int) -> dict:
        """Back to the window's start; hand over the Books of its calls (they go to the main process)."""
        w = self.replayer
        self.held.drop_before(end)
        w.forget_parsed(end)
        books = {}
        for key, saved in self.saved.items():
            w.book.calls.pop(key, None)
            if saved is not None:
                books[key] = pickle.loads(saved)
        self.saved = {}
        return books
