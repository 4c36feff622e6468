"""A small SIP user agent over UDP on loopback, for notebooks and tests without SIPp.

``UserAgent("sip:jennyl@contoso.com")`` binds 127.0.0.1 on a free port. As a UAC it sends a
request to a server and collects the responses (``request``, ``invite``, ``register``); as a UAS
it answers the requests it receives as told (``answer=(180, 200)``: ring, then answer; ``486``:
busy; ``ring=`` seconds before the final response). What it returns prints without ports, times
or random ids (``Exchange.summary()``), so a notebook's output is the same on every run.
"""
from __future__ import annotations

import itertools
import queue
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Iterable

from ..errors import SipParseError, UsageError
from ..sip import Request, Response, parse_message
from .addresses import is_loopback
from .transaction import Timing, cancel_for

__all__ = ["UserAgent", "Exchange", "MAX_RECEIVED"]

#: Requests a UserAgent keeps in ``received`` (a notebook looks at the last few).
MAX_RECEIVED = 100
_REASONS = {100: "Trying", 180: "Ringing", 183: "Session Progress", 200: "OK", 202: "Accepted", 404: "Not Found",
            480: "Temporarily Unavailable", 481: "Call/Transaction Does Not Exist", 486: "Busy Here",
            487: "Request Terminated", 488: "Not Acceptable Here", 500: "Server Internal Error", 603: "Decline"}


@dataclass
class Exchange:
    """One request this agent sent and the responses it got, in order."""

    request: Request
    responses: list[Response] = field(default_factory=list)
    timed_out: bool = False
    cancel: "Exchange | None" = None   # the CANCEL this agent sent for it (send(cancel_after=...))

    @property
    def final(self) -> Response | None:
        return next((r for r in reversed(self.responses) if r.status_code >= 200), None)

    @property
    def status(self) -> int | None:
        return self.final.status_code if self.final is not None else None

    def summary(self) -> str:
        """``"INVITE -> 100 Trying, 180 Ringing, 200 OK"``: no ports, no times."""
        got = ", ".join(f"{r.status_code} {r.reason}" for r in self.responses) or "no response"
        return f"{self.request.method} -> {got}" + (" (timed out)" if self.timed_out else "")

    def __repr__(self) -> str:
        return f"<Exchange {self.summary()}>"


