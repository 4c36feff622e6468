"""The proxy and registrar core: SIP messages in from a transport, the FrontEnd's chain, messages out.

Theory of operation (RFC 3261 16, 17; the sides taken are decisions D90-D99 of docs/ARCHITECTURE.md):

1. A message arrives (``receive``) on the asyncio loop's thread. A response goes to the client
   transaction its top Via's branch names; one that matches none is forwarded statelessly by
   its next Via when the top Via is ours (a 2xx retransmitted by the UAS, 16.7, 16.11).
2. A request goes to its server transaction when it has one (a retransmission: the last
   response is sent again; the ACK of a non-2xx final response). A CANCEL cancels the INVITE it
   names (16.10). Max-Forwards 0 gets 483 and our own Via in it 482 (16.3). A request inside
   a dialog (To tag, a Route naming this server, or a Request-URI naming it) is forwarded to
   the other side without the chain (decision D93); the 2xx ACK statelessly, end to end. One
   in the dialog of a party the lab simulates is answered here, as that party (decision D122).
3. Any other request is a new transaction: over the bounded worker pool, the SAME
   ``FrontEnd.send`` the simulator uses runs the chain, with a ``WireDownstream`` that delivers
   the copies meant for real parties (a contact registered over the wire, a lab or --contact
   binding, a loopback URI given to ProxyRequest) over the wire, each on a client transaction,
   in parallel, while the lab's simulated parties answer in-process. Provisional responses go
   up to the caller as they arrive; the real final response climbs the chain's response path
   (simulate._real_response) and goes back on the server transaction. A 2xx that a simulated
   party (or an application) made gets the server's Contact, and the server keeps its dialog
   (simulated.py, decision D122).

The FrontEnd is one object shared by every transaction: ``fe_lock`` lets one chain run at a time,
and a chain waiting for real parties lets go of it while it waits.
"""
from __future__ import annotations

import concurrent.futures
import hashlib
import itertools
import secrets
import sys
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field, replace
from typing import Any, Callable, NamedTuple

from ..errors import SipParseError
from ..frontend.decisions import Target
from ..frontend.downstream import deliver as simulate_branch
from ..frontend.lab import Endpoint, aor_of
from ..frontend.trace import Branch
from ..sip import Request, Response, parse_message
from ..sip.message import Header
from .addresses import DEFAULT_PORT, AddressPolicy, is_ip, is_loopback, split_host_port
from .record import Exchange, WireEvent, write_exchange
from .simulated import SimulatedDialogs
from .transaction import (ClientTransaction, ServerTransaction, Timing, cancel_for, client_key, server_key)

__all__ = ["Peer", "ProxyCore", "WireDownstream", "MAX_TRANSACTIONS", "MAX_LINGERING", "MAX_WORKERS", "MAX_DIALOGS",
           "MAX_KEPT", "bad_request"]

#: Server transactions alive at once. A lab proxy on loopback with SIPp at a few hundred calls a
#: second holds a few hundred; past 2,000 a flood is answered 503 with Retry-After (RFC 3261
#: 21.5.4) instead of growing, and counted in ``ProxyCore.refused``.
MAX_TRANSACTIONS = 2_000
#: Transactions that have sent their final response and wait only to absorb retransmissions
#: (Timers J, H, I and RFC 6026's L: 32 s over UDP). SIPp at 300 calls a second leaves about
#: 19,200 (INVITE and BYE); past 20,000 the oldest is ended early, so memory stays bounded.
MAX_LINGERING = 20_000
#: --trace-dir files waiting for the disk; past it a transaction's files are skipped and counted
#: (``trace_files_skipped``, printed when the server stops) rather than queued without bound.
MAX_PENDING_WRITES = 1_000
#: Chains running or waiting for real parties at once (threads). A waiting chain (a call that
#: rings) holds one; 64 ringing calls is more than a lab needs, and the 65th waits in the queue,
#: which MAX_TRANSACTIONS bounds.
MAX_WORKERS = 64
#: Dialogs remembered for routing the 2xx ACK and BYE of clients that send them to the server's
#: address (SIPp's built-in scenarios do); the oldest is forgotten first.
MAX_DIALOGS = 4_096
#: Finished transactions kept for ``Server.traces`` and the ladder; older ones are forgotten.
MAX_KEPT = 500
#: How long a chain waits for real parties at most, past the ring timer and Timer B: a bug
#: in a peer never holds a worker forever.
_FORK_GRACE = 10.0


class Peer(NamedTuple):
    """The other side of a message: transport, address, and the TCP connection when there is one."""

    transport: str      # "udp" | "tcp"
    host: str
    port: int
    conn: Any = None

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def _first_line(data: bytes | str) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return text.split("\n", 1)[0].strip()[:200]


def _param(header: str | None, name: str) -> str | None:
    for part in (header or "").split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == name:
            return value.strip().split(">", 1)[0] or ""
    return None


def _tag(header: str | None) -> str | None:
    return _param((header or "").split(">", 1)[-1] if ">" in (header or "") else header, "tag")


def _uri_host_port(uri: str) -> tuple[str, int | None, str | None]:
    """(host, port, transport param) of a sip: URI (the bracketed part of a name-addr)."""
    text = uri.strip()
    if "<" in text:
        text = text.split("<", 1)[1].split(">", 1)[0]
    text = text.split(":", 1)[1] if text.lower().startswith(("sip:", "sips:")) else text
    text = text.split("@", 1)[-1]
    hostport, *params = text.split(";")
    transport = None
    for p in params:
        k, _, v = p.partition("=")
        if k.strip().lower() == "transport":
            transport = v.strip().lower()
    hostport = hostport.split("?", 1)[0]
    try:
        host, port = split_host_port(hostport, None)
    except ValueError:
        return hostport, None, transport
    return host.lower(), port, transport


def _via_sent_by(via: str) -> tuple[str, str, int]:
    """(transport, host, port) of a Via value's sent-by."""
    proto, _, rest = via.strip().partition(" ")
    sent_by = rest.strip().split(";", 1)[0].strip()
    try:
        host, port = split_host_port(sent_by, DEFAULT_PORT)
    except ValueError:
        host, port = sent_by, DEFAULT_PORT
    return proto.rsplit("/", 1)[-1].lower(), host.lower(), port or DEFAULT_PORT


def _strip_top_via(response: Response) -> Response:
    """The response without its first Via value (the one this server added, RFC 3261 16.7 step 3)."""
    out = response.copy()
    vias = out.get_all("Via")
    first = next((i for i, h in enumerate(out.headers) if h[0].lower() in ("via", "v")), None)
    if first is None:
        return out
    rest = vias[1:]
    out.remove_header("Via")
    out.headers[first:first] = [Header("Via", v) for v in rest]
    return out


