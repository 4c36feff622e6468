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

A renderer never outlives its caller or its deadline: it runs in a process group (session) of
its own; on a timeout, an interrupt (KeyboardInterrupt) or any other exception during the wait
the whole group is killed with SIGKILL (a renderer may ignore SIGTERM) and reaped. On Linux the
renderer also gets PR_SET_PDEATHSIG=SIGKILL, so it dies with the Python process that started it
even when that process is killed with SIGKILL and cannot clean up.
"""
from __future__ import annotations

import base64
import html
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import MsplLiteError, UsageError
from ..text import replace_lone_surrogates

__all__ = ["RendererMissing", "RenderFailed", "Diagram", "find_renderer", "render", "RENDERER_ENV",
           "RENDER_TIMEOUT_S", "run_renderer"]

#: Environment variable naming another dot-compatible binary (e.g. /usr/bin/dot).
RENDERER_ENV = "MSPL_LITE_DOT"
_BINARY = "graphviz-pure"

#: Seconds a renderer may take before it is killed. The diagrams bound what they draw
#: (trace_diagram.MAX_DRAWN_BRANCHES), so a real diagram takes well under a second; 30 s is
#: only a last resort against a renderer that hangs. ``render(..., timeout=...)`` overrides it.
RENDER_TIMEOUT_S = 30.0
_TIMEOUT_S = RENDER_TIMEOUT_S   # the old name
#: Under Pyodide (the JupyterLite site) render() uses wasm_graphviz instead of a renderer binary.
IN_BROWSER = sys.platform == "emscripten"


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


def _parent_death_signal():
    """A preexec_fn that makes the child die with SIGKILL when its parent dies (Linux), else None.

    libc's prctl is looked up here, in the parent, so that the child (between fork and exec)
    only makes one system call: nothing that could take a lock another thread holds.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    pr_set_pdeathsig = 1   # <linux/prctl.h>

    def die_with_parent() -> None:
        prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:   # the parent died before prctl took effect
            os._exit(1)

    return die_with_parent


def _kill(proc: subprocess.Popen) -> None:
    """Kill the renderer's whole process group with SIGKILL and reap it (never raises)."""
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)   # its own session: pgid == pid
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError, OSError):
        pass
    try:
        proc.kill()
    except OSError:
        pass
    try:
        proc.communicate(timeout=5)   # reap it and close the pipes
    except (subprocess.TimeoutExpired, OSError, ValueError):
        pass


