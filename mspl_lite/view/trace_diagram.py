"""The transaction diagram: one request's path over the chain, the exit it took, the response back.

Reading guide (also the diagram's legend): the request enters at the top (the sender) and goes
down the chain, one box per application in priority order. A solid box ran (a double border:
it changed the request, and says what); a dashed grey box did not, and says why (its filter,
already routed above, disabled, not reached). The thick box
decided: it routed, answered or dropped the request. When nobody answered and another
application took the request over (a failover: ExumRouting sends an unanswered call to voice
mail), that application is thick too, marked FAILOVER, and a "failover" arrow leads to it from the
application that routed first. The request leaves the server through a green exit beside the
application that sent it. The final response climbs back up on the
right-hand side with hollow arrowheads, through the applications that saw it, to the sender.

The same Trace gives the diagram's text alternative (trace_alt, trace_description; decision D118).

Truth rule: every mark comes from the Trace. Applications after the deciding one are drawn
as not run because their Hop says ``ran=False`` (``why="routed"``), never by position.
"""
from __future__ import annotations

from ..frontend.trace import Branch, Hop, ResponseHop, Trace
from ..sip import get_display_name, get_uri, parse_message
from . import style as st
from .dot import DotWriter, Html, label, short, wrap
from .render import Diagram

__all__ = ["transaction_diagram", "draw_trace", "MAX_DRAWN_BRANCHES", "drawn_branches", "request_line", "sender_name", "answering_branch",
           "change_lines", "destination_name", "outcome_line", "response_action", "first_router",
           "failover_words", "trace_alt", "trace_description", "hop_words"]

_PASSING = ("", "passed it on", "passed on", "passed")


def request_line(trace: Trace) -> str:
    """The message's first line without the SIP version: 'MESSAGE sip:terrya@contoso.com'."""
    first = trace.message.split("\n", 1)[0].strip()
    if first.upper().endswith(" SIP/2.0"):
        first = first[: -len(" SIP/2.0")]
    return first or f"{trace.method} {trace.request_uri}".strip()


def sender_name(trace: Trace) -> str:
    """Who sent the message: the From display name, else its address, else 'the sender'."""
    try:
        message = parse_message(trace.message)
        sender = message.get("From")
        name = get_display_name(sender) if sender else None
        return name or (get_uri(sender) if sender else None) or "the sender"
    except Exception:  # a trace of a message the parser refuses still draws  # noqa: BLE001
        return "the sender"


def first_router(trace: Trace) -> str:
    """The application where the request left the chain: the one that routed it first (or that
    answered or dropped it). After a failover it is not ``outcome.decided_by``, which names the
    application that routed the request in the end."""
    return trace.outcome.first_routed_by or trace.outcome.decided_by


def failover_words(trace: Trace) -> str:
    """' (failover after DefaultRouting)' when a failover application routed the request in the end; else ''."""
    o = trace.outcome
    return f" (failover after {o.first_routed_by})" if o.failed_over else ""


def answering_branch(trace: Trace) -> int | None:
    """Index of the branch whose response reached the sender (the outcome's destination)."""
    if not trace.branches:
        return None
    for i, b in enumerate(trace.branches):
        if trace.outcome.destination and b.target == trace.outcome.destination:
            return i
    for i, b in enumerate(trace.branches):
        final = b.final
        if final and trace.outcome.status == final[0]:
            return i
    return len(trace.branches) - 1


def destination_name(trace: Trace) -> str:
    """Who the request reached, in a few words ('Terry Adams'), or what happened to it instead."""
    o = trace.outcome
    if o.kind == "responded":
        return f"nobody: {o.decided_by} answered {o.status}"
    if o.kind == "dropped":
        return "nobody: the request was dropped"
    i = answering_branch(trace)
    if i is not None:
        b = trace.branches[i]
        name = b.party or b.target
        return name.split(": ", 1)[0] if ": " in name else name
    return o.destination or "its destination"


