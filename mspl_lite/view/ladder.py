"""The SIP ladder (sequence) diagram of a transaction, drawn directly as SVG.

Lifelines, left to right: the sender, the Front End (where the request enters the chain), each
application that acted on the request or its response (changed, retargeted, routed, answered,
dropped it; a custom application that ran is always shown), and each place the request was sent
(an endpoint, a gateway, the Edge, ...). Requests are solid arrows with filled heads, responses
dashed arrows with open heads; what an application did is written in a box on its lifeline.

Why not graphviz: a ladder needs arrows between non-adjacent lifelines drawn straight across
the ones in between; dot routes such edges around the nodes. Drawing it here takes ~100 lines,
gives the same bytes on every machine (integer coordinates, no font measuring), and stays
readable at notebook width.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..frontend.trace import Trace
from . import style as st
from .dot import html_escape, short, wrap
from .render import Diagram
from .trace_diagram import (MAX_DRAWN_BRANCHES, answering_branch, change_lines, drawn_branches, first_router,
                            request_line, response_action, sender_name)

__all__ = ["Step", "ladder_steps", "lifelines", "ladder_diagram", "session_ladder", "ladder_alt",
           "ladder_description", "draw_ladder", "LEGEND"]

_PASSING = ("passed",)
_FONT = "Helvetica, Arial, sans-serif"
_MARGIN = 16
_HEAD_W = 132
_ROW = 30
_CHAR_W = 6.2      # average width of an 11 px Helvetica character, for cutting labels to fit
#: The key under a ladder's heading (colour is never the only signal: decision D119).
LEGEND = "solid arrow: request  ·  dashed arrow: response  ·  box: what an application did"


@dataclass(frozen=True, slots=True)
class Step:
    """One row of the ladder: a request or response arrow between two lifelines, or a note on one."""

    kind: str       # "request" | "response" | "note"
    source: int     # lifeline index
    target: int     # lifeline index (== source for a note)
    text: str


def lifelines(trace: Trace) -> list[tuple[str, str]]:
    """(name, role) of each lifeline, left to right."""
    lines = [(sender_name(trace), "sender"), ("Front End", trace.server or "the chain")]
    for name in _acting_apps(trace):
        hop = trace.hop(name)
        lines.append((name, "built-in" if hop.builtin else "custom application"))
    for b in trace.branches:
        party = b.party or b.target
        lines.append((party.split(": ", 1)[0] if ": " in party else party, b.kind))
    return lines


def _acting_apps(trace: Trace) -> list[str]:
    acted_on_response = {r.app for r in trace.responses if response_action(r)}
    names = []
    for h in trace.hops:
        if h.ran and (not h.builtin or h.effect not in _PASSING or h.app in acted_on_response
                      or h.app in (trace.outcome.decided_by, first_router(trace))):
            names.append(h.app)
    return names


def _note(hop) -> str:
    what = hop.action or hop.effect or "ran"
    if hop.changes is not None and not hop.changes.empty:
        what += "; " + "; ".join(change_lines(hop.changes, 60)[:2])
    for c in hop.critical_errors[:1]:
        what += f"; CRITICAL ERROR: {c.message}"
    return what


def ladder_steps(trace: Trace) -> list[Step]:
    """The rows of the ladder, in time order, computed from the trace.

    The request walks the acting applications down to the one that routed it first (or answered
    or dropped it). The branches of one attempt were sent at once (a fork), so all their
    requests come first, then their provisional responses and the final responses that end a
    branch without an answer (busy, declined, ...). A 2xx goes up to the caller the moment it
    arrives, and only then do the branches still ringing get CANCEL, answer it 200 OK and end
    their INVITE with 487 (RFC 3261 16.7 steps 5 and 10, 9.2). Without a 2xx, the caller's
    response comes last, once every branch ended (16.7 step 6). An application that acted after
    that (a failover such as ExumRouting taking an unanswered call: ``outcome.decided_by``)
    comes in just before the attempt it sent. Between branches the lab has no clock: the order
    is decision D66.
    """
    acting = _acting_apps(trace)
    column = {name: 2 + i for i, name in enumerate(acting)}
    first_branch = 2 + len(acting)
    method = trace.method or "response"
    order = [h.app for h in trace.hops]
    decided = first_router(trace)
    limit = order.index(decided) if decided in order else len(order)
    steps = [Step("request", 0, 1, short(request_line(trace), 60))]
    where = 1
    later = []
    for name in acting:
        if order.index(name) > limit:
            later.append(name)
            continue
        steps.append(Step("request", where, column[name], method))
        steps.append(Step("note", column[name], column[name], _note(trace.hop(name))))
        where = column[name]
    decider = column.get(decided, where)

    def bring_in(name: str) -> None:
        """An application acting after the decision enters here (a failover)."""
        nonlocal where
        steps.append(Step("request", where, column[name], f"{method} (failover)"))
        steps.append(Step("note", column[name], column[name], _note(trace.hop(name))))
        where = column[name]
        later.remove(name)

    o = trace.outcome
    answer = answering_branch(trace) if o.kind == "proxied" else None
    forwarded_at_once = (answer is not None and o.status is not None and 200 <= o.status < 300
                         and trace.branches[answer].final is not None
                         and 200 <= trace.branches[answer].final[0] < 300)
    answered = False
    attempts: dict[int, list[int]] = {}
    for i, b in enumerate(trace.branches):
        attempts.setdefault(b.attempt, []).append(i)
    for _, group in sorted(attempts.items()):
        for i in group:
            b = trace.branches[i]
            if b.sent_by in later:
                bring_in(b.sent_by)
        sent_from = {i: column.get(trace.branches[i].sent_by, decider) for i in group}
        for i in group:
            steps.append(Step("request", sent_from[i], first_branch + i,
                              f"{method} {short(trace.branches[i].target, 40)}"))
        for i in group:
            for status, reason in trace.branches[i].responses:
                if status < 200:
                    steps.append(Step("response", first_branch + i, sent_from[i], f"{status} {reason}"))
        finals = [i for i in group if not trace.branches[i].cancelled]
        for i in finals:
            if forwarded_at_once and i == answer:
                continue
            for status, reason in trace.branches[i].responses:
                if status >= 200:
                    steps.append(Step("response", first_branch + i, sent_from[i], f"{status} {reason}"))
        if forwarded_at_once and answer in group:
            for status, reason in trace.branches[answer].responses:
                if status >= 200:
                    steps.append(Step("response", first_branch + answer, sent_from[answer], f"{status} {reason}"))
            steps.extend(_response_path(trace, column, sent_from[answer]))
            answered = True
        for i in group:
            b = trace.branches[i]
            if not b.cancelled:
                continue
            steps.append(Step("request", sent_from[i], first_branch + i, "CANCEL"))
            if b.final is not None:
                # The CANCEL gets its own 200; the INVITE it cancels ends 487 (RFC 3261 9.2).
                steps.append(Step("response", first_branch + i, sent_from[i], "200 OK (CANCEL)"))
            for status, reason in b.responses:
                if status >= 200:
                    steps.append(Step("response", first_branch + i, sent_from[i], f"{status} {reason}"))
    for name in list(later):
        bring_in(name)
    if o.kind == "dropped":
        if decider == 1:  # the Front End itself dropped it: no application note says so
            steps.append(Step("note", 1, 1, "dropped: no response is sent"))
        if o.client_experience:
            steps.append(Step("note", 0, 0, o.client_experience))
        return steps
    if o.status is None or answered:
        return steps
    at = column.get(trace.branches[answer].sent_by, decider) if answer is not None else decider
    steps.extend(_response_path(trace, column, at))
    return steps


def _response_path(trace: Trace, column: dict[str, int], at: int) -> list[Step]:
    """The final response from lifeline ``at`` up through the applications that acted on it to the sender."""
    o = trace.outcome
    status = f"{o.status} {o.reason or ''}".strip()
    steps = []
    for r in trace.responses:
        if r.app in column and column[r.app] != at and response_action(r):
            steps.append(Step("response", at, column[r.app], status))
            steps.append(Step("note", column[r.app], column[r.app], f"response: {response_action(r)}"))
            at = column[r.app]
    if at != 1:
        steps.append(Step("response", at, 1, status))
    steps.append(Step("response", 1, 0, status))
    return steps


def _text(x: int, y: int, text: str, *, size: int = 11, weight: str = "normal", anchor: str = "middle",
          fill: str = "black") -> str:
    bold = ' font-weight="bold"' if weight == "bold" else ""
    return (f'<text x="{x}" y="{y}" text-anchor="{anchor}" font-size="{size}"{bold} fill="{fill}">'
            f"{html_escape(text)}</text>")


def ladder_diagram(trace: Trace, *, title: str | None = None) -> Diagram:
    """The ladder diagram of ``trace`` as a Diagram (its source is the SVG itself)."""
    trace, hidden = _bounded(trace)
    return draw_ladder(title or request_line(trace), lifelines(trace), _with_hidden_note(ladder_steps(trace), hidden))


def _bounded(trace: Trace) -> tuple[Trace, int]:
    """``trace`` with at most MAX_DRAWN_BRANCHES branches (one lifeline each; the answering one
    kept), and how many were left out. The same limit as the transaction diagram: a ladder of 300
    lifelines is 33,000 px wide and reads worse than trace.text()."""
    if len(trace.branches) <= MAX_DRAWN_BRANCHES:
        return trace, 0
    keep = drawn_branches(trace, answering_branch(trace))
    return replace(trace, branches=tuple(trace.branches[i] for i in sorted(keep))), len(trace.branches) - len(keep)


def _with_hidden_note(steps: list[Step], hidden: int) -> list[Step]:
    """The steps, with a note on the Front End saying how many branches are not drawn (never silent)."""
    if not hidden:
        return steps
    return steps[:1] + [Step("note", 1, 1, f"... {hidden} more branches not drawn (see trace.text())")] + steps[1:]


def session_ladder(session, *, title: str | None = None) -> Diagram:
    """One ladder for an IM session (``FrontEnd.send_session``): the INVITE's transaction, then
    each MESSAGE's, on shared lifelines. Each transaction is drawn as ``ladder_diagram`` draws it."""
    traces = session.traces
    lanes: list[tuple[str, str]] = []
    per_trace = []
    for trace in traces:
        trace, hidden = _bounded(trace)
        own = lifelines(trace)
        for lane in own:
            if lane not in lanes:
                lanes.append(lane)
        per_trace.append((own, _with_hidden_note(ladder_steps(trace), hidden)))
    # Senders and the Front End first, then applications in chain order, then the parties outside.
    apps = [lane for lane in lanes[2:] if lane[1] in ("built-in", "custom application")]
    order = {h.app: h.priority for t in traces for h in t.hops}
    apps.sort(key=lambda lane: order.get(lane[0], 999))
    lanes = lanes[:2] + apps + [lane for lane in lanes[2:] if lane not in apps]
    steps: list[Step] = []
    for n, (own, rows) in enumerate(per_trace):
        if n == 1:
            steps.append(Step("note", 0, 0, "the INVITE's 200 set up the dialog (the ACK is not drawn)"))
        index = [lanes.index(lane) for lane in own]
        moved = [Step(r.kind, index[r.source], index[r.target], r.text) for r in rows]
        # A custom application of the session that this transaction skipped says why, once.
        skipped = [Step("note", k, k, f"not seen: {traces[n].hop(name).sentence}")
                   for k, (name, role) in enumerate(lanes)
                   if role == "custom application" and (name, role) not in own
                   and _hop_or_none(traces[n], name) is not None and not traces[n].hop(name).ran]
        steps.extend(moved[:1] + skipped + moved[1:])
    if not session.messages:
        steps.append(Step("note", 0, 0, "no 2xx, so no dialog: no MESSAGE can follow"))
    heading = title or f"IM session: {request_line(traces[0])}, then {len(session.messages)} MESSAGE(s) in its dialog"
    return draw_ladder(heading, lanes, steps)


