"""The comparison diagram: two transactions side by side, differences marked, a verdict on top.

Typical use: the same message with ProxyRequest and with RetargetRequest, or with a custom
application above and below the routing applications. Each side is a transaction diagram in
compact form (trace_diagram.draw_trace); an application that did not do the same thing in both
gets a thick orange border AND a "≠" after its name; the verdict (verdict.py) is the first line
under the titles. Rows are aligned by priority when both chains have the same length.
"""
from __future__ import annotations

from ..frontend.trace import Trace
from . import style as st
from .dot import DotWriter, label, short, wrap
from .render import Diagram
from .trace_diagram import draw_trace, first_router, outcome_line
from .verdict import differences, differing_apps, short_name, verdict

__all__ = ["compare_diagram", "compare_description", "path_line"]


def compare_diagram(a: Trace, b: Trace, *, titles: tuple[str, str] = ("A", "B"),
                    names: tuple[str, str] | None = None) -> Diagram:
    """``a`` and ``b`` side by side; ``titles`` head each side, ``names`` (default: the titles up to
    the first parenthesis) are what the verdict calls them."""
    names = names or (short_name(titles[0]), short_name(titles[1]))
    line = verdict(a, b, names)
    differs = differing_apps(a, b)
    heading = f"{titles[0]}  vs  {titles[1]}"
    legend = (st.LEGEND + "; \u2260 and orange border: not the same in both")
    # Titles wrap rather than cut: "... above the routing applications" is what tells the sides apart.
    graph = dict(st.GRAPH, label=label(wrap(heading, 120, 2), *wrap(line, 110, 3), small=wrap(legend, 150, 2)),
                 nodesep=0.2)
    w = DotWriter("comparison", graph, st.NODE, st.EDGE)
    ids = []
    for prefix, trace, title in (("a_", a, titles[0]), ("b_", b, titles[1])):
        outcome = wrap(outcome_line(trace), 60, 2)
        w.open_cluster(prefix.rstrip("_"), label=label(wrap(title, 70, 2), *outcome), color="#595959",
                       style="rounded", margin=10)
        ids.append(draw_trace(w, trace, prefix, compact=True, differs=differs))
        w.close_cluster()
    w.same_rank([ids[0]["sender"], ids[1]["sender"]])
    if len(a.hops) == len(b.hops):
        for i in range(len(a.hops)):
            w.same_rank([f"a_h{i}", f"b_h{i}"])
    return Diagram(kind="comparison", title=heading, source=w.text(),
                   size=f"{len(w.nodes)} nodes, {len(differs)} applications differ",
                   alt=st.alt_text(f"Comparison diagram: {heading}. {line}"),
                   description=compare_description(a, b, names))


_DIFFERENCE_WORDS = {"decider": "who decided", "destination": "where it went", "status": "what the sender got",
                     "body": "the body as it left the server"}


def path_line(trace: Trace) -> str:
    """One side's path in one line: the applications that ran, top to bottom, with what each did when
    it did more than pass the request on, and the outcome (what changed is in the differences)."""
    deciders = {first_router(trace), trace.outcome.decided_by}
    ran = []
    for hop in trace.hops:
        if not hop.ran:
            continue
        what = short(hop.action or hop.effect or "", 80)
        if hop.app in deciders:
            ran.append(f"{hop.app} (DECIDED: {what})")
        elif what and hop.effect not in ("passed", None):
            ran.append(f"{hop.app} ({what})")
        else:
            ran.append(hop.app)
    return f"{', '.join(ran) or 'no application ran'}; {outcome_line(trace)}"


def compare_description(a: Trace, b: Trace, names: tuple[str, str]) -> tuple[str, ...]:
    """The comparison in words: the verdict, each difference (the applications marked \u2260, then who
    decided, where it went, what came back), then each side's path."""
    lines = [st.description_line(f"Verdict: {verdict(a, b, names)}")]
    for d in differences(a, b):
        what = d.app or _DIFFERENCE_WORDS.get(d.kind, d.kind)
        # Each side cut on its own, so that one long body never hides the other.
        lines.append(st.description_line(f"differs, {what}: {names[0]}: {short(d.a, 180)}; "
                                         f"{names[1]}: {short(d.b, 180)}"))
    if len(lines) == 1:
        lines.append("no difference")
    for name, trace in zip(names, (a, b)):
        lines.append(st.description_line(f"path with {name}: {path_line(trace)}"))
    return tuple(lines)
