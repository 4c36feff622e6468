"""Draw DOT in the browser: the JupyterLite site's WebAssembly Graphviz, called synchronously.

Theory of operation. Under Pyodide (``sys.platform == "emscripten"``) there are no processes, so
render.py hands DOT to this module instead of to graphviz-pure. The site ships Viz.js (Graphviz
compiled to WebAssembly) as the wheel ``mspl_lite_graphviz_wasm``, rewritten at build time to
start synchronously (decision D114): the kernel runs in a web worker, where compiling and
instantiating a WebAssembly module synchronously is allowed, so ``Diagram.svg()`` stays a plain
function call and a notebook's code is the same here and in JupyterLab. The script is evaluated
once per kernel, on the first diagram; each distinct DOT source is drawn once (cached).

There is no timeout: a call into WebAssembly cannot be interrupted from Python. The diagrams
bound what they draw (trace_diagram.MAX_DRAWN_BRANCHES), which is what keeps a render short.
"""
from __future__ import annotations

import json
from functools import lru_cache

from ..errors import MsplLiteError

__all__ = ["render_svg"]

#: The wheel the site ships (lite/build.py makes it from npm @viz-js/viz).
_DIST = "mspl_lite_graphviz_wasm"

# Defined once in the worker's global scope: DOT in, a JSON record out (no JS proxies to free).
_RENDER_FUNCTION = """
globalThis.msplLiteRenderDot = (function () {
  const viz = globalThis.MsplLiteViz.instance();
  return function (dot) {
    const r = viz.render(dot, {format: "svg"});
    return JSON.stringify({status: r.status, output: r.output || "",
                           errors: (r.errors || []).map(e => e.level + ": " + e.message)});
  };
})();
"""


def _errors():
    from .render import RendererMissing, RenderFailed

    return RendererMissing, RenderFailed


@lru_cache(maxsize=1)
def _renderer():
    """The worker's render function, set up on first use."""
    RendererMissing, RenderFailed = _errors()
    try:
        import mspl_lite_graphviz_wasm as viz
        from pyodide.code import run_js
    except ImportError as err:
        raise RendererMissing(
            f"cannot draw the diagram: this browser kernel has no {_DIST} ({err}). The JupyterLite site "
            "built by `python3 tasks.py lite` ships it; the DOT text is still available as diagram.source.") from None
    try:
        run_js(viz.script())
        run_js(_RENDER_FUNCTION)
        import js

        return js.msplLiteRenderDot
    except Exception as err:  # a JsException: the browser refused the WebAssembly
        raise RenderFailed(f"the WebAssembly Graphviz did not start in this browser: {err}") from None


@lru_cache(maxsize=256)
def render_svg(source: str) -> bytes:
    """SVG bytes for DOT ``source`` (already free of lone surrogates)."""
    _, RenderFailed = _errors()
    try:
        result = json.loads(_renderer()(source))
    except MsplLiteError:
        raise
    except Exception as err:  # a JsException from inside Graphviz
        raise RenderFailed(f"the WebAssembly Graphviz could not draw the diagram: {err}") from None
    if result["status"] != "success" or not result["output"]:
        raise RenderFailed("the WebAssembly Graphviz could not draw the diagram: "
                           + ("; ".join(result["errors"][:5]) or "no message"))
    return result["output"].encode("utf-8")
