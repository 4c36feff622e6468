"""The record of one simulated transaction: the only thing diagrams and widgets read.

Theory of operation. A request enters the Front End; every application of the chain, in
priority order, gets one ``Hop``: it ran (and did something, ``action``) or it did not
(``why``, from a fixed vocabulary). The request then leaves the server (``Branch`` per
destination: an endpoint, a gateway, the Edge, ...), is answered by an application, or is
dropped. The final response travels back up through the applications above the one that
answered, last application first (``ResponseHop``). ``Outcome`` says what the sender got.
``Note`` values say which parts of the story are documented and which are the simulator's
inference, so a learner never mistakes a guess for a fact.

Everything here is a frozen value: no clocks, no random ids, no memory addresses, so a trace
of the same message through the same chain is equal (and renders the same) on every run.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ..errors import Diagnostic, source_line
from ..language.run import log_line

__all__ = [
    "WHY",
    "EFFECTS",
    "OUTCOME_KINDS",
    "NOTE_KINDS",
    "LogLine",
    "CriticalNote",
    "HeaderChange",
    "Changes",
    "Hop",
    "Branch",
    "ResponseHop",
    "Outcome",
    "Note",
    "Trace",
]

#: Why an application did not see a message (``Hop.why`` / ``ResponseHop.why``).
WHY: dict[str, str] = {
    "filter": "its filter (requestFilter methods, strictRoute, registrarGenerated, ..., or the "
              "methods a built-in application handles) does not match this request",
    "routed": "the request was already routed (ProxyRequest(uri), a fork, or a built-in routing "
              "application sent it on), so every later application is skipped",
    "disabled": "the application is disabled (Enabled $false, or 10 critical errors)",
    "not-reached": "an application above answered, dropped or dispatched the request",
    "response-filter": "its responseFilter reasonCodes do not accept this status",
    "not-in-path": "it never saw the request, so the response does not pass through it",
}

#: What an application that ran did to the request (``Hop.effect``).
EFFECTS: tuple[str, ...] = (
    "passed",       # passed it on unchanged (ProxyRequest(""), proxyByDefault, or nothing to do)
    "modified",     # passed it on changed (Request-URI, headers or body)
    "retargeted",   # RetargetRequest / Request.Retarget: new target user, the chain goes on
    "proxied",      # sent it out of the server (ProxyRequest(uri), a built-in routing application)
    "forked",       # sent it to several destinations
    "responded",    # answered it
    "dropped",      # took no action with proxyByDefault false: the request is gone
    "dispatched",   # handed it to managed code
)

OUTCOME_KINDS: tuple[str, ...] = ("proxied", "responded", "dropped")

#: ``documented``: a source says so; ``inferred``: the simulator's reading of the sources;
#: ``decision``: a side taken where the sources are silent (a decision D<n> of docs/ARCHITECTURE.md);
#: ``hint``: what to do.
NOTE_KINDS: tuple[str, ...] = ("documented", "inferred", "decision", "hint")


def _tuple(value) -> tuple:
    return tuple(value) if value is not None else ()


# ---------------------------------------------------------------------------------------------
# Small values


@dataclass(frozen=True, slots=True, kw_only=True)
class LogLine:
    """One Log() call of an application (or a built-in's own log line)."""

    app: str
    level: str  # "Event" | "Error" | "Debugr"
    text: str   # the logged strings, one per line, as the server writes them
    line: int = 0
    column: int = 0

    def to_json(self) -> dict:
        return {"app": self.app, "level": self.level, "text": self.text,
                "line": self.line, "column": self.column}

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        return f"[{self.app}] {self.level}: {log_line([self.text])}".rstrip() + where


@dataclass(frozen=True, slots=True, kw_only=True)
class CriticalNote:
    """A critical error an application's script raised while handling this message."""

    app: str
    message: str
    line: int = 0
    column: int = 0
    count: int = 0  # the application's critical errors so far, this one included

    def to_json(self) -> dict:
        return {"app": self.app, "message": self.message, "line": self.line,
                "column": self.column, "count": self.count}

    def __str__(self) -> str:
        where = f" at line {self.line}" if self.line else ""
        return f"[{self.app}] critical error{where}: {self.message} ({self.count} of 10)"

    def diagnostic(self, script: str, filename: str, hint: str | None = None) -> Diagnostic:
        """This error as a compiler-style Diagnostic pointing into ``script`` (its line, a caret)."""
        return Diagnostic(severity="error", message=f"critical error: {self.message} ({self.count} of 10)",
                          filename=filename, line=self.line, column=self.column,
                          source=source_line(script, self.line), hint=hint)


@dataclass(frozen=True, slots=True, kw_only=True)
class HeaderChange:
    """A header added (before None), removed (after None) or changed."""

    name: str
    before: str | None
    after: str | None

    @property
    def kind(self) -> str:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "changed"

    def to_json(self) -> dict:
        return {"name": self.name, "kind": self.kind, "before": self.before, "after": self.after}

    def __str__(self) -> str:
        if self.before is None:
            return f"+ {self.name}: {self.after}"
        if self.after is None:
            return f"- {self.name}: {self.before}"
        return f"~ {self.name}: {self.before} -> {self.after}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Changes:
    """How one application changed the request: Request-URI, headers, body."""

    request_uri_before: str | None = None
    request_uri_after: str | None = None
    headers: tuple[HeaderChange, ...] = ()
    body_before: str | None = None  # only set when the body changed
    body_after: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "headers", _tuple(self.headers))

    @classmethod
    def between(cls, before: Any, after: Any) -> "Changes":
        """What changed from message ``before`` to message ``after`` (a copy taken before an application ran).

        Headers present on both sides, in any order, are unchanged; a header name left over once
        on each side is a changed value; the rest were removed or added.
        """
        b_headers = [(h[0], h[1]) for h in before.headers]
        a_headers = [(h[0], h[1]) for h in after.headers]
        changes: list[HeaderChange] = []
        if b_headers != a_headers:
            b_rest = list(b_headers)
            a_rest = list(a_headers)
            for h in b_headers:
                if h in a_rest:
                    a_rest.remove(h)
                    b_rest.remove(h)
            for name, value in list(b_rest):
                same = [x for x in a_rest if x[0].lower() == name.lower()]
                if len(same) == 1 and sum(1 for x in b_rest if x[0].lower() == name.lower()) == 1:
                    changes.append(HeaderChange(name=name, before=value, after=same[0][1]))
                    a_rest.remove(same[0])
                    b_rest.remove((name, value))
            changes += [HeaderChange(name=n, before=v, after=None) for n, v in b_rest]
            changes += [HeaderChange(name=n, before=None, after=v) for n, v in a_rest]
        b_body, a_body = before.content, after.content
        body_changed = b_body != a_body
        return cls(request_uri_before=getattr(before, "request_uri", None),
                   request_uri_after=getattr(after, "request_uri", None), headers=tuple(changes),
                   body_before=b_body if body_changed else None, body_after=a_body if body_changed else None)

    @property
    def request_uri_changed(self) -> bool:
        return self.request_uri_before != self.request_uri_after

    @property
    def body_changed(self) -> bool:
        return self.body_before != self.body_after

    @property
    def empty(self) -> bool:
        return not (self.request_uri_changed or self.headers or self.body_changed)

    def to_json(self) -> dict:
        out: dict = {}
        if self.request_uri_changed:
            out["request_uri"] = {"before": self.request_uri_before, "after": self.request_uri_after}
        if self.headers:
            out["headers"] = [h.to_json() for h in self.headers]
        if self.body_changed:
            out["body"] = {"before": self.body_before, "after": self.body_after}
        return out

    def lines(self) -> list[str]:
        out = []
        if self.request_uri_changed:
            out.append(f"Request-URI: {self.request_uri_before} -> {self.request_uri_after}")
        out.extend(str(h) for h in self.headers)
        if self.body_changed:
            out.append(f"body: {_short(self.body_before)!r} -> {_short(self.body_after)!r}")
        return out