def outcome_line(trace: Trace) -> str:
    """'DefaultRouting sent it to Terry Adams -> 200 OK': the outcome in words, without long URIs."""
    o = trace.outcome
    if o.kind == "proxied":
        text = f"{o.decided_by} sent it to {destination_name(trace)}{failover_words(trace)}"
    elif o.kind == "responded":
        text = f"{o.decided_by} answered it"
    else:
        text = f"{o.decided_by} dropped it"
    if o.status is not None:
        text += f" -> {o.status} {o.reason or ''}".rstrip()
    elif o.kind == "proxied":
        text += " -> no final response"
    return text


def _decider_index(trace: Trace, app: str | None = None) -> int | None:
    """Index of the hop of ``app`` (default: the first router, where the request left the chain)."""
    app = app or first_router(trace)
    for i, h in enumerate(trace.hops):
        if h.ran and h.app == app:
            return i
    return None


def _kind_tag(hop: Hop | ResponseHop, uri: str = "") -> str:
    if hop.builtin:
        return ""
    return "  (Python)" if "python.mspl-lite.local" in uri else "  (MSPL)"


def change_lines(changes, width: int = 48) -> list[str]:
    """What an application changed, one short line each: Request-URI, headers, body (new value)."""
    out = []
    if changes.request_uri_changed:
        out.append(short(f"Request-URI -> {changes.request_uri_after}", width))
    if changes.body_changed:
        after = " ".join((changes.body_after or "").split())
        # Wrapped, not cut: the new body is the evidence (06 shows the link a filter must see).
        out += wrap(f'body now: "{after}"', width, max_lines=3)
    out += [short(str(h), width) for h in changes.headers]
    return out


def response_action(r: ResponseHop) -> str:
    """What an application did to the final response ('' when it only passed it on)."""
    if not r.ran:
        return ""
    parts = [] if r.action in _PASSING else [r.action]
    if r.changes is not None and not r.changes.empty:
        parts += change_lines(r.changes, 48)
    return "; ".join(parts)


def _response_note(r: ResponseHop | None) -> str:
    if r is None:
        return ""
    acted = response_action(r)
    if acted:
        return f"response {r.status} {r.reason}: {acted}"
    if not r.ran and r.why == "response-filter":
        return f"response {r.status} not seen: {st.WHY_SHORT['response-filter']}"
    return ""


def _hop_node(w: DotWriter, node_id: str, hop: Hop, *, decided: bool, response: ResponseHop | None,
              compact: bool, differs: bool, outcome_kind: str | None = None, failover: bool = False) -> None:
    width = 28 if compact else 44
    title = f"{hop.priority}  {hop.app}{_kind_tag(hop, hop.uri)}" + ("  \u2260" if differs else "")
    lines: list[str] = []
    bold: list[str] = []
    small: list[str] = []
    if hop.ran:
        what = hop.action or hop.effect or "passed on"
        if decided or failover:
            bold += wrap(f"{'FAILOVER' if failover else 'DECIDED'}: {what}", width, 2)
        else:
            lines += wrap(f"ran: {what}", width, 2)
        if hop.changes is not None and not hop.changes.empty:
            small += change_lines(hop.changes, width + 4)[: 1 if compact else 3]
        for c in hop.critical_errors[:2]:
            where = f" line {c.line}" if c.line else ""
            # Four lines: a budget's critical error names its limit near the end (issue 14).
            bold += wrap(f"CRITICAL ERROR{where}: {c.message}", width, 2 if compact else 4)
        fault = hop.sentence.find("the handler raised ") if hop.effect == "dispatched" else -1
        if fault >= 0:   # a managed handler's exception (decision D74): the first part of it, in bold
            bold += wrap("MANAGED CODE FAULT: " + hop.sentence[fault + len("the handler raised "):], width, 3)
        if hop.disabled_after:
            bold.append("now disabled (10 critical errors)")
        attrs = (st.decided_node if decided or failover else
                 st.changed_node if hop.changes is not None and not hop.changes.empty else st.ran_node)(hop.builtin)
    else:
        lines.append(f"not run: {st.why_short(hop.why, outcome_kind)}")
        if hop.why in ("filter", "disabled") and hop.sentence and not compact:
            small += wrap(hop.sentence, width + 4, 2)
        attrs = st.skipped_node(hop.builtin)
    note = _response_note(response)
    if note:
        small += wrap(note, width + 4, 2)
    if differs:
        attrs = dict(attrs, color=st.DIFF_COLOR, penwidth=3)
    w.node(node_id, label=label(title, *lines, bold_lines=bold, small=small), **attrs)


