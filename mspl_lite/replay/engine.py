"""The replay engine: captured messages in, one MessageResult each out, in capture order.

Theory of operation. Two Front Ends run side by side on the same messages: one with the
applications the user registered, one with only the built-in ones (the *baseline*, to tell
which messages' fate the applications change). For each captured message:

1. It is parsed; a message that does not parse is a ``malformed`` result carrying the parser's
   located diagnostic, and the replay goes on.
2. Which way it went decides what it is (decision D107): a message the Front End received is
   *replayed*; a message the Front End sent (a forwarded request, its answer to the client, or a
   server log's ``outgoing`` record) is *observed*: what really happened next, set beside what the
   simulator predicted for its request.
3. A received request runs through the chain as ``mspl-lite trace`` runs it (``FrontEnd.send``),
   and becomes a transaction of its call, keyed by its top Via's branch, sent-by and method
   (RFC 3261 17.2.3); the same key again is a retransmission and is skipped. A request with a To
   tag is matched to the dialog a 2xx to an INVITE set up (Call-ID and the two tags, RFC 3261 12).
   Before it runs, the look-ahead (ahead.py: the next messages of its call) is searched for the
   responses that came back to the Front End for it; when it holds a final one, the Front End's
   downstream (``CapturedDownstream``) answers the routed copy with them, so the response path
   runs once, on the real final response, and the trace's outcome is it; otherwise the lab's
   parties answer and the record says "simulated" (decision D108). When the capture's Front End
   forked the request, the search goes on until each of its copies (known by the Front End's branch
   on it) has a final response, and each of the simulator's copies is answered by the captured copy
   to the same endpoint (EPID or contact), the others by the lab's parties; so is a fork of the
   simulator's where the capture holds one copy (decision D121).
4. A received response (one with this Front End's Via on top, or a log's ``incoming`` response)
   is matched to its transaction by the next Via's branch (RFC 3261 16.7: the Front End's own Via
   is on top of a response it gets back), else by CSeq. A final response that answered the
   request's replay (one per copy of a fork) is an ``answer``: its fate is in the request's record.
   Any other (a provisional one, a final one beyond the look-ahead, or one the simulator's parties
   were asked instead: a copy sent elsewhere, a capture without the forwarded copies, nothing routed) climbs
   the response path through the applications that saw that request on its own (decision D108). The
   Front End's own CANCEL and ACK on a copy, and the response to that CANCEL, are observed (D121).

All state lives in ``Book`` (per call) and in the two Front Ends (registrations, critical error
counts, enabled flags): that is what ``parallel.py`` ships to and from worker processes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from ..errors import InputError
from ..frontend import FrontEnd
from ..frontend.context import RequestContext
from ..frontend.downstream import best_response
from ..frontend.lab import Endpoint, aor_of
from ..frontend.response_path import response_path
from ..frontend.trace import Branch, Hop, Outcome, Trace
from ..sip import Request, Response, parse_message
from .model import AppEffect, CriticalInfo, Fault, MessageResult, cut

__all__ = ["ReplayConfig", "Replayer", "Book", "CapturedDownstream", "CapturedCopy", "MAX_TRANSACTION_AGE",
           "MAX_DIALOG_AGE", "KEEP_TRACES", "front_ends", "call_key"]

#: A transaction is forgotten once this many messages of the replay have passed since its request
#: (decision D110). RFC 3261 17.1: a client transaction with no final response times out 64*T1 (32 s)
#: after its request (Timer B/F); a completed one ends on Timer D/K (0 s over TCP/TLS). Captures carry
#: no reliable clock (a .sip folder has none), so the age is counted in messages: 50,000 is minutes of a
#: busy pool's traffic, far beyond 32 s, and bounds the replay's memory.
MAX_TRANSACTION_AGE = 50_000
#: A dialog is forgotten this many messages after the 2xx that set it up: a long call in a large
#: capture outlives a transaction by far; 500,000 dialogs of ~200 bytes stay under 100 MB.
MAX_DIALOG_AGE = 500_000
#: Full traces kept (for the report's diagrams and the notebook): the first messages of a replay.
KEEP_TRACES = 200


@dataclass(frozen=True)
class ReplayConfig:
    """What a replay runs: the applications (manifest path, priority), the lab, this server's addresses."""

    apps: tuple[tuple[str, int | None], ...] = ()
    lab: Any = None                              # a lab file path, a Lab, or None (the built-in lab)
    server_addresses: tuple[str, ...] = ()       # extra hosts (IPs) that name this Front End in a Via
    keep_traces: int = KEEP_TRACES


def front_ends(config: ReplayConfig) -> tuple[FrontEnd, FrontEnd]:
    """The Front End with the applications registered, and the baseline with only the built-in ones."""
    fe = FrontEnd(config.lab)
    for path, priority in config.apps:
        fe.register(str(path), priority)
    return fe, FrontEnd(config.lab)


@dataclass(slots=True)
class TxEntry:
    """A replayed request's transaction: what its responses need (hops, where the path starts)."""

    index: int
    request: Request          # as it was received
    vias: tuple[str, ...]     # its Via values, top first
    hops: tuple[Hop, ...]
    start: int                # the chain index the response path climbs from
    predicted: str            # outcome summary
    status: int | None        # predicted final status
    kind: str                 # predicted outcome kind
    base_hops: tuple[Hop, ...] | None   # None: no user application saw it, the baseline is the same
    base_start: int
    #: The final responses that answered its replay: (capture index, the Front End's Via branch of the
    #: copy it came back on, or None for any, status); several when the capture's Front End forked it (D121).
    answered: tuple[tuple[int, str | None, int], ...] = ()
    copies: dict[str, str] | None = None   # the capture's forwarded copies of an INVITE: branch -> Request-URI