def _hop_or_none(trace: Trace, name: str):
    try:
        return trace.hop(name)
    except KeyError:
        return None


def draw_ladder(heading: str, lanes: list[tuple[str, str]], steps: list[Step], *, legend: str = LEGEND) -> Diagram:
    """The SVG of a ladder: ``lanes`` (name, role) left to right, ``steps`` top to bottom, ``legend``
    under the heading; its alt and description from the same rows (decision D118)."""
    # Fit about 880 px (a notebook's width) while there is room; never closer than 110 px.
    gap = max(110, min(150, (880 - _HEAD_W - 2 * _MARGIN) // max(1, len(lanes) - 1)))
    xs = [_MARGIN + _HEAD_W // 2 + i * gap for i in range(len(lanes))]
    width = xs[-1] + _HEAD_W // 2 + _MARGIN
    top = 74
    height = top + 16 + _ROW * len(steps) + 24
    alt, description = ladder_alt(heading, lanes, steps), ladder_description(lanes, steps)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{_FONT}" role="img">',
        f"<title>{html_escape('SIP ladder: ' + heading)}</title>",   # its name; the alt says more
        "<desc>" + html_escape("; ".join(description)) + "</desc>",
        '<defs><marker id="req" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="black"/></marker>'
        '<marker id="resp" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto"><path d="M0,0 L10,5 L0,10" fill="none" stroke="#1f4e99" stroke-width="1.5"/></marker></defs>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>',
        _text(_MARGIN, 20, short(heading, int((width - 2 * _MARGIN) / 7)), size=13, weight="bold", anchor="start"),
        _text(_MARGIN, 36, legend, size=10, anchor="start", fill="#404040"),
    ]
    for x, (name, role) in zip(xs, lanes):
        out.append(f'<rect x="{x - _HEAD_W // 2}" y="44" width="{_HEAD_W}" height="30" rx="4" '
                   f'fill="#f7f7f7" stroke="black"/>')
        out.append(_text(x, 57, short(name, 21), size=11, weight="bold"))
        out.append(_text(x, 69, short(role, 24), size=9, fill="#404040"))
        out.append(f'<line x1="{x}" y1="74" x2="{x}" y2="{height - 12}" stroke="#8c8c8c" stroke-dasharray="4 3"/>')
    y = top + 16
    for n, s in enumerate(steps, 1):
        out.append(_text(6, y + 4, str(n), size=9, anchor="start", fill="#707070"))
        if s.kind == "note":
            x = xs[s.source]
            lines = wrap(s.text, 38, 2)
            w = min(gap * 2 - 20, max(60, int(max(len(t) for t in lines) * 5.6) + 12))
            h = 13 * len(lines) + 6
            left = max(2, min(x - w // 2, width - w - 2))
            out.append(f'<rect x="{left}" y="{y - h // 2 - 2}" width="{w}" height="{h}" rx="3" '
                       f'fill="#fff3c4" stroke="#7a6000"/>')
            for k, line in enumerate(lines):
                out.append(_text(left + w // 2, y - h // 2 + 10 + 13 * k, line, size=10))
        else:
            x1, x2 = xs[s.source], xs[s.target]
            room = int((abs(x2 - x1) - 8) / _CHAR_W)
            if s.kind == "request":
                style = 'stroke="black" stroke-width="1.4" marker-end="url(#req)"'
            else:
                style = 'stroke="#1f4e99" stroke-width="1.4" stroke-dasharray="6 3" marker-end="url(#resp)"'
            out.append(f'<line x1="{x1}" y1="{y + 4}" x2="{x2}" y2="{y + 4}" {style}/>')
            out.append(_text((x1 + x2) // 2, y, short(s.text, max(room, 8)), size=11,
                             fill="black" if s.kind == "request" else "#1f4e99"))
        y += _ROW
    out.append("</svg>")
    svg = "\n".join(out) + "\n"
    size = f"{len(lanes)} lifelines, {sum(1 for s in steps if s.kind != 'note')} messages"
    return Diagram(kind="ladder", title=heading, source=svg, size=size, fmt="svg", alt=alt, description=description)


def ladder_alt(heading: str, lanes: list[tuple[str, str]], steps: list[Step]) -> str:
    """The ladder in one sentence: what it shows, how many messages, between which lifelines."""
    messages = sum(1 for s in steps if s.kind != "note")
    return st.alt_text(f"SIP ladder diagram: {heading}; {messages} messages between "
                       + ", ".join(name for name, _ in lanes) + ".")


def ladder_description(lanes: list[tuple[str, str]], steps: list[Step]) -> tuple[str, ...]:
    """Every row of the ladder in order, numbered as drawn: who sends what to whom (request or
    response), and what an application did (a note). Each row is cut: it may quote a 1 MB reason phrase."""
    lines = []
    for n, s in enumerate(steps, 1):
        if s.kind == "note":
            text = f"{n}. {lanes[s.source][0]}: {s.text}"
        else:
            text = f"{n}. {s.kind} {lanes[s.source][0]} -> {lanes[s.target][0]}: {s.text}"
        lines.append(st.description_line(text))
    return tuple(lines)
