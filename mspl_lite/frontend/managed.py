"""Managed code behind Dispatch: a Python handler standing in for a Microsoft.Rtc.Sip application.

An MSPL ``Dispatch("OnInvite")`` hands the request to the managed application's method
``void OnInvite(object sender, RequestReceivedEventArgs e)`` (dn439142; the Microsoft.Rtc.Sip
reference, msip-request). In the simulator the handler is a Python function ``handler(e)``; ``e``
keeps the members the reference documents, so a C# sample reads the same:
``e.Request.Retarget(uri)``, ``e.Request.AllHeaders.Add(Header(name, value))``,
``e.ServerTransaction.CreateBranch().SendRequest(e.Request)``,
``e.ServerTransaction.SendResponse(e.Request.CreateResponse(486))``. A name the reference does not
have (``e.Request.AddHeader``, ``SendResponse(486)``) is refused with the documented form; a misuse
raises what .NET would (``ArgumentNullException`` for ``SendResponse(None)``), which inside a
handler is a fault of the handler, shown in the trace with its line (decision D74).

The handler's calls are recorded; dispatch.py then continues the transaction: a request sent on
a branch goes on down the chain below the dispatching application (after Retarget), or straight
to the address given to SetDestination or written to RequestUri (decision D73); a response goes
back up.
"""
from __future__ import annotations

import os
import traceback
from typing import Any, Callable, Iterator, NamedTuple

from ..errors import UsageError
from ..sip import Response
from ..text import shown
from .downstream import REASONS

__all__ = ["ManagedRequest", "ManagedResponse", "Header", "HeaderCollection", "ServerTransaction",
           "ClientTransaction", "RequestReceivedEventArgs", "DispatchHandler", "ArgumentException",
           "ArgumentNullException", "InvalidOperationException", "HandlerFault", "handler_fault"]

DispatchHandler = Callable[["RequestReceivedEventArgs"], None]


# ---------------------------------------------------------------------------------------------
# What .NET throws at a misuse of Microsoft.Rtc.Sip (decision D74)
#
# The stand-ins raise the exception the managed API would, with its .NET message, so that inside
# a handler a misuse is a fault of the handler (in the trace, with the handler's line), as a
# managed application's exception is; called outside a handler it is still a UsageError.


class ArgumentException(UsageError):
    """System.ArgumentException: an argument of the wrong kind (CreateBranch with EnableForking
    false throws it, Dn439071)."""


class ArgumentNullException(ArgumentException):
    """System.ArgumentNullException: ``None`` where the API needs an object."""

    def __init__(self, parameter: str, hint: str = ""):
        # .NET's own text: "Value cannot be null.", then "Parameter name: <name>".
        super().__init__(f"Value cannot be null. Parameter name: {parameter}" + (f" ({hint})" if hint else ""))
        self.parameter = parameter


class InvalidOperationException(UsageError):
    """System.InvalidOperationException: a call the transaction's state does not allow
    (the ApiLogger messages of Dn439089)."""


def _not_null(value: Any, parameter: str, hint: str = "") -> None:
    if value is None:
        raise ArgumentNullException(parameter, hint)


class HandlerFault(NamedTuple):
    """Where and how a learner's handler failed: the last frame of the traceback in the learner's code."""

    exception: str       # "ValueError: oops" (printable, bounded)
    filename: str        # the handler's file ("<cell 12>" in a notebook)
    line: int            # 0 when no frame is outside mspl_lite
    function: str
    source: str | None   # the line's text

    def where(self) -> str:
        """``file line N, in function`` or "" when unknown."""
        return f"{self.filename} line {self.line}, in {self.function}" if self.line else ""


#: A handler's exception text is shown up to this many characters: an exception carrying a
#: whole message (or a megabyte of text) must not swamp the trace.
MAX_FAULT_TEXT = 500

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def handler_fault(exc: BaseException) -> HandlerFault:
    """The fault of a learner's handler: its exception and the last traceback frame in user code.

    Frames inside mspl_lite (the stand-ins that raised ArgumentNullException, ...) are passed
    over, so the line shown is the learner's call, as a .NET stack trace's top user frame is.
    """
    try:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    except Exception:  # an exception whose __str__ itself fails
        text = type(exc).__name__
    text = shown(text)
    if len(text) > MAX_FAULT_TEXT:
        text = text[:MAX_FAULT_TEXT] + f"... ({len(text) - MAX_FAULT_TEXT} more characters)"
    user = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE + os.sep):
            user = frame
    if user is None:
        return HandlerFault(text, "<handler>", 0, "", None)
    filename = user.filename
    if "ipykernel_" in filename or filename.startswith("<ipython-input-"):
        # A notebook cell's file is a temporary name that changes with every kernel: name the
        # cell instead, so that a stored notebook's output stays the same run after run.
        filename = "notebook cell"
    return HandlerFault(text, shown(filename), user.lineno or 0, shown(user.name),
                        shown(user.line) if user.line else None)