class CallBook:
    """One Call-ID's transactions and dialogs."""

    __slots__ = ("txs", "by_cseq", "dialogs")

    def __init__(self) -> None:
        self.txs: dict[tuple, TxEntry] = {}
        self.by_cseq: dict[tuple, tuple] = {}      # (CSeq number, method) -> tx key (last one)
        self.dialogs: dict[tuple[str, str], int] = {}  # (from tag, to tag) -> index of the 2xx

    def __getstate__(self):
        return (self.txs, self.by_cseq, self.dialogs)

    def __setstate__(self, state):
        self.txs, self.by_cseq, self.dialogs = state


class Book:
    """Every call's CallBook, by Call-ID."""

    def __init__(self) -> None:
        self.calls: dict[str, CallBook] = {}

    def call(self, call_id: str) -> CallBook:
        book = self.calls.get(call_id)
        if book is None:
            book = self.calls[call_id] = CallBook()
        return book

    def purge(self, now: int) -> None:
        """Drop what is older than the replay keeps (lookups already ignore it: results do not change)."""
        for cid in list(self.calls):
            book = self.calls[cid]
            for key in [k for k, tx in book.txs.items() if now - tx.index > MAX_TRANSACTION_AGE]:
                del book.txs[key]
            for key in [k for k, ix in book.dialogs.items() if now - ix > MAX_DIALOG_AGE]:
                del book.dialogs[key]
            book.by_cseq = {k: v for k, v in book.by_cseq.items() if v in book.txs}
            if not (book.txs or book.dialogs):
                del self.calls[cid]


_CALL_ID = re.compile(rb"^(?:call-id|i)[ \t]*:[ \t]*([^\r\n]*)", re.IGNORECASE | re.MULTILINE)
#: Bytes searched for the Call-ID that keys a call's Book (a SIP header block is far shorter).
MAX_HEADER_SCAN = 65536


def call_key(cm: Any) -> str:
    """The Call-ID line of a captured message, read from its bytes: the key of its call's Book and of
    the worker it goes to (the same function for both, so a call is never split)."""
    match = _CALL_ID.search(bytes(cm.data[:MAX_HEADER_SCAN]))
    return match.group(1).strip().decode("utf-8", "surrogateescape") if match else ""


# ---------------------------------------------------------------------------------------------
# Small readers of a parsed message


def _via_parts(via: str) -> tuple[str, str, str]:
    """(sent-by host, sent-by, branch) of one Via value."""
    head, _, params = via.partition(";")
    sent_by = head.split()[-1] if head.split() else ""
    host = sent_by.rsplit(":", 1)[0] if sent_by.count(":") == 1 or not sent_by.startswith("[") else sent_by
    host = host.strip("[]").lower()
    branch = ""
    for p in params.split(";"):
        name, _, value = p.partition("=")
        if name.strip().lower() == "branch":
            branch = value.strip()
    return host, sent_by.lower(), branch


def _tag(header: str | None) -> str:
    if not header:
        return ""
    angle = header.rfind(">")
    for p in header[angle + 1:].split(";")[1:]:
        name, _, value = p.partition("=")
        if name.strip().lower() == "tag":
            return value.strip()
    return ""


def _cseq(message: Any) -> tuple[str, str]:
    parts = (message.get("CSeq") or "").split()
    return (parts[0] if parts else "", parts[-1].upper() if len(parts) > 1 else "")


def _tx_key(message: Any, via: str | None, method: str) -> tuple:
    """RFC 3261 17.2.3: branch, sent-by and method; without an RFC 3261 branch, the 2543 fields."""
    if via:
        _, sent_by, branch = _via_parts(via)
        if branch.startswith("z9hG4bK"):
            return (branch, sent_by, method)
    return ("", _tag(message.get("From")), _cseq(message)[0], method)


_PASSED: dict[tuple, AppEffect] = {}   # one value per (app, step, action) that passed a message on unchanged
#: Distinct "passed it on" values shared: a chain says a few dozen things when it passes a message on;
#: past this (an action naming the message) a value is made per message instead.
MAX_SHARED_EFFECTS = 1000


def _app_effects(hops: Iterable[Any], step: str, builtin_of: dict[str, bool]) -> list[AppEffect]:
    """What each application that ran did (``hops``: Hop or ResponseHop values)."""
    out = []
    for h in hops:
        if not h.ran:
            continue
        ch = h.changes
        changed = ch is not None and not ch.empty
        if step == "request":
            first = h.effect or "passed"
        else:
            first = "dropped" if h.action.startswith("dropped") else "passed"
        if first == "passed" and not changed and not h.critical_errors:
            if step == "predicted response":
                continue  # the simulated response let through unchanged: nothing to report (D112)
            key = (h.app, h.builtin, step, h.action)
            effect = _PASSED.get(key)
            if effect is None:
                effect = AppEffect(app=h.app, builtin=h.builtin, step=step, effects=("passed",),
                                   action=cut(h.action, 200))
                if len(_PASSED) < MAX_SHARED_EFFECTS:
                    _PASSED[key] = effect
            out.append(effect)
            continue
        effects = [first]
        if changed and first != "modified":
            effects.append("modified")
        if h.critical_errors:
            effects.append("critical-error")
        out.append(AppEffect(app=h.app, builtin=h.builtin, step=step, effects=tuple(effects), action=cut(h.action, 200),
                             changes=tuple(ch.lines()) if changed else (),
                             critical=tuple(CriticalInfo(c.message, c.line, c.column, c.count)
                                            for c in h.critical_errors)))
    return out


