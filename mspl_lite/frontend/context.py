"""The request in flight: what every application of the chain reads and may change.

One ``RequestContext`` lives for one simulated transaction. The applications get it in chain
order; built-in applications answer with a ``Decision`` (decisions.py), MSPL applications with
their ScriptRun, which walk.py turns into the same decisions.
"""
from __future__ import annotations

from typing import Any, MutableMapping

from .lab import Endpoint, Lab, LabServer, User, aor_of, phone_number_of
from .trace import LogLine, Note

__all__ = ["RequestContext"]


class RequestContext:
    """The request being processed, the lab, and what has been learnt so far."""

    __slots__ = ("lab", "state", "request", "received", "caller", "notes", "log", "registrations", "scratch")

    def __init__(self, lab: Lab, registrations: MutableMapping[str, tuple[Endpoint, ...]], request: Any):
        self.lab = lab
        self.registrations = registrations      # the Front End's own: a REGISTER through UserServices changes it
        self.state: LabServer = lab.server_state(registrations)
        self.request = request
        self.received = request.copy()           # as it entered the server
        self.caller: User | None = lab.user(request.get("From"))
        self.notes: list[Note] = []
        self.log: list[LogLine] = []
        self.scratch: dict[str, Any] = {}       # what a built-in remembers between its request and response steps

    # -- the target of the request ----------------------------------------------------------

    @property
    def method(self) -> str:
        """The request's method, upper case."""
        return self.request.method.upper()

    @property
    def request_uri(self) -> str:
        """The Request-URI as it is now (an application may have changed it)."""
        return self.request.request_uri

    @property
    def content_type(self) -> str:
        """The body's media type, lower case, without parameters ("" when there is none)."""
        return (self.request.get("Content-Type") or "").split(";", 1)[0].strip().lower()

    def target_number(self) -> str | None:
        """The phone number the Request-URI names (tel: or user=phone), else None."""
        return phone_number_of(self.request.request_uri)

    def target_aor(self) -> str | None:
        """user@host of the Request-URI, when it names a SIP user (not a phone number)."""
        if self.target_number() is not None:
            return None
        return aor_of(self.request.request_uri)

    def target_domain(self) -> str | None:
        """The host of the Request-URI's user@host, else None."""
        aor = aor_of(self.request.request_uri)
        if aor and "@" in aor:
            return aor.split("@", 1)[1]
        return None

    def target_user(self) -> User | None:
        """The lab user the Request-URI names by SIP address (not by number: that is RNL)."""
        aor = self.target_aor()
        return self.lab.user("sip:" + aor) if aor else None

    def caller_domain(self) -> str | None:
        """The host of the From address, else None."""
        aor = aor_of(self.request.get("From"))
        return aor.split("@", 1)[1] if aor and "@" in aor else None

    def endpoints_of(self, user: User) -> tuple[Endpoint, ...]:
        """The endpoints ``user`` is signed in on now."""
        return tuple(self.registrations.get(user.aor, ()))

    # -- notes ------------------------------------------------------------------------------

    def note(self, kind: str, text: str, source: str | None = None) -> None:
        """Add a note once (the same sentence from two places is said once)."""
        n = Note(kind=kind, text=text, source=source)  # type: ignore[arg-type]
        if n not in self.notes:
            self.notes.append(n)
