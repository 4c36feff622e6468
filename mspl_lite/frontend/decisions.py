"""What an application decides about a request: pass it on, route it, answer it, drop it.

Built-in applications return these; walk.py turns MSPL dispositions and managed code's calls
(dispatch.py) into the same values, so the chain treats every application alike. ``Target`` is
one place a routed request goes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .context import shared

__all__ = ["Target", "endpoint_target", "PassOn", "Route", "Answer", "Drop", "Failover", "Decision"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """Where a routed request goes: the URI it is sent to and who is there.

    ``kind``: endpoint | gateway | edge | voicemail | application | pool | acp | uri.
    ``party`` is the lab object that answers (an Endpoint, Gateway, Partner, TrustedApplication,
    ExchangeUm, Pool, Acp) or None when nobody in the lab is at that address.
    ``request_uri`` is the Request-URI on this branch (a contact, or the number for a gateway).
    """

    uri: str
    kind: str
    label: str = ""
    party: Any = None
    request_uri: str | None = None
    number: str | None = None   # the dialled number on a gateway branch

    def __repr__(self) -> str:
        return f"<Target {self.kind} {self.uri}>"


def endpoint_target(endpoint: Any, owner: str) -> Target:
    """A registered endpoint as a destination: its contact, labelled ``"<owner>: <client>"``."""
    # Shared by the endpoint's id: the Target holds the endpoint, so while it is kept no other
    # object can have that id.
    return shared(("endpoint-target", id(endpoint), owner), lambda: Target(
        uri=endpoint.contact, kind="endpoint", label=f"{owner}: {endpoint.client}", party=endpoint,
        request_uri=endpoint.contact))


@dataclass(frozen=True, slots=True, kw_only=True)
class PassOn:
    """Hand the request to the next application (the application may have changed it)."""

    action: str = "passed on"
    sentence: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """Send the request out of the server; every later application is skipped.

    ``fork``: all targets at once (parallel fork); otherwise the targets are one destination.
    """

    targets: tuple[Target, ...]
    action: str
    sentence: str = ""
    fork: bool = False

    def __post_init__(self):
        object.__setattr__(self, "targets", tuple(self.targets))


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """Answer the request with a final (or provisional) response; later applications are skipped.

    ``response``: a response message managed code built itself (ServerTransaction.SendResponse),
    sent as it is; otherwise the response is made from the request with status, reason, headers.
    """

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...] = ()
    action: str = ""
    sentence: str = ""
    response: Any = None

    def __post_init__(self):
        object.__setattr__(self, "headers", tuple(self.headers))
        if not self.action:
            object.__setattr__(self, "action", f"responded {self.status} {self.reason}")

    def response_to(self, request: Any) -> Any:
        """The response message this answer sends for ``request``."""
        if self.response is not None:
            return self.response
        return request.create_response(self.status, self.reason, self.headers)


@dataclass(frozen=True, slots=True, kw_only=True)
class Drop:
    """The request is gone: no response, no forwarding (proxyByDefault false and no action)."""

    action: str = "dropped"
    sentence: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Failover:
    """After every branch of a route failed: ``by`` (an application) routes again or answers."""

    by: str
    then: Route | Answer
    sentence: str = ""


Decision = PassOn | Route | Answer | Drop