def _short(text: str | None, limit: int = 60) -> str:
    if text is None:
        return ""
    text = text.replace("\r\n", "\\n").replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------------------------------------
# The request's way down


@dataclass(frozen=True, slots=True, kw_only=True)
class Hop:
    """One application of the chain and what it did with the request (in chain order)."""

    app: str                    # the Name Get-CsServerApplication shows
    priority: int
    builtin: bool
    ran: bool
    why: str | None = None      # a key of WHY when ran is False
    sentence: str = ""          # a human sentence: what happened here and why
    action: str = ""            # short: "proxied to sip:..", "retargeted to ..", "responded 480"
    effect: str | None = None   # one of EFFECTS when ran is True
    uri: str = ""               # the application's appUri
    changes: Changes | None = None
    log: tuple[LogLine, ...] = ()
    critical_errors: tuple[CriticalNote, ...] = ()
    disabled_after: bool = False  # this message's critical errors disabled the application

    def __post_init__(self):
        object.__setattr__(self, "log", _tuple(self.log))
        object.__setattr__(self, "critical_errors", _tuple(self.critical_errors))
        if self.ran and self.why is not None:
            raise ValueError(f"{self.app}: a hop that ran has no 'why'")
        if not self.ran and self.why not in WHY:
            raise ValueError(f"{self.app}: why={self.why!r} is not one of {sorted(WHY)}")
        if self.effect is not None and self.effect not in EFFECTS:
            raise ValueError(f"{self.app}: effect={self.effect!r} is not one of {EFFECTS}")

    def to_json(self) -> dict:
        return {
            "app": self.app,
            "priority": self.priority,
            "builtin": self.builtin,
            "ran": self.ran,
            "why": self.why,
            "action": self.action,
            "effect": self.effect,
            "sentence": self.sentence,
            "uri": self.uri,
            "changes": self.changes.to_json() if self.changes and not self.changes.empty else None,
            "log": [entry.to_json() for entry in self.log],
            "critical_errors": [c.to_json() for c in self.critical_errors],
            "disabled_after": self.disabled_after,
        }

    def __repr__(self) -> str:
        state = self.action if self.ran else f"skipped: {self.why}"
        return f"<Hop {self.priority} {self.app}: {state}>"