def bad_request(data: bytes, err: Exception, server: str) -> bytes | None:
    """400 Bad Request with a Warning naming the fault, for a message the parser refused, when its
    Via, From, To, Call-ID and CSeq can still be read (RFC 3261 8.2.6: a response needs them);
    None otherwise (the caller logs the diagnostic instead)."""
    head = data.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0].decode("utf-8", "replace")
    lines = head.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].startswith("SIP/"):
        return None                 # a response is never answered (RFC 3261 8.2.6 is for requests)
    wanted = {"via": "Via", "v": "Via", "from": "From", "f": "From", "to": "To", "t": "To",
              "call-id": "Call-ID", "i": "Call-ID", "cseq": "CSeq"}
    found: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        key = name.strip().lower()
        if colon and key in wanted:
            found.append((wanted[key], value.strip()))
    names = {n for n, _ in found}
    if not {"Via", "From", "To", "Call-ID", "CSeq"} <= names:
        return None
    diag = getattr(err, "diagnostics", None)
    fault = diag[0].message if diag else str(err).split("\n", 1)[0]
    fault = fault.replace("\\", "\\\\").replace('"', "'")[:200]
    out = ["SIP/2.0 400 Bad Request"]
    out += [f"{n}: {v}" for n, v in found]
    out.append(f'Warning: 399 {server} "{fault}"')
    out.append("Content-Length: 0")
    return ("\r\n".join(out) + "\r\n\r\n").encode("utf-8", "replace")


@dataclass(eq=False)
class _Leg:
    """One copy of a request sent to a real party: its client transaction and what came back."""

    target: Target
    request: Request
    peer: Peer
    sent_by: str
    index: int = 0                     # its place among the copies of the attempt (D66: listed first answers first)
    txn: ClientTransaction | None = None
    responses: list[tuple[int, str]] = field(default_factory=list)
    final: Response | None = None
    timed_out: bool = False
    cancel_wanted: bool = False
    cancel_sent: bool = False
    server_cancelled: bool = False     # the server cancelled it (ring timer, another branch answered)
    cancel_why: str = ""               # why the server cancelled it, in the words of its Branch's note
    refused: str = ""                  # why it was never sent
    discarded: bool = False            # answered 2xx after another branch won: ACKed, then BYE (D100)
    bye_answer: str = ""               # what the server's BYE of a discarded 2xx got ("200 OK")
    final_in_trace: bool = False       # its final response had come when the chain took its Branch

    @property
    def done(self) -> bool:
        return self.final is not None or self.timed_out or bool(self.refused)


def _in_leg_dialog(invite: Request, response: Response, method: str, target: str, via: str, step: int) -> Request:
    """A request of the dialog ``response`` (a 2xx to ``invite``) set up, sent by this server in the
    caller's place: the ACK (``step`` 0: the INVITE's CSeq number) or the BYE (``step`` 1), decision D100."""
    out = Request(method, invite.request_uri)
    if target:
        try:
            out.request_uri = target        # the callee's Contact, where its dialog's requests go
        except Exception:
            pass
    out.add_header("Via", via)
    out.add_header("Max-Forwards", "70")
    for name, value in (("From", invite.get("From")), ("To", response.get("To")), ("Call-ID", invite.get("Call-ID"))):
        out.add_header(name, value or "")
    number = (invite.get("CSeq") or "1").split()[0]
    out.add_header("CSeq", f"{int(number) + step if number.isdigit() else 1 + step} {method}")
    out.add_header("Content-Length", "0")
    return out


#: Why the server cancels a real leg when another branch's 2xx goes up (its Branch's note).
_ANSWERED = "another branch answered first (RFC 3261 16.7 step 10)"


