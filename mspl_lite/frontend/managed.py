"""Managed code behind Dispatch: a Python handler standing in for a Microsoft.Rtc.Sip application.

An MSPL ``Dispatch("OnInvite")`` hands the request to the managed application's method
``void OnInvite(object sender, RequestReceivedEventArgs e)`` (dn439142; the Microsoft.Rtc.Sip
reference, msip-request). In the simulator the handler is a Python function ``handler(e)``; ``e``
keeps the members the reference documents, so a C# sample reads the same:
``e.Request.Retarget(uri)``, ``e.Request.AllHeaders.Add(Header(name, value))``,
``e.ServerTransaction.CreateBranch().SendRequest(e.Request)``,
``e.ServerTransaction.SendResponse(e.Request.CreateResponse(486))``. A name the reference does not
have (``e.Request.AddHeader``, ``SendResponse(486)``) is refused with the documented form.

The handler's calls are recorded; dispatch.py then continues the transaction: a request sent on
a branch goes on down the chain below the dispatching application (after Retarget), or straight
to the address given to SetDestination or written to RequestUri (decision D73); a response goes
back up.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

from ..errors import UsageError
from .downstream import REASONS

__all__ = ["ManagedRequest", "ManagedResponse", "Header", "HeaderCollection", "ServerTransaction",
           "ClientTransaction", "RequestReceivedEventArgs", "DispatchHandler"]

DispatchHandler = Callable[["RequestReceivedEventArgs"], None]


class Header:
    """Microsoft.Rtc.Sip.Header: ``Header(type, value)``; ``Type`` and ``Value`` (msip-header)."""

    __slots__ = ("Type", "Value")

    def __init__(self, type: str, value: str = ""):
        if not isinstance(type, str) or not type or any(c in type for c in " :\r\n"):
            raise UsageError(f"Header needs a header name such as \"ms-application-aor\", not {type!r}")
        self.Type = type
        self.Value = str(value)

    def __repr__(self) -> str:
        return f"<Header {self.Type}: {self.Value}>"


class HeaderCollection:
    """Microsoft.Rtc.Sip.HeaderCollection over the request's headers: Add, FindFirst, Count (msip-header)."""

    __slots__ = ("_message",)

    def __init__(self, message: Any):
        self._message = message

    def Add(self, header: Header) -> int:
        """Append ``header``; returns its index, as the reference's ``int Add(Header h)``."""
        if not isinstance(header, Header):
            raise UsageError("AllHeaders.Add takes a Header: e.Request.AllHeaders.Add(Header(name, value))")
        self._message.add_header(header.Type, header.Value)
        return len(self._message.headers) - 1

    def FindFirst(self, type: str) -> Header | None:
        """The first header of that name, or None."""
        value = self._message.get(type)
        return None if value is None else Header(type, value)

    @property
    def Count(self) -> int:
        return len(self._message.headers)

    def __iter__(self) -> Iterator[Header]:
        return iter([Header(h[0], h[1]) for h in self._message.headers])

    def __len__(self) -> int:
        return self.Count

    add = Add
    find_first = FindFirst