@dataclass(frozen=True, slots=True, kw_only=True)
class Branch:
    """One copy of the request that left the server, and what came back on it."""

    target: str                 # where it was sent: a contact, a gateway, the Edge, a URI
    kind: str                   # endpoint | gateway | edge | voicemail | application | uri | acp | monitoring
    sent_by: str                # the application that routed it
    party: str = ""             # who answers there ("Jenny Lee's Lync 2013 (desktop)", "gw01 gateway")
    responses: tuple[tuple[int, str], ...] = ()  # (status, reason) in the order they came back
    note: str = ""              # e.g. "rang 20 s, no answer: CANCEL sent"
    cancelled: bool = False     # the server cancelled this branch (another branch answered, or timeout)
    request: str = ""           # the request text as sent on this branch
    attempt: int = 0            # branches of one attempt were sent at once (a fork); a failover's come later
    response: str = ""          # a real party's final response as it came back (mspl-lite serve); "" simulated

    def __post_init__(self):
        object.__setattr__(self, "responses", tuple((int(s), str(r)) for s, r in _tuple(self.responses)))

    @property
    def final(self) -> tuple[int, str] | None:
        """The final (>= 200) response of this branch, if any."""
        for status, reason in reversed(self.responses):
            if status >= 200:
                return status, reason
        return None

    def to_json(self) -> dict:
        final = self.final
        return {
            "target": self.target,
            "kind": self.kind,
            "sent_by": self.sent_by,
            "party": self.party,
            "responses": [{"status": s, "reason": r} for s, r in self.responses],
            "final": final[0] if final else None,
            "note": self.note,
            "cancelled": self.cancelled,
            **({"response": self.response} if self.response else {}),
        }

    def __repr__(self) -> str:
        final = self.final
        got = f"{final[0]} {final[1]}" if final else "no final response"
        return f"<Branch {self.kind} {self.target}: {got}>"


# ---------------------------------------------------------------------------------------------
# The response's way up


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseHop:
    """One application above the answering one, in the order the response reaches them (bottom up)."""

    app: str
    priority: int
    builtin: bool
    status: int
    reason: str
    ran: bool
    why: str | None = None      # "response-filter" | "not-in-path" | "disabled" when ran is False
    action: str = ""            # "passed it on", "ProxyResponse()", "added header ..."
    sentence: str = ""
    changes: Changes | None = None
    log: tuple[LogLine, ...] = ()
    critical_errors: tuple[CriticalNote, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "log", _tuple(self.log))
        object.__setattr__(self, "critical_errors", _tuple(self.critical_errors))
        if not self.ran and self.why not in WHY:
            raise ValueError(f"{self.app}: why={self.why!r} is not one of {sorted(WHY)}")

    def to_json(self) -> dict:
        return {
            "app": self.app,
            "priority": self.priority,
            "builtin": self.builtin,
            "status": self.status,
            "reason": self.reason,
            "ran": self.ran,
            "why": self.why,
            "action": self.action,
            "sentence": self.sentence,
            "changes": self.changes.to_json() if self.changes and not self.changes.empty else None,
            "log": [entry.to_json() for entry in self.log],
            "critical_errors": [c.to_json() for c in self.critical_errors],
        }

    def __repr__(self) -> str:
        state = self.action if self.ran else f"skipped: {self.why}"
        return f"<ResponseHop {self.priority} {self.app} {self.status}: {state}>"