def run_renderer(argv: list[str], data: bytes, timeout: float) -> tuple[int, bytes, bytes]:
    """Run ``argv`` with ``data`` on stdin: (exit status, stdout, stderr); killed for certain at ``timeout``.

    Raises RenderFailed on the timeout, RendererMissing when it cannot start; a KeyboardInterrupt
    during the wait kills and reaps the renderer, then propagates.
    """
    extra: dict = {"start_new_session": True} if os.name == "posix" else \
        {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
    preexec = _parent_death_signal()
    if preexec is not None:
        extra["preexec_fn"] = preexec
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                **extra)
    except OSError as err:
        raise RendererMissing(f"cannot run {argv[0]}: {err.strerror or err}") from None
    try:
        out, err = proc.communicate(data, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise RenderFailed(f"{Path(argv[0]).name} took more than {timeout:g} s to draw the diagram and was "
                           "stopped") from None
    except BaseException:   # KeyboardInterrupt, a broken pipe, ...: never leave it running
        _kill(proc)
        raise
    return proc.returncode, out, err


@lru_cache(maxsize=256)
def _render_cached(binary: str, fmt: str, source: str, timeout: float) -> bytes:
    code, out, err = run_renderer([binary, f"-T{fmt}"], replace_lone_surrogates(source).encode("utf-8"), timeout)
    if code != 0 or not out:
        detail = err.decode("utf-8", "replace").strip().splitlines()
        raise RenderFailed(f"{Path(binary).name} could not draw the diagram (exit {code}): "
                           + ("; ".join(detail[:5]) or "no message"))
    return out


def render(source: str, fmt: str = "svg", *, timeout: float | None = None) -> bytes:
    """Run the renderer on DOT ``source``; ``fmt`` is svg (default) or png. Cached by source.

    ``timeout``: seconds before the renderer is killed (default RENDER_TIMEOUT_S).
    """
    if fmt not in ("svg", "png"):
        raise UsageError(f"format must be 'svg' or 'png', not {fmt!r}")
    if IN_BROWSER:  # JupyterLite: no processes; the site's WebAssembly Graphviz draws (decision D114)
        if fmt != "svg":
            raise RenderFailed("in the browser a diagram is drawn as SVG only: save it as .svg")
        from .wasm_graphviz import render_svg

        return render_svg(replace_lone_surrogates(source))
    return _render_cached(find_renderer(), fmt, source, float(RENDER_TIMEOUT_S if timeout is None else timeout))


def _with_text(svg: str, title: str, description: tuple[str, ...]) -> str:
    """``svg`` with ``<title>`` and ``<desc>`` as the root element's first children, where a screen
    reader looks for the name and the description of a picture."""
    start = svg.find("<svg")
    end = svg.find(">", start) + 1 if start >= 0 else 0
    if end <= 0 or svg[end - 2] == "/":   # no root element, or an empty one
        return svg
    from .dot import drawable   # XML holds no control characters nor lone surrogates

    text = f"<title>{html.escape(drawable(title), quote=False)}</title>"
    if description:
        text += f"<desc>{html.escape(drawable('; '.join(description)), quote=False)}</desc>"
    tag = svg[start:end]
    if "role=" not in tag:   # inline in a widget's page, role="img" makes the title its name
        tag = tag[:-1] + ' role="img">'   # last: the width and height stay where readers of the SVG look
    return svg[:start] + tag + "\n" + text + svg[end:]


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
    #: What the drawing shows, in words, for a screen reader and for where the picture cannot show:
    #: one short sentence (the img's alt, the SVG's <title>) ...
    alt: str = ""
    #: ... and the long description, one line per thing drawn in reading order (a list under the
    #: picture, the SVG's <desc>). Built by each diagram from the data it draws.
    description: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"<Diagram {self.kind}: {self.title} ({self.size})>"

    def text_alternative(self) -> str:
        """What the diagram shows in one paragraph (its ``alt``, else its kind, title and size)."""
        return self.alt or f"{self.kind.capitalize()} diagram: {self.title} ({self.size})."

    def html(self) -> str:
        """An ``<img>`` holding the SVG as a data: URI, its alt the text alternative; with a long
        description, a ``<figure>`` whose ``<figcaption>`` holds it in a closed ``<details>``.

        Why an img and not the SVG itself: JupyterLab renders image/svg+xml only in a trusted
        notebook (a copied, downloaded or Binder notebook shows the text instead), while text/html
        is sanitized and shown everywhere, and its sanitizer keeps data: URIs on img (measured in
        JupyterLab 4 in Chromium). Why a figcaption and not aria-describedby: the sanitizer keeps
        figure, figcaption, details and summary but drops every aria-* attribute (JupyterLab 4.6's
        allowed lists). The same bytes every run: nbval compares it.
        """
        data = base64.b64encode(self.svg().encode("utf-8")).decode("ascii")
        alt = html.escape(self.text_alternative(), quote=True)
        img = (f'<img alt="{alt}" title="{html.escape(self.title, quote=True)}" '
               f'style="max-width:100%;height:auto" src="data:image/svg+xml;base64,{data}">')
        if not self.description:
            return img
        items = "".join(f"<li>{html.escape(line, quote=False)}</li>" for line in self.description)
        return (f'<figure style="margin:0">{img}<figcaption><details><summary>Text description of the '
                f'{self.kind} diagram</summary><ul>{items}</ul></details></figcaption></figure>')

    def svg(self) -> str:
        """The SVG text (rendered once per distinct source and cached), with the text alternative as
        its <title> and the long description as its <desc> (a hand-drawn ladder writes its own)."""
        if self.fmt == "svg":
            return self.source
        return _with_text(render(self.source, "svg").decode("utf-8"), self.text_alternative(), self.description)

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
            # text/html shows trusted and untrusted (JupyterLab prefers it to SVG); image/svg+xml
            # is for viewers that skip HTML; text/plain names the diagram.
            return {"text/html": self.html(), "image/svg+xml": self.svg(), "text/plain": repr(self)}
        except MsplLiteError as err:  # no renderer: say so in place of the picture
            return {"text/plain": f"{self!r}\n{err}"}
