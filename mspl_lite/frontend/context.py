"""The request in flight: what every application of the chain reads and may change.

One ``RequestContext`` lives for one simulated transaction. The applications get it in chain
order; built-in applications answer with a ``Decision`` (decisions.py), MSPL applications with
their ScriptRun, which walk.py turns into the same decisions.
"""
from __future__ import annotations

from typing import Any, Callable, MutableMapping

from .lab import Endpoint, Lab, LabServer, User, aor_of, phone_number_of
from .trace import Changes, HeaderChange, LogLine, Note

__all__ = ["RequestContext", "changes", "shared"]


#: Trace values that are equal from one transaction to the next -- an application skipped by its
#: filter or below the decision, a built-in that passed the request on unchanged, "nothing
#: changed" -- are frozen, so ``shared`` builds each once and traces share it: a transaction has
#: about twenty of them, and building one costs more than finding it. At most _SHARED of them
#: (a replay's variety, bounded) and none whose key holds more than _SHARED_TEXT characters of
#: text (a 64 KB Request-URI is not kept): past either limit a value is built every time.
_SHARED = 8192
_SHARED_TEXT = 1024
_shared: dict[tuple, Any] = {}


def shared(key: tuple, build: Callable[[], Any]) -> Any:
    """The value ``build()`` gives, built once per ``key``. ``key`` must hold every input of
    ``build`` (and say which call site it is), and the value must be frozen."""
    value = _shared.get(key)
    if value is None:
        value = build()
        if len(_shared) < _SHARED and sum(len(k) for k in key if type(k) is str) <= _SHARED_TEXT:
            _shared[key] = value
    return value


def changes(before: Any, after: Any) -> Changes:
    """``Changes.between(before, after)``; when nothing changed (most applications on most
    messages) the same value without the header diff, shared."""
    if before.headers == after.headers and before.body == after.body:
        uri_before = getattr(before, "request_uri", None)
        uri_after = getattr(after, "request_uri", None)
        if uri_before != uri_after:     # a new Request-URI alone (between would say the same)
            return Changes(request_uri_before=uri_before, request_uri_after=uri_after)
        same = _shared.get(("unchanged", uri_before))    # shared(), without building its lambda
        if same is not None:
            return same
        return shared(("unchanged", uri_before), lambda: Changes(request_uri_before=uri_before,
                                                                 request_uri_after=uri_after))
    b_headers, a_headers = before.headers, after.headers
    if len(b_headers) == len(a_headers):
        # One header's value changed in place (a Content-Length, a parameter): what between()
        # finds then -- the multiset difference is that one pair -- without its quadratic search.
        changed = [i for i in range(len(b_headers)) if b_headers[i] != a_headers[i]]
        if len(changed) == 1 and b_headers[changed[0]][0] == a_headers[changed[0]][0]:
            b, a = b_headers[changed[0]], a_headers[changed[0]]
            b_body, a_body = before.content, after.content
            body_changed = b_body != a_body
            return Changes(request_uri_before=getattr(before, "request_uri", None),
                           request_uri_after=getattr(after, "request_uri", None),
                           headers=(HeaderChange(name=b[0], before=b[1], after=a[1]),),
                           body_before=b_body if body_changed else None,
                           body_after=a_body if body_changed else None)
    return Changes.between(before, after)


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