# ---------------------------------------------------------------------------------------------
# The outcome and the notes


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What happened to the request in the end, and what the sender got."""

    kind: Literal["proxied", "responded", "dropped"]
    decided_by: str             # the application (or "Front End") that routed, answered or dropped it in the
                                # end: after a failover, the failover application (ExumRouting's voice mail)
    first_routed_by: str | None = None      # proxied: the application that routed it first (where it left
                                # the chain); equals decided_by unless a failover took over. None otherwise
    destination: str | None = None          # proxied: where it left the server for (the answering branch)
    destination_kind: str | None = None     # a Branch.kind
    destinations: tuple[str, ...] = ()      # every branch target (a fork has several)
    status: int | None = None   # the final status the sender received, when there is one
    reason: str | None = None
    response: str | None = None  # the final response text as the sender received it
    forwarded: str | None = None  # the request text as it left the server, when proxied
    client_experience: str = ""  # what the sender's client sees

    def __post_init__(self):
        if self.kind not in OUTCOME_KINDS:
            raise ValueError(f"outcome kind {self.kind!r} is not one of {OUTCOME_KINDS}")
        object.__setattr__(self, "destinations", _tuple(self.destinations))
        if self.kind == "proxied" and self.first_routed_by is None:
            object.__setattr__(self, "first_routed_by", self.decided_by)

    @property
    def failed_over(self) -> bool:
        """True when the first route failed and another application (a failover) routed it in the end."""
        return self.first_routed_by is not None and self.first_routed_by != self.decided_by

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "decided_by": self.decided_by,
            "first_routed_by": self.first_routed_by,
            "destination": self.destination,
            "destination_kind": self.destination_kind,
            "destinations": list(self.destinations),
            "status": self.status,
            "reason": self.reason,
            "response": self.response,
            "client_experience": self.client_experience,
        }

    def summary(self) -> str:
        """One line: 'proxied to sip:.. by DefaultRouting -> 200 OK'; after a failover
        'proxied to sip:.. by ExumRouting (failover after DefaultRouting) -> 200 OK'."""
        if self.kind == "proxied":
            text = f"proxied to {self.destination} by {self.decided_by}"
            if self.failed_over:
                text += f" (failover after {self.first_routed_by})"
        elif self.kind == "responded":
            text = f"answered by {self.decided_by}"
        else:
            text = f"dropped by {self.decided_by}"
        if self.status is not None:
            text += f" -> {self.status} {self.reason or ''}".rstrip()
        elif self.kind != "dropped":
            text += " -> no final response"
        return text


@dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    """A sentence of the story, marked as documented, inferred, a decision, or a hint."""

    kind: Literal["documented", "inferred", "decision", "hint"]
    text: str
    source: str | None = None   # a page id of docs/sources.md ("Dn439073") or "decision D5"

    def __post_init__(self):
        if self.kind not in NOTE_KINDS:
            raise ValueError(f"note kind {self.kind!r} is not one of {NOTE_KINDS}")

    def to_json(self) -> dict:
        return {"kind": self.kind, "text": self.text, "source": self.source}

    def __str__(self) -> str:
        src = f" ({self.source})" if self.source else ""
        return f"[{self.kind}] {self.text}{src}"


# ---------------------------------------------------------------------------------------------
# The trace


@dataclass(frozen=True, slots=True, kw_only=True)
class Trace:
    """One simulated transaction: the message, every hop, where it went, what came back."""

    message: str                # the message as it entered the server
    method: str                 # "INVITE", ...; for a response entering the server: "" (see status)
    request_uri: str            # as it entered
    hops: tuple[Hop, ...]       # every application of the chain, in priority order
    outcome: Outcome
    branches: tuple[Branch, ...] = ()
    responses: tuple[ResponseHop, ...] = ()   # the final response on its way up, bottom to top
    log: tuple[LogLine, ...] = ()             # every log line, in the order written
    notes: tuple[Note, ...] = ()
    server: str = ""            # the Front End's FQDN
    pool: str = ""

    def __post_init__(self):
        for name in ("hops", "branches", "responses", "log", "notes"):
            object.__setattr__(self, name, _tuple(getattr(self, name)))

    # -- questions a notebook asks --------------------------------------------------------

    @property
    def forwarded(self) -> str | None:
        """The request text as it left the server, when it was proxied."""
        return self.outcome.forwarded

    @property
    def ran(self) -> tuple[str, ...]:
        """Names of the applications that saw the request, in order."""
        return tuple(h.app for h in self.hops if h.ran)

    @property
    def critical_errors(self) -> tuple[CriticalNote, ...]:
        return tuple(c for h in self.hops for c in h.critical_errors) + tuple(
            c for r in self.responses for c in r.critical_errors)

    def hop(self, app: str) -> Hop:
        """The hop of the application named ``app`` (case-insensitive)."""
        for h in self.hops:
            if h.app.lower() == app.lower():
                return h
        raise KeyError(f"no application named {app!r} in this trace; apps: {[h.app for h in self.hops]}")

    # -- JSON ---------------------------------------------------------------------------

    def to_json(self) -> dict:
        """A JSON-ready dict; the keys of the command line contract (issue 3) are all here."""
        return {
            "server": self.server,
            "pool": self.pool,
            "method": self.method,
            "request_uri": self.request_uri,
            "message": self.message,
            "hops": [h.to_json() for h in self.hops],
            "outcome": self.outcome.to_json(),
            "forwarded": self.outcome.forwarded,
            "branches": [b.to_json() for b in self.branches],
            "responses": [r.to_json() for r in self.responses],
            "log": [entry.to_json() for entry in self.log],
            "notes": [n.to_json() for n in self.notes],
        }

    # -- text ---------------------------------------------------------------------------

    def text(self) -> str:
        """The readable form: request, chain table, branches, responses, outcome, log, notes."""
        first = self.message.split("\n", 1)[0].strip()
        out = [f"{first}", f"  at {self.server} (pool {self.pool})" if self.server else ""]
        out = [line for line in out if line]
        out.append("")
        out.append("Request, top to bottom:")
        width = max([len(h.app) for h in self.hops] + [11])
        for h in self.hops:
            mark = "ran" if h.ran else "-- "
            detail = h.action if h.ran else f"skipped ({h.why}): {h.sentence}"
            out.append(f"  {h.priority:>2}  {h.app:<{width}}  {mark}  {detail}")
            if h.ran and h.sentence and h.sentence != h.action:
                out.append(f"      {'':<{width}}       {h.sentence}")
            if h.changes is not None and not h.changes.empty:
                for line in h.changes.lines():
                    out.append(f"      {'':<{width}}       {line}")
            for entry in h.log:
                out.append(f"      {'':<{width}}       log {entry.level}: {log_line([entry.text])}".rstrip())
            for c in h.critical_errors:
                out.append(f"      {'':<{width}}       CRITICAL: {c.message} ({c.count} of 10)")
            if h.disabled_after:
                out.append(f"      {'':<{width}}       -> the application is now disabled")
        if self.branches:
            out.append("")
            out.append("Left the server:")
            for b in self.branches:
                got = ", ".join(f"{s} {r}" for s, r in b.responses) or "nothing came back"
                who = f" ({b.party})" if b.party else ""
                out.append(f"  {b.kind} {b.target}{who}, sent by {b.sent_by}: {got}")
                if b.note:
                    out.append(f"      {b.note}")
        if self.responses:
            out.append("")
            r0 = self.responses[0]
            out.append(f"Response {r0.status} {r0.reason}, bottom to top:")
            for r in self.responses:
                detail = r.action if r.ran else f"skipped ({r.why})"
                out.append(f"  {r.priority:>2}  {r.app:<{width}}  {detail}")
        out.append("")
        out.append(f"Outcome: {self.outcome.summary()}")
        if self.outcome.client_experience:
            out.append(f"  The sender: {self.outcome.client_experience}")
        if self.log:
            out.append("")
            out.append("Log:")
            out.extend(f"  {entry}" for entry in self.log)
        if self.notes:
            out.append("")
            out.append("Notes:")
            out.extend(f"  {n}" for n in self.notes)
        return "\n".join(out)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return f"<Trace {self.method or 'response'} {self.request_uri}: {self.outcome.summary()}>"

    def _repr_pretty_(self, p, cycle):  # IPython shows the readable form
        p.text(self.text())