def _last_ran(hops: tuple[Hop, ...]) -> int:
    for i in range(len(hops) - 1, -1, -1):
        if hops[i].ran:
            return i
    return len(hops) - 1


def _uri_parts(uri: str) -> tuple[str, str]:
    """(user, host) of a SIP URI, lower-cased, without parameters or port."""
    text = uri.strip().lstrip("<").split(">", 1)[0]
    text = text.split(":", 1)[1] if ":" in text else text
    text = text.split(";", 1)[0].lower()
    user, _, host = text.rpartition("@")
    return user, host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _same_place(target: Any, copy_uri: str, forwarded: str) -> bool:
    """Whether the simulator's copy goes where the capture's Front End forwarded the request: the same
    address of record or host, the endpoint whose GRUU (EPID) or user the capture names, or the host
    named by the user part of a GRUU (Lync's form for an application pool's: host@domain;gruu)."""
    user, host = _uri_parts(forwarded)
    c_user, c_host = _uri_parts(copy_uri)
    if (c_user, c_host) == (user, host) or (aor_of(copy_uri) or "") == (aor_of(forwarded) or "-"):
        return True
    party = getattr(target, "party", None)
    if isinstance(party, Endpoint):
        return party.epid.lower() in forwarded.lower() or party.aor.lower() == f"{user}@{host}"
    return c_host in (host, user) and bool(c_host)


def _same_endpoint(target: Any, copy_uri: str, captured: str) -> bool:
    """Whether the simulator's copy of a fork goes to the endpoint a copy the capture's Front End forked
    went to (decision D121): for an endpoint, its EPID in the captured Request-URI (a GRUU) or its contact
    address (``_same_place`` would take any endpoint of the same user); anything else, ``_same_place``."""
    party = getattr(target, "party", None)
    if not isinstance(party, Endpoint):
        return _same_place(target, copy_uri, captured)
    low = captured.lower()
    if re.search(rf"(?<![0-9a-z]){re.escape(party.epid.lower())}(?![0-9a-z])", low):
        return True
    text = low.strip().lstrip("<").split(">", 1)[0]
    text = text.split(":", 1)[1] if ":" in text else text
    return text.split(";", 1)[0] == party.address.lower()     # the contact form: sip:host:port;...


@dataclass(frozen=True, slots=True)
class CapturedCopy:
    """One copy of a request that the capture's Front End forked, and what came back on it (decision D121)."""

    uri: str                # its Request-URI: where it went
    branch: str             # the Front End's Via branch on it: its client transaction (RFC 3261 17.1.3)
    index: int              # the capture index of the copy
    responses: tuple[tuple[int, Response], ...] = ()   # with that branch in the top Via, up to its final one
    cancelled: bool = False     # the Front End sent CANCEL on it itself, and it did not end 2xx

    @property
    def final(self) -> tuple[int, Response] | None:
        last = self.responses[-1] if self.responses else None
        return last if last is not None and last[1].status_code >= 200 else None


