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
from .dot import DotWriter, label, wrap
from .render import Diagram
from .trace_diagram import draw_trace, outcome_line
from .verdict import differing_apps, short_name, verdict

__all__ = ["compare_diagram"]


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
                   size=f"{len(w.nodes)} nodes, {len(differs)} applications differ")
