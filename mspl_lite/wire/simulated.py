"""The dialog of a party the server simulates, with a real caller (decision D122).

When the lab's simulated party (an endpoint nobody plays, the gateway, voice mail, or an
application's ``Respond``) answers an INVITE from the wire with a 2xx, the server is that party's
user agent server. Its 2xx gets a Contact at the server's own address and the INVITE's
Record-Route (RFC 3261 12.1.1), so that the caller's ACK and BYE come back here (12.2.1.1); it is
sent again until the ACK comes (13.3.1.4); the dialog's requests are answered here, as that party: BYE 200 (15.1.2), an
offer 488 (14.2), INFO, MESSAGE and OPTIONS 200, what it does not do 405 (8.2.1). A request of a
dialog the server does not know still gets 481 (12.2.2), in proxy.py.

Bounded as the rest of the server's state: at most ``MAX_SIMULATED_DIALOGS`` (the least recently
used is forgotten first), each forgotten after ``DIALOG_IDLE_SECONDS`` without a request in it,
and at once when it ends (its BYE).
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..sip import Request, Response
from ..sip.message import Header

if TYPE_CHECKING:       # proxy.py imports this module
    from .proxy import Peer, ProxyCore
    from .record import Exchange
    from .transaction import ServerTransaction

__all__ = ["SimulatedDialog", "SimulatedDialogs", "MAX_SIMULATED_DIALOGS", "DIALOG_IDLE_SECONDS", "ALLOWED"]

#: Dialogs with a simulated party remembered at once, as for the real ones (proxy.MAX_DIALOGS):
#: SIPp at 300 calls a second of a few seconds each holds about a thousand.
MAX_SIMULATED_DIALOGS = 4_096
#: A dialog nobody sent a request in for this long is forgotten (its BYE then gets 481). A call
#: without session timers may last as long as it likes; a lab call that was left up for an
#: hour was most likely left by a caller that went away without its BYE.
DIALOG_IDLE_SECONDS = 3_600.0
#: What a simulated party does inside its dialog (the Allow of its 405, RFC 3261 8.2.1).
ALLOWED = ("INVITE", "ACK", "BYE", "CANCEL", "INFO", "MESSAGE", "OPTIONS", "UPDATE")

_WHY = "the server plays the simulated party that answered (decision D122)"


def _user(uri_or_header: str) -> str:
    """The user part of a SIP URI or name-addr ("" when it has none)."""
    text = uri_or_header or ""
    if "<" in text:
        text = text.split("<", 1)[1].split(">", 1)[0]
    text = text.split(":", 1)[1] if text.lower().startswith(("sip:", "sips:")) else text
    return text.split("@", 1)[0] if "@" in text else ""


def _tag(header: str | None) -> str:
    text = header or ""
    for part in (text.split(">", 1)[-1] if ">" in text else text).split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "tag":
            return value.strip()
    return ""


def dialog_key(message) -> tuple[str, frozenset]:
    """(Call-ID, {From tag, To tag}): the same from either side of the dialog."""
    return message.get("Call-ID") or "", frozenset((_tag(message.get("From")), _tag(message.get("To"))))


def _cseq(message) -> int | None:
    number = (message.get("CSeq") or "").split()[:1]
    return int(number[0]) if number and number[0].isdigit() else None


@dataclass(eq=False)
class SimulatedDialog:
    """One dialog between a real caller and a party the server simulates."""

    key: tuple[str, frozenset]
    caller: "Peer"
    contact: str                # the Contact the server gave the party's 2xx
    remote_cseq: int            # the caller's last CSeq number in the dialog (RFC 3261 12.2.2)
    last_used: float
    acked: bool = False         # the ACK of the 2xx came
    exchange: Any = None        # the INVITE's Exchange (the 2xx's retransmissions go there)
    retransmits: int = 0
    _timer: Any = field(default=None, repr=False)


class SimulatedDialogs:
    """The dialogs of ``core``'s simulated parties; every method runs on the server loop's thread."""

    def __init__(self, core: "ProxyCore"):
        self.core = core
        self.dialogs: OrderedDict[tuple, SimulatedDialog] = OrderedDict()
        self.forgotten = 0      # dropped by the bound or the idle time, not by a BYE

    def __len__(self) -> int:
        return len(self.dialogs)

    def contact(self, request: Request, transport: str) -> str:
        """The Contact of the simulated party's 2xx: the server's own address, on the caller's
        transport, with the user part of the To the caller wrote (whom it called)."""
        host = f"[{self.core.host}]" if ":" in self.core.host else self.core.host
        user = _user(request.get("To") or request.request_uri)
        return f"<sip:{user + '@' if user else ''}{host}:{self.core.port};transport={transport}>"

    def answered(self, request: Request, peer: "Peer", response: Response, exchange: "Exchange") -> SimulatedDialog:
        """A simulated party answered ``request`` (an INVITE) 2xx: ``response`` gets its Contact
        (an application's own Contact is kept) and the request's Record-Route, in order (a proxy
        before this server stays on the dialog's path); the dialog is remembered."""
        at = next((i for i, h in enumerate(response.headers) if h[0].lower() in ("content-length", "l")),
                  len(response.headers))
        added = [] if response.get_all("Record-Route") else \
            [Header("Record-Route", rr) for rr in request.get_all("Record-Route")]
        if not response.get("Contact"):
            added.append(Header("Contact", self.contact(request, peer.transport)))
        response.headers[at:at] = added
        number = _cseq(request) or 0
        dialog = SimulatedDialog(key=dialog_key(response), caller=peer, contact=response.get("Contact") or "",
                                 remote_cseq=number, last_used=self.core.clock(),
                                 exchange=exchange)
        old = self.dialogs.pop(dialog.key, None)
        if old is not None:
            self._stop(old)
        self.dialogs[dialog.key] = dialog
        while len(self.dialogs) > MAX_SIMULATED_DIALOGS:
            self._stop(self.dialogs.popitem(last=False)[1])
            self.forgotten += 1
        exchange.note(f"a simulated party answered {response.status_code}: its Contact is this server "
                      f"({dialog.contact}), so the caller's ACK and BYE come back here (RFC 3261 12.1.1; "
                      "decision D122)")
        return dialog

    def sent(self, dialog: SimulatedDialog, data: bytes) -> None:
        """The 2xx went to the caller: it goes again, T1 doubling up to T2, until the ACK comes or
        64*T1 passed (RFC 3261 13.3.1.4), over TCP too: a hop after the caller's may be UDP."""
        timing, loop = self.core.timing, self.core.loop
        began = self.core.clock()

        def again(interval: float) -> None:
            dialog._timer = None
            if dialog.acked or self.core.closed or self.dialogs.get(dialog.key) is not dialog:
                return
            if self.core.clock() - began >= timing.timeout:
                dialog.exchange.note(f"no ACK came for the simulated party's 2xx within 64*T1 "
                                     f"({timing.timeout:g} s): the server stopped sending it (RFC 3261 13.3.1.4)")
                return
            dialog.retransmits += 1
            self.core.send(dialog.caller, data, dialog.exchange)
            interval = min(2 * interval, timing.t2)
            dialog._timer = loop.call_later(interval, again, interval)

        dialog._timer = loop.call_later(timing.t1, again, timing.t1)

    def find(self, request: Request) -> SimulatedDialog | None:
        return self.dialogs.get(dialog_key(request))

    def ack(self, dialog: SimulatedDialog, peer: "Peer", data: bytes, exchange: "Exchange | None" = None) -> None:
        """The caller's ACK (of the 2xx, or of a later answer in the dialog): absorbed, as the party's
        UAS core would (RFC 3261 13.3.1.4: it stops the 2xx's retransmissions). Filed as an ACK of its
        own, unless it came on the INVITE's transaction (``exchange``)."""
        first = not dialog.acked
        dialog.acked = True
        self._stop(dialog)
        self._touch(dialog)
        if exchange is None:
            exchange = self.core._new_exchange("ACK")
            self.core._incoming(exchange, peer, data)
            exchange.note("the ACK of a 2xx a simulated party sent: absorbed here, since " + _WHY
                          if first else "an ACK in a simulated party's dialog: absorbed here (decision D122)")
            self.core._keep(exchange)

    def answer(self, dialog: SimulatedDialog, request: Request, txn: "ServerTransaction",
               exchange: "Exchange") -> None:
        """A request (not ACK, not CANCEL) in the dialog, answered as the simulated party."""
        method = request.method.upper()
        number = _cseq(request)
        self._touch(dialog)
        if number is not None and number < dialog.remote_cseq:
            status, reason, headers = 500, "Server Internal Error", [
                ("Warning", f'399 {self.core.host} "CSeq {number} is lower than {dialog.remote_cseq}, the last in '
                            'this dialog: out of order (RFC 3261 12.2.2)"')]
            why = f"its CSeq is lower than the dialog's last ({dialog.remote_cseq}): out of order (RFC 3261 12.2.2)"
        else:
            if number is not None:
                dialog.remote_cseq = number
            status, reason, headers, why = self._answer(method, request)
        if method == "BYE" and status == 200:     # gone before the caller can send anything after the 200
            self.dialogs.pop(dialog.key, None)
            self._stop(dialog)
        exchange.note(f"a {method} in a simulated party's dialog, not run through the chain: answered {status} "
                      f"{reason}, since {_WHY}: {why}")
        self.core.file(exchange)        # in the ladder before the caller can see the answer
        txn.respond(request.create_response(status, reason, headers))
        self.core._keep(exchange)

    def _answer(self, method: str, request: Request) -> tuple[int, str, list, str]:
        if method == "BYE":
            return 200, "OK", [], "the call ends (RFC 3261 15.1.2)"
        if method == "INVITE" or (method == "UPDATE" and request.body):      # an offer (or a re-INVITE asking for one)
            # it has no media: an offer cannot be answered, and the session stays as it was (14.1)
            return 488, "Not Acceptable Here", [
                ("Warning", f'399 {self.core.host} "a simulated party has no media; the session stays as it was"')], \
                "it has no media to change, and after a 488 the session stays as it was (RFC 3261 14.1, 14.2)"
        if method in ALLOWED:
            return 200, "OK", [], "it accepts what changes nothing"
        return 405, "Method Not Allowed", [("Allow", ", ".join(ALLOWED))], \
            "it does not do this inside a call (RFC 3261 8.2.1)"

    def sweep(self) -> int:
        """Forget the dialogs idle for DIALOG_IDLE_SECONDS; how many were forgotten."""
        now, gone = self.core.clock(), 0
        while self.dialogs:
            dialog = next(iter(self.dialogs.values()))      # least recently used first
            if now - dialog.last_used < DIALOG_IDLE_SECONDS:
                break
            self._stop(self.dialogs.popitem(last=False)[1])
            gone += 1
        self.forgotten += gone
        return gone

    def close(self) -> None:
        for dialog in self.dialogs.values():
            self._stop(dialog)

    def _touch(self, dialog: SimulatedDialog) -> None:
        dialog.last_used = self.core.clock()
        if self.dialogs.get(dialog.key) is dialog:
            self.dialogs.move_to_end(dialog.key)

    @staticmethod
    def _stop(dialog: SimulatedDialog) -> None:
        if dialog._timer is not None:
            dialog._timer.cancel()
            dialog._timer = None