def _exit_label(b: Branch, compact: bool) -> Html:
    width = 22 if compact else 40
    got = ", ".join(f"{s} {r}" for s, r in b.responses) or "nothing came back"
    title = wrap(b.party or st.EXIT_KINDS.get(b.kind, b.kind), width, 2)
    lines = wrap(st.EXIT_KINDS.get(b.kind, b.kind), width, 1) + wrap(f"got: {got}", width, 2)
    small = [short(b.target, width + 8)]
    if b.cancelled:
        lines.append("cancelled by the server")
    if b.note and not compact:
        small += wrap(b.note, width + 6, 2)
    return label(title, *lines, small=small)


def draw_trace(w: DotWriter, trace: Trace, prefix: str = "", *, compact: bool = False,
               differs: frozenset[str] = frozenset()) -> dict[str, str]:
    """Write one trace's nodes and edges into ``w`` (ids start with ``prefix``); returns key -> id."""
    p = prefix
    ids: dict[str, str] = {}
    sender = w.node(f"{p}sender", label=label(f"{sender_name(trace)} (sender)", short(request_line(trace), 44)),
                    style="rounded,filled", fillcolor="#f7f7f7", color="black")
    ids["sender"] = sender
    decider = _decider_index(trace)
    failover = _decider_index(trace, trace.outcome.decided_by) if trace.outcome.failed_over else None
    response_by_app = {r.app: r for r in trace.responses}
    hop_ids: dict[str, str] = {}
    for i, hop in enumerate(trace.hops):
        node_id = f"{p}h{i}"
        hop_ids[hop.app] = node_id
        _hop_node(w, node_id, hop, decided=(i == decider), response=response_by_app.get(hop.app),
                  compact=compact, differs=hop.app in differs, outcome_kind=trace.outcome.kind,
                  failover=(i == failover))
    ids.update({f"hop:{k}": v for k, v in hop_ids.items()})

    # The request down the chain: solid while it is in the chain, dashed once it has left it.
    previous = sender
    for i, hop in enumerate(trace.hops):
        node_id = f"{p}h{i}"
        in_chain = decider is None or i <= decider
        w.edge(previous, node_id, **(st.request_edge() if in_chain else st.unused_edge()))
        if not in_chain and hop.ran:
            # Ran after the decision: a failover (ExumRouting takes a call nobody answered).
            w.edge(f"{p}h{decider}", node_id, tail_port="w", head_port="w", label=" failover",
                   constraint=False, **st.request_edge())
        previous = node_id

    # Where it left the server.
    decider_id = f"{p}h{decider}" if decider is not None else previous
    answer = answering_branch(trace)
    exit_ids = []
    drawn = drawn_branches(trace, answer)
    for i in drawn:
        b = trace.branches[i]
        node_id = f"{p}x{i}"
        taken = answer == i or b.final is not None
        w.node(node_id, label=_exit_label(b, compact), **st.exit_node(b.cancelled, taken))
        exit_ids.append(node_id)
        tail = hop_ids.get(b.sent_by, decider_id)
        edge = st.route_edge() if not b.cancelled else dict(st.route_edge(), style="dashed")
        w.edge(tail, node_id, tail_port="ne", head_port="nw", label=f" {trace.method or 'forwarded'}", **edge)
    if answer is not None and trace.branches:
        answer = drawn.index(answer) if answer in drawn else None
    hidden = len(trace.branches) - len(drawn)
    if hidden:   # the limit is said in the picture, never a silent truncation
        more = w.node(f"{p}xmore", label=label(f"... {hidden} more branches", "(not drawn: see trace.text())"),
                      shape="box", style="dashed", color="#595959")
        w.edge(hop_ids.get(trace.branches[0].sent_by, decider_id), more, tail_port="ne", head_port="nw",
               style="dashed", color="#595959")
        exit_ids.append(more)
    if not trace.branches and trace.outcome.kind == "proxied" and trace.outcome.destination:
        node_id = w.node(f"{p}x0", label=label(short(trace.outcome.destination, 40),
                                                st.EXIT_KINDS.get(trace.outcome.destination_kind or "uri", "")),
                         **st.exit_node())
        exit_ids.append(node_id)
        w.edge(decider_id, node_id, tail_port="ne", head_port="nw", label=f" {trace.method}", **st.route_edge())
        answer = 0
    if trace.outcome.kind == "dropped":
        text = trace.outcome.client_experience or "no response reaches the sender"
        node_id = w.node(f"{p}drop", label=label("request dropped", *wrap(text, 34, 2)), shape="box",
                         style="dashed", color="#8c8c8c")
        exit_ids.append(node_id)
        w.edge(decider_id, node_id, style="dashed", color="#595959")
    if exit_ids:
        # Beside the application that sent it, one under the other when there are several.
        w.same_rank([hop_ids.get(trace.branches[0].sent_by, decider_id) if trace.branches else decider_id,
                     exit_ids[0]])
        for a, b in zip(exit_ids, exit_ids[1:]):
            w.edge(a, b, style="invis")
    ids.update({f"exit:{i}": x for i, x in enumerate(exit_ids)})

    # The final response back up, through the applications that saw it.
    if trace.outcome.status is not None:
        if answer is not None and answer < len(exit_ids) and trace.outcome.kind == "proxied":
            path = [exit_ids[answer]]
        else:
            path = [hop_ids.get(trace.outcome.decided_by, decider_id)]
        for r in trace.responses:
            node_id = hop_ids.get(r.app)
            if r.ran and node_id and node_id != path[-1]:
                path.append(node_id)
        path.append(sender)
        status = short(f"{trace.outcome.status} {trace.outcome.reason or ''}".strip(), 60)
        for k, (a, b) in enumerate(zip(path, path[1:])):
            # The exit box already says what came back; the status is written where it reaches the sender.
            text = f" {status}" if b == sender or (k == 0 and a not in exit_ids) else None
            if a in exit_ids:  # back from the exit beside the application: under the route arrow
                ports = ("sw", "se") if b == decider_id else ("n", "e")
            else:
                ports = ("e", "e")
            w.edge(a, b, tail_port=ports[0], head_port=ports[1], label=text, **st.response_edge())
    return ids


