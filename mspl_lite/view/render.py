"""Turn DOT into SVG with graphviz-pure, and the ``Diagram`` value every view function returns.

Theory of operation. The diagram functions write DOT text (dot.py); this module runs one
renderer binary on it (``graphviz-pure -Tsvg``, DOT on stdin, SVG on stdout) and caches the
result by source. graphviz-pure is a static port of Graphviz's dot with built-in font metrics,
so the same DOT gives byte-identical SVG on every run and machine: nbval can compare diagrams.
A system Graphviz measures text with the installed fonts, so its SVG differs between machines;
it is used only when asked for by ``MSPL_LITE_DOT=/usr/bin/dot`` (for a comparison).

We call the binary ourselves rather than through ``graphviz.backend.dot_command.DOT_BINARY``:
that setting is global to the process (a notebook's own graphviz diagrams would change renderer)
and the package cannot parse graphviz-pure's version line; a subprocess call is as fast and
gives us the error text to show.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import MsplLiteError, UsageError

__all__ = ["RendererMissing", "RenderFailed", "Diagram", "find_renderer", "render", "RENDERER_ENV"]

#: Environment variable naming another dot-compatible binary (e.g. /usr/bin/dot).
RENDERER_ENV = "MSPL_LITE_DOT"
_BINARY = "graphviz-pure"
_TIMEOUT_S = 30


class RendererMissing(MsplLiteError):
    """No graphviz-pure binary: a diagram's DOT source exists but cannot be drawn."""


class RenderFailed(MsplLiteError):
    """The renderer refused the DOT text or took too long (a bug in mspl_lite's DOT if it happens)."""


def _candidates() -> list[Path]:
    """Where graphviz-pure may be: next to this Python (a venv's bin/ or Scripts/), then PATH."""
    found = []
    exe = Path(sys.executable)
    for folder in (exe.parent, exe.resolve().parent):
        for name in (_BINARY, _BINARY + ".exe"):
            path = folder / name
            if path.is_file() and path not in found:
                found.append(path)
    on_path = shutil.which(_BINARY)
    if on_path and Path(on_path) not in found:
        found.append(Path(on_path))
    return found


def find_renderer() -> str:
    """The renderer's path: $MSPL_LITE_DOT, else graphviz-pure next to sys.executable or on PATH."""
    override = os.environ.get(RENDERER_ENV)
    if override:
        path = shutil.which(override) or (override if Path(override).is_file() else None)
        if path is None:
            raise RendererMissing(
                f"cannot draw the diagram: {RENDERER_ENV}={override} is not an executable file. "
                f"Unset {RENDERER_ENV} to use graphviz-pure.")
        return str(path)
    found = _candidates()
    if not found:
        raise RendererMissing(
            "cannot draw the diagram: graphviz-pure is not installed in this Python environment "
            f"(looked next to {sys.executable} and on PATH). Install it with\n"
            f"    {sys.executable} -m pip install graphviz-pure==0.2.2\n"
            "(no system Graphviz is needed). The DOT text is still available as diagram.source.")
    return str(found[0])


@lru_cache(maxsize=256)
def _render_cached(binary: str, fmt: str, source: str) -> bytes:
    try:
        done = subprocess.run([binary, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True,
                              timeout=_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise RenderFailed(f"{Path(binary).name} took more than {_TIMEOUT_S} s to draw the diagram") from None
    except OSError as err:
        raise RendererMissing(f"cannot run {binary}: {err.strerror or err}") from None
    if done.returncode != 0 or not done.stdout:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RenderFailed(f"{Path(binary).name} could not draw the diagram (exit {done.returncode}): "
                           + ("; ".join(detail[:5]) or "no message"))
    return done.stdout


def render(source: str, fmt: str = "svg") -> bytes:
    """Run the renderer on DOT ``source``; ``fmt`` is svg (default) or png. Cached by source."""
    if fmt not in ("svg", "png"):
        raise UsageError(f"format must be 'svg' or 'png', not {fmt!r}")
    return _render_cached(find_renderer(), fmt, source)


# ---------------------------------------------------------------------------------------------
# The value a view function returns


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagram:
    """A drawing: its kind, a title, its source (DOT, or SVG for a hand-drawn ladder), how to render it.

    ``svg()`` gives the SVG text; ``save(path)`` writes .svg, .dot/.gv (the source) or .png.
    In a notebook it shows as SVG; its repr names what it draws and never a memory address.
    """

    kind: str           # "chain" | "transaction" | "comparison" | "ladder"
    title: str
    source: str         # DOT text, or the SVG itself when fmt == "svg"
    size: str           # what the repr counts: "14 nodes", "4 lifelines, 6 messages"
    fmt: str = "dot"

    def __repr__(self) -> str:
        return f"<Diagram {self.kind}: {self.title} ({self.size})>"

    def svg(self) -> str:
        """The SVG text (rendered once per distinct source and cached)."""
        if self.fmt == "svg":
            return self.source
        return render(self.source, "svg").decode("utf-8")

    def save(self, path: str | os.PathLike) -> Path:
        """Write the diagram: ``.svg`` (default), ``.dot``/``.gv`` (the DOT text) or ``.png``."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix in (".dot", ".gv"):
            if self.fmt != "dot":
                raise UsageError(f"a {self.kind} diagram is drawn directly as SVG; save it as .svg")
            path.write_text(self.source, encoding="utf-8")
        elif suffix == ".png":
            if self.fmt != "dot":
                raise UsageError(f"a {self.kind} diagram is drawn directly as SVG; save it as .svg")
            path.write_bytes(render(self.source, "png"))
        elif suffix == ".svg":
            path.write_text(self.svg(), encoding="utf-8")
        else:
            raise UsageError(f"cannot save a diagram as {path.name!r}: use a name ending in .svg, .dot, .gv or .png")
        return path

    # -- notebook display ---------------------------------------------------------------------

    def _repr_svg_(self) -> str:
        return self.svg()

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        try:
            return {"image/svg+xml": self.svg(), "text/plain": repr(self)}
        except MsplLiteError as err:  # no renderer: say so in place of the picture
            return {"text/plain": f"{self!r}\n{err}"}
