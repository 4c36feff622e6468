"""The request in flight: what every application of the chain reads and may change.

One ``RequestContext`` lives for one simulated transaction. The applications get it in chain
order; built-in applications answer with a ``Decision`` (decisions.py), MSPL applications with
their ScriptRun, which simulate.py turns into the same decisions.
"""
from __future__ import annotations

from typing import Any, Mapping

from .lab import Endpoint, Lab, LabServer, User, aor_of, phone_number_of
from .trace import LogLine, Note

__all__ = ["RequestContext"]


class RequestContext:
    """The request being processed, the lab, and what has been learnt so far."""

    __slots__ = ("lab", "state", "request", "received", "caller", "notes", "log",
                 "registrations", "retargeted_by", "original_to", "scratch")

    def __init__(self, lab: Lab, registrations: Mapping[str, tuple[Endpoint, ...]], request: Any):
        self.lab = lab
        self.registrations = registrations
        self.state: LabServer = lab.server_state(registrations)
        self.request = request
        self.received = request.copy()           # as it entered the server
        self.caller: User | None = lab.user(request.get("From"))
        self.notes: list[Note] = []
        self.log: list[LogLine] = []
        self.retargeted_by: str | None = None
        self.original_to = request.get("To")
        self.scratch: dict[str, Any] = {}       # what a built-in remembers between its request and response steps

    # -- the target of the request ----------------------------------------------------------

    @property
    def method(self) -> str:
        return self.request.method.upper()

    @property
    def request_uri(self) -> str:
        return self.request.request_uri

    def target_number(self) -> str | None:
        """The phone number the Request-URI names (tel: or user=phone), else None."""
        return phone_number_of(self.request.request_uri)

    def target_aor(self) -> str | None:
        """user@host of the Request-URI, when it names a SIP user (not a phone number)."""
        if self.target_number() is not None:
            return None
        return aor_of(self.request.request_uri)

    def target_domain(self) -> str | None:
        aor = aor_of(self.request.request_uri)
        if aor and "@" in aor:
            return aor.split("@", 1)[1]
        return None

    def target_user(self) -> User | None:
        """The lab user the Request-URI names by SIP address (not by number: that is RNL)."""
        aor = self.target_aor()
        return self.lab.user("sip:" + aor) if aor else None

    def caller_domain(self) -> str | None:
        aor = aor_of(self.request.get("From"))
        return aor.split("@", 1)[1] if aor and "@" in aor else None

    def endpoints_of(self, user: User) -> tuple[Endpoint, ...]:
        return tuple(self.registrations.get(user.aor, ()))

    # -- notes ------------------------------------------------------------------------------

    def note(self, kind: str, text: str, source: str | None = None) -> None:
        """Add a note once (the same sentence from two places is said once)."""
        n = Note(kind=kind, text=text, source=source)  # type: ignore[arg-type]
        if n not in self.notes:
            self.notes.append(n)