#: At most this many branches (exits) of one trace are drawn; the others are one "... N more
#: branches" box. graphviz-pure's layout time grows much faster than the node count (measured on
#: a 2-core machine, one fork below the default chain: 10 branches 0.01 s, 20 0.03 s, 40 0.12 s,
#: 60 0.56 s, 100 about 9 s, 300 over the renderer's 30 s timeout), and a picture with more than
#: a screenful of exits teaches nothing that trace.text() does not list. 20 keeps a trace, and a
#: comparison of two, well under a second. A long chain is no problem: 200 applications draw in
#: 0.15 s (the hops are one column; only the exits' layout grows this fast).
MAX_DRAWN_BRANCHES = 20


def drawn_branches(trace: Trace, answer: int | None = None) -> list[int]:
    """Indices of the branches a diagram draws: the first MAX_DRAWN_BRANCHES, the answering one always."""
    count = len(trace.branches)
    if count <= MAX_DRAWN_BRANCHES:
        return list(range(count))
    keep = list(range(MAX_DRAWN_BRANCHES))
    if answer is not None and answer >= MAX_DRAWN_BRANCHES:
        keep[-1] = answer
    return keep


def transaction_diagram(trace: Trace, *, title: str | None = None) -> Diagram:
    """The transaction diagram of ``trace`` (a Diagram: ``.source`` is DOT, ``.svg()`` renders it)."""
    heading = title or request_line(trace)
    lines = wrap(f"Outcome: {outcome_line(trace)}", 90, 2)
    if trace.outcome.client_experience:
        lines += wrap(f"The sender: {trace.outcome.client_experience}", 90, 2)
    graph = dict(st.GRAPH, label=label(heading, *lines, small=[st.LEGEND]))
    w = DotWriter("transaction", graph, st.NODE, st.EDGE)
    draw_trace(w, trace)
    return Diagram(kind="transaction", title=heading, source=w.text(), size=f"{len(w.nodes)} nodes",
                   alt=trace_alt(trace, heading), description=trace_description(trace))