class _Fork:
    """The real legs of one attempt: started together, the losers cancelled, done when all ended.

    ``simulated_answer``: the place of the first simulated copy of the attempt that answers 2xx,
    if one does (it answers at once). Only the real legs listed before it can still win (decision
    D66's order); the chain waits for those alone, and a 2xx of any other leg, or one that comes
    after the winner, is ACKed and ended with a BYE by the server itself (decision D100).

    The chain takes one Branch per leg when ``future`` is set; a losing leg that ends afterwards
    (its 487, its late 2xx and the BYE's answer, Timer B) hands its final Branch to the exchange
    (``_later``), whose trace then shows it.
    """

    def __init__(self, core: "ProxyCore", legs: list[_Leg], exchange: Exchange, server_txn: ServerTransaction,
                 future: concurrent.futures.Future, invite: bool, ring_seconds: float,
                 simulated_answer: int | None = None):
        self.core, self.legs, self.exchange, self.server_txn = core, legs, exchange, server_txn
        self.future, self.invite = future, invite
        self.ring_seconds = ring_seconds
        self.ring_timer = None
        self.caller_cancelled = False
        self.simulated_answer = simulated_answer
        self.winner: _Leg | None = None     # the real leg whose 2xx won, if one did

    def _can_win(self, leg: _Leg) -> bool:
        return self.simulated_answer is None or leg.index < self.simulated_answer

    def _lost(self, leg: _Leg) -> bool:
        """A 2xx of ``leg`` now would not be the one the caller gets."""
        return not self._can_win(leg) or (self.future.done() and leg is not self.winner)

    def start(self) -> None:
        for leg in self.legs:
            if leg.refused:
                continue
            leg.txn = self.core.client_transaction(leg.request, leg.peer, self.exchange,
                                                   on_response=lambda r, leg=leg: self._response(leg, r),
                                                   on_timeout=lambda leg=leg: self._timeout(leg))
            leg.txn.start()
        if self.invite:
            self.ring_timer = self.core.loop.call_later(self.ring_seconds, self._ring_out)
        if self.exchange.cancelled:
            self.cancel_all(caller=True)
        self._check()

    def _response(self, leg: _Leg, response: Response) -> None:
        leg.responses.append((response.status_code, response.reason))
        if response.status_code < 200:
            if leg.cancel_wanted and not leg.cancel_sent:
                self._send_cancel(leg)
            if response.status_code != 100 and self.server_txn.state == "proceeding":
                # a provisional goes up at once (16.7 step 5); 100 Trying is hop by hop (16.7 step 5)
                self.server_txn.respond(self.core.upstream(_strip_top_via(response), self.exchange))
            return
        if self.invite and 200 <= response.status_code < 300 and self._lost(leg):
            leg.final = response
            self._discard(leg, response)
            self._check()
            return
        leg.final = response
        if self.invite and 200 <= response.status_code < 300:
            for other in self.legs:
                if other is not leg and not other.done:
                    other.server_cancelled = True
                    other.cancel_why = other.cancel_why or _ANSWERED
                    self._cancel(other)
        self._later(leg)        # before _check: a final that settles the fork is in the chain's Branches
        self._check()

    def _later(self, leg: _Leg) -> bool:
        """``leg`` ended after the chain took the fork's Branches: its trace shows the end (D100).
        True when the exchange's files are written again for it."""
        if not self.future.done() or leg is self.winner:
            return False
        self.exchange.branch_ended(self._branch(leg, later=True))
        if self.exchange.trace is None:         # _finish writes the trace with it
            return False
        self.core._keep(self.exchange)          # its files again, with the end
        return True

    def _discard(self, leg: _Leg, response: Response) -> None:
        """A 2xx from a branch that did not win: the dialog it set up is confirmed with an ACK and
        ended with a BYE at once (RFC 3261 13.1: every 2xx of a forked INVITE is its own dialog, and
        each final response is ACKed; decision D100). Sent straight to the party, as the INVITE was."""
        if leg.discarded:
            return
        leg.discarded = True
        contact = response.get("Contact") or ""
        target = contact.split("<", 1)[1].split(">", 1)[0] if "<" in contact else contact.split(";", 1)[0].strip()
        ack = _in_leg_dialog(leg.request, response, "ACK", target, self.core._our_via(leg.peer.transport), 0)
        bye = _in_leg_dialog(leg.request, response, "BYE", target, self.core._our_via(leg.peer.transport), 1)
        data = ack.to_bytes()
        self.core.remember_discarded(response, leg.peer, data)
        self.core.send(leg.peer, data, self.exchange)
        exchange = self.exchange

        def ended(r: Response) -> None:
            if r.status_code >= 200 and not leg.bye_answer:
                leg.bye_answer = f"{r.status_code} {r.reason}"
                exchange.note(f"the BYE to {leg.target.label.rstrip(': ') or leg.peer.address} got "
                              f"{r.status_code} {r.reason}")
                if not self._later(leg):
                    self.core._keep(exchange)   # its files again, with the ACK and the BYE

        self.core.client_transaction(bye, leg.peer, exchange, on_response=ended,
                                     on_timeout=lambda: ended(bye.create_response(408, "Request Timeout"))).start()
        exchange.note(f"a branch answered {response.status_code} {response.reason} after another branch won: "
                      "the server sent it ACK, then BYE (RFC 3261 13.1; decision D100)")
        self._later(leg)

    def settle(self) -> None:
        """The caller's final response went up: CANCEL every leg still pending (RFC 3261 16.7 step 10)."""
        for leg in self.legs:
            if not leg.done:
                leg.server_cancelled = True
                leg.cancel_why = leg.cancel_why or "the caller's final response went up (RFC 3261 16.7 step 10)"
                self._cancel(leg)

    def _timeout(self, leg: _Leg) -> None:
        leg.timed_out = True
        self._later(leg)
        self._check()

    def _ring_out(self) -> None:
        """Nobody answered within the lab's ring time: CANCEL every leg still ringing (16.8's Timer C)."""
        for leg in self.legs:
            if not leg.done:
                leg.server_cancelled = True
                leg.cancel_why = (f"nobody answered within ring_seconds = {self.ring_seconds:g} s (RFC 3261 16.8, "
                                  "Timer C; decision D95)")
                self._cancel(leg)
        self.exchange.note(f"nobody answered within ring_seconds = {self.ring_seconds:g} s: the server sent "
                           "CANCEL (RFC 3261 16.8, Timer C; decision D95)")

    def cancel_all(self, caller: bool = False) -> None:
        self.caller_cancelled = self.caller_cancelled or caller
        for leg in self.legs:
            if not leg.done:
                self._cancel(leg)

    def _cancel(self, leg: _Leg) -> None:
        if leg.txn is None or not leg.txn.invite:
            return
        leg.cancel_wanted = True
        if leg.txn.provisional and not leg.cancel_sent:
            self._send_cancel(leg)
        # without a provisional yet, the CANCEL waits for one (RFC 3261 9.1); Timer B ends the leg otherwise

    def _send_cancel(self, leg: _Leg) -> None:
        leg.cancel_sent = True
        cancel = cancel_for(leg.request)
        self.core.client_transaction(cancel, leg.peer, self.exchange, on_response=lambda r: None).start()

    def _check(self) -> None:
        """Done when every leg ended, or at once when an INVITE leg answered 2xx: the 2xx goes up
        the chain now (RFC 3261 16.7 step 5) while the others' CANCELs finish on their own."""
        contenders = [leg for leg in self.legs if self._can_win(leg)]
        answered = self.invite and any(leg.final is not None and 200 <= leg.final.status_code < 300
                                       for leg in contenders)
        if self.future.done() or not (answered or all(leg.done for leg in contenders)):
            return
        if self.ring_timer is not None:
            self.ring_timer.cancel()
        self.winner = next((leg for leg in contenders if leg.final is not None and 200 <= leg.final.status_code < 300
                            and not leg.discarded), None)
        if self.invite and (self.winner is not None or self.simulated_answer is not None):
            for leg in self.legs:
                if leg is not self.winner and not leg.done:
                    leg.server_cancelled = True     # cancelled once the winner's 2xx went up (settle)
                    leg.cancel_why = leg.cancel_why or _ANSWERED
        self.future.set_result(self.branches())

    def branches(self) -> list[Branch]:
        """The Branches the chain takes, once: what each leg had answered by now."""
        for leg in self.legs:
            leg.final_in_trace = leg.final is not None
        return [self._branch(leg) for leg in self.legs]

    def _branch(self, leg: _Leg, later: bool = False) -> Branch:
        """The leg as a Branch of the trace: only what came back so far. ``later``: the chain has
        its Branches already, and this one ended since (the note says so)."""
        where = f"a real user agent at {leg.peer.address} over {leg.peer.transport.upper()}"
        own = leg.target.label.rstrip(": ")
        label = f"{own} ({where})" if own else where
        got = f"{leg.final.status_code} {leg.final.reason}" if leg.final is not None else ""
        after = "after the trace was written, " if later else ""
        why = leg.cancel_why or "the server cancelled it"
        if leg.refused:
            note = leg.refused
        elif leg.timed_out:
            note = "no final response before Timer B/F (64*T1) fired (RFC 3261 17.1)"
            if leg.server_cancelled:
                note = f"{why}: CANCEL sent; {after}{note}"
        elif leg.final is not None and leg.final.status_code == 487 and self.caller_cancelled \
                and not leg.server_cancelled:
            note = "the caller sent CANCEL: the server cancelled this branch (RFC 3261 16.10)"
        elif leg.discarded:
            if leg.final_in_trace:
                note = f"answered {got} after another branch won"
            elif leg.cancel_sent:
                note = f"{why}: CANCEL sent; {after}its {got} crossed the CANCEL"
            else:       # a 2xx with no provisional before it: no CANCEL could be sent yet (RFC 3261 9.1)
                note = f"{why}; {after}it answered {got} before a CANCEL could be sent (RFC 3261 9.1)"
            note += ": the server sent it ACK, then BYE (RFC 3261 13.1; decision D100)"
            if leg.bye_answer:
                note += (f"; {after}the BYE got {leg.bye_answer}" if leg.final_in_trace
                         else f", and the BYE got {leg.bye_answer}")
        elif leg.server_cancelled and not leg.done:
            if any(status < 200 for status, _ in leg.responses):
                note = f"{why}: CANCEL sent; it had not answered the CANCEL when this trace was written"
            else:
                note = (f"{why}: CANCEL sent once it answers a provisional (RFC 3261 9.1); nothing had come back "
                        "when this trace was written")
        elif leg.server_cancelled:
            note = f"{why}: CANCEL sent; {after}the INVITE ended {got}"
        else:
            note = "answered over the wire"
        return Branch(target=leg.target.uri, kind=leg.target.kind, sent_by=leg.sent_by, party=label,
                      responses=tuple(leg.responses), note=note,
                      cancelled=leg.server_cancelled and not self.caller_cancelled,
                      request=str(leg.request), response=str(leg.final) if leg.final is not None else "")