class Header:
    """Microsoft.Rtc.Sip.Header: ``Header(type, value)``; ``Type`` and ``Value`` (msip-header)."""

    __slots__ = ("Type", "Value")

    def __init__(self, type: str, value: str = ""):
        _not_null(type, "type")
        if not isinstance(type, str) or not type or any(c in type for c in " :\r\n"):
            raise ArgumentException(f"Header needs a header name such as \"ms-application-aor\", "
                                    f"not {shown(repr(type))[:80]}")
        _not_null(value, "value")
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
        _not_null(header, "header", "e.Request.AllHeaders.Add(Header(name, value))")
        if not isinstance(header, Header):
            raise ArgumentException("AllHeaders.Add takes a Header: e.Request.AllHeaders.Add(Header(name, value))")
        try:
            self._message.add_header(header.Type, header.Value)
        except UsageError as err:   # a value SIP cannot carry (a line break, a lone surrogate)
            raise ArgumentException(str(err)) from None
        return len(self._message.headers) - 1

    def FindFirst(self, type: str) -> Header | None:
        """The first header of that name, or None."""
        _not_null(type, "type")
        if not isinstance(type, str):
            raise ArgumentException(f"FindFirst takes a header name, not {shown(repr(type))[:80]}")
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
        _not_null(text, "value")
        try:   # the SIP layer's rules for a reason phrase: one line of text
            self.message.reason = Response(self.message.status_code, str(text)).reason
        except UsageError as err:
            raise ArgumentException(str(err)) from None

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
        _not_null(uri, "value")
        if not isinstance(uri, str):
            raise ArgumentException(f"RequestUri is a SIP URI string, not {shown(repr(uri))[:80]}")
        try:
            self.message.request_uri = uri
        except UsageError as err:
            raise ArgumentException(str(err)) from None
        self.destination = uri

    @property
    def Content(self) -> str:
        """The body as text (settable)."""
        return self.message.content

    @Content.setter
    def Content(self, text: str) -> None:
        _not_null(text, "value")
        if not isinstance(text, str):
            raise ArgumentException(f"Content is text, not {type(text).__name__}")
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError as err:   # a lone surrogate: .NET's UTF-8 encoder refuses it too
            raise ArgumentException(f"Content cannot be encoded as UTF-8: {err.reason} at index {err.start}") \
                from None
        self.message.set_body(data)

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
        _not_null(target_user_uri, "targetUserUri", "Retarget needs the target user's SIP URI")
        if not isinstance(target_user_uri, str) or not target_user_uri:
            raise ArgumentException("Retarget needs the target user's SIP URI, e.g. 'sip:bob@contoso.com'")
        try:
            self.message.request_uri = target_user_uri
        except UsageError as err:
            raise ArgumentException(str(err)) from None
        self.retargeted_to = target_user_uri
        self.destination = None

    def SetDestination(self, uri: str) -> None:
        """Send this request straight to ``uri`` when it is sent: no later application routes it.

        The managed SetDestination takes a ContactInfo, which "can only be received as a parameter
        from SPL to the Dispatch handler" (msip-request); the simulator takes its URI instead.
        """
        _not_null(uri, "destination")
        if not isinstance(uri, str) or not uri.strip():
            raise ArgumentException(f"SetDestination takes the destination's SIP URI, not {shown(repr(uri))[:80]}")
        self.destination = uri

    def Clone(self, target_uri: str | None = None) -> "ManagedRequest":
        """A copy of this request (for another branch), optionally with another Request-URI."""
        copy = ManagedRequest(self.message.copy())
        if target_uri is not None and not isinstance(target_uri, str):
            raise ArgumentException(f"Clone takes a SIP URI string, not {shown(repr(target_uri))[:80]}")
        if target_uri:
            try:
                copy.message.request_uri = target_uri
            except UsageError as err:
                raise ArgumentException(str(err)) from None
        return copy

    def CreateResponse(self, status: int) -> ManagedResponse:
        """``CreateResponse(int statusCode)``; set ``ReasonPhrase`` to change the usual reason phrase."""
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 699:
            # ApiLogger: "Invalid status code." (Dn439089)
            raise ArgumentException(f"Invalid status code. CreateResponse takes a status code from 100 to 699, "
                                    f"not {shown(repr(status))[:80]}")
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
            raise InvalidOperationException("Cannot send two requests on the same transaction. (ApiLogger, "
                                            "Dn439089): call CreateBranch() again for another")
        _not_null(request, "request", "SendRequest takes e.Request (or a Clone of it)")
        if not isinstance(request, ManagedRequest):
            raise ArgumentException("SendRequest takes e.Request (or a Clone of it)")
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
            # "ArgumentException is thrown when you call ServerTransaction.CreateBranch again" (Dn439071)
            raise ArgumentException("Cannot proxy more than once if ServerTransaction.EnableForking is set to "
                                    "false. (ApiLogger, Dn439089)")
        branch = ClientTransaction(self)
        self.branches.append(branch)
        return branch

    def SendResponse(self, response: ManagedResponse) -> None:
        """``SendResponse(Response response)`` (msip-request): make it with e.Request.CreateResponse(code)."""
        _not_null(response, "response", "e.ServerTransaction.SendResponse(e.Request.CreateResponse(486))")
        if not isinstance(response, ManagedResponse):
            raise ArgumentException(f"SendResponse takes a Response, not {shown(repr(response))[:80]}: "
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