# ---------------------------------------------------------------------------------------------
# The text alternative: what the diagram draws, in words, from the same Trace


def trace_alt(trace: Trace, heading: str | None = None) -> str:
    """The transaction in one sentence: the request, its sender, the outcome, how many applications ran."""
    ran = sum(1 for h in trace.hops if h.ran)
    return st.alt_text(f"Transaction diagram: {heading or request_line(trace)} from {sender_name(trace)}. "
                       f"{outcome_line(trace)}. {ran} of {len(trace.hops)} applications ran.")


def hop_words(trace: Trace, i: int) -> str:
    """What the diagram says of hop ``i``: 'priority name: ran: ...' / 'DECIDED: ...' / 'not run: why'."""
    hop = trace.hops[i]
    decider = _decider_index(trace)
    failover = _decider_index(trace, trace.outcome.decided_by) if trace.outcome.failed_over else None
    parts = []
    if hop.ran:
        what = hop.action or hop.effect or "passed on"
        parts.append(f"{'FAILOVER' if i == failover else 'DECIDED' if i == decider else 'ran'}: {what}")
        if hop.changes is not None and not hop.changes.empty:
            parts.append("changed: " + ", ".join(change_lines(hop.changes, 120)))
        parts += [f"CRITICAL ERROR{f' line {c.line}' if c.line else ''}: {short(c.message, 120)}"
                  for c in hop.critical_errors[:2]]
        fault = hop.sentence.find("the handler raised ") if hop.effect == "dispatched" else -1
        if fault >= 0:
            parts.append("MANAGED CODE FAULT: " + short(hop.sentence[fault + len("the handler raised "):], 120))
        if hop.disabled_after:
            parts.append("now disabled (10 critical errors)")
    else:
        parts.append(f"not run: {st.why_short(hop.why, trace.outcome.kind)}")
    response = next((r for r in trace.responses if r.app == hop.app), None)
    note = _response_note(response)
    if note:
        parts.append(note)
    tag = _kind_tag(hop, hop.uri).strip()
    return st.description_line(f"{hop.priority} {hop.app}{' ' + tag if tag else ''}: " + "; ".join(parts))


def _branch_words(trace: Trace, b: Branch) -> str:
    got = ", ".join(f"{s} {r}" for s, r in b.responses) or "nothing came back"
    where = b.party or st.EXIT_KINDS.get(b.kind, b.kind)
    text = f"{b.sent_by} sent the {trace.method or 'request'} out to {where} ({st.EXIT_KINDS.get(b.kind, b.kind)}, " \
           f"{short(b.target, 80)}): got {got}"
    return st.description_line(text + ("; cancelled by the server" if b.cancelled else ""))


def trace_description(trace: Trace) -> tuple[str, ...]:
    """The diagram in reading order: the sender, each application top to bottom, where the request
    went (the branches the picture draws, and how many it leaves out), the response back up."""
    lines = [st.description_line(f"{sender_name(trace)} sends {request_line(trace)}")]
    lines += [hop_words(trace, i) for i in range(len(trace.hops))]
    drawn = drawn_branches(trace, answering_branch(trace))
    lines += [_branch_words(trace, trace.branches[i]) for i in drawn]
    hidden = len(trace.branches) - len(drawn)
    if hidden:
        lines.append(f"... {hidden} more branches, not drawn (see trace.text())")
    o = trace.outcome
    if not trace.branches and o.kind == "proxied" and o.destination:
        lines.append(st.description_line(f"{o.decided_by} sent the request out to {o.destination}"))
    if o.kind == "dropped":
        lines.append(st.description_line("request dropped: " + (o.client_experience or
                                                               "no response reaches the sender")))
    if o.status is not None:
        through = [r.app for r in trace.responses if r.ran]
        lines.append(st.description_line(
            f"the response {o.status} {o.reason or ''}".rstrip() + " goes back to the sender"
            + (f" through {', '.join(through)}" if through else "")))
    if o.client_experience and o.kind != "dropped":
        lines.append(st.description_line(f"the sender: {o.client_experience}"))
    return tuple(lines)

