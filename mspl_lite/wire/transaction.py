"""RFC 3261 17: client and server transactions, with their timers.

A transaction is given a ``send`` function (bytes to its peer), whether its transport is
reliable, the timer values (``Timing``) and a ``Scheduler`` (``call_later(delay, fn)`` returning a
handle with ``cancel()``: an asyncio loop, or a fake clock in the tests). Over an unreliable
transport (UDP) the client retransmits (Timer A for INVITE, E otherwise) until a response comes
or Timer B / F fires (64*T1); the server answers a retransmitted request with its last response,
retransmits a non-2xx final INVITE response (Timer G) until the ACK comes or Timer H fires, and
stays around to absorb retransmissions (Timers I, J; the client's D and K). Over a reliable
transport (TCP) nothing is retransmitted and those waits are zero (17.1.1.2, 17.1.2.2, 17.2.1, 17.2.2).
After a 2xx the INVITE server transaction waits in RFC 6026's Accepted state (Timer L, 64*T1)
so that a retransmitted INVITE is not taken for a new request.
Nothing here does I/O of its own.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol

from ..sip import Request, Response

__all__ = ["Timing", "Scheduler", "ClientTransaction", "ServerTransaction", "ack_for", "cancel_for",
           "server_key", "client_key"]


@dataclass(frozen=True, slots=True)
class Timing:
    """RFC 3261 17.1.1.1's timer values, in seconds: T1 (RTT estimate), T2 (the longest
    retransmit interval for non-INVITE requests and INVITE responses), T4 (how long a message
    may stay in the network). Timers B, F, H and J are 64*T1; D is 32 s over UDP (Table 4)."""

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0
    d: float = 32.0

    @property
    def timeout(self) -> float:
        return 64 * self.t1


class Scheduler(Protocol):
    def call_later(self, delay: float, callback: Callable[[], Any]) -> Any: ...


def _branch(message: Any) -> str:
    via = (message.get_all("Via") or [""])[0]
    for param in via.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "branch":
            return value.strip()
    return ""


def _sent_by(message: Any) -> str:
    via = (message.get_all("Via") or [""])[0]
    return via.split(";", 1)[0].split(None, 1)[-1].strip().lower()


def _cseq_method(message: Any) -> str:
    parts = (message.get("CSeq") or "").split()
    return parts[-1].upper() if parts else ""


def server_key(request: Request) -> tuple[str, str, str]:
    """The key a request matches its server transaction by (RFC 3261 17.2.3): the top Via's branch
    and sent-by, and the method (an ACK matches its INVITE's transaction; a CANCEL has its own)."""
    method = request.method.upper()
    return _branch(request), _sent_by(request), "INVITE" if method == "ACK" else method


def client_key(message: Any) -> tuple[str, str]:
    """The key a response matches its client transaction by (17.1.3): top Via branch, CSeq method."""
    return _branch(message), _cseq_method(message)


def _copy_headers(request: Request, out: Request, names: tuple[str, ...]) -> None:
    for name in names:
        for value in request.get_all(name) if name == "Route" else ([request.get(name)] if request.get(name) else []):
            out.add_header(name, value)


def ack_for(request: Request, response: Response) -> Request:
    """The ACK a client transaction sends for a non-2xx final response (RFC 3261 17.1.1.3): the
    INVITE's Request-URI, top Via (same branch), From, Call-ID and Route; the response's To (its tag)."""
    ack = Request("ACK", request.request_uri)
    ack.add_header("Via", request.get_all("Via")[0])
    ack.add_header("Max-Forwards", "70")
    _copy_headers(request, ack, ("From",))
    ack.add_header("To", response.get("To") or request.get("To") or "")
    _copy_headers(request, ack, ("Call-ID",))
    ack.add_header("CSeq", f"{(request.get('CSeq') or '1').split()[0]} ACK")
    _copy_headers(request, ack, ("Route",))
    ack.add_header("Content-Length", "0")
    return ack


def cancel_for(request: Request) -> Request:
    """The CANCEL of a pending INVITE (RFC 3261 9.1): same Request-URI, top Via, From, To, Call-ID,
    CSeq number and Route."""
    cancel = Request("CANCEL", request.request_uri)
    cancel.add_header("Via", request.get_all("Via")[0])
    cancel.add_header("Max-Forwards", "70")
    _copy_headers(request, cancel, ("From", "To", "Call-ID"))
    cancel.add_header("CSeq", f"{(request.get('CSeq') or '1').split()[0]} CANCEL")
    _copy_headers(request, cancel, ("Route",))
    cancel.add_header("Content-Length", "0")
    return cancel


class _Timers:
    """The timers of one transaction, so that ending it cancels all of them."""

    def __init__(self, scheduler: Scheduler):
        self._scheduler = scheduler
        self._handles: dict[str, Any] = {}

    def start(self, name: str, delay: float, callback: Callable[[], Any]) -> None:
        self.stop(name)
        self._handles[name] = self._scheduler.call_later(delay, callback)

    def stop(self, name: str) -> None:
        handle = self._handles.pop(name, None)
        if handle is not None:
            handle.cancel()

    def stop_all(self) -> None:
        for name in list(self._handles):
            self.stop(name)


class _Transaction:
    """What both sides share: ending once, with every timer stopped, then telling the owner."""

    state: str
    _timers: _Timers
    _on_terminated: Callable[[Any], Any]

    def terminate(self) -> None:
        self._terminate()

    def _terminate(self) -> None:
        if self.state == "terminated":
            return
        self.state = "terminated"
        self._timers.stop_all()
        self._on_terminated(self)


class ServerTransaction(_Transaction):
    """The server side of one transaction (RFC 3261 17.2): INVITE (17.2.1) or non-INVITE (17.2.2)."""

    def __init__(self, request: Request, send: Callable[[bytes], Any], *, reliable: bool, timing: Timing,
                 scheduler: Scheduler, on_terminated: Callable[["ServerTransaction"], Any] = lambda t: None,
                 on_timeout: Callable[["ServerTransaction"], Any] = lambda t: None,
                 on_final: Callable[["ServerTransaction"], Any] = lambda t: None):
        self.request = request
        self.key = server_key(request)
        self.invite = request.method.upper() == "INVITE"
        self.send = send
        self.reliable = reliable
        self.timing = timing
        self.state = "proceeding" if self.invite else "trying"
        self.last_response: bytes | None = None
        self.final: Response | None = None
        self.retransmissions = 0      # responses sent again (a retransmitted request, Timer G)
        self.absorbed = 0             # retransmitted requests answered from here
        self._timers = _Timers(scheduler)
        self._on_terminated = on_terminated
        self._on_timeout = on_timeout
        self._on_final = on_final
        self._g_interval = timing.t1

    def on_retransmission(self) -> None:
        """The same request again: answer it with the last response, if there is one (17.2.1, 17.2.2);
        in the Accepted state (after a 2xx) it is absorbed silently (RFC 6026 7.1)."""
        self.absorbed += 1
        if self.last_response is not None and self.state in ("trying", "proceeding", "completed"):
            self.retransmissions += 1
            self.send(self.last_response)

    def respond(self, response: Response) -> bool:
        """Send ``response``; False when the transaction can no longer send one (already final)."""
        if self.state not in ("trying", "proceeding"):
            return False
        data = response.to_bytes()
        self.last_response = data
        self.send(data)
        status = response.status_code
        if status < 200:
            self.state = "proceeding"
            return True
        self.final = response
        if self.invite and status < 300:
            # 2xx: retransmitted end to end by the UAS, not here; RFC 6026 7.1's Accepted state
            # absorbs retransmitted INVITEs for Timer L (64*T1) instead of taking them for new ones
            self.state = "accepted"
            self._timers.start("L", self.timing.timeout, self._terminate)
        elif self.invite:
            self.state = "completed"
            if not self.reliable:
                self._timers.start("G", self._g_interval, self._timer_g)
            self._timers.start("H", self.timing.timeout, self._timer_h)
        else:
            self.state = "completed"
            self._timers.start("J", 0 if self.reliable else self.timing.timeout, self._terminate)
        if self.state != "terminated":
            self._on_final(self)
        return True

    def on_ack(self) -> None:
        """The ACK of a non-2xx final response: stop Timer G, absorb ACK copies for Timer I (17.2.1)."""
        if self.invite and self.state == "completed":
            self.state = "confirmed"
            self._timers.stop("G")
            self._timers.stop("H")
            self._timers.start("I", 0 if self.reliable else self.timing.t4, self._terminate)

    def _timer_g(self) -> None:
        if self.state != "completed" or self.last_response is None:
            return
        self.retransmissions += 1
        self.send(self.last_response)
        self._g_interval = min(2 * self._g_interval, self.timing.t2)
        self._timers.start("G", self._g_interval, self._timer_g)

    def _timer_h(self) -> None:
        if self.state == "completed":   # no ACK came: the transaction fails (17.2.1)
            self._on_timeout(self)
            self._terminate()


class ClientTransaction(_Transaction):
    """The client side of one transaction (RFC 3261 17.1): INVITE (17.1.1) or non-INVITE (17.1.2).

    ``on_response(response)`` gets every response the TU should see: provisionals, and the
    final response once (retransmissions of it are absorbed, re-ACKed for a non-2xx INVITE
    response). ``on_timeout()`` is called when Timer B or F fires with no final response.
    """

    def __init__(self, request: Request, send: Callable[[bytes], Any], *, reliable: bool, timing: Timing,
                 scheduler: Scheduler, on_response: Callable[[Response], Any],
                 on_timeout: Callable[[], Any] = lambda: None,
                 on_terminated: Callable[["ClientTransaction"], Any] = lambda t: None):
        self.request = request
        self.key = client_key(request)
        self.invite = request.method.upper() == "INVITE"
        self.send = send
        self.reliable = reliable
        self.timing = timing
        self.state = "calling" if self.invite else "trying"
        self.retransmissions = 0
        self.final: Response | None = None
        self.provisional = False
        self._data = request.to_bytes()
        self._ack: bytes | None = None
        self._timers = _Timers(scheduler)
        self._on_response = on_response
        self._on_timeout = on_timeout
        self._on_terminated = on_terminated
        self._interval = timing.t1

    def start(self) -> None:
        self.send(self._data)
        if not self.reliable:
            self._timers.start("A" if self.invite else "E", self._interval, self._retransmit)
        self._timers.start("B" if self.invite else "F", self.timing.timeout, self._timeout)

    def _retransmit(self) -> None:
        if self.invite and self.state != "calling":
            return
        if not self.invite and self.state not in ("trying", "proceeding"):
            return
        self.retransmissions += 1
        self.send(self._data)
        if self.invite:
            self._interval *= 2                                       # Timer A doubles (17.1.1.2)
            self._timers.start("A", self._interval, self._retransmit)
        else:
            # Timer E doubles up to T2; once a provisional came, it is T2 (17.1.2.2)
            self._interval = self.timing.t2 if self.state == "proceeding" else min(2 * self._interval,
                                                                                     self.timing.t2)
            self._timers.start("E", self._interval, self._retransmit)

    def _timeout(self) -> None:
        if self.invite and self.state != "calling":
            return          # Timer B only matters before a provisional (17.1.1.2); the proxy's own ring timer ends the rest
        if not self.invite and self.state not in ("trying", "proceeding"):
            return
        self._on_timeout()
        self._terminate()

    def on_response(self, response: Response) -> None:
        status = response.status_code
        if self.state == "completed":
            if self.invite and status >= 300 and self._ack is not None:
                self.send(self._ack)                                  # a retransmitted final: ACK again
            return
        if self.state == "terminated":
            return
        if status < 200:
            self.provisional = True
            if self.state in ("calling", "trying"):
                self.state = "proceeding"
                if self.invite:
                    self._timers.stop("A")
                    self._timers.stop("B")
            self._on_response(response)
            return
        self.final = response
        if self.invite and status < 300:
            self._on_response(response)
            self._terminate()                       # 2xx: the ACK is end to end, not this transaction's (17.1.1.2)
            return
        if self.invite:
            self._ack = ack_for(self.request, response).to_bytes()
            self.send(self._ack)
            self.state = "completed"
            self._timers.stop_all()
            self._on_response(response)
            self._timers.start("D", 0 if self.reliable else self.timing.d, self._terminate)
            return
        self.state = "completed"
        self._timers.stop_all()
        self._on_response(response)
        self._timers.start("K", 0 if self.reliable else self.timing.t4, self._terminate)
