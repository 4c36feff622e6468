"""Long outputs folded to what the lesson needs, with the whole text one click away.

    folded(str(trace), keep=lambda line: "skipped" not in line, what="the whole trace")

The notebook shows the kept lines (a cut is marked ``...``) and, under them, an HTML
``<details>`` block holding the whole text: closed until clicked, the same on every run (nbval
compares it), readable without a kernel or trust. Plain text (a terminal, a stored notebook's
text/plain) shows the kept lines and says how many were folded.
"""
from __future__ import annotations

import html
from typing import Callable, Collection, Union

Keep = Union[Callable[[str], bool], Collection[int]]

__all__ = ["Folded", "folded"]


class Folded:
    """A text shown in part; the whole of it in a <details> block."""

    def __init__(self, text: str, keep: Keep, what: str = "the whole output"):
        self.full = text.rstrip("\n")
        self.what = what
        numbers = None if callable(keep) else frozenset(keep)
        shown: list[str] = []
        for number, line in enumerate(self.full.split("\n")):
            if (keep(line) if numbers is None else number in numbers):
                shown.append(line)
            elif not shown or shown[-1] != "...":
                shown.append("...")
        self.shown = shown
        self.folded_lines = self.full.count("\n") + 1 - sum(1 for s in shown if s != "...")

    def text(self) -> str:
        """The kept lines, and how many were folded."""
        return "\n".join(self.shown) + f"\n({self.folded_lines} lines folded; {self.what} below, one click away)"

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        style = 'style="white-space:pre-wrap;margin:4px 0"'
        return (f'<pre class="mspl-text" {style}>{html.escape(chr(10).join(self.shown))}</pre>'
                f"<details><summary>{html.escape(self.what[:1].upper() + self.what[1:])} ({self.full.count(chr(10)) + 1} lines)</summary>"
                f'<pre class="mspl-text" {style}>{html.escape(self.full)}</pre></details>')


def folded(text: str, keep: Keep, what: str = "the whole output") -> Folded:
    """``text`` with only the lines ``keep`` accepts (a test of a line, or line numbers from 0) shown;
    the whole of it in a closed <details>."""
    return Folded(str(text), keep, what)
