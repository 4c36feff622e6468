"""After Dispatch(method): what the managed handler did, as a decision about the request.

An MSPL ``Dispatch("OnInvite")`` hands the request to managed code (dn439142); the handler, a
Python function standing in for it (managed.py), gets ``e`` and may answer on
``e.ServerTransaction``, send the request on a branch, or do nothing. The Front End then goes on:

    no handler registered       nothing forwards or answers the request: it is dropped
    the handler raised          a fault of the managed application, in the trace with its line;
                                the request is left unanswered (decision D74)
    SendResponse(response)      that response goes back up the chain
    SendRequest after SetDestination or a RequestUri set directly
                                straight to that address; every later application is skipped (D73)
    SendRequest without one     on down the chain below the dispatching application (D73)
    neither                     dropped
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from .context import RequestContext
from .decisions import Answer, Drop, Route
from .downstream import resolve
from .managed import RequestReceivedEventArgs, handler_fault

__all__ = ["dispatch"]


def dispatch(final: Any, ctx: RequestContext,
             handlers: Mapping[str, Callable]) -> tuple[str, str, Route | Answer | Drop | None]:
    """Run the handler the ``dispatch`` disposition ``final`` names: (action, sentence, decision).

    The decision is None when the request goes on down the chain (``ctx.request`` is then the
    request the handler sent). Any exception in the handler -- its own, or what the managed API
    throws at a misuse (ArgumentNullException for SendResponse(None), InvalidOperationException
    for a second SendRequest on one branch) -- is a fault of the handler, reported in the trace
    with the handler's line; the request is left unanswered (decision D74). Nothing is raised.
    """
    method = final.method or ""
    call = final.describe()
    handler = handlers.get(method)
    if handler is None:
        sentence = (f"{call}: no managed handler is registered for {method!r}, so nothing forwards or "
                    "answers the request")
        ctx.note("hint", f"Pass dispatch_handlers={{'{method}': handler}} to FrontEnd.send to stand in for "
                         "the managed application (handler(e) gets e.Request and e.ServerTransaction).")
        action = f"dispatched to {method} (no handler)"
        return action, sentence, Drop(action=action, sentence=sentence)
    e = RequestReceivedEventArgs(ctx.request, method, final.args)
    try:
        handler(e)
    except Exception as exc:  # noqa: BLE001 -- the learner's handler failed: a fault in the trace (D74)
        return _handler_failed(call, method, exc, ctx)
    st = e.ServerTransaction
    did = []
    if e.Request.retargeted_to:
        did.append(f"Request.Retarget(\"{e.Request.retargeted_to}\")")
        ctx.note("documented", "RetargetRequest leaves the To header as the original user.", "Dn439073")
        ctx.note("inferred", "Request.Retarget, its managed twin, is modelled the same way: the Request-URI "
                             f"becomes {e.Request.retargeted_to}, To still names {e.Request.message.get('To')} "
                             "(decision D5).")
        ctx.note("documented", "Sets a new target user (logical destination) for the request. The actual "
                               "destination address for request routing is not provided. Other applications "
                               "and/or servers should come up with the route.", "msip-request")
    if st.responses:
        response = st.responses[-1]
        did.append(f"SendResponse(CreateResponse({response.status_code})) {response.reason}")
        sentence = f"{call} -> managed code: " + ", ".join(did)
        return (f"dispatched to {method}: answered {response.status_code}", sentence,
                Answer(status=response.status_code, reason=response.reason, sentence=sentence, response=response))
    sent = [b.sent for b in st.branches if b.sent is not None]
    if not sent:
        sentence = f"{call} -> managed code: " + (", ".join(did) or "did nothing") + \
            "; it neither sent the request on nor answered it"
        action = f"dispatched to {method}: nothing sent"
        return action, sentence, Drop(action=action, sentence=sentence)
    direct = [r for r in sent if r.destination]
    onward = [r for r in sent if not r.destination]
    if direct and not onward:
        targets = tuple(t for r in direct for t in resolve(r.destination, ctx))
        ctx.request = direct[0].message
        did.append("CreateBranch().SendRequest() to " + ", ".join(r.destination for r in direct))
        sentence = f"{call} -> managed code: " + ", ".join(did)
        return (f"dispatched to {method}: sent to {', '.join(r.destination for r in direct)}", sentence,
                Route(targets=targets, action="sent by managed code", sentence=sentence, fork=len(targets) > 1))
    # A request sent without a destination goes on down the chain from here [inferred].
    ctx.request = onward[0].message
    did.append("CreateBranch().SendRequest(e.Request)")
    if len(sent) > 1:
        ctx.note("inferred", "Only the first branch the handler sent is followed through the chain.")
    ctx.note("inferred", "A request managed code sends on without a destination continues down the chain "
                         "below the dispatching application, which routes it (decision D73).")
    sentence = f"{call} -> managed code: " + ", ".join(did) + "; the request goes on down the chain"
    return f"dispatched to {method}: sent on to {ctx.request.request_uri}", sentence, None


def _handler_failed(call: str, method: str, exc: BaseException, ctx: RequestContext) -> tuple[str, str, Drop]:
    """A managed handler that threw: the fault (exception, the learner's line) in the trace; dropped (D74)."""
    fault = handler_fault(exc)
    where = f" at {fault.where()}" if fault.line else ""
    sentence = f"{call}: the handler raised {fault.exception}{where}"
    if fault.source:
        sentence += f": {fault.source}"
    ctx.note("decision", "An exception in managed code is the application's fault: the server logs it and the "
                         "transaction is left unanswered, so the client times out; no later application sees "
                         "the request.", "decision D74")
    action = f"dispatched to {method}: handler failed"
    return action, sentence, Drop(action=action, sentence=sentence)