class CapturedDownstream:
    """The Front End's downstream for one replayed request: the responses the capture holds for it.

    When the capture holds one copy of the request (or none: a log of incoming messages), it answers
    the one copy of the first attempt (``FrontEnd.send`` hands over every copy of an attempt at once)
    with the captured provisional and final responses, when that copy goes where the capture's Front
    End sent the request (``forwarded``: its Request-URI); a copy sent elsewhere (an application
    retargeted it) or a failover's later attempt is left to the lab's parties, since the capture cannot
    say what another target would have answered [inferred] (decision D108). When the capture's Front
    End forked it (``copies``: two or more), or the simulator forks where the capture holds one copy
    (``single``), each of the simulator's copies is answered by the captured copy to the same endpoint,
    and the others are left to the lab's parties (decision D121). ``used`` says whether it answered any
    copy.
    """

    __slots__ = ("responses", "final_index", "forwarded", "copies", "single", "used", "why", "answers",
                 "simulated")

    def __init__(self, responses: Sequence[tuple[int, Response]], final_index: int,
                 forwarded: str | None = None, copies: Sequence[CapturedCopy] = (),
                 single: CapturedCopy | None = None) -> None:
        self.responses = responses        # (capture index, Response), the final one last
        self.final_index = final_index
        self.forwarded = forwarded        # the Request-URI the capture's Front End forwarded it with
        self.copies = tuple(copies)       # the capture's fork: each copy and its responses (D121)
        self.single = single              # the capture's one forwarded copy, when it holds one (D121)
        self.used = False
        self.why = ""                     # why it did not answer, when it did not
        self.answers: list[tuple[CapturedCopy, str]] = []   # a fork: (captured copy, the copy it answered)
        self.simulated: list[tuple[str, str]] = []          # a fork: (a copy left to the lab, why)

    def again(self) -> "CapturedDownstream":
        """A fresh one with the same responses (for the baseline run)."""
        return CapturedDownstream(self.responses, self.final_index, self.forwarded, self.copies, self.single)

    def answered(self) -> tuple[tuple[int, str | None, int], ...]:
        """(capture index, the copy's Front End branch or None for any, status) of each final that answered."""
        if self.copies:
            return tuple((c.final[0], c.branch or None, c.final[1].status_code) for c, _ in self.answers)
        return ((self.final_index, None, self.responses[-1][1].status_code),)

    def deliver(self, copies: Sequence[tuple[Any, Any]], ctx: Any, sent_by: str) -> list[Branch | None]:
        if self.used or self.why:
            self.why = self.why or "a failover sent the request again: its copies are simulated"
            return [None] * len(copies)
        if self.copies:
            return self._fork(copies, sent_by)
        if len(copies) != 1 and self.single is not None:
            # the simulator forks where the capture's Front End sent one copy: that copy answers the
            # simulator's copy to the same endpoint, the lab the others (decision D121)
            self.copies = (self.single,)
            return self._fork(copies, sent_by)
        if len(copies) != 1:
            self.why = f"the simulator forked it to {len(copies)} copies: the capture cannot say which one a " \
                       "response answers"
            return [None] * len(copies)
        (target, copy), = copies
        if self.forwarded is not None and not _same_place(target, copy.request_uri, self.forwarded):
            self.why = f"the simulator sends it to {cut(target.label, 80)}, the capture's Front End sent it to " \
                       f"{cut(self.forwarded, 80)}: what came back from there is not this target's answer"
            return [None]
        self.used = True
        final = self.responses[-1][1]
        return [Branch(target=target.uri, kind=target.kind, sent_by=sent_by, party=f"{target.label} (captured)",
                       responses=tuple((r.status_code, r.reason) for _, r in self.responses),
                       note=f"the capture's responses: #{', #'.join(str(j) for j, _ in self.responses)}",
                       request=str(copy), response=str(final))]

    def _fork(self, copies: Sequence[tuple[Any, Any]], sent_by: str) -> list[Branch | None]:
        """Each copy answered by the captured copy to the same endpoint, else None: the lab's party (D121)."""
        left = list(self.copies)
        out: list[Branch | None] = []
        for target, copy in copies:
            match = next((c for c in left if _same_endpoint(target, copy.request_uri, c.uri)), None)
            if match is None:
                self.simulated.append((target.label, "the capture's Front End sent no copy there"))
                out.append(None)
                continue
            left.remove(match)
            final = match.final
            if final is None:
                self.simulated.append((target.label, f"no final response came back on the capture's copy to "
                                                     f"{cut(match.uri, 80)} (#{match.index}) within the look-ahead"))
                out.append(None)
                continue
            self.answers.append((match, target.label))
            note = f"answered by the capture's copy to {cut(match.uri, 100)} (#{match.index}): its responses " \
                   f"#{', #'.join(str(j) for j, _ in match.responses)}"
            if match.cancelled:
                note += "; the capture's Front End sent it CANCEL"
            out.append(Branch(target=target.uri, kind=target.kind, sent_by=sent_by,
                              party=f"{target.label} (captured)",
                              responses=tuple((r.status_code, r.reason) for _, r in match.responses), note=note,
                              cancelled=match.cancelled, request=str(copy), response=str(final[1])))
        if not self.answers:
            self.why = f"the simulator's {len(copies)} cop{'y goes' if len(copies) == 1 else 'ies go'} to none of " \
                       f"the endpoints the capture's Front End sent it to with a final response " \
                       f"({', '.join(cut(c.uri, 80) for c in self.copies)})"
            return [None] * len(copies)
        self.used = True
        return out

    def real(self, trace: Trace) -> bool:
        """Whether the final response that climbed the response path is a captured one."""
        if not self.used or not self.copies:
            return self.used
        status = best_response(trace.branches)[0]
        winner = next((b for b in trace.branches if b.final and b.final[0] == status and not b.cancelled),
                      next((b for b in trace.branches if b.final and b.final[0] == status), None))
        return winner is not None and bool(winner.response)


# ---------------------------------------------------------------------------------------------


