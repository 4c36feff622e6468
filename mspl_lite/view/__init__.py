"""Diagrams (and, in ``mspl_lite.view.widgets``, notebook widgets) of the chain and of a trace.

    from mspl_lite.view import chain_diagram, transaction_diagram, compare_diagram, ladder_diagram
    transaction_diagram(trace)                  # shows as SVG in a notebook; .source is the DOT
    compare_diagram(a, b, titles=('ProxyRequest("sip:..")', 'RetargetRequest("sip:..")'))
    verdict(a, b, ("ProxyRequest", "RetargetRequest"))   # the one-line "what changed"
    write_trace_diagram(trace, "trace.svg")     # what `mspl-lite trace --diagram` writes

The view reads only the chain (as Get-CsServerApplication shows it) and Trace values; it never
looks inside the simulator. Rendering uses graphviz-pure (pip-installable, byte-identical SVG
on every machine); see render.py.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .chain_diagram import chain_diagram
from .compare import compare_diagram
from .ladder import ladder_diagram, ladder_steps
from .render import Diagram, RenderFailed, RendererMissing, find_renderer
from .trace_diagram import outcome_line, transaction_diagram
from .verdict import Difference, differences, verdict

__all__ = [
    "Diagram", "RendererMissing", "RenderFailed", "find_renderer",
    "chain_diagram", "transaction_diagram", "compare_diagram", "ladder_diagram", "ladder_steps",
    "verdict", "differences", "Difference", "outcome_line",
    "write_trace_diagram", "write_chain_diagram",
]


def write_trace_diagram(trace: Any, path: str | os.PathLike) -> Path:
    """Write the transaction diagram of ``trace`` to ``path`` (.svg; .dot/.gv for the DOT; .png)."""
    return transaction_diagram(trace).save(path)


def write_chain_diagram(chain_or_frontend: Any, path: str | os.PathLike) -> Path:
    """Write the chain diagram to ``path``; pass the FrontEnd (not only its chain) to name the exits."""
    return chain_diagram(chain_or_frontend).save(path)