class WireDownstream:
    """The ``downstream`` hook of FrontEnd.send for one transaction (frontend/downstream.py)."""

    def __init__(self, core: "ProxyCore", server_txn: ServerTransaction, exchange: Exchange):
        self.core, self.server_txn, self.exchange = core, server_txn, exchange
        self.fork: _Fork | None = None

    def is_real(self, target: Target) -> bool:
        """Whether ``deliver``'s Branch for ``target`` is what a real party answered (not simulated)."""
        return self.core.real_destination(target) is not None

    def deliver(self, copies, ctx, sent_by):
        core = self.core
        legs: list[_Leg | None] = []
        for index, (target, copy) in enumerate(copies):
            peer = core.real_destination(target)
            if peer is None:
                legs.append(None)
                continue
            leg = _Leg(target=target, request=core.prepare(copy, peer), peer=peer, sent_by=sent_by, index=index)
            if not core.policy.allows(peer.host):
                core.policy.refused += 1
                leg.refused = (f"not sent: {peer.host} is outside 127.0.0.0/8 and ::1 and was not configured "
                               "(decision D91)")
            legs.append(leg)
        real = [leg for leg in legs if leg is not None]
        if not real:
            return [None] * len(copies)
        # The simulated copies answer at once, here, so that the fork knows whether one of them
        # answers before the real ones can (decision D100); deliver_route takes these Branches as
        # they are, so each is simulated once, in the same order as without real parties.
        simulated = [simulate_branch(t, c, ctx, sent_by) if leg is None else None
                     for (t, c), leg in zip(copies, legs)]
        answering = next((i for i, b in enumerate(simulated)
                          if b is not None and b.final is not None and 200 <= b.final[0] < 300), None)
        future: concurrent.futures.Future = concurrent.futures.Future()
        fork = _Fork(core, real, self.exchange, self.server_txn, future, ctx.method == "INVITE",
                     float(ctx.lab.ring_seconds), answering if ctx.method == "INVITE" else None)
        self.exchange.fork = fork
        core.forks.add(fork)
        future.add_done_callback(lambda f: core.forks.discard(fork))
        core.loop.call_soon_threadsafe(fork.start)
        wait = ctx.lab.ring_seconds + core.timing.timeout + _FORK_GRACE
        core.fe_lock.release()          # other transactions run the chain while this one waits
        try:
            branches = future.result(timeout=wait)
        except concurrent.futures.TimeoutError:
            branches = [Branch(target=leg.target.uri, kind=leg.target.kind, sent_by=sent_by,
                               party=leg.target.label, responses=tuple(leg.responses),
                               note=f"no outcome within {wait:g} s", request=str(leg.request)) for leg in real]
        finally:
            core.fe_lock.acquire()
        found = iter(branches)
        return [next(found) if leg is not None else sim for leg, sim in zip(legs, simulated)]


class _Dialog(NamedTuple):
    caller: Peer
    caller_tag: str
    caller_target: str      # the caller's Contact
    callee: Peer
    callee_target: str      # the callee's Contact (from its 2xx)