class Replayer:
    """Replays messages one by one (``step``), holding the Front Ends and the Book."""

    def __init__(self, config: ReplayConfig, front: tuple[FrontEnd, FrontEnd] | None = None):
        self.config = config
        self.fe, self.base = front or front_ends(config)
        self.book = Book()
        self._addresses = {a.lower().strip("[]") for a in config.server_addresses}
        self.builtin = {a.name: a.is_builtin for a in self.fe.chain}
        self._call = ""
        self._index = 0
        #: The messages after this one (ahead.Ahead, set by run.py); None: every response is simulated.
        self.ahead: Any = None
        #: Messages of the look-ahead parsed already (capture index -> message), taken when replayed.
        self._parsed: dict[int, Any] = {}
        #: Both Front Ends hold the same registrations (true until a REGISTER the user's applications
        #: saw leaves them different): then a message no user application sees needs no baseline run.
        self.same_state = True

    # -- which way a message went (decision D107) ---------------------------------------------

    def names_this_server(self, via: str | None) -> bool:
        if not via:
            return False
        host = _via_parts(via)[0]
        return self.fe.lab.is_this_server(host) or host in self._addresses

    def run(self, messages: Iterable[Any], start: int = 0) -> Iterator[MessageResult]:
        """Step through ``messages``; the look-ahead is what ``self.ahead`` holds (run.replay_stream fills it)."""
        for i, cm in enumerate(messages, start):
            yield self.step(cm, i)

    def step(self, cm: Any, index: int) -> MessageResult:
        """One captured message (a CapturedMessage: data, where, direction, ...) -> its MessageResult."""
        where = cm.where
        self._call = call_key(cm)
        self._index = index
        try:
            message = self._parsed.pop(index, None)
            if message is None:
                message = parse_message(cm.data, filename=where)
        except InputError as err:
            first = bytes(cm.data[:MAX_FIRST]).split(b"\n", 1)[0].decode("utf-8", "replace")
            return MessageResult(index=index, where=where, role="malformed", first_line=cut(first),
                                 faults=(Fault("malformed", where, str(err)),))
        vias = message.get_all("Via")
        top = vias[0] if vias else None
        if len(vias) == 1:
            own = self._own_hop(message, vias, index, where)
            if own is not None:
                return own
        if isinstance(message, Request):
            if cm.direction == "outgoing" or (cm.direction is None and (
                    self.names_this_server(top) or self._one_via_more(message, vias, message.method.upper()))):
                return self._observed_request(message, vias, index, where)
            return self._request(message, vias, index, where)
        if cm.direction == "incoming" or (cm.direction is None and (
                self.names_this_server(top) or self._one_via_more(message, vias, _cseq(message)[1]))):
            return self._response(message, vias, index, where)
        return self._observed_response(message, vias, index, where)

    def _one_via_more(self, message: Any, vias: list[str], method: str) -> bool:
        """True when ``message`` carries the Via list of a replayed request with one Via more on top: a
        proxy (this Front End) forwarded that request, or the response comes back to it (RFC 3261 16.6
        step 8, 16.7 step 3)."""
        if len(vias) < 2:
            return False
        book = self.book.calls.get(self._call)
        tx = book.txs.get(_tx_key(message, vias[1], method)) if book is not None else None
        return tx is not None and tx.vias == tuple(vias[1:]) and self._index - tx.index <= MAX_TRANSACTION_AGE

    def _own_hop(self, message: Any, vias: list[str], index: int, where: str) -> MessageResult | None:
        """A request the Front End made itself on one copy of a forwarded INVITE (its CANCEL, its ACK of a
        non-2xx final response: only its own Via, with that copy's branch, RFC 3261 9.1 and 17.1.1.3), or
        the response to that CANCEL: observed, set beside the INVITE's record (decision D121)."""
        number, method = _cseq(message)
        if isinstance(message, Request):
            if message.method.upper() != method or method not in ("CANCEL", "ACK"):
                return None
        elif method != "CANCEL":
            return None
        book = self.book.calls.get(self._call)
        tx = book.txs.get(book.by_cseq.get((number, "INVITE"), ())) if book is not None else None
        if tx is None or not tx.copies or index - tx.index > MAX_TRANSACTION_AGE:
            return None
        uri = tx.copies.get(_via_parts(vias[0])[2])
        if uri is None:
            return None
        where_to = cut(uri, 100)
        if isinstance(message, Request):
            first = cut(f"{message.method} {message.request_uri}")
            observed = f"the Front End's CANCEL of its copy to {where_to}" if method == "CANCEL" else \
                f"the Front End's ACK of the final response on its copy to {where_to} (RFC 3261 17.1.1.3)"
        else:
            first = cut(f"SIP/2.0 {message.status_code} {message.reason}") + " (CANCEL)"
            observed = f"{message.status_code} {cut(message.reason, 60)} to the Front End's CANCEL of its copy to " \
                       f"{where_to}: it answers the Front End's own request and goes no further [inferred]"
        return MessageResult(index=index, where=where, role="observed", first_line=first,
                             call_id=message.get("Call-ID") or "", matched=tx.index, observed=observed,
                             predicted=tx.predicted)

    # -- the look-ahead: the responses the capture holds for a request (decision D108) ----------

    def forget_parsed(self, before: int) -> None:
        """Drop look-ahead parses of messages before ``before`` (replayed elsewhere: by a worker)."""
        self._parsed = {j: m for j, m in self._parsed.items() if j >= before}

    def _peek(self, j: int, cm: Any) -> Any:
        message = self._parsed.get(j)
        if message is None:
            try:
                message = parse_message(cm.data, filename=cm.where)
            except InputError:
                return None       # its own turn reports it
            self._parsed[j] = message
        return message

    def _captured(self, request: Request, vias: list[str], key: tuple, cseq_key: tuple,
                  index: int) -> CapturedDownstream | None:
        """The responses that came back to the Front End for ``request`` (up to its final one) within the
        look-ahead, as step() will classify and match them; None when no final one is there. When the
        capture's Front End forked it (two copies or more before the first final response), the search
        goes on until every copy has its final response, each copy's responses known by its branch in
        their top Via (RFC 3261 16.7; decision D121)."""
        if self.ahead is None:
            return None
        method = request.method.upper()
        found: list[tuple[int, Response]] = []
        forwarded = None
        own = tuple(vias)
        copies: dict[str, list] = {}      # the Front End's branch -> [Request-URI, index, responses, CANCEL seen]
        caller_cancelled = False
        first_final = None
        for j, cm in self.ahead.later(self._call, index):
            data = bytes(cm.data[:8])
            if not data.startswith(b"SIP/2.0"):
                message = self._peek(j, cm)
                if not isinstance(message, Request):
                    continue
                rmethod = message.method.upper()
                if rmethod == "CANCEL" and method == "INVITE" and _cseq(message)[0] == cseq_key[0]:
                    # a CANCEL carries the branch of the request it cancels (RFC 3261 9.1): the Front End's
                    # own on one copy, or the caller's
                    rv = message.get_all("Via")
                    branch = _via_parts(rv[0])[2] if rv else ""
                    if branch in copies:
                        copies[branch][3] = True
                    elif rv and _tx_key(message, rv[0], method) == key:
                        caller_cancelled = True
                    continue
                if (_cseq(message)[0], rmethod) != cseq_key:
                    continue
                rv = message.get_all("Via")
                if cm.direction == "outgoing" or tuple(rv[1:]) == own or self.names_this_server(rv[0] if rv else None):
                    if len(rv) > 1 and _tx_key(message, rv[1], method) == key:
                        if forwarded is None:
                            forwarded = message.request_uri     # where the capture's Front End sent it
                        branch = _via_parts(rv[0])[2]
                        if first_final is None and branch and branch not in copies:
                            copies[branch] = [message.request_uri, j, [], False]
                elif _tx_key(message, rv[0] if rv else None, method) != key:
                    break     # another transaction of this CSeq takes the CSeq match over (by_cseq: the last)
                continue
            if cm.direction == "outgoing":
                continue
            message = self._peek(j, cm)
            if not isinstance(message, Response):
                continue
            rv = message.get_all("Via")
            top = rv[0] if rv else None
            mine = self.names_this_server(top)
            back = mine or (len(rv) >= 2 and tuple(rv[1:]) == own)
            if cm.direction is None and not back:
                continue          # the Front End's answer to its client: observed, not a downstream answer
            number, rmethod = _cseq(message)
            if not (any(_tx_key(message, v, rmethod) == key for v in (rv[1:] if mine else rv)[:2])
                    or (number, rmethod) == cseq_key):
                continue
            final = message.status_code >= 200
            if first_final is None:
                found.append((j, message))
                if final:
                    first_final = j
                    if len(copies) < 2:
                        # one copy: decision D108 (kept as one captured copy, should the simulator fork: D121)
                        one = [CapturedCopy(uri=uri, branch="", index=at, responses=tuple(found))
                               for uri, at, _, _ in copies.values()]
                        return CapturedDownstream(found, j, forwarded, single=one[0] if one else None)
            copy = copies.get(_via_parts(top)[2]) if back and top else None
            if copy is not None and not (copy[2] and copy[2][-1][1].status_code >= 200):
                copy[2].append((j, message))
            if first_final is not None and all(c[2] and c[2][-1][1].status_code >= 200 for c in copies.values()):
                break
        if first_final is None:
            return None
        made = []
        for branch, (uri, at, responses, cancel_seen) in copies.items():
            ended = responses[-1][1].status_code if responses and responses[-1][1].status_code >= 200 else None
            made.append(CapturedCopy(uri=uri, branch=branch, index=at, responses=tuple(responses),
                                     cancelled=cancel_seen and not caller_cancelled and (ended or 0) >= 300))
        return CapturedDownstream(found, first_final, forwarded, made)

    # -- a received request ------------------------------------------------------------------

    def _request(self, request: Request, vias: list[str], index: int, where: str) -> MessageResult:
        top = vias[0] if vias else None
        call_id = request.get("Call-ID") or ""
        book = self.book.call(self._call)
        first = cut(f"{request.method} {request.request_uri}")
        key = _tx_key(request, top, request.method.upper())
        old = book.txs.get(key)
        if old is not None and index - old.index <= MAX_TRANSACTION_AGE:
            return MessageResult(index=index, where=where, role="retransmission", first_line=first,
                                 call_id=call_id, matched=old.index)
        faults = []
        matched = None
        to_tag = _tag(request.get("To"))
        if to_tag:
            from_tag = _tag(request.get("From"))
            ix = book.dialogs.get((from_tag, to_tag), book.dialogs.get((to_tag, from_tag)))
            if ix is not None and index - ix <= MAX_DIALOG_AGE:
                matched = ix
            elif request.method.upper() != "ACK":
                faults.append(Fault("unknown-dialog", where,
                                    f"{request.method} with To tag {cut(to_tag, 40)}: no 2xx in the capture set up "
                                    f"this dialog (Call-ID {cut(call_id, 60)}); replayed as a request on its own"))
        received = request.copy()
        cseq_key = (_cseq(request)[0], request.method.upper())
        registering = request.method.upper() == "REGISTER"
        captured = self._captured(request, vias, key, cseq_key, index)
        trace = self.fe.send(request.copy(), downstream=captured)
        outcome = trace.outcome.summary()
        answer = None
        if trace.outcome.kind == "proxied" and request.method.upper() != "ACK":   # ACK has no response (17.1.1.3)
            answer = _answer_line(captured, trace)
        if self.same_state and not any(h.ran and not h.builtin for h in trace.hops):
            # None of the user's applications saw it and both Front Ends hold the same state: without
            # them its fate is the same (D111), and so is what it does to the registrations.
            base, base_hops, base_start = outcome, None, 0
            if registering:
                self.base.registrations.clear()
                self.base.registrations.update(self.fe.registrations)
        else:
            baseline = self.base.send(request, downstream=captured and captured.again())  # its last use
            base, base_hops, base_start = baseline.outcome.summary(), baseline.hops, _last_ran(baseline.hops)
            if registering and self.same_state and self.base.registrations != self.fe.registrations:
                self.same_state = False
        book.txs[key] = TxEntry(index=index, request=received, vias=tuple(vias), hops=trace.hops, start=_last_ran(trace.hops),
                                predicted=outcome, status=trace.outcome.status,
                                kind=trace.outcome.kind, base_hops=base_hops, base_start=base_start)
        if captured is not None and captured.used:
            book.txs[key].answered = captured.answered()
        if captured is not None and captured.copies:
            book.txs[key].copies = {c.branch: c.uri for c in captured.copies}
        book.by_cseq[cseq_key] = key
        real = captured is not None and captured.real(trace)
        apps = _app_effects(trace.hops, "request", self.builtin) + \
            _app_effects(trace.responses, "response" if real else "predicted response", self.builtin)
        return MessageResult(index=index, where=where, role="replayed", first_line=first, call_id=call_id,
                             apps=tuple(apps), outcome=outcome, baseline=base, changed=outcome != base,
                             matched=matched, faults=tuple(faults), answer=answer,
                             trace=trace if index < self.config.keep_traces else None)

    # -- finding a message's transaction -----------------------------------------------------

    def _find(self, message: Any, vias: list[str], index: int, skip_top: bool) -> tuple[TxEntry | None, Fault | None]:
        book = self.book.calls.get(self._call)
        if book is None:
            return None, None
        number, method = _cseq(message)
        keys = []
        for via in (vias[1:] if skip_top else vias)[:2]:
            keys.append(_tx_key(message, via, method))
        if (number, method) in book.by_cseq:
            keys.append(book.by_cseq[(number, method)])
        for key in keys:
            tx = book.txs.get(key)
            # older than the replay keeps: as if never seen, whether or not a purge has dropped it yet
            if tx is not None and index - tx.index <= MAX_TRANSACTION_AGE:
                return tx, None
        return None, None

    def _dialog(self, message: Response, tx: TxEntry | None, index: int) -> None:
        """A 2xx to an INVITE sets up a dialog: Call-ID, From tag, To tag (RFC 3261 12.1)."""
        if 200 <= message.status_code < 300 and _cseq(message)[1] == "INVITE":
            key = (_tag(message.get("From")), _tag(message.get("To")))
            if key[1]:
                self.book.call(self._call).dialogs.setdefault(key, tx.index if tx else index)

    # -- a response the Front End received from downstream ------------------------------------

    def _response(self, response: Response, vias: list[str], index: int, where: str) -> MessageResult:
        call_id = response.get("Call-ID") or ""
        first = cut(f"SIP/2.0 {response.status_code} {response.reason}") + f" ({_cseq(response)[1] or '?'})"
        tx, fault = self._find(response, vias, index, skip_top=self.names_this_server(vias[0] if vias else None))
        self._dialog(response, tx, index)
        if tx is None:
            fault = fault or Fault("response-without-request", where,
                                   f"no request of this transaction (Call-ID {cut(call_id, 60)}, CSeq "
                                   f"{cut(response.get('CSeq') or '-', 40)}) was replayed in the last "
                                   f"{MAX_TRANSACTION_AGE} messages; it climbs the whole chain as `mspl-lite trace` "
                                   "runs a response")
            fault = replace(fault, where=where)
            trace = self.fe.send(response.copy())
            baseline = self.base.send(response.copy())
            outcome, base = _response_fate(trace.outcome.kind == "proxied", trace), \
                _response_fate(baseline.outcome.kind == "proxied", baseline)
            apps = _app_effects(trace.responses, "response", self.builtin)
            return MessageResult(index=index, where=where, role="replayed", first_line=first, call_id=call_id,
                                 apps=tuple(apps), outcome=outcome, baseline=base, changed=outcome != base,
                                 faults=(fault,), trace=trace if index < self.config.keep_traces else None)
        answered = next((a for a in tx.answered if a[0] == index), None)
        if answered is not None:
            # it answered the request's replay inside FrontEnd.send: the response path ran on it there
            copy = f" (its copy to {cut((tx.copies or {}).get(answered[1], '?'), 100)})" if answered[1] else ""
            return MessageResult(index=index, where=where, role="answer", first_line=first, call_id=call_id,
                                 outcome=f"answered the replay of #{tx.index}{copy}: {tx.predicted}",
                                 matched=tx.index)
        branch = _via_parts(vias[0])[2] if vias else ""
        again = next((a for a in tx.answered if a[2] == response.status_code and a[1] in (None, branch)), None)
        if again is not None:
            # the same final response again, on the same copy (RFC 3261 17.1.1.2: a UDP retransmission of it)
            return MessageResult(index=index, where=where, role="retransmission", first_line=first,
                                 call_id=call_id, matched=again[0])
        rhops, delivered, trace = self._climb(self.fe, tx.request, tx.hops, tx.start, response)
        outcome = _response_fate(delivered, None, rhops, response)
        if tx.base_hops is None:   # no user application saw the request, so none is on the response's path
            base = outcome
        else:
            base_rhops, base_delivered, _ = self._climb(self.base, tx.request, tx.base_hops, tx.base_start,
                                                        response, with_trace=False)
            base = _response_fate(base_delivered, None, base_rhops, response)
        apps = _app_effects(rhops, "response", self.builtin)
        return MessageResult(index=index, where=where, role="replayed", first_line=first, call_id=call_id,
                             apps=tuple(apps), outcome=outcome, baseline=base, changed=outcome != base,
                             matched=tx.index, trace=trace if index < self.config.keep_traces else None)

    def _climb(self, fe: FrontEnd, request: Request, hops: tuple[Hop, ...], start: int, response: Response,
               with_trace: bool = True) -> tuple[list, bool, Trace | None]:
        """The real response up the response path of the applications that saw ``request`` (D108)."""
        response = response.copy()
        ctx = RequestContext(fe.lab, fe.registrations, request.copy())
        rhops, delivered = response_path(fe, ctx, hops, response, start)
        trace = None
        if with_trace:
            ctx.note("decision", "The captured response climbs, on its own, the response path of the applications "
                                 "that saw its request when it was replayed: it did not answer that replay (a "
                                 "provisional response, one beyond the look-ahead, or the simulator's parties "
                                 "were asked instead).", "decision D108")
            outcome = Outcome(kind="proxied" if delivered else "dropped", decided_by="Front End",
                              status=response.status_code, reason=response.reason,
                              response=str(response) if delivered else None,
                              client_experience=f"gets {response.status_code} {response.reason}" if delivered
                              else "an application dropped the response")
            trace = Trace(message=str(response), method="", request_uri="", hops=hops, outcome=outcome,
                          responses=tuple(rhops), log=tuple(ctx.log), notes=tuple(ctx.notes),
                          server=fe.lab.server, pool=fe.lab.pool)
        return rhops, delivered, trace

    # -- what the Front End sent: the capture's record of what happened next ------------------

    def _observed_request(self, request: Request, vias: list[str], index: int, where: str) -> MessageResult:
        first = cut(f"{request.method} {request.request_uri}")
        tx, fault = self._find(request, vias, index, skip_top=True)
        observed = f"forwarded to {cut(request.request_uri, 100)}"
        if tx is not None and vias and request.method.upper() == "INVITE" == tx.request.method.upper():
            branch = _via_parts(vias[0])[2]
            if branch:   # a copy: its CANCEL and its ACK of a non-2xx final carry this branch (D121)
                tx.copies = tx.copies or {}
                tx.copies.setdefault(branch, request.request_uri)
        return self._observed(tx, fault, index, where, first, request, observed,
                              agree=None if tx is None else tx.kind == "proxied")

    def _observed_response(self, response: Response, vias: list[str], index: int, where: str) -> MessageResult:
        first = cut(f"SIP/2.0 {response.status_code} {response.reason}") + f" ({_cseq(response)[1] or '?'})"
        tx, fault = self._find(response, vias, index, skip_top=False)
        self._dialog(response, tx, index)
        final = response.status_code >= 200
        observed = f"{response.status_code} {cut(response.reason, 60)}" + ("" if final else " (provisional)")
        agree = None
        if tx is not None and final:
            agree = tx.status == response.status_code
        return self._observed(tx, fault, index, where, first, response, observed, agree)

    def _observed(self, tx, fault, index, where, first, message, observed, agree) -> MessageResult:
        call_id = message.get("Call-ID") or ""
        if tx is None:
            fault = replace(fault, where=where) if fault else Fault(
                "observed-without-request", where,
                f"the Front End sent this for a request not in the capture's last {MAX_TRANSACTION_AGE} messages "
                f"(Call-ID {cut(call_id, 60)}, CSeq {cut(message.get('CSeq') or '-', 40)})")
            return MessageResult(index=index, where=where, role="observed", first_line=first, call_id=call_id,
                                 observed=observed, faults=(fault,))
        return MessageResult(index=index, where=where, role="observed", first_line=first, call_id=call_id,
                             matched=tx.index, observed=observed, predicted=tx.predicted, agree=agree)


