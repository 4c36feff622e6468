"""The response's way up: through the applications that saw the request, bottom first.

Theory of operation (LCS05 cc165046: "the last application sees the response first"). The final
response climbs from the application above the one that answered (or from the one that routed
the request) to priority 0. An application gets it only when it saw the request on the way
down, is still enabled, and its responseFilter accepts the status; a built-in application may
add to it (ClientVersionFilter's Warning 313). A script that takes no action passes the
response on when proxyByDefault is true; with proxyByDefault false it drops the response, and
the sender never gets it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from .context import RequestContext, changes, shared
from .trace import Hop, ResponseHop

if TYPE_CHECKING:
    from .simulate import FrontEnd

__all__ = ["response_path"]


def response_path(fe: FrontEnd, ctx: RequestContext, hops: Sequence[Hop], response: Any,
                  start: int) -> tuple[list[ResponseHop], bool]:
    """The response through the applications from ``start`` up to priority 0: (hops, delivered).

    ``response`` is changed in place by the applications it passes; ``delivered`` is False
    when one of them dropped it.
    """
    out: list[ResponseHop] = []
    delivered = True
    dropped_by = None
    status = response.status_code
    request = ctx.request
    for j in range(min(start, len(fe.chain) - 1), -1, -1):
        app = fe.chain[j]
        hop = hops[j]
        reason = response.reason
        if dropped_by is not None:
            out.append(_skipped(app, j, status, reason, "not-reached", f"{dropped_by} dropped the response"))
            continue
        if not hop.ran:
            out.append(_skipped(app, j, status, reason, "not-in-path",
                                "it did not see the request, so the response does not pass through it [inferred]"))
            continue
        if not app.enabled:
            out.append(_skipped(app, j, status, reason, "disabled", "disabled"))
            continue
        if not app.accepts_response(status):
            rf = app.response_filter
            out.append(_skipped(app, j, status, reason, "response-filter",
                                f"responseFilter reasonCodes={rf.reason_codes_text if rf else '?'} "
                                f"does not accept {status}"))
            continue
        before = response.copy()
        if app.builtin is not None:
            action = app.builtin.on_response(ctx, response)
            diff = changes(before, response)
            if diff.empty:  # the same ResponseHop for every response this application passes on as it came
                out.append(shared(("response-builtin", j, app.name, app.is_builtin, status, reason, action,
                                   diff.request_uri_before),
                                  lambda: ResponseHop(app=app.name, priority=j, builtin=app.is_builtin, status=status,
                                                      reason=reason, ran=True, action=action, changes=diff,
                                                      sentence="")))
            else:
                out.append(ResponseHop(app=app.name, priority=j, builtin=app.is_builtin, status=status,
                                       reason=reason, ran=True, action=action, changes=diff, sentence=""))
            continue
        ran = fe.run_script(app, response, ctx, transaction_request=request)
        final = ran.run.final
        if final is not None and final.kind == "proxy_response":
            action, sentence = "ProxyResponse(): passed it on", ""
        elif final is None and not app.proxy_by_default:
            action = "dropped the response (proxyByDefault false, no ProxyResponse)"
            sentence = "the sender never gets this response"
            dropped_by = app.name
            delivered = False
        else:
            action, sentence = "passed it on", "no action; proxyByDefault passes it on" if final is None else ""
        out.append(ResponseHop(app=app.name, priority=j, builtin=app.is_builtin, status=status, reason=reason,
                               ran=True, action=action, sentence=sentence, changes=changes(before, response),
                               log=ran.log, critical_errors=ran.critical_errors))
    if any(r.ran for r in out if not r.builtin):
        ctx.note("documented", "Responses pass through the applications in reverse order: the last application "
                               "sees the response first.", "LCS05 cc165046")
    return out, delivered


def _skipped(app: Any, j: int, status: int, reason: str, why: str, sentence: str) -> ResponseHop:
    """The ResponseHop of an application the response does not pass through (shared: see context.shared)."""
    return shared(("response-skipped", j, app.name, app.is_builtin, status, reason, why, sentence),
                  lambda: ResponseHop(app=app.name, priority=j, builtin=app.is_builtin, status=status, reason=reason,
                                      ran=False, why=why, sentence=sentence))
