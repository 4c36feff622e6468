"""What a replay records: one ``MessageResult`` per captured message, and the ``Summary`` of them all.

Every value here is small, frozen and picklable (it crosses process boundaries with ``--jobs``)
and has a ``to_json``. A full ``Trace`` is kept only for the first messages of a replay
(``ReplayConfig.keep_traces``): a capture of any size is replayed in bounded memory.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ROLES", "FAULT_KINDS", "CriticalInfo", "AppEffect", "Fault", "MessageResult", "Summary",
           "MAX_EXAMPLES", "MAX_SHOWN_LINE"]

#: What a captured message was to the replay (decision D107).
ROLES: dict[str, str] = {
    "replayed": "received by the Front End: run through the chain",
    "observed": "sent by the Front End: what really happened next, set beside the prediction",
    "answer": "the final response the Front End got back for a replayed request: it answered that request's "
              "replay, whose record holds its fate (decision D108)",
    "retransmission": "a copy of a request already replayed (same Via branch, sent-by and method), or of the "
                      "final response that answered one: skipped",
    "malformed": "not a SIP message the parser accepts: counted with its diagnostic, the replay goes on",
}

#: Replay-level faults: counted and located, never a traceback (decision D110).
FAULT_KINDS: dict[str, str] = {
    "malformed": "the message does not parse (the diagnostic says where)",
    "response-without-request": "a response whose transaction (Via branch, Call-ID, CSeq) is not in the capture "
                                "(or is older than the replay keeps, engine.MAX_TRANSACTION_AGE messages)",
    "unknown-dialog": "an in-dialog request (To tag) whose dialog (Call-ID, tags) no 2xx in the capture set up",
    "observed-without-request": "a message the Front End sent for a request the capture does not hold",
}

#: The first few messages of each kind the summary names (the rest are counted).
MAX_EXAMPLES = 5
#: A start line or diagnostic shown in a per-message line is cut here (with "...").
MAX_SHOWN_LINE = 160


def cut(text: str, most: int = MAX_SHOWN_LINE) -> str:
    text = text.replace("\r", "").replace("\n", " | ")
    return text if len(text) <= most else text[: most - 3] + "..."


@dataclass(frozen=True, slots=True)
class CriticalInfo:
    """A critical error an application raised on this message; ``count`` is its running count (10 disable)."""

    message: str
    line: int
    column: int
    count: int

    def to_json(self) -> dict:
        return {"message": self.message, "line": self.line, "column": self.column, "count": self.count}


@dataclass(frozen=True, slots=True)
class AppEffect:
    """What one application did with this message (``step``: on the request, or on the response)."""

    app: str
    builtin: bool
    step: str                          # "request" | "response"
    effects: tuple[str, ...]           # of trace.EFFECTS, plus "critical-error"
    action: str = ""
    changes: tuple[str, ...] = ()      # Changes.lines(): "+ Header: value", "Request-URI: a -> b"
    critical: tuple[CriticalInfo, ...] = ()

    def to_json(self) -> dict:
        return {"app": self.app, "builtin": self.builtin, "step": self.step, "effects": list(self.effects),
                "action": self.action, "changes": list(self.changes),
                "critical_errors": [c.to_json() for c in self.critical]}


@dataclass(frozen=True, slots=True)
class Fault:
    """A replay-level fault of one message, located (``where``: file and packet, record or line)."""

    kind: str          # a key of FAULT_KINDS
    where: str
    message: str       # for "malformed": the parser's diagnostic, file:line:col included

    def to_json(self) -> dict:
        return {"kind": self.kind, "where": self.where, "message": self.message}


@dataclass(frozen=True, slots=True)
class MessageResult:
    """One captured message and what the replay made of it."""

    index: int                         # 0-based, across every capture of the replay
    where: str                         # "capture.pcap packet 17", "fe.log record 3", "dir/a.sip"
    role: str                          # a key of ROLES
    first_line: str                    # the start line (cut)
    call_id: str | None = None
    apps: tuple[AppEffect, ...] = ()
    outcome: str = ""                  # the prediction with the applications registered
    baseline: str = ""                 # the same message with only the built-in applications
    changed: bool = False              # the applications change this message's fate (outcome != baseline)
    matched: int | None = None         # the request (or INVITE of the dialog) this message belongs to
    observed: str | None = None        # what the capture shows really happened (role "observed")
    predicted: str | None = None       # what the simulator predicted for that request
    agree: bool | None = None          # observed and predicted agree (same final status, or both forwarded)
    faults: tuple[Fault, ...] = ()
    #: For a request routed out: where its final response came from, "captured 486 Busy Here (#3)" or
    #: "simulated: why" (the lab's party answered, decision D108); None when nothing was routed out.
    answer: str | None = None
    trace: Any = field(default=None, compare=False)   # the Trace, for the first keep_traces messages

    @property
    def critical_count(self) -> int:
        return sum(len(a.critical) for a in self.apps)

    def to_json(self) -> dict:
        return {"index": self.index, "where": self.where, "role": self.role, "first_line": self.first_line,
                "call_id": self.call_id, "apps": [a.to_json() for a in self.apps], "outcome": self.outcome,
                "baseline": self.baseline, "changed": self.changed, "matched": self.matched,
                "observed": self.observed, "predicted": self.predicted, "agree": self.agree,
                "answer": self.answer, "faults": [f.to_json() for f in self.faults]}

    def line(self) -> str:
        """One line of the text output: index, where, start line, then what happened."""
        head = f"#{self.index} {self.where}: {self.first_line}"
        if self.role == "malformed":
            return f"{head}\n    malformed: {self.faults[0].message.splitlines()[0] if self.faults else ''}"
        if self.role == "retransmission":
            return f"{head}\n    retransmission of #{self.matched}: skipped"
        out = [head]
        if self.role == "observed":
            mark = {True: "agrees", False: "DIFFERS", None: "not compared"}[self.agree]
            of = f" (for #{self.matched})" if self.matched is not None else ""
            out.append(f"    observed{of}: {self.observed}; predicted: {self.predicted or '-'} [{mark}]")
        else:
            for a in self.apps:
                if a.effects == ("passed",) and not a.changes and (a.builtin or a.step != "request"):
                    continue  # passed on unchanged: a built-in's normal work, or a response let through
                text = f"    {a.app} ({a.step}): {', '.join(a.effects)}"
                if a.action:
                    text += f" - {cut(a.action, 100)}"
                out.append(text)
                out.extend(f"        {cut(c, 120)}" for c in a.changes)
                out.extend(f"        CRITICAL at line {c.line}: {cut(c.message, 120)} ({c.count} of 10)"
                           for c in a.critical)
            fate = f"    -> {self.outcome}"
            if self.matched is not None:
                fate += f" (answers #{self.matched})" if self.first_line.startswith("SIP/") else \
                    f" (in the dialog of #{self.matched})"
            if self.changed:
                fate += f"   [without the applications: {self.baseline}]"
            out.append(fate)
            if self.answer is not None:
                out.append(f"    response: {self.answer}")
        out.extend(f"    {f.kind}: {cut(f.message)}" for f in self.faults if f.kind != "malformed")
        return "\n".join(out)


class Summary:
    """Counts over every MessageResult, and the first few of each kind (bounded whatever the capture)."""

    def __init__(self) -> None:
        self.messages = 0
        self.roles: Counter = Counter()
        self.per_app: dict[str, Counter] = {}
        self.builtin: dict[str, bool] = {}
        self.per_effect: Counter = Counter()
        self.changed = 0
        self.critical_errors: Counter = Counter()
        self.faults: Counter = Counter()
        self.agree = 0
        self.differ = 0
        self.answers: Counter = Counter()     # routed requests: "captured" or "simulated" final response
        self.examples: dict[str, list[str]] = {}
        self.capture_stats: list[dict] = []
        self.sequential_windows = 0
        self.parallel_windows = 0
        self.jobs = 1

    def _example(self, kind: str, result: MessageResult, text: str | None = None) -> None:
        shown = self.examples.setdefault(kind, [])
        if len(shown) < MAX_EXAMPLES:
            text = text or result.first_line
            # a parser's diagnostic already starts with where the message is
            shown.append(f"#{result.index} {text}" if text.startswith(result.where) else
                         f"#{result.index} {result.where}: {text}")

    def add(self, result: MessageResult) -> None:
        self.messages += 1
        self.roles[result.role] += 1
        for fault in result.faults:
            self.faults[fault.kind] += 1
            self._example(f"fault: {fault.kind}", result, cut(fault.message))
        if result.role == "observed" and result.agree is not None:
            if result.agree:
                self.agree += 1
            else:
                self.differ += 1
                self._example("observed differs from predicted", result,
                              f"observed {result.observed}; predicted {result.predicted}")
        if result.answer is not None:
            self.answers["captured" if result.answer.startswith("captured") else "simulated"] += 1
        seen = set()
        for a in result.apps:
            counts = self.per_app.get(a.app)
            if counts is None:    # not setdefault: that builds a Counter per effect of every message
                counts = self.per_app[a.app] = Counter()
            self.builtin[a.app] = a.builtin
            if a.app not in seen:
                seen.add(a.app)
                counts["ran"] += 1
            for e in a.effects:
                # what an application did to a response is counted apart from what it did to a request
                e = e if a.step == "request" else f"{a.step}: {e}"
                counts[e] += 1
                self.per_effect[e] += 1
                if not a.builtin and not e.endswith("passed"):
                    self._example(f"{a.app}: {e}", result)
            if a.critical:
                self.critical_errors[a.app] += len(a.critical)
        if result.changed:
            self.changed += 1
            self._example("fate changed by the applications", result,
                          f"{result.first_line}: {result.outcome} (without them: {result.baseline})")

    def to_json(self) -> dict:
        return {
            "messages": self.messages,
            "roles": dict(self.roles),
            "per_application": {app: dict(c) for app, c in self.per_app.items()},
            "per_effect": dict(self.per_effect),
            "fate_changed": self.changed,
            "critical_errors": dict(self.critical_errors),
            "faults": dict(self.faults),
            "observed_agrees": self.agree,
            "observed_differs": self.differ,
            "responses": dict(self.answers),
            "examples": self.examples,
            "captures": self.capture_stats,
            "jobs": self.jobs,
            "windows_on_workers": self.parallel_windows,
            "windows_rerun_in_order": self.sequential_windows,
        }

    def text(self) -> str:
        out = [f"Replayed {self.messages} messages: "
               + ", ".join(f"{n} {role}" for role, n in sorted(self.roles.items()))]
        for stats in self.capture_stats:
            shown = ", ".join(f"{k} {v}" for k, v in stats.items() if k not in ("path", "format") and v)
            out.append(f"  {stats.get('path')} ({stats.get('format')}): {shown}")
        out.append(f"Fate changed by the applications (compared with only the built-in ones): {self.changed}")
        if self.answers:
            out.append(f"Final responses of the requests routed out: {self.answers['captured']} from the capture, "
                       f"{self.answers['simulated']} simulated (decision D108)")
        if self.agree or self.differ:
            out.append(f"What the capture shows next vs the prediction: {self.agree} agree, {self.differ} differ")
        if self.faults:
            out.append("Faults: " + ", ".join(f"{n} {k}" for k, n in sorted(self.faults.items())))
        apps = [a for a in self.per_app if not self.builtin.get(a)] + [a for a in self.per_app if self.builtin.get(a)]
        if apps:
            out.append("Per application (messages it ran on, and what it did):")
            width = max(len(a) for a in apps)
            for app in apps:
                c = self.per_app[app]
                # a response let through unchanged is the chain's normal work: JSON counts it, text does not
                effects = ", ".join(f"{e} {n}" for e, n in sorted(c.items())
                                    if e != "ran" and not e.endswith("response: passed"))
                crit = f"; critical errors {self.critical_errors[app]}" if self.critical_errors.get(app) else ""
                out.append(f"  {app:<{width}}  ran {c['ran']}: {effects}{crit}")
        if self.examples:
            out.append("First few of each kind:")
            for kind, lines in self.examples.items():
                out.append(f"  {kind}:")
                out.extend(f"    {cut(line)}" for line in lines)
        if self.parallel_windows:
            out.append(f"Worker processes: {self.jobs}; windows of messages replayed on them: {self.parallel_windows},"
                       f" re-run in capture order: {self.sequential_windows} (decision D109)")
        return "\n".join(out)
