"""Managed code behind Dispatch: a Python handler standing in for a Microsoft.Rtc.Sip application.

An MSPL ``Dispatch("OnInvite")`` hands the request to the managed application's method
``void OnInvite(object sender, RequestReceivedEventArgs e)`` (mspl.md 4). In the simulator the
handler is a Python function ``handler(e)``; ``e`` keeps the managed names so C# samples read the
same (``e.Request.Retarget(uri)``, ``e.ServerTransaction.CreateBranch().SendRequest(e.Request)``,
``e.ServerTransaction.SendResponse(...)``), with snake_case aliases for Python habits.

The handler's calls are recorded; dispatch.py then continues the transaction: a request sent on
a branch goes on down the chain below the dispatching application (or straight to the address
given to SetDestination), a response goes back up.
"""
from __future__ import annotations

from typing import Any, Callable

from ..errors import UsageError
from .downstream import REASONS

__all__ = ["ManagedRequest", "ServerTransaction", "ClientTransaction", "RequestReceivedEventArgs",
           "DispatchHandler"]

DispatchHandler = Callable[["RequestReceivedEventArgs"], None]


class ManagedRequest:
    """Microsoft.Rtc.Sip.Request over a SIP request (a copy: the handler owns it)."""

    __slots__ = ("message", "retargeted_to", "destination")

    def __init__(self, message: Any):
        self.message = message
        self.retargeted_to: str | None = None
        self.destination: str | None = None

    def __repr__(self) -> str:
        return f"<ManagedRequest {self.message.method} {self.message.request_uri}>"

    # -- fields ---------------------------------------------------------------------------

    @property
    def Method(self) -> str:
        """The request's method ("INVITE")."""
        return self.message.method

    @property
    def RequestUri(self) -> str:
        """The Request-URI (settable)."""
        return self.message.request_uri

    @RequestUri.setter
    def RequestUri(self, uri: str) -> None:
        self.message.request_uri = uri

    @property
    def Content(self) -> str:
        """The body as text (settable)."""
        return self.message.content

    @Content.setter
    def Content(self, text: str) -> None:
        self.message.set_body(text.encode("utf-8"))

    @property
    def AllHeaders(self) -> list:
        """Every header, in order."""
        return list(self.message.headers)

    def FindHeader(self, name: str) -> str | None:
        """The first value of a header (None when absent)."""
        return self.message.get(name)

    def AddHeader(self, name: str, value: str) -> None:
        """Append a header."""
        self.message.add_header(name, value)

    # -- actions --------------------------------------------------------------------------

    def Retarget(self, target_user_uri: str) -> None:
        """Request.Retarget: set a new logical target user; routing is left to the server (MSIP Request.xml).

        The Request-URI follows the new target; the To header keeps the original user (as
        RetargetRequest does, Dn439073).
        """
        if not isinstance(target_user_uri, str) or not target_user_uri:
            raise UsageError("Retarget needs the target user's SIP URI, e.g. 'sip:bob@contoso.com'")
        self.message.request_uri = target_user_uri
        self.retargeted_to = target_user_uri

    def SetDestination(self, uri: str) -> None:
        """Send this request straight to ``uri`` when it is sent (the managed SetDestination(ContactInfo),
        simplified to a URI): no later application routes it."""
        self.destination = uri

    def Clone(self, target_uri: str | None = None) -> "ManagedRequest":
        """A copy of this request (for another branch), optionally with another Request-URI."""
        copy = ManagedRequest(self.message.copy())
        if target_uri:
            copy.message.request_uri = target_uri
        return copy

    def CreateResponse(self, status: int, reason: str | None = None) -> Any:
        """A response to this request; the reason phrase defaults to the usual one for ``status``."""
        return self.message.create_response(status, reason or REASONS.get(status, ""))

    # Pythonic aliases
    retarget = Retarget
    set_destination = SetDestination
    clone = Clone
    create_response = CreateResponse
    find_header = FindHeader
    add_header = AddHeader

    @property
    def request_uri(self) -> str:
        """The Request-URI (snake_case alias, read only)."""
        return self.message.request_uri


class ClientTransaction:
    """Microsoft.Rtc.Sip.ClientTransaction: one branch the handler sends a request on."""

    __slots__ = ("server_transaction", "sent")

    def __init__(self, server_transaction: "ServerTransaction"):
        self.server_transaction = server_transaction
        self.sent: ManagedRequest | None = None

    def __repr__(self) -> str:
        return f"<ClientTransaction sent={self.sent!r}>"

    def SendRequest(self, request: ManagedRequest) -> None:
        """Send ``request`` (e.Request or a Clone) on this branch; once per branch."""
        if self.sent is not None:
            raise UsageError("a ClientTransaction sends one request; call CreateBranch() again for another")
        if not isinstance(request, ManagedRequest):
            raise UsageError("SendRequest takes e.Request (or a Clone of it)")
        self.sent = request

    send_request = SendRequest


class ServerTransaction:
    """Microsoft.Rtc.Sip.ServerTransaction: answer the request, or send it on new branches."""

    __slots__ = ("request", "branches", "responses", "EnableForking")

    def __init__(self, request: ManagedRequest):
        self.request = request
        self.branches: list[ClientTransaction] = []
        self.responses: list[Any] = []
        self.EnableForking = False

    def __repr__(self) -> str:
        return f"<ServerTransaction branches={len(self.branches)} responses={len(self.responses)}>"

    def CreateBranch(self) -> ClientTransaction:
        """A new branch to send the request on; a second one needs EnableForking = True."""
        if self.branches and not self.EnableForking:
            raise UsageError("a second branch needs ServerTransaction.EnableForking = True")
        branch = ClientTransaction(self)
        self.branches.append(branch)
        return branch

    def SendResponse(self, response: Any, reason: str | None = None) -> None:
        """SendResponse(Response) -- or SendResponse(status, reason) as a shortcut."""
        if isinstance(response, int):
            response = self.request.CreateResponse(response, reason)
        self.responses.append(response)

    create_branch = CreateBranch
    send_response = SendResponse


class RequestReceivedEventArgs:
    """What the managed method gets: ``e.Request``, ``e.ServerTransaction``, ``e.Parameters``."""

    __slots__ = ("Request", "ServerTransaction", "Parameters", "MethodName")

    def __init__(self, request: Any, method_name: str, parameters: tuple = ()):
        self.Request = ManagedRequest(request.copy())
        self.ServerTransaction = ServerTransaction(self.Request)
        self.Parameters = tuple(parameters)
        self.MethodName = method_name

    def __repr__(self) -> str:
        return f"<RequestReceivedEventArgs {self.MethodName} {self.Request!r}>"

    @property
    def request(self) -> ManagedRequest:
        """e.Request (snake_case alias)."""
        return self.Request

    @property
    def server_transaction(self) -> ServerTransaction:
        """e.ServerTransaction (snake_case alias)."""
        return self.ServerTransaction
