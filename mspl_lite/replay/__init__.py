"""Replay captured SIP traffic through the simulated Front End (issue 13): ``mspl-lite replay``.

    from mspl_lite.replay import replay
    result = replay(messages, apps=[("myapp.am", 3)])     # messages: CapturedMessage values
    print(result.summary.text())
    for r in result.messages: print(r.line())

Layers: above mspl_lite.frontend (it runs FrontEnd.send), below the view (the HTML report is
mspl_lite.view.replay_report). What a replay decides where no page does: decisions D107-D112 and D121.
"""
from __future__ import annotations

from .engine import KEEP_TRACES, MAX_DIALOG_AGE, MAX_TRANSACTION_AGE, ReplayConfig, Replayer
from .model import AppEffect, CriticalInfo, Fault, MessageResult, Summary
from .run import ReplayResult, replay, replay_stream

__all__ = ["replay", "replay_stream", "ReplayResult", "ReplayConfig", "Replayer", "MessageResult", "AppEffect",
           "CriticalInfo", "Fault", "Summary", "KEEP_TRACES", "MAX_TRANSACTION_AGE", "MAX_DIALOG_AGE"]
