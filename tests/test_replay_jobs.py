"""`--jobs`: the replay on every core, with the results of one process (decision D109).

The identity of whole replays with conflicts of every kind is in tests/test_replay.py; here, what
the worker processes themselves promise: started once per replay and gone after it, each the owner
of its calls from window to window (their Books stay there, and come back exactly when a window must
run again in order), and a worker's failure an error in the caller, never a hang.
"""
from __future__ import annotations

import multiprocessing
import os

import pytest

from mspl_lite.replay import engine, replay
from mspl_lite.replay import run as replay_run
from mspl_lite.replay.engine import load_config
from mspl_lite.replay.model import Summary
from test_replay import BLOCK_WORD, bye_in_dialog, cm, comparable, mixed_capture, renamed, response, sample


def long_calls(n_calls: int, register_every: int) -> list:
    """INVITEs whose 200 OK comes back three calls later and whose BYE comes twelve calls later (so a
    call's dialog lives in its Book across windows), and now and then a REGISTER of a new endpoint
    (it changes who is signed in: that window runs again in order, D109)."""
    out = []
    invites = []
    for n in range(n_calls + 12):
        if n < n_calls:
            invite = renamed(sample("invite-jennyl.sip"), n)
            invites.append(invite)
            out.append(cm(invite, f"cap: packet {len(out)}"))
        if 3 <= n < n_calls + 3:
            ok = response(invites[n - 3], 200, "OK", fe_via=True, to_tag=f"t{n - 3}")
            out.append(cm(ok, f"cap: packet {len(out)}"))
        if n >= 12:
            out.append(cm(bye_in_dialog(invites[n - 12], f"t{n - 12}").replace("bye-1", f"bye-{n}"),
                          f"cap: packet {len(out)}"))
        if n % register_every == register_every - 1:
            out.append(cm(renamed(sample("register-nuriag.sip"), n).replace("3c4d5e", f"x{n}")
                          .replace("6b1d4e2f02", f"e{n}"), f"cap: packet {len(out)}"))
    return out