class ProxyCore:
    """Everything but the sockets: ``receive(data, peer)`` in, ``sender(peer, data)`` out.

    ``loop`` is the asyncio loop (call_later, call_soon_threadsafe); ``address`` the (host, port)
    the server listens on; ``trace_dir`` where each transaction's files go (None: nowhere).
    """

    def __init__(self, fe, loop, sender: Callable[[Peer, bytes], Any], address: tuple[str, int], *,
                 timing: Timing = Timing(), policy: AddressPolicy | None = None, trace_dir=None,
                 transports: tuple[str, ...] = ("udp", "tcp"), log: Callable[[str], Any] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.fe = fe
        self.loop = loop
        self.sender = sender
        self.host, self.port = address
        self.timing = timing
        self.policy = policy or AddressPolicy()
        self.trace_dir = trace_dir
        self.transports = transports
        self.log = log or (lambda text: print(text, file=sys.stderr, flush=True))
        self.clock = clock
        self.started = clock()
        self.fe_lock = threading.Lock()
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=MAX_WORKERS,
                                                              thread_name_prefix="mspl-lite-chain")
        self.server_txns: dict[tuple, ServerTransaction] = {}
        self.lingering: OrderedDict[tuple, ServerTransaction] = OrderedDict()   # final sent, absorbing
        self.forks: set[_Fork] = set()          # real legs a chain is waiting for
        self._writer = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="mspl-lite-trace")
        self._writes_pending = 0
        self._writes_lock = threading.Lock()
        self.trace_files_skipped = 0
        self.client_txns: dict[tuple, ClientTransaction] = {}
        self.exchanges: dict[int, Exchange] = {}       # by id(server transaction)
        self.kept: deque[Exchange] = deque(maxlen=MAX_KEPT)
        self.dialogs: OrderedDict[tuple, _Dialog] = OrderedDict()
        self.simulated = SimulatedDialogs(self)     # dialogs of the parties the lab simulates (D122)
        #: (Call-ID, To tag, host, port) of a 2xx the server ACKed itself (a branch that lost, decision
        #: D100) -> the ACK, sent again for each retransmission of that 2xx instead of passing it to the
        #: caller. The peer is part of the key: two user agents may pick the same tag. MAX_DIALOGS bounds it.
        self.discarded: OrderedDict[tuple[str, str, str, int], tuple[Peer, bytes]] = OrderedDict()
        self.contacts: dict[str, str] = {}              # host:port -> the Contact URI it registered
        self.expiry: dict[tuple[str, str], float] = {}  # (aor, epid) -> when its registration ends
        self._numbers = itertools.count(1)
        self.refused = 0            # requests answered 503 because MAX_TRANSACTIONS were alive
        self.bad = 0                # messages that did not parse
        self.closed = False

    # -- sending ---------------------------------------------------------------------------------

    def send(self, peer: Peer, data: bytes, exchange: Exchange | None = None) -> None:
        if not self.policy.allows(peer.host):
            self.policy.refused += 1
            self.log(f"mspl-lite serve: not sending to {peer.address}: outside 127.0.0.0/8 and ::1, and not "
                     "configured (decision D91)")
            return
        if exchange is not None:
            exchange.add(WireEvent(self.clock() - self.started, "out", peer.transport, peer.address,
                                   _first_line(data), data.decode("utf-8", "replace")))
        self.sender(peer, data)

    def _incoming(self, exchange: Exchange, peer: Peer, data: bytes) -> None:
        exchange.add(WireEvent(self.clock() - self.started, "in", peer.transport, peer.address,
                               _first_line(data), data.decode("utf-8", "replace")))

    def client_transaction(self, request: Request, peer: Peer, exchange: Exchange, *, on_response,
                           on_timeout=lambda: None) -> ClientTransaction:
        txn = ClientTransaction(request, lambda data: self.send(peer, data, exchange),
                                reliable=peer.transport == "tcp", timing=self.timing, scheduler=self.loop,
                                on_response=on_response, on_timeout=on_timeout,
                                on_terminated=lambda t: self.client_txns.pop(t.key, None))
        txn.exchange = exchange
        self.client_txns[txn.key] = txn
        return txn

    def _new_exchange(self, method: str) -> Exchange:
        return Exchange(number=next(self._numbers), method=method)

    # -- the message in --------------------------------------------------------------------------

    def receive(self, data: bytes, peer: Peer) -> None:
        """One whole message from ``peer`` (a datagram, or one framed out of a stream)."""
        if self.closed:
            return
        try:
            message = parse_message(data, filename=f"<{peer.transport} from {peer.address}>")
        except SipParseError as err:
            self.bad += 1
            answer = bad_request(data, err, self.host)
            if answer is not None:
                self.send(peer, answer)
            else:
                self.log(f"mspl-lite serve: dropped a message from {peer.address} that cannot be answered:\n"
                         f"{err}")
            return
        if isinstance(message, Response):
            self._on_response(message, peer, data)
        else:
            self._on_request(message, peer, data)

    def remember_discarded(self, response: Response, peer: Peer, ack: bytes) -> None:
        self.discarded[(response.get("Call-ID") or "", _tag(response.get("To")) or "", peer.host, peer.port)] = \
            (peer, ack)
        while len(self.discarded) > MAX_DIALOGS:
            self.discarded.popitem(last=False)

    def _on_response(self, response: Response, peer: Peer, data: bytes) -> None:
        txn = self.client_txns.get(client_key(response))
        if txn is not None:
            self._incoming(txn.exchange, peer, data)
            txn.on_response(response)
            return
        dialog = (response.get("Call-ID") or "", _tag(response.get("To")) or "", peer.host, peer.port)
        ack = self.discarded.get(dialog)
        if ack is not None and 200 <= response.status_code < 300:
            self.send(*ack)         # the 2xx again: our ACK was lost (decision D100); never the caller's
            return
        vias = response.get_all("Via")
        if len(vias) >= 2 and self._is_us(*_via_sent_by(vias[0])[1:]):
            # a response no transaction waits for (a 2xx the UAS retransmits): stateless, by Via (16.11)
            self.send(self._via_peer(vias[1], response), _strip_top_via(response).to_bytes())

    def _on_request(self, request: Request, peer: Peer, data: bytes) -> None:
        method = request.method.upper()
        key = server_key(request)
        txn = self.server_txns.get(key)
        if method == "ACK":
            if txn is not None:
                self._incoming(self.exchanges[id(txn)], peer, data)
                txn.on_ack()
                dialog = self.simulated.find(request) if txn.state == "accepted" else None
                if dialog is not None:      # a 2xx ACK that kept the INVITE's branch: it still ends the 2xx's resends
                    self.simulated.ack(dialog, peer, data, self.exchanges[id(txn)])
            else:
                self._in_dialog(request, peer, data)
            return
        if txn is not None:
            self._incoming(self.exchanges[id(txn)], peer, data)
            txn.on_retransmission()
            return
        if len(self.server_txns) - len(self.lingering) >= MAX_TRANSACTIONS:
            self.refused += 1
            self.send(peer, request.create_response(503, "Service Unavailable", [
                ("Retry-After", "5"),
                ("Warning", f'399 {self.host} "{MAX_TRANSACTIONS} transactions are in progress '
                            '(MAX_TRANSACTIONS); try again"')]).to_bytes())
            return
        self._stamp_via(request, peer)
        exchange = self._new_exchange(method)
        self._incoming(exchange, peer, data)
        txn = self._server_transaction(request, peer, exchange)
        if method == "CANCEL":
            self._on_cancel(request, txn, exchange)
            return
        mf = (request.get("Max-Forwards") or "").strip()
        if mf.isdigit() and int(mf) == 0:
            txn.respond(request.create_response(483, "Too Many Hops"))
            return
        if any(self._is_us(*_via_sent_by(v)[1:]) for v in request.get_all("Via")):
            txn.respond(request.create_response(482, "Loop Detected"))
            exchange.note("a Via of this server is already in the request: a loop (RFC 3261 16.3 step 4; "
                          "decision D94)")
            return
        if method == "INVITE":
            txn.respond(request.create_response(100, "Trying"))
        if self._in_dialog(request, peer, data, txn, exchange):
            return
        self.executor.submit(self._run_chain, request, peer, txn, exchange)

    def _server_transaction(self, request: Request, peer: Peer, exchange: Exchange) -> ServerTransaction:
        txn = ServerTransaction(request, lambda data: self.send(peer, data, exchange),
                                reliable=peer.transport == "tcp", timing=self.timing, scheduler=self.loop,
                                on_terminated=self._terminated, on_final=self._lingers)
        self.server_txns[txn.key] = txn
        self.exchanges[id(txn)] = exchange
        return txn

    def _lingers(self, txn: ServerTransaction) -> None:
        self.lingering[txn.key] = txn
        while len(self.lingering) > MAX_LINGERING:
            self.lingering.popitem(last=False)[1].terminate()

    def _terminated(self, txn: ServerTransaction) -> None:
        self.server_txns.pop(txn.key, None)
        self.lingering.pop(txn.key, None)
        exchange = self.exchanges.pop(id(txn), None)
        if exchange is not None:
            self._keep(exchange)

    def file(self, exchange: Exchange) -> None:
        """``exchange`` among the finished ones (``Server.exchanges``, the ladder) now, its files later."""
        if exchange not in self.kept:
            self.kept.append(exchange)

    def _keep(self, exchange: Exchange) -> None:
        self.file(exchange)
        if self.trace_dir is None:
            return
        if self._writes_pending >= MAX_PENDING_WRITES:
            self.trace_files_skipped += 1       # counted, and said when the server stops
            return
        with self._writes_lock:
            self._writes_pending += 1
        self._writer.submit(self._write, exchange)

    def _write(self, exchange: Exchange) -> None:
        """On the writer thread: the files of one transaction (the loop never waits for the disk)."""
        try:
            write_exchange(self.trace_dir, exchange)
        except OSError as err:
            self.log(f"mspl-lite serve: cannot write the trace of transaction {exchange.number}: "
                     f"{err.strerror or err}")
        finally:
            with self._writes_lock:
                self._writes_pending -= 1

    def _stamp_via(self, request: Request, peer: Peer) -> None:
        """received= and rport= on the top Via (RFC 3261 18.2.1, RFC 3581 4): where the response goes."""
        via = request.get_all("Via")[0] if request.get("Via") else None
        if via is None:
            return
        _, host, port = _via_sent_by(via)
        value = via
        if host != peer.host.lower() and _param(via, "received") is None:
            value += f";received={peer.host}"
        if _param(via, "rport") == "":
            value = value.replace(";rport", f";rport={peer.port}", 1)
        if value != via:
            i = next(i for i, h in enumerate(request.headers) if h[0].lower() in ("via", "v"))
            old = request.headers[i][1]
            request.headers[i] = Header(request.headers[i][0], old.replace(via, value, 1) if via in old else value)

    def upstream(self, response: Response, exchange: Exchange) -> Response:
        """A response as it goes back to the caller: without our Via when it came from downstream,
        and with the caller's own From and To (the To tag kept) where for_chain read them in the lab's domain."""
        if not exchange.original:
            return response
        out = response.copy()
        if "From" in exchange.original:
            out.set_header("From", exchange.original["From"])
        if "To" in exchange.original:
            to = exchange.original["To"]
            tag = _tag(response.get("To"))
            out.set_header("To", f"{to};tag={tag}" if tag and _tag(to) is None else to)
        return out

    def _on_cancel(self, cancel: Request, txn: ServerTransaction, exchange: Exchange) -> None:
        """CANCEL: 200 to the CANCEL, then the pending branches of its INVITE are cancelled (16.10)."""
        branch, sent_by, _ = server_key(cancel)
        invite = self.server_txns.get((branch, sent_by, "INVITE"))
        if invite is None or invite.state != "proceeding":
            txn.respond(cancel.create_response(481, "Call/Transaction Does Not Exist"))
            return
        txn.respond(cancel.create_response(200, "OK"))
        target = self.exchanges.get(id(invite))
        if target is None:
            return
        target.cancelled = True
        target.note("the caller sent CANCEL (RFC 3261 16.10)")
        if target.fork is not None:
            self.loop.call_soon(target.fork.cancel_all, True)
        elif getattr(target, "relay", None) is not None:
            target.relay.cancel()

    # -- the chain ---------------------------------------------------------------------------------

    def _run_chain(self, request: Request, peer: Peer, txn: ServerTransaction, exchange: Exchange) -> None:
        """In a worker thread: the FrontEnd's chain for one new transaction, then its response."""
        message = self.for_chain(request, exchange)
        response = None
        registered = None
        with self.fe_lock:
            try:
                trace = self.fe.send(message, downstream=WireDownstream(self, txn, exchange))
            except Exception as err:        # a fault of the simulator must not stop the server
                trace = None
                self.log(f"mspl-lite serve: transaction {exchange.number} ({request.method}) failed in the "
                         f"simulator: {type(err).__name__}: {err}")
                response = request.create_response(500, "Server Internal Error", [
                    ("Warning", f'399 {self.host} "the simulator failed on this request; see the server\'s log"')])
            if trace is not None and request.method.upper() == "REGISTER":
                registered = self._registered(request, peer, trace)
                if registered:
                    exchange.note(f"the 200 names the registered Contact {registered} (RFC 3261 10.3 step 8), "
                                  "where the chain's UserServices wrote its own form (decision D96)")
        if trace is not None and trace.outcome.response:
            response = parse_message(trace.outcome.response)
            if registered:
                _name_contact(response, registered)
        self.loop.call_soon_threadsafe(self._finish, request, peer, txn, exchange, response, trace)

    def _finish(self, request: Request, peer: Peer, txn: ServerTransaction, exchange: Exchange,
                response: Response | None, trace=None) -> None:
        # On the loop's thread, as every real branch's later end is (_Fork._later): none is lost.
        exchange.set_trace(trace)
        try:
            self._answer(request, peer, txn, exchange, response)
        finally:
            if exchange.fork is not None:
                exchange.fork.settle()      # the final response went up: CANCEL what still rings (16.7 step 10)

    def _answer(self, request: Request, peer: Peer, txn: ServerTransaction, exchange: Exchange,
                response: Response | None) -> None:
        if response is None:
            exchange.note("no response: the chain dropped the request (or a response on its way up)")
            self.loop.call_later(self.timing.timeout, txn.terminate)
            self._keep(exchange)
            return
        simulated = None
        if request.method.upper() == "INVITE" and 200 <= response.status_code < 300:
            if exchange.fork is not None and exchange.fork.winner is not None:
                self._remember_dialog(request, peer, response, exchange)
            else:       # answered in-process: the server is that party's UAS (decision D122)
                simulated = self.simulated.answered(request, peer, response, exchange)
        self.file(exchange)     # before the caller can see the response, so its trace is there
        if txn.respond(self.upstream(response, exchange)) and simulated is not None:
            self.simulated.sent(simulated, txn.last_response)
        self._keep(exchange)

    def for_chain(self, request: Request, exchange: Exchange) -> Request:
        """The request as the chain sees it: a Request-URI (and a REGISTER's To) that names this
        server's address is read as the lab's first SIP domain (decision D92)."""
        out = request.copy()
        host, port, _ = _uri_host_port(out.request_uri)
        domain = self.fe.lab.domains[0] if self.fe.lab.domains else self.fe.lab.pool
        if self._is_us(host, port or DEFAULT_PORT):
            user = out.request_uri.split(":", 1)[1].split("@", 1)[0] if "@" in out.request_uri else ""
            scheme = out.request_uri.split(":", 1)[0]
            out.request_uri = f"{scheme}:{user}@{domain}" if user else f"{scheme}:{domain}"
            exchange.note(f"the Request-URI named this server's address: the chain reads it as "
                          f"{out.request_uri} (decision D92)")
        for name in ("From", "To"):
            value = out.get(name) or ""
            h, p, _ = _uri_host_port(value)
            if value and "@" in value and is_ip(h) and (is_loopback(h) or self._is_us(h, p)):
                hostport = value.split("@", 1)[1].split(">", 1)[0].split(";", 1)[0]
                out.set_header(name, value.replace("@" + hostport, "@" + domain, 1))
                exchange.original[name] = value
        if exchange.original:
            exchange.note(f"{' and '.join(exchange.original)} named a loopback address: the chain reads it in "
                          f"{domain}, and the caller gets its own back (decision D92)")
        return out

    # -- real parties ----------------------------------------------------------------------------

    def real_destination(self, target: Target) -> Peer | None:
        """Where a target really is, or None when the lab simulates it (decision D90)."""
        party = target.party
        if isinstance(party, Endpoint):
            if not party.wire:
                return None
            host, port = split_host_port(party.address)
            return Peer(party.wire, host.lower(), port or DEFAULT_PORT)
        host, port, transport = _uri_host_port(target.request_uri or target.uri)
        if not is_ip(host) or not (is_loopback(host) or self.policy.allows(host)):
            return None
        port = port or DEFAULT_PORT
        if self._is_us(host, port):
            return None
        transport = transport if transport in ("udp", "tcp") else "udp"
        return Peer(transport, host, port)

    def _our_via(self, transport: str, branch: str | None = None) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"SIP/2.0/{transport.upper()} {host}:{self.port};branch={branch or 'z9hG4bK' + secrets.token_hex(8)};rport"

    def record_route(self, transport: str) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"<sip:{host}:{self.port};transport={transport};lr>"

    def prepare(self, copy: Request, peer: Peer) -> Request:
        """The simulator's copy as it goes on the wire: this server's real Via in place of the one
        forward_copy wrote, Max-Forwards (70 when absent, 16.6 step 3), Record-Route on an INVITE
        so that the dialog's later requests come this way (16.6 step 4), the registered Contact."""
        out = copy.copy()
        via = Header("Via", self._our_via(peer.transport))
        if out.headers and out.headers[0][0] == "Via":
            out.headers[0] = via
        else:
            out.headers.insert(0, via)
        if out.get("Max-Forwards") is None:
            out.headers.insert(1, Header("Max-Forwards", "70"))
        if out.method.upper() == "INVITE":
            out.headers.insert(1, Header("Record-Route", self.record_route(peer.transport)))
        contact = self.contacts.get(f"{peer.host}:{peer.port}")
        if contact:
            try:
                out.request_uri = contact
            except Exception:
                pass
        return out

    def _registered(self, request: Request, peer: Peer, trace) -> str | None:
        """After the chain's Registrar (UserServices) accepted a REGISTER over the wire: the endpoint
        it stored is a real one (decision D96): it gets real packets, replaces the user's simulated
        endpoints, and expires. Returns the Contact URI registered, if one was."""
        if trace.outcome.status is None or not 200 <= trace.outcome.status < 300:
            return
        aor = aor_of(self.for_chain(request, Exchange(0, "")).get("To"))
        if not aor:
            return
        regs = self.fe.registrations
        current = list(regs.get(aor, ()))
        contact = request.get("Contact") or ""
        host, port, transport = _uri_host_port(contact)
        address = f"{host}:{port or DEFAULT_PORT}"
        response = parse_message(trace.outcome.response) if trace.outcome.response else None
        expires_text = (response.get("Expires") if response is not None else None) or "0"
        expires = int(expires_text) if expires_text.strip().isdigit() else 0
        asked = _param(contact.split(">", 1)[-1] if ">" in contact else contact, "expires") or request.get("Expires")
        if contact.strip() == "*" or (asked or "").strip() == "0":
            # un-register (RFC 3261 10.2.2): the binding of this Contact goes, whatever its epid (D96)
            gone = [e for e in current if e.wire and (contact.strip() == "*" or e.address == address)]
            for e in gone:
                self.expiry.pop((aor, e.epid), None)
            regs[aor] = tuple(e for e in current if e not in gone)
            return None
        kept, registered = [], None
        uri = contact.split("<", 1)[1].split(">", 1)[0] if "<" in contact else contact.split(";", 1)[0]
        for e in current:
            if e.wire:
                kept.append(e)
            elif is_ip(split_host_port(e.address)[0]) and self.policy.allows(split_host_port(e.address)[0]):
                # the endpoint UserServices stored from this REGISTER's Contact: a real one (D96)
                e = replace(e, address=address, wire=transport if transport in ("udp", "tcp") else peer.transport)
                kept.append(e)
                self.contacts[address] = uri
                self.expiry[(aor, e.epid)] = self.clock() + expires
                registered = uri
            # a simulated endpoint of the lab: the real client plays this user now (D96)
        regs[aor] = tuple(kept)
        return registered

    def sweep(self) -> int:
        """Remove the real endpoints whose registration expired; how many were removed."""
        now = self.clock()
        gone = [k for k, t in self.expiry.items() if t <= now]
        if not gone:
            return 0
        with self.fe_lock:
            for aor, epid in gone:
                self.expiry.pop((aor, epid), None)
                regs = self.fe.registrations
                regs[aor] = tuple(e for e in regs.get(aor, ()) if e.epid != epid)
        return len(gone)

    # -- dialogs ------------------------------------------------------------------------------

    def _remember_dialog(self, request: Request, peer: Peer, response: Response, exchange: Exchange) -> None:
        caller_tag = _tag(request.get("From")) or ""
        callee_tag = _tag(response.get("To")) or ""
        leg = None
        if exchange.fork is not None:
            leg = exchange.fork.winner      # not a branch that answered after it (D100)
        if leg is None:
            return          # answered in-process (a simulated party or an application): no real callee
        key = (request.get("Call-ID") or "", frozenset((caller_tag, callee_tag)))
        contact = leg.final.get("Contact") or ""
        callee_target = contact.split("<", 1)[1].split(">", 1)[0] if "<" in contact else contact.split(";", 1)[0]
        caller_contact = request.get("Contact") or ""
        caller_target = caller_contact.split("<", 1)[1].split(">", 1)[0] if "<" in caller_contact \
            else caller_contact.split(";", 1)[0]
        self.dialogs[key] = _Dialog(caller=peer, caller_tag=caller_tag, caller_target=caller_target,
                                    callee=leg.peer, callee_target=callee_target or leg.request.request_uri)
        while len(self.dialogs) > MAX_DIALOGS:
            self.dialogs.popitem(last=False)

    def _is_us(self, host: str, port: int | None) -> bool:
        host = (host or "").strip("[]").lower()
        return host == self.host.lower() and (port or DEFAULT_PORT) == self.port

    def _via_peer(self, via: str, message) -> Peer:
        transport, host, port = _via_sent_by(via)
        received = _param(via, "received")
        rport = _param(via, "rport")
        host = received or host
        port = int(rport) if rport and rport.isdigit() else port
        for d in self.dialogs.values():       # a TCP caller is answered on its connection
            if d.caller.transport == "tcp" and (d.caller.host, d.caller.port) == (host, port):
                return d.caller
        return Peer(transport if transport in ("udp", "tcp") else "udp", host, port)

    def _in_dialog(self, request: Request, peer: Peer, data: bytes, txn: ServerTransaction | None = None,
                   exchange: Exchange | None = None) -> bool:
        """Forward a request of a dialog to its other side, without the chain (decision D93).
        False when the request is not one (it then goes through the chain)."""
        routes = request.get_all("Route")
        top_is_us = bool(routes) and self._is_us(*_uri_host_port(routes[0])[:2])
        to_tag = _tag(request.get("To"))
        if not to_tag and not (top_is_us and request.method.upper() == "ACK"):
            if request.method.upper() == "ACK":
                return True     # an ACK nobody waits for: dropped (RFC 3261 17.2.3 has nothing to match)
            return False
        out = request.copy()
        if top_is_us:
            rest = routes[1:]
            out.remove_header("Route")
            for r in rest:
                out.add_header("Route", r)
        host, port, transport = _uri_host_port(out.request_uri)
        dest: Peer | None = None
        if self._is_us(host, port or DEFAULT_PORT) or not is_ip(host):
            dialog = self.dialogs.get((request.get("Call-ID") or "", frozenset((_tag(request.get("From")) or "",
                                                                                  to_tag or ""))))
            simulated = self.simulated.find(request) if dialog is None else None
            if simulated is not None:       # the server is the other side (decision D122)
                if exchange is None:        # an ACK: no transaction of its own
                    self.simulated.ack(simulated, peer, data)
                else:
                    self.simulated.answer(simulated, request, txn, exchange)
                return True
            if dialog is not None:
                from_caller = _tag(request.get("From")) == dialog.caller_tag
                dest = dialog.callee if from_caller else dialog.caller
                target = dialog.callee_target if from_caller else dialog.caller_target
                if target:
                    try:
                        out.request_uri = target
                    except Exception:
                        pass
                if request.method.upper() == "BYE" and exchange is not None:
                    exchange.bye_dialog = (request.get("Call-ID") or "", frozenset((_tag(request.get("From")) or "",
                                                                                    to_tag or "")))
        else:
            dest = Peer(transport if transport in ("udp", "tcp") else peer.transport, host, port or DEFAULT_PORT)
            if dest.transport == "tcp":
                dest = self._known_connection(dest)
        if dest is None:
            if request.method.upper() != "ACK" and txn is not None:
                if exchange is not None:        # in the ladder before the caller can see the 481
                    exchange.note("a request for a dialog this server does not know (RFC 3261 12.2.2)")
                    self.file(exchange)
                txn.respond(request.create_response(481, "Call/Transaction Does Not Exist"))
                if exchange is not None:
                    self._keep(exchange)
            return True
        if exchange is None:        # a 2xx ACK: stateless, end to end (RFC 3261 13.2.2.4, 16.11)
            exchange = self._new_exchange("ACK")
            self._incoming(exchange, peer, data)
            branch = "z9hG4bK" + hashlib.sha1(data).hexdigest()[:16]
            out.headers.insert(0, Header("Via", self._our_via(dest.transport, branch)))
            self._decrement(out)
            exchange.note("an ACK for a 2xx, forwarded end to end without a transaction (RFC 3261 16.11; "
                          "decision D93)")
            self.send(dest, out.to_bytes(), exchange)
            self._keep(exchange)
            return True
        exchange.note("a request inside a dialog: forwarded to the other side without the chain (decision D93)")
        out.headers.insert(0, Header("Via", self._our_via(dest.transport)))
        self._decrement(out)
        relay = _Relay(self, txn, exchange, out, dest)
        exchange.relay = relay
        relay.start()
        return True

    def _decrement(self, request: Request) -> None:
        mf = (request.get("Max-Forwards") or "").strip()
        if mf.isdigit():
            request.set_header("Max-Forwards", str(max(int(mf) - 1, 0)))
        else:
            request.add_header("Max-Forwards", "70")

    def _known_connection(self, peer: Peer) -> Peer:
        for d in self.dialogs.values():
            for p in (d.caller, d.callee):
                if (p.transport, p.host, p.port) == (peer.transport, peer.host, peer.port) and p.conn is not None:
                    return p
        return peer

    def close(self) -> None:
        """Stop: chains still waiting for real parties get what came so far, so no worker outlives the server."""
        self.closed = True
        self.simulated.close()
        for fork in list(self.forks):
            if not fork.future.done():
                for leg in fork.legs:
                    if not leg.done:
                        leg.refused = leg.refused or "the server stopped before this branch ended"
                fork.future.set_result(fork.branches())
        self.executor.shutdown(wait=False, cancel_futures=True)
        for exchange in list(self.exchanges.values()):
            self._keep(exchange)
        self._writer.shutdown(wait=True)     # every trace file is complete when the server has stopped


