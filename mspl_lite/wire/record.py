"""What crossed the wire in one transaction, and the files ``--trace-dir`` writes.

An ``Exchange`` is one transaction as the server saw it: the Trace the chain produced (None for
a request forwarded inside a dialog, which does not run the chain: decision D93) and every
message in and out with its time (seconds since the server started), transport and peer.
Both are bounded: a peer that retransmits forever adds a count, not memory.

The chain's Trace is written when the caller's response goes up; a real branch that lost may end
later (its 487, or its 2xx ACKed and ended with a BYE: decision D100). ``branch_ended`` puts that
end into the trace's Branch, whose note says it came after the trace was written, so the trace
never shows an end nobody had seen yet and never misses the one that came.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

__all__ = ["MAX_EVENTS", "SERVER_NAME", "WireEvent", "Exchange", "write_exchange", "ladder_rows", "ladder_events"]

#: Messages kept per transaction: an INVITE with a few provisionals, a fork of a few legs, the
#: CANCELs and ACKs fits in 64; a UDP peer retransmitting for Timer B's 32 s sends 7 copies.
#: Past it the events are counted (``Exchange.events_dropped``) and the files say so.
MAX_EVENTS = 64
#: The server's name in a ladder of what crossed the wire.
SERVER_NAME = "mspl-lite"


@dataclass(frozen=True, slots=True)
class WireEvent:
    """One message that crossed the wire."""

    time: float             # seconds since the server started
    direction: str          # "in" | "out"
    transport: str          # "udp" | "tcp"
    peer: str               # host:port of the other side
    first_line: str
    text: str

    def to_json(self) -> dict:
        return {"time": round(self.time, 6), "direction": self.direction, "transport": self.transport,
                "peer": self.peer, "first_line": self.first_line, "message": self.text}


@dataclass(slots=True)
class Exchange:
    """One transaction: its number, method, the chain's Trace, what crossed the wire."""

    number: int
    method: str
    trace: Any = None       # the FrontEnd's Trace, when the chain ran
    events: list[WireEvent] = field(default_factory=list)
    events_dropped: int = 0
    notes: list[str] = field(default_factory=list)
    written: bool = False
    cancelled: bool = False     # the caller sent CANCEL
    fork: Any = None            # the real legs of the chain's route (proxy._Fork), when there were any
    relay: Any = None           # an in-dialog request's forwarding (proxy._Relay)
    bye_dialog: Any = None      # the dialog a BYE ends
    original: dict = field(default_factory=dict)   # From/To as the caller wrote them, when the chain read others
    ends: dict = field(default_factory=dict)       # a real branch's request text -> its Branch as it ended (D100)

    def set_trace(self, trace: Any) -> None:
        """The chain's Trace, with the ends of real branches that came before it was set."""
        self.trace = _with_ends(trace, self.ends)

    def branch_ended(self, branch: Any) -> None:
        """A real branch ended after the chain's Trace was written: the Trace shows that end (D100).
        ``branch`` is the whole Branch as it ended, found in the Trace by the request it was sent."""
        self.ends[branch.request] = branch
        if self.trace is not None:
            self.trace = _with_ends(self.trace, self.ends)

    def add(self, event: WireEvent) -> None:
        if len(self.events) < MAX_EVENTS:
            self.events.append(event)
        else:
            self.events_dropped += 1

    def note(self, text: str) -> None:
        if text not in self.notes and len(self.notes) < MAX_EVENTS:
            self.notes.append(text)

    @property
    def name(self) -> str:
        return f"{self.number:06d}-{self.method or 'RESPONSE'}"

    def to_json(self) -> dict:
        out = dict(self.trace.to_json()) if self.trace is not None else {"method": self.method}
        out["wire"] = {"transaction": self.number, "messages": [e.to_json() for e in self.events],
                       "messages_not_kept": self.events_dropped, "notes": list(self.notes)}
        return out

    def text(self) -> str:
        parts = [self.trace.text()] if self.trace is not None else [f"{self.method}: not run through the chain"]
        parts.append("")
        parts.append("On the wire:")
        for e in self.events:
            arrow = "<-" if e.direction == "in" else "->"
            parts.append(f"  {e.time:9.3f}  {arrow} {e.transport} {e.peer}  {e.first_line}")
        if self.events_dropped:
            parts.append(f"  ... and {self.events_dropped} more messages, not kept (MAX_EVENTS {MAX_EVENTS})")
        for n in self.notes:
            parts.append(f"  note: {n}")
        return "\n".join(parts) + "\n"


def _with_ends(trace: Any, ends: dict) -> Any:
    """``trace`` with each Branch that ``ends`` knows replaced by what came back on it in the end;
    where it was sent, by whom and in which attempt stay as the chain wrote them."""
    if trace is None or not ends or not any(b.request in ends for b in trace.branches):
        return trace
    branches = tuple(replace(b, responses=ends[b.request].responses, note=ends[b.request].note,
                             response=ends[b.request].response) if b.request in ends else b
                     for b in trace.branches)
    return replace(trace, branches=branches)


def write_exchange(directory: str | os.PathLike, exchange: Exchange) -> None:
    """Write ``NNNNNN-METHOD.txt`` (the readable trace) and ``.json`` into ``directory``; each is
    written to a temporary name first, so that a reader never sees half a file."""
    base = Path(directory) / exchange.name
    for suffix, data in ((".txt", exchange.text()),
                         (".json", json.dumps(exchange.to_json(), indent=1, ensure_ascii=False) + "\n")):
        tmp = base.with_name(base.name + suffix + ".tmp")
        tmp.write_text(data, encoding="utf-8", errors="surrogateescape")
        os.replace(tmp, base.with_name(base.name + suffix))
    exchange.written = True


def ladder_rows(exchanges, names: dict[str, str] | None = None) -> list[tuple[str, str, str]]:
    """(from, to, label) per message, in time order, with peers named by ``names`` (host:port ->
    a party's name) so that no port or time is shown: what a notebook prints stays the same run to run."""
    return [(a, b, label) for a, b, label, _ in ladder_events(exchanges, names)]


def ladder_events(exchanges, names: dict[str, str] | None = None) -> list[tuple[str, str, str, float]]:
    """As ``ladder_rows``, each row with its time (seconds since the server started), for a caller
    that asks for times (``Server.ladder_diagram(times=True)``)."""
    names = dict(names or {})
    rows = []
    events = sorted((e for x in exchanges for e in x.events), key=lambda e: e.time)
    unknown: dict[str, str] = {}
    for e in events:
        who = names.get(e.peer) or unknown.setdefault(e.peer, f"peer {len(unknown) + 1}")
        label = e.first_line if not e.first_line.startswith("SIP/2.0 ") else e.first_line[8:]
        if " sip:" in label or " sips:" in label or " tel:" in label:
            label = label.split(" ", 1)[0]      # the method; the Request-URI carries a port
        rows.append((who, SERVER_NAME, label, e.time) if e.direction == "in" else (SERVER_NAME, who, label, e.time))
    return rows
