"""What changed between two transactions, and the one-line verdict a learner reads first.

Everything is computed from the two traces: which applications ran in one and not the other,
what each changed in the request, who decided, where the request went, what the sender got.
Nothing is phrased for a particular scenario; the IIMFilter sentence of the comparison notebook
("IIMFilter did not run with ProxyRequest: the body reached Terry Adams unchanged") comes out of
the general rule "an application changed the message in one run and did not run in the other",
and the sentence of the position comparison ("Placed last in the chain, RedirectApp never ran:
DefaultRouting had already routed the IM to Jenny Lee; placed above DefaultRouting, it ...") out
of "an application sits elsewhere in the other chain and ran in only one of them".
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..frontend.trace import Hop, Trace
from .style import why_short
from .trace_diagram import change_lines, destination_name, failover_words, first_router, outcome_line

__all__ = ["Difference", "differences", "differing_apps", "verdict", "short_name"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Difference:
    """One thing that is not the same in the two traces; ``a`` and ``b`` say what each did."""

    kind: str           # "ran" | "action" | "decider" | "destination" | "status" | "body"
    app: str | None
    a: str
    b: str

    def __str__(self) -> str:
        who = f"{self.app}: " if self.app else ""
        return f"{self.kind}: {who}{self.a} | {self.b}"


def _state(hop: Hop | None) -> str:
    if hop is None:
        return "not in the chain"
    if not hop.ran:
        return f"not run ({why_short(hop.why)})"
    return hop.action or hop.effect or "ran"


def _body(text: str | None) -> str | None:
    if text is None:
        return None
    for sep in ("\r\n\r\n", "\n\n"):
        if sep in text:
            return text.split(sep, 1)[1]
    return ""


def short_name(title: str) -> str:
    """'ProxyRequest("sip:...")' -> 'ProxyRequest': the name a verdict uses for a run."""
    return title.split("(", 1)[0].strip() or title


def differences(a: Trace, b: Trace) -> tuple[Difference, ...]:
    """Every difference between two traces of (usually) the same message, hops first."""
    found: list[Difference] = []
    a_hops = {h.app: h for h in a.hops}
    b_hops = {h.app: h for h in b.hops}
    # a's applications in a's order, then those only b has.
    for name in list(a_hops) + [n for n in b_hops if n not in a_hops]:
        ha, hb = a_hops.get(name), b_hops.get(name)
        ran_a, ran_b = bool(ha and ha.ran), bool(hb and hb.ran)
        if ran_a != ran_b:
            found.append(Difference(kind="ran", app=name, a=_state(ha), b=_state(hb)))
        elif ran_a and ran_b:
            ca = change_lines(ha.changes) if ha.changes else []
            cb = change_lines(hb.changes) if hb.changes else []
            if (ha.effect, ha.action, ca) != (hb.effect, hb.action, cb):
                found.append(Difference(kind="action", app=name, a=_state(ha), b=_state(hb)))
    oa, ob = a.outcome, b.outcome
    if (oa.kind, oa.decided_by, oa.first_routed_by) != (ob.kind, ob.decided_by, ob.first_routed_by):
        found.append(Difference(kind="decider", app=None, a=oa.summary(), b=ob.summary()))
    if destination_name(a) != destination_name(b) or oa.destination != ob.destination:
        found.append(Difference(kind="destination", app=None, a=destination_name(a), b=destination_name(b)))
    if (oa.status, oa.reason) != (ob.status, ob.reason):
        found.append(Difference(kind="status", app=None, a=f"{oa.status} {oa.reason or ''}".strip(),
                                b=f"{ob.status} {ob.reason or ''}".strip()))
    body_a, body_b = _body(oa.forwarded), _body(ob.forwarded)
    if body_a is not None and body_b is not None and body_a != body_b:
        found.append(Difference(kind="body", app=None, a=body_a, b=body_b))
    return tuple(found)


def differing_apps(a: Trace, b: Trace) -> frozenset[str]:
    """Names of the applications that did not do the same thing in both traces."""
    return frozenset(d.app for d in differences(a, b) if d.app is not None)


def _hop(trace: Trace, app: str) -> Hop | None:
    for h in trace.hops:
        if h.app == app:
            return h
    return None


def _ran(trace: Trace, app: str) -> bool:
    h = _hop(trace, app)
    return bool(h and h.ran)


def _what_changed(hop: Hop) -> str:
    c = hop.changes
    if c is None:
        return "message"
    if c.body_changed:
        return "body"
    if c.request_uri_changed:
        return "Request-URI"
    return "headers"


def _order(trace: Trace) -> list[str]:
    return [h.app for h in trace.hops]


def _moved(a: Trace, b: Trace, app: str) -> bool:
    """True when ``app`` sits in both chains but among different applications above it.

    Only the applications of both chains count: one added to a single chain shifts every
    priority below it, which is not a move.
    """
    order_a, order_b = _order(a), _order(b)
    if app not in order_a or app not in order_b:
        return False
    common = set(order_a) & set(order_b)
    above_a = set(order_a[:order_a.index(app)]) & common
    above_b = set(order_b[:order_b.index(app)]) & common
    return above_a != above_b


def _noun(trace: Trace) -> str:
    """What the request is, for a learner: 'the IM', 'the call', 'the REGISTER'."""
    return {"MESSAGE": "the IM", "INVITE": "the call"}.get(trace.method, f"the {trace.method}")


def _place(trace: Trace, app: str, landmark: str | None) -> str:
    """Where ``app`` sits in ``trace``'s chain, in words: first, last, or above/below ``landmark``."""
    order = _order(trace)
    i = order.index(app)
    if i == len(order) - 1:
        return "last in the chain"
    if i == 0:
        return "first in the chain"
    if landmark in order and landmark != app:
        return f"{'above' if i < order.index(landmark) else 'below'} {landmark}"
    return f"at priority {_hop(trace, app).priority}"