def _name_contact(response: Response, uri: str) -> None:
    """The REGISTER's 200 with ``uri`` in its Contact, the Contact's parameters (expires, gruu) kept."""
    contact = response.get("Contact")
    if contact and ">" in contact:
        response.set_header("Contact", f"<{uri}>" + contact.split(">", 1)[1])


class _Relay:
    """A request of a dialog forwarded on a client transaction; its responses go back up."""

    def __init__(self, core: ProxyCore, server_txn: ServerTransaction, exchange: Exchange, request: Request,
                 dest: Peer):
        self.core, self.server_txn, self.exchange, self.request, self.dest = core, server_txn, exchange, request, dest
        self.txn: ClientTransaction | None = None

    def start(self) -> None:
        self.txn = self.core.client_transaction(self.request, self.dest, self.exchange,
                                                on_response=self._response, on_timeout=self._timeout)
        self.txn.start()

    def _response(self, response: Response) -> None:
        if response.status_code == 100:
            return
        up = _strip_top_via(response)
        self.server_txn.respond(up)
        if response.status_code >= 200:
            key = getattr(self.exchange, "bye_dialog", None)
            if key is not None and response.status_code < 300:
                self.core.dialogs.pop(key, None)
            self.core._keep(self.exchange)

    def _timeout(self) -> None:
        self.server_txn.respond(self.server_txn.request.create_response(408, "Request Timeout"))
        self.core._keep(self.exchange)

    def cancel(self) -> None:
        if self.txn is not None and self.txn.invite and self.txn.provisional:
            self.core.client_transaction(cancel_for(self.request), self.dest, self.exchange,
                                         on_response=lambda r: None).start()
