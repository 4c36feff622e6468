"""A small DOT writer: quoted attributes, HTML-like labels, clusters, in insertion order.

Why not the graphviz package's Digraph: we need nothing but text, in a fixed order, with
labels we escape ourselves; writing it here keeps the output identical run after run and
lets tests read the DOT without a renderer.
"""
from __future__ import annotations

import re
import textwrap
from typing import Iterable

__all__ = ["Html", "html_escape", "drawable", "wrap", "short", "label", "DotWriter"]


class Html(str):
    """An HTML-like label: written between < and > instead of quotes."""

    __slots__ = ()


#: Characters no label may carry: C0/C1 controls (XML 1.0, and so graphviz's HTML-like labels
#: and SVG, refuse them; a NUL ends graphviz's input) and lone surrogates (no UTF-8 form). They
#: are written visibly as \\xNN / \\udNNN, the way mspl_lite.text.shown writes them.
_UNDRAWABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def drawable(text: str) -> str:
    """``text`` without characters a DOT label or SVG cannot hold (each written as \\xNN or \\uNNNN)."""
    return _UNDRAWABLE.sub(_visible, text)


def html_escape(text: str) -> str:
    """Escape text for an HTML-like label or SVG text (both read entities, not raw < > & ")."""
    return (drawable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _head(text: str, limit: int) -> str:
    """The start of ``text``, enough for ``limit`` characters after whitespace is squeezed: wrapping a
    1 MB reason phrase to three lines must not read the whole megabyte (a bound, cut with '...')."""
    room = 4 * limit + 16
    return text if len(text) <= room else text[:room] + " ..."


def wrap(text: str, width: int = 40, max_lines: int = 3) -> list[str]:
    """Wrap ``text`` to lines of at most ``width`` characters; the last kept line ends in '...'."""
    text = " ".join(_head(text, width * (max_lines + 1)).split())
    if not text:
        return []
    lines = textwrap.wrap(text, width=width, break_long_words=True, break_on_hyphens=False)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = short(lines[-1] + " ...", width)
    return lines


def short(text: str, limit: int = 40) -> str:
    """``text`` on one line, cut to ``limit`` characters with '...'."""
    text = " ".join(_head(str(text), limit).split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def label(title: str | list[str], *lines: str, small: Iterable[str] = (), bold_lines: Iterable[str] = (),
          font_color: str | None = None) -> Html:
    """A node label: a bold title (one line or a list), plain lines, bold lines, small lines (escaped)."""
    titles = [title] if isinstance(title, str) else list(title)
    parts = [f"<b>{html_escape(t)}</b>" for t in titles]
    parts += [html_escape(line) for line in lines if line]
    parts += [f"<b>{html_escape(line)}</b>" for line in bold_lines if line]
    parts += [f'<font point-size="9">{html_escape(line)}</font>' for line in small if line]
    body = "<br/>".join(parts)
    if font_color:
        body = f'<font color="{font_color}">{body}</font>'
    return Html(body)


def _value(value) -> str:
    if isinstance(value, Html):
        return f"<{value}>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = drawable(str(value).replace("\r\n", "\n").replace("\r", "\n")).replace("\\", "\\\\") \
        .replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def _attrs(attrs: dict) -> str:
    items = [f"{key}={_value(value)}" for key, value in attrs.items() if value is not None]
    return f" [{', '.join(items)}]" if items else ""


def _id(name: str) -> str:
    return name if name.replace("_", "").isalnum() and not name[0].isdigit() else _value(name)


class DotWriter:
    """Collects the statements of one digraph; ``text()`` gives the DOT, ``nodes`` counts nodes."""

    __slots__ = ("_lines", "_depth", "nodes")

    def __init__(self, name: str, graph: dict, node: dict | None = None, edge: dict | None = None):
        self._lines = [f"digraph {_id(name)} {{"]
        self._depth = 1
        self.nodes: list[str] = []
        self._stmt(f"graph{_attrs(graph)};")
        if node:
            self._stmt(f"node{_attrs(node)};")
        if edge:
            self._stmt(f"edge{_attrs(edge)};")

    def _stmt(self, text: str) -> None:
        self._lines.append("  " * self._depth + text)

    def node(self, name: str, **attrs) -> str:
        """Add a node; returns its id."""
        self.nodes.append(name)
        self._stmt(f"{_id(name)}{_attrs(attrs)};")
        return name

    def edge(self, tail: str, head: str, *, tail_port: str | None = None, head_port: str | None = None,
             **attrs) -> None:
        """Add an edge, optionally from/to a compass port ("e", "sw", ...)."""
        t = _id(tail) + (f":{tail_port}" if tail_port else "")
        h = _id(head) + (f":{head_port}" if head_port else "")
        self._stmt(f"{t} -> {h}{_attrs(attrs)};")

    def same_rank(self, names: Iterable[str]) -> None:
        """Keep these nodes on one row."""
        names = list(names)
        if len(names) > 1:
            self._stmt("{rank=same; " + " ".join(_id(n) + ";" for n in names) + "}")

    def open_cluster(self, name: str, **attrs) -> None:
        """Start a boxed subgraph (cluster_<name>); close it with close_cluster()."""
        self._stmt(f"subgraph {_id('cluster_' + name)} {{")
        self._depth += 1
        self._stmt(f"graph{_attrs(attrs)};")

    def close_cluster(self) -> None:
        """End the innermost cluster."""
        self._depth -= 1
        self._stmt("}")

    def text(self) -> str:
        """The DOT text so far, closed."""
        return "\n".join(self._lines + ["}"]) + "\n"