class ManagedResponse:
    """Microsoft.Rtc.Sip.Response made by ``Request.CreateResponse(statusCode)``: StatusCode, ReasonPhrase."""

    __slots__ = ("message",)

    def __init__(self, message: Any):
        self.message = message

    def __repr__(self) -> str:
        return f"<ManagedResponse {self.StatusCode} {self.ReasonPhrase}>"

    @property
    def StatusCode(self) -> int:
        return self.message.status_code

    @property
    def ReasonPhrase(self) -> str:
        return self.message.reason

    @ReasonPhrase.setter
    def ReasonPhrase(self, text: str) -> None:
        self.message.reason = str(text)

    @property
    def AllHeaders(self) -> HeaderCollection:
        return HeaderCollection(self.message)


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
        """The Request-URI. Setting it "implies that the actual destination address is provided"
        (msip-request): the request then goes straight there (decision D73)."""
        return self.message.request_uri

    @RequestUri.setter
    def RequestUri(self, uri: str) -> None:
        self.message.request_uri = uri
        self.destination = uri

    @property
    def Content(self) -> str:
        """The body as text (settable)."""
        return self.message.content

    @Content.setter
    def Content(self, text: str) -> None:
        self.message.set_body(text.encode("utf-8"))

    @property
    def AllHeaders(self) -> HeaderCollection:
        """Every header, as Message.AllHeaders: ``Add(Header(...))``, ``FindFirst(name)``."""
        return HeaderCollection(self.message)

    def AddHeader(self, *args: Any) -> None:
        """Not a member of Microsoft.Rtc.Sip.Request: refused with the documented form."""
        raise UsageError("Microsoft.Rtc.Sip.Request has no AddHeader method (msip-request); write "
                         "e.Request.AllHeaders.Add(Header(name, value)), in C# "
                         "e.Request.AllHeaders.Add(new Header(name, value))")

    def FindHeader(self, *args: Any) -> None:
        """Not a member of Microsoft.Rtc.Sip.Request: refused with the documented form."""
        raise UsageError("Microsoft.Rtc.Sip.Request has no FindHeader method (msip-request); write "
                         "e.Request.AllHeaders.FindFirst(name), which returns a Header (its .Value) or None")

    # -- actions --------------------------------------------------------------------------

    def Retarget(self, target_user_uri: str) -> None:
        """Request.Retarget: "Sets a new target user (logical destination) for the request." (msip-request)

        The Request-URI follows the new target; the To header keeps the original user, as
        RetargetRequest does (Dn439073; for the managed method decision D5).
        """
        if not isinstance(target_user_uri, str) or not target_user_uri:
            raise UsageError("Retarget needs the target user's SIP URI, e.g. 'sip:bob@contoso.com'")
        self.message.request_uri = target_user_uri
        self.retargeted_to = target_user_uri
        self.destination = None

    def SetDestination(self, uri: str) -> None:
        """Send this request straight to ``uri`` when it is sent: no later application routes it.

        The managed SetDestination takes a ContactInfo, which "can only be received as a parameter
        from SPL to the Dispatch handler" (msip-request); the simulator takes its URI instead.
        """
        self.destination = uri

    def Clone(self, target_uri: str | None = None) -> "ManagedRequest":
        """A copy of this request (for another branch), optionally with another Request-URI."""
        copy = ManagedRequest(self.message.copy())
        if target_uri:
            copy.message.request_uri = target_uri
        return copy

    def CreateResponse(self, status: int) -> ManagedResponse:
        """``CreateResponse(int statusCode)``; set ``ReasonPhrase`` to change the usual reason phrase."""
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 699:
            raise UsageError(f"CreateResponse takes a status code from 100 to 699, not {status!r}")
        return ManagedResponse(self.message.create_response(status, REASONS.get(status, "")))

    # Pythonic aliases
    retarget = Retarget
    set_destination = SetDestination
    clone = Clone
    create_response = CreateResponse

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
            raise UsageError("Cannot send two requests on the same transaction. (ApiLogger, Dn439089): "
                             "call CreateBranch() again for another")
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
        self.EnableForking = True   # "By default, EnableForking is set to true." (Dn439089)

    def __repr__(self) -> str:
        return f"<ServerTransaction branches={len(self.branches)} responses={len(self.responses)}>"

    def CreateBranch(self) -> ClientTransaction:
        """A new branch to send the request on; a second one needs EnableForking = True."""
        if self.branches and not self.EnableForking:
            raise UsageError("Cannot proxy more than once if ServerTransaction.EnableForking is set to false. "
                             "(ApiLogger, Dn439089)")
        branch = ClientTransaction(self)
        self.branches.append(branch)
        return branch

    def SendResponse(self, response: ManagedResponse) -> None:
        """``SendResponse(Response response)`` (msip-request): make it with e.Request.CreateResponse(code)."""
        if not isinstance(response, ManagedResponse):
            raise UsageError(f"SendResponse takes a Response, not {response!r}: "
                             "e.ServerTransaction.SendResponse(e.Request.CreateResponse(486))")
        self.responses.append(response.message)

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
