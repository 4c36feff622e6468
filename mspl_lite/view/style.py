"""The visual vocabulary shared by every diagram: what "ran", "did not run", "decided" look like.

Accessibility rule (issues 4 and 10): colour is never the only signal. Each state has a line
style, a border weight or a double border AND words in the label; the colours only repeat what
the text already says (tests/test_view_accessibility.py strips the colours from the DOT and
still tells every state apart). Every diagram also carries a text alternative built from the
data it draws: a short ``alt`` and a long description (render.Diagram).
"""
from __future__ import annotations

__all__ = [
    "FONT", "GRAPH", "NODE", "EDGE", "WHY_SHORT", "why_short", "EXIT_KINDS",
    "ran_node", "skipped_node", "decided_node", "changed_node", "exit_node",
    "request_edge", "unused_edge", "route_edge", "response_edge", "style_of",
    "DIM_TEXT", "DIFF_COLOR", "CUSTOM_FILL", "LEGEND", "ALT_CHARS", "DESCRIPTION_LINE_CHARS", "alt_text",
    "description_line",
]

FONT = "Helvetica"
DIM_TEXT = "#595959"        # 7:1 on the light grey fill: dimmed, still readable
DIFF_COLOR = "#b34700"
CUSTOM_FILL = "#f1e8fb"      # custom applications in the chain diagram

GRAPH = {"fontname": FONT, "fontsize": 11, "nodesep": 0.25, "ranksep": 0.28, "bgcolor": "white",
         "labelloc": "t", "labeljust": "l", "newrank": True,
         "size": "9.3,100"}  # never wider than 9.3 in (670 pt, about 900 px): a notebook's width
NODE = {"fontname": FONT, "fontsize": 10, "shape": "box", "margin": "0.12,0.05"}
EDGE = {"fontname": FONT, "fontsize": 9, "arrowsize": 0.7}

#: Hop.why -> the few words a node shows (the full sentence is in trace.WHY).
WHY_SHORT = {
    "filter": "its filter does not match",
    "routed": "already routed above",
    "disabled": "disabled",
    "not-reached": "the request ended above",   # answered, dropped or dispatched: see why_short
    "response-filter": "responseFilter excludes it",
    "not-in-path": "never saw the request",
}

#: Branch.kind -> what that exit of the Front End is (chain diagram and transaction exits).
EXIT_KINDS = {
    "endpoint": "signed-in clients",
    "application": "trusted application (UCMA)",
    "voicemail": "Exchange UM voice mail",
    "pool": "another Registrar pool",
    "gateway": "PSTN gateway",
    "edge": "Edge Server (federation)",
    "acp": "audio conferencing provider",
    "monitoring": "Monitoring Server",
    "uri": "an address",
}

LEGEND = ("solid box: ran; double border: ran and changed the request; dashed grey box: did not run "
          "(reason inside); thick box: decided; hollow arrows: the response")

#: Characters of a diagram's alt text (decision D118). A screen reader reads an alt in one breath and
#: cannot pause inside it, so it is one sentence [inferred]; everything else is in the long
#: description, so a cut alt loses nothing (it ends in "...").
ALT_CHARS = 200
#: Characters of one line of a long description: a step may quote a 1 MB reason phrase or body,
#: while the longest real line (DefaultRouting in the chain: role, filters, two exits, a note) is
#: about 330.
DESCRIPTION_LINE_CHARS = 400


def alt_text(text: str) -> str:
    """``text`` on one line, at most ALT_CHARS characters (cut with '...')."""
    from .dot import short

    return short(text, ALT_CHARS)


def description_line(text: str) -> str:
    """One line of a long description: on one line, at most DESCRIPTION_LINE_CHARS characters."""
    from .dot import short

    return short(text, DESCRIPTION_LINE_CHARS)


def why_short(why: str | None, outcome_kind: str | None = None) -> str:
    """The few words for ``why``; "not-reached" says how the request ended when the outcome is known."""
    if why == "not-reached" and outcome_kind in ("responded", "dropped"):
        return "answered above" if outcome_kind == "responded" else "dropped above"
    return WHY_SHORT.get(why or "", why or "")


def _style(*parts: str) -> str:
    return ",".join(p for p in parts if p)


def ran_node(builtin: bool) -> dict:
    """An application that saw the request (built-ins have rounded corners, scripts square)."""
    return {"style": _style("rounded" if builtin else "", "filled"), "fillcolor": "white", "color": "black",
            "penwidth": 1.2}


def changed_node(builtin: bool) -> dict:
    """Ran and changed the request: a double border (the label says what changed)."""
    return {"style": _style("rounded" if builtin else "", "filled"), "fillcolor": "#e6f0fa", "color": "black",
            "penwidth": 1.2, "peripheries": 2}


def decided_node(builtin: bool) -> dict:
    """Decided the route: routed, answered or dropped the request (thick border, the label says so)."""
    return {"style": _style("rounded" if builtin else "", "filled", "bold"), "fillcolor": "#ffe8a3",
            "color": "black", "penwidth": 3}


def skipped_node(builtin: bool) -> dict:
    """Did not see the request: dimmed AND dashed, with the reason in the label."""
    return {"style": _style("rounded" if builtin else "", "dashed", "filled"), "fillcolor": "#f0f0f0",
            "color": "#8c8c8c", "fontcolor": DIM_TEXT, "penwidth": 1}


def exit_node(cancelled: bool = False, taken: bool = True) -> dict:
    """Where the request left the server (a branch); a cancelled or unused one is dashed."""
    if cancelled or not taken:
        return {"shape": "box", "style": "dashed,filled", "fillcolor": "#f0f0f0", "color": "#8c8c8c",
                "fontcolor": DIM_TEXT}
    return {"shape": "box", "style": "filled", "fillcolor": "#dff0d8", "color": "#2f6b2f", "penwidth": 1.5}


def request_edge() -> dict:
    """The request travelling down the chain."""
    return {"color": "black", "penwidth": 1.5}


def unused_edge() -> dict:
    """A step of the chain the request never took (after it was routed or answered)."""
    return {"style": "dashed", "color": "#a6a6a6", "arrowhead": "none"}


def route_edge() -> dict:
    """The request leaving the server."""
    return {"color": "#2f6b2f", "penwidth": 2}


def response_edge() -> dict:
    """The final response on its way back up: hollow arrowheads, on the right side."""
    return {"color": "#1f4e99", "arrowhead": "empty", "penwidth": 1.3, "constraint": False}


def style_of(attrs: dict) -> set[str]:
    """The style words of a node's attribute dict ("rounded,filled" -> {"rounded", "filled"}); the tests
    read the diagrams' DOT with it."""
    return {s for s in str(attrs.get("style", "")).split(",") if s}