def test_a_call_whose_dialog_spans_windows_and_windows_run_again_gives_the_same_results():
    capture = long_calls(40, register_every=9)
    one = replay(capture, [BLOCK_WORD], jobs=1)
    many = replay(capture, [BLOCK_WORD], jobs=2, keep_traces=3, window_per_job=5)
    assert comparable(one) == comparable(many)
    # the test means something: BYEs matched to the INVITE of a dialog set up windows before them,
    # and windows both merged from the workers and run again in order
    byes = [m for m in many.messages if m.first_line.startswith("BYE")]
    assert len(byes) == 40 and all(m.matched is not None and not m.faults for m in byes)
    assert any((m.index - 3) // 10 > (m.matched - 3) // 10 + 1 for m in byes)
    assert 0 < many.summary.sequential_windows < many.summary.parallel_windows


def test_the_workers_start_once_per_replay_and_are_gone_after_it():
    capture = mixed_capture(80, registers=False)
    stream = replay_stream_of(capture, jobs=2, keep_traces=2, window_per_job=4)
    seen = set()
    count = 0
    for r in stream:
        count += 1
        if r.index >= 2:
            seen.add(frozenset(p.pid for p in multiprocessing.active_children()))
    assert count == len(capture) and len(capture) > 8 * 4
    assert len(seen) == 1 and len(next(iter(seen))) == 2      # the same two processes, window after window
    assert not multiprocessing.active_children()


def test_a_replay_left_part_way_stops_its_workers_at_once():
    capture = mixed_capture(80, registers=False)
    stream = replay_stream_of(capture, jobs=2, keep_traces=0, window_per_job=4)
    for r in stream:
        if r.index == 10:         # the workers are busy with the next window now
            break
    stream.close()
    assert not multiprocessing.active_children()


def fork_only(monkeypatch):
    """The workers as forks of this process, so that what a test patches here is patched there too."""
    monkeypatch.setattr(replay_run, "_multiprocessing", lambda: multiprocessing.get_context("fork"))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_an_error_in_a_worker_is_raised_in_the_caller(monkeypatch):
    fork_only(monkeypatch)
    step = engine.Replayer.step

    def failing(self, cm, index):
        if index == 7:
            raise ValueError("message 7 broke the replayer")
        return step(self, cm, index)

    monkeypatch.setattr(engine.Replayer, "step", failing)
    with pytest.raises(ValueError, match="message 7"):
        replay(mixed_capture(20, registers=False), [BLOCK_WORD], jobs=2, keep_traces=0, window_per_job=5)
    assert not multiprocessing.active_children()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_worker_that_dies_is_an_error_that_says_so(monkeypatch):
    fork_only(monkeypatch)
    parent = os.getpid()
    step = engine.Replayer.step

    def dying(self, cm, index):
        if index == 7 and os.getpid() != parent:
            os._exit(3)
        return step(self, cm, index)

    monkeypatch.setattr(engine.Replayer, "step", dying)
    with pytest.raises(RuntimeError, match=r"replay worker \d ended unexpectedly \(exit code 3\)"):
        replay(mixed_capture(20, registers=False), [BLOCK_WORD], jobs=2, keep_traces=0, window_per_job=5)
    assert not multiprocessing.active_children()


def test_where_processes_cannot_start_the_replay_runs_in_one_process(monkeypatch):
    class NoProcesses:
        def get_context(self):
            return self

        Pipe = staticmethod(multiprocessing.Pipe)

        def Process(self, *args, **kwargs):  # noqa: N802 - multiprocessing's name
            raise OSError("no processes in this sandbox")

    monkeypatch.setattr(replay_run, "_multiprocessing", lambda: NoProcesses())
    capture = mixed_capture(30)
    one = replay(capture, [BLOCK_WORD], jobs=1)
    many = replay(capture, [BLOCK_WORD], jobs=2, keep_traces=0, window_per_job=5)
    assert comparable(one) == comparable(many)
    assert many.summary.parallel_windows == 0


def test_a_call_id_back_after_every_lookup_forgot_it_gives_the_same_results(monkeypatch):
    # ages of a few windows, so that the owners forget calls within a small capture (D110)
    for module in (engine, replay_run):
        monkeypatch.setattr(module, "MAX_DIALOG_AGE", 45)
    monkeypatch.setattr(engine, "MAX_TRANSACTION_AGE", 30)
    monkeypatch.setattr(replay_run, "PURGE_EVERY", 10)
    monkeypatch.setattr(replay_run, "LOOKAHEAD", 20)    # a capture far longer than the look-ahead
    invite = sample("invite-jennyl.sip")
    again = [cm(invite, "p"), cm(response(invite, 200, "OK", fe_via=True, to_tag="same"), "p"),
             cm(bye_in_dialog(invite, "same"), "p")]
    capture = []
    for k, m in enumerate(long_calls(60, register_every=1000)):
        if k % 80 == 0:   # the same call again, long after: its old dialog is out of every lookup's reach
            capture += again
        capture.append(m)
    one = replay(capture, [BLOCK_WORD], jobs=1)
    many = replay(capture, [BLOCK_WORD], jobs=2, keep_traces=0, window_per_job=5)
    assert comparable(one) == comparable(many)
    invites = [m for m in one.messages if m.first_line.startswith("INVITE") and m.call_id == "call-jenny-1"]
    assert len(invites) == 3 and {m.role for m in invites} == {"replayed"}   # forgotten in between
    byes = [m for m in one.messages if m.first_line.startswith("BYE")]
    assert len(byes) == 63 and all(m.matched is not None for m in byes)       # the others remembered


def replay_stream_of(capture, *, jobs, keep_traces, window_per_job):
    return replay_run.replay_stream(capture, load_config([BLOCK_WORD], keep_traces=keep_traces), jobs=jobs,
                                    summary=Summary(), window_per_job=window_per_job)