#: Bytes of a malformed message read for its start line.
MAX_FIRST = 400


def _answer_line(captured: CapturedDownstream | None, trace: Trace) -> str:
    """Where the final response of a routed request came from: the capture, or the lab (simulated)."""
    if captured is None:
        return "simulated: the capture holds no final response the Front End got back for it " \
               "(within the look-ahead)"
    if captured.copies:
        return _fork_answer_line(captured, trace)
    j, final = captured.responses[-1]
    if not captured.used:
        return f"simulated: {captured.why} (the capture's {final.status_code} is #{j})"
    line = f"captured {final.status_code} {cut(final.reason, 60)} (#{j})"
    if trace.outcome.status is not None and trace.outcome.status != final.status_code:
        line += f"; the caller's {trace.outcome.status} is the simulator's (a failover, or 503 sent on as 500)"
    return line


def _fork_answer_line(captured: CapturedDownstream, trace: Trace) -> str:
    """The record's ``response:`` line of a request the capture's Front End forked: each copy's source (D121)."""
    if not captured.used:
        return f"simulated: {captured.why}"
    parts = []
    for copy, _label in sorted(captured.answers, key=lambda a: a[0].final[0]):    # in capture order
        j, final = copy.final
        parts.append(f"{final.status_code} {cut(final.reason, 60)} (#{j}) from {cut(copy.uri, 100)}")
    line = "captured " + ", ".join(parts)
    if captured.simulated:
        line += "; simulated: " + ", ".join(f"{cut(label, 80)} ({why})" for label, why in captured.simulated)
    status = trace.outcome.status
    if status is not None and not captured.real(trace):
        line += f"; the caller's {status} is the simulator's (the best of the copies' responses, RFC 3261 16.7)"
    return line


def _response_fate(delivered: bool, trace: Trace | None, rhops: list | None = None, response: Any = None) -> str:
    if trace is not None:
        rhops = list(trace.responses)
        status, reason = trace.outcome.status, trace.outcome.reason
    else:
        status, reason = response.status_code, response.reason
    if delivered:
        return f"passed up the chain -> {status} {reason or ''}".rstrip()
    dropper = next((r.app for r in rhops or () if r.ran and r.action.startswith("dropped")), "an application")
    return f"dropped by {dropper} -> the sender never gets {status}"


def load_config(apps: Iterable[tuple[str | Path, int | None]] = (), lab: Any = None,
                server_addresses: Iterable[str] = (), keep_traces: int = KEEP_TRACES) -> ReplayConfig:
    return ReplayConfig(apps=tuple((str(p), pr) for p, pr in apps), lab=lab,
                        server_addresses=tuple(server_addresses), keep_traces=keep_traces)