def _preempted(trace: Trace) -> str:
    """What the application that ended the request did before a later one could run."""
    o = trace.outcome
    if o.kind == "proxied" and o.failed_over:
        return (f"{o.first_routed_by} had already routed {_noun(trace)} (in the end {o.decided_by} sent it to "
                f"{destination_name(trace)})")
    if o.kind == "proxied":
        return f"{o.decided_by} had already routed {_noun(trace)} to {destination_name(trace)}"
    if o.kind == "responded":
        answer = f"{o.status} {o.reason}" if o.reason else f"{o.status}"
        return f"{o.decided_by} had already answered {_noun(trace)} ({answer})"
    return f"{o.decided_by} had already dropped {_noun(trace)}"


def _placement_line(app: str, ran: Trace, missed: Trace) -> str:
    """The verdict when ``app`` ran in ``ran`` and, placed elsewhere in ``missed``, never ran there."""
    hop_missed, hop_ran = _hop(missed, app), _hop(ran, app)
    landmark = first_router(missed)
    if hop_missed.why in ("routed", "not-reached"):
        why = _preempted(missed)
    else:
        why = why_short(hop_missed.why, missed.outcome.kind)
    # "retargeted to sip:.." -> "retargeted the IM to sip:..": the sentence names its object.
    did = re.sub(r"^(\w+) to ", lambda m: f"{m.group(1)} {_noun(ran)} to ", hop_ran.action) or "ran"
    o = ran.outcome
    if o.decided_by == app and o.kind == "proxied":
        then = f", so {_noun(ran)} reached {destination_name(ran)}"
    elif o.decided_by == app:
        then = ""
    else:
        then = f", then {_happened(ran)}"
    return (f"Placed {_place(missed, app, landmark)}, {app} never ran: {why}; "
            f"placed {_place(ran, app, landmark)}, it {did}{then}.")


def _happened(trace: Trace) -> str:
    o = trace.outcome
    if o.kind == "proxied":
        return f"{o.decided_by} sent it to {destination_name(trace)}{failover_words(trace)}"
    if o.kind == "responded":
        return f"{o.decided_by} answered {o.status} {o.reason or ''}".rstrip()
    return f"{o.decided_by} dropped it"


def verdict(a: Trace, b: Trace, names: tuple[str, str] = ("A", "B")) -> str:
    """One line: the most telling difference between ``a`` and ``b`` (named ``names``)."""
    na, nb = names
    diffs = differences(a, b)
    traces = {na: a, nb: b}
    # 1. An application sits elsewhere in the other chain, and ran in only one of them: where it
    #    sits is what the two runs compare, so say where, and what ran first in the other one.
    for d in diffs:
        if d.kind == "ran" and _moved(a, b, d.app):
            ran, missed = (a, b) if _ran(a, d.app) else (b, a)
            return _placement_line(d.app, ran, missed)
    # 2. An application changed the message in one run and never saw it in the other.
    for d in diffs:
        if d.kind != "ran":
            continue
        ran_in, other = (na, nb) if _ran(a, d.app) else (nb, na)
        hop = _hop(traces[ran_in], d.app)
        if hop.changes is None or hop.changes.empty:
            continue
        missing = _hop(traces[other], d.app)
        why = why_short(missing.why, traces[other].outcome.kind) if missing is not None else "not in the chain"
        what = _what_changed(hop)
        line = f"{d.app} did not run with {other} ({why})"
        if traces[other].outcome.kind == "proxied":
            sent = traces[other]
            untouched = what == "body" and sent.outcome.forwarded is not None and \
                _body(sent.outcome.forwarded) == _body(sent.message)
            line += (f": the {what} reached {destination_name(sent)} "
                     + ("unchanged" if untouched else f"without {d.app}'s change"))
        return line + f"; with {ran_in} it {hop.action or 'changed the ' + what}."
    by_kind = {d.kind: d for d in diffs}
    only = [d for d in diffs if d.kind == "ran"]
    if "decider" in by_kind:
        line = f"With {na}, {_happened(a)}; with {nb}, {_happened(b)}"
        ran_only_b = [d.app for d in only if _ran(b, d.app)]
        if ran_only_b:
            line += f"; {len(ran_only_b)} application(s) ran only with {nb}"
        return line + "."
    if "destination" in by_kind:
        return f"With {na} the request reached {destination_name(a)}; with {nb}, {destination_name(b)}."
    if "status" in by_kind:
        d = by_kind["status"]
        return f"{na}: the sender got {d.a}; {nb}: {d.b}."
    if only:
        d = only[0]
        ran_in = na if _ran(a, d.app) else nb
        return f"{d.app} ran only with {ran_in}; the outcome is the same: {outcome_line(a)}."
    if "action" in by_kind or "body" in by_kind:
        d = by_kind.get("action") or by_kind["body"]
        who = f"{d.app} " if d.app else "the body "
        return f"Same route, but {who}differs: {na}: {d.a}; {nb}: {d.b}."
    return f"No difference: in both, {outcome_line(a)}."