class UserAgent:
    """A UAC and UAS on one UDP socket on 127.0.0.1 (see the module docstring); a context manager."""

    def __init__(self, user: str = "sip:alice@contoso.com", *, host: str = "127.0.0.1", port: int = 0,
                 answer: int | Iterable[int] = (180, 200), ring: float = 0.0, timing: Timing = Timing()):
        if not is_loopback(host):
            raise UsageError(f"UserAgent(host={host!r}): the agent binds loopback addresses only (127.0.0.1, ::1)")
        self.user = user
        self.answer = (answer,) if isinstance(answer, int) else tuple(answer)
        self.ring = ring
        self.timing = timing
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.sock.settimeout(0.1)
        self.host, self.port = self.sock.getsockname()[:2]
        self.received: list[Request] = []
        self._pending: dict[tuple[str, str], queue.Queue] = {}
        self._answering: dict[str, threading.Event] = {}  # INVITE branch -> set when CANCELled
        self._ids = itertools.count(1)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._receive_loop, name=f"ua-{self.port}", daemon=True)
        self._thread.start()

    def __enter__(self) -> "UserAgent":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<UserAgent {self.user}>"

    @property
    def contact(self) -> str:
        return f"sip:{self.user.split(':', 1)[1].split('@', 1)[0]}@{self.host}:{self.port};transport=udp"

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def close(self) -> None:
        self._closed.set()
        self._thread.join(2)
        self.sock.close()

    # -- UAC ------------------------------------------------------------------------------------

    def new_request(self, method: str, uri: str, *, to: str | None = None, headers: Iterable[tuple[str, str]] = (),
                    body: str = "", content_type: str = "application/sdp", call_id: str | None = None,
                    cseq: int = 1) -> Request:
        n = next(self._ids)
        request = Request(method.upper(), uri)
        request.add_header("Via", f"SIP/2.0/UDP {self.host}:{self.port};branch=z9hG4bK-ua{self.port}-{n};rport")
        request.add_header("Max-Forwards", "70")
        request.add_header("From", f"<{self.user}>;tag=ua{self.port}t{n}")
        request.add_header("To", to or f"<{uri}>")
        request.add_header("Call-ID", call_id or f"ua{self.port}-{n}@{self.host}")
        request.add_header("CSeq", f"{cseq} {method.upper()}")
        request.add_header("Contact", f"<{self.contact}>")
        for name, value in headers:
            request.add_header(name, value)
        if body:
            request.set_body(body.encode("utf-8"), content_type)
        else:
            request.add_header("Content-Length", "0")
        return request

    def send(self, request: Request, server: tuple[str, int], *, timeout: float = 10.0,
             cancel_after: float | None = None) -> Exchange:
        """Send ``request`` to ``server`` and wait for its final response (retransmitting over UDP:
        Timer A/E, RFC 3261 17.1); a non-2xx final response to an INVITE is ACKed, a 2xx too
        (end to end, 13.2.2.4). ``cancel_after``: send CANCEL that many seconds after the first
        provisional response (RFC 3261 9.1: not before one), then wait for the INVITE's 487."""
        if not is_loopback(server[0]):
            raise UsageError(f"UserAgent.send(server={server!r}): loopback servers only")
        branch = (_branch(request), request.method.upper())
        replies: queue.Queue = queue.Queue()
        self._pending[branch] = replies
        exchange = Exchange(request)
        data = request.to_bytes()
        cancel_at, cancelled = None, False
        self.sock.sendto(data, server)
        interval, deadline, retransmit_at = self.timing.t1, time.monotonic() + timeout, time.monotonic() + self.timing.t1
        try:
            while True:
                now = time.monotonic()
                if now >= deadline:
                    exchange.timed_out = True
                    return exchange
                if cancel_at is not None and now >= cancel_at and not cancelled:
                    cancelled = True
                    exchange.cancel = self.send(cancel_for(request), server, timeout=max(deadline - now, 0.1))
                    continue
                wake = min(deadline, retransmit_at, cancel_at if cancel_at is not None and not cancelled else deadline)
                try:
                    response = replies.get(timeout=max(0.0, wake - now))
                except queue.Empty:
                    if not exchange.responses and time.monotonic() >= retransmit_at:
                        self.sock.sendto(data, server)
                        interval = interval * 2 if request.method == "INVITE" else min(interval * 2, self.timing.t2)
                        retransmit_at = time.monotonic() + interval
                    continue
                exchange.responses.append(response)
                if cancel_after is not None and response.status_code < 200 and cancel_at is None:
                    cancel_at = time.monotonic() + cancel_after
                if response.status_code >= 200:
                    if request.method == "INVITE":
                        self.sock.sendto(self._ack(request, response).to_bytes(), server)
                    return exchange
                retransmit_at = deadline
        finally:
            self._pending.pop(branch, None)

    def request(self, method: str, uri: str, server: tuple[str, int], **kw) -> Exchange:
        timeout, cancel_after = kw.pop("timeout", 10.0), kw.pop("cancel_after", None)
        return self.send(self.new_request(method, uri, **kw), server, timeout=timeout, cancel_after=cancel_after)

    def invite(self, uri: str, server: tuple[str, int], **kw) -> Exchange:
        kw.setdefault("body", "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                              "m=audio 9 RTP/AVP 0\r\n")
        return self.request("INVITE", uri, server, **kw)

    def register(self, server: tuple[str, int], *, expires: int = 600, aor: str | None = None, **kw) -> Exchange:
        """REGISTER this agent's contact for ``aor`` (its user) at ``server``; ``expires=0`` signs out."""
        aor = aor or self.user
        domain = aor.split("@", 1)[1] if "@" in aor else aor
        headers = [("Expires", str(expires))] + list(kw.pop("headers", ()))
        return self.request("REGISTER", f"sip:{domain}", server, to=f"<{aor}>", headers=headers, **kw)

    def bye(self, invite: Exchange, server: tuple[str, int], **kw) -> Exchange:
        """End the call ``invite`` set up (a BYE in its dialog, sent via ``server``)."""
        final = invite.final
        if final is None or not 200 <= final.status_code < 300:
            raise UsageError("bye() needs an INVITE answered 2xx")
        request = self.new_request("BYE", _remote_target(final, invite.request), to=final.get("To"),
                                   call_id=invite.request.get("Call-ID"), cseq=2)
        request.set_header("From", invite.request.get("From"))
        for rr in reversed(final.get_all("Record-Route")):
            request.add_header("Route", rr)
        return self.send(request, server, **kw)

    def _ack(self, request: Request, response: Response) -> Request:
        # A 2xx's ACK is a request of the dialog, sent to its remote target, the 2xx's Contact (RFC 3261
        # 13.2.2.4, 12.2.1.1); a non-2xx's ACK has the INVITE's Request-URI (17.1.1.3).
        ok = 200 <= response.status_code < 300
        ack = Request("ACK", _remote_target(response, request) if ok else request.request_uri)
        if ok:
            ack.add_header("Via", f"SIP/2.0/UDP {self.host}:{self.port};branch=z9hG4bK-ua{self.port}-"
                                  f"{next(self._ids)};rport")
        else:
            ack.add_header("Via", request.get("Via"))
        ack.add_header("Max-Forwards", "70")
        ack.add_header("From", request.get("From"))
        ack.add_header("To", response.get("To"))
        ack.add_header("Call-ID", request.get("Call-ID"))
        ack.add_header("CSeq", f"{request.get('CSeq').split()[0]} ACK")
        if 200 <= response.status_code < 300:
            for rr in reversed(response.get_all("Record-Route")):
                ack.add_header("Route", rr)
        ack.add_header("Content-Length", "0")
        return ack

    # -- UAS and the socket -------------------------------------------------------------------

    def _receive_loop(self) -> None:
        while not self._closed.is_set():
            try:
                data, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                message = parse_message(data)
            except SipParseError:
                continue
            if isinstance(message, Response):
                pending = self._pending.get((_branch(message), (message.get("CSeq") or " ").split()[-1].upper()))
                if pending is not None:
                    pending.put(message)
                continue
            if len(self.received) >= MAX_RECEIVED:
                del self.received[0]
            self.received.append(message)
            self._answer(message, peer)

    def _answer(self, request: Request, peer) -> None:
        method = request.method.upper()
        if method == "ACK":
            return
        if method == "CANCEL":
            self._reply(request, 200, peer)
            event = self._answering.get(_branch(request))
            if event is not None:
                event.set()
            return
        if method != "INVITE":
            self._reply(request, 200, peer)
            return
        branch = _branch(request)
        if branch in self._answering:
            return          # a retransmission: the answer is on its way
        cancelled = threading.Event()
        self._answering[branch] = cancelled
        threading.Thread(target=self._answer_invite, args=(request, peer, cancelled), daemon=True).start()

    def _answer_invite(self, request: Request, peer, cancelled: threading.Event) -> None:
        try:
            for status in self.answer:
                if status >= 200 and self.ring and cancelled.wait(self.ring):
                    self._reply(request, 487, peer)
                    return
                if cancelled.is_set():
                    self._reply(request, 487, peer)
                    return
                self._reply(request, status, peer)
        finally:
            if len(self._answering) > MAX_RECEIVED:
                self._answering.clear()

    def _reply(self, request: Request, status: int, peer) -> None:
        response = request.create_response(status, _REASONS.get(status, "Unknown"))
        if 200 <= status < 300 and request.method.upper() == "INVITE":
            response.add_header("Contact", f"<{self.contact}>")
            for rr in request.get_all("Record-Route"):
                response.add_header("Record-Route", rr)
        try:
            self.sock.sendto(response.to_bytes(), peer)
        except OSError:
            pass


def _branch(message) -> str:
    via = (message.get_all("Via") or [""])[0]
    for part in via.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "branch":
            return value.strip()
    return ""


def _remote_target(final: Response, request: Request) -> str:
    """The dialog's remote target: the URI in the 2xx's Contact, else the request's Request-URI."""
    contact = final.get("Contact") or ""
    if "<" in contact:
        return contact.split("<", 1)[1].split(">", 1)[0]
    return contact.split(";", 1)[0].strip() or request.request_uri
