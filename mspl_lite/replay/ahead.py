"""The look-ahead window of a replay: the messages after the one being replayed, by call (decision D108).

A replayed request needs the responses the capture holds for it *before* it runs, so that the
Front End's downstream answers with them (``FrontEnd.send(..., downstream=...)``) and the response
path runs once, on the real final response. ``Ahead`` holds the next ``reach`` messages of the
capture, indexed by the Call-ID that keys their call (engine.call_key), and gives a request the later
messages of its own call within reach. Memory is bounded by ``reach`` whatever the capture's size,
and the answer depends only on capture positions, so one process and ``--jobs`` see the same
messages (run.py hands each worker the look-ahead of the calls it replays).
"""
from __future__ import annotations

from collections import deque
from typing import Any, Iterator

from .engine import call_key

__all__ = ["LOOKAHEAD", "Ahead"]

#: Messages after a request searched for its responses. A final response comes back within Timer
#: B/F (64*T1 = 32 s, RFC 3261 17.1) at most, usually within a few seconds (an INVITE rings ~20 s);
#: 10,000 messages is 20 s of a pool carrying 500 messages a second and, at ~1.5 KB a message, about
#: 15 MB held. A final response further on finds its request's replay already answered by the
#: simulator's party: it climbs on its own, as a late response (D108), and the request says "simulated".
LOOKAHEAD = 10_000


class Ahead:
    """A FIFO of (capture index, message) with a per-call view of what is in it."""

    __slots__ = ("reach", "queue", "calls")

    def __init__(self, reach: int = LOOKAHEAD) -> None:
        self.reach = reach
        self.queue: deque[tuple[int, Any, str]] = deque()
        self.calls: dict[str, deque[tuple[int, Any]]] = {}

    def __len__(self) -> int:
        return len(self.queue)

    def add(self, index: int, cm: Any, key: str | None = None) -> None:
        """Append the message at capture position ``index`` (positions arrive in increasing order)."""
        key = call_key(cm) if key is None else key
        self.queue.append((index, cm, key))
        calls = self.calls.get(key)
        if calls is None:
            calls = self.calls[key] = deque()
        calls.append((index, cm))

    def head(self, n: int) -> list[tuple[int, Any]]:
        """The first ``n`` messages, left in place."""
        return [(i, cm) for i, cm, _ in (self.queue[k] for k in range(min(n, len(self.queue))))]

    def drop(self) -> tuple[int, Any]:
        """Remove and return the first message (the one about to be replayed)."""
        index, cm, key = self.queue.popleft()
        calls = self.calls[key]
        calls.popleft()           # the call's first is the queue's first of that call: same order
        if not calls:
            del self.calls[key]
        return index, cm

    def later(self, key: str, index: int) -> Iterator[tuple[int, Any]]:
        """The messages of call ``key`` after position ``index`` and within reach of it, in capture order."""
        last = index + self.reach
        for j, cm in self.calls.get(key, ()):
            if j <= index:
                continue
            if j > last:
                return
            yield j, cm
