"""Driving a notebook in JupyterLab like a learner, and reading back what the learner sees.

Everything goes through what the page shows (the DOM) or the app's own commands
(window.jupyterapp, exposed by --LabApp.expose_app_in_browser=True): the tests never talk to the
kernel behind JupyterLab's back. The kernel must read Idle
before cells run (a weaker wait failed 2 runs in 3 when measured here).
"""
from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

KERNEL_IDLE_TIMEOUT_MS = 90_000
RUN_ALL_TIMEOUT_MS = 150_000
WIDGETS_SETTLE_TIMEOUT_MS = 30_000
#: Chromium draws at most this many pixels in one go; a longer notebook is cut at the bottom.
MAX_SHOT_HEIGHT = 16_000

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
SVG_MIME = "image/svg+xml"
#: What ipywidgets writes in place of a widget it could not show (jupyterlab-manager's renderer,
#: and the error view @jupyter-widgets/base puts where a view's module failed to load).
WIDGET_FAILURES = ("Error displaying widget", "Loading widget...")

# The notebook panel in front, if its document is `path`.
_PANEL = """(path) => {
  const app = window.jupyterapp;
  const w = app && app.shell && app.shell.currentWidget;
  if (!w || !w.content || !w.context || w.context.path !== path) return null;
  return w;
}"""

_KERNEL_IDLE = """(path) => {
  const w = (%s)(path);
  const kernel = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  if (!kernel || kernel.status !== 'idle' || !w.sessionContext.isReady) return false;
  // The status bar is what the learner reads: wait until it says "Python 3 (ipykernel) | Idle" too.
  const bar = document.querySelector('#jp-main-statusbar');
  return !!bar && /\\|\\s*Idle/.test(bar.textContent);
}""" % _PANEL

_RUN_ALL = """(path) => {
  const w = (%s)(path);
  window.__msplRunAll = {done: false};
  window.jupyterapp.commands.execute('notebook:run-all-cells').then(
    ok => { window.__msplRunAll = {done: true, ok: ok}; },
    err => { window.__msplRunAll = {done: true, ok: false, error: String(err)}; });
  return !!w;
}""" % _PANEL

_RUN_FINISHED = """(path) => {
  const w = (%s)(path);
  if (!w || !window.__msplRunAll || !window.__msplRunAll.done) return false;
  const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
  if (!kernel || kernel.status !== 'idle') return false;
  return !w.content.widgets.some(c => c.model.type === 'code' && c.model.executionState === 'running');
}""" % _PANEL

# Widget views render asynchronously (a Box draws its children after it is attached): settled
# means no placeholder left, every widget output has a view or a failure message, and the page
# has not changed for three polls in a row.
_WIDGETS_SETTLED = """(path) => {
  const w = (%s)(path);
  if (!w || w.node.textContent.includes('Loading widget...')) return false;
  for (const cell of w.content.widgets) {
    if (cell.model.type !== 'code') continue;
    const json = cell.model.outputs.toJSON();
    const nodes = cell.outputArea.node.querySelectorAll(':scope > .jp-OutputArea-child > .jp-OutputArea-output');
    for (let i = 0; i < json.length; i++) {
      if (!(json[i].data && json[i].data['%s'])) continue;
      const node = nodes[i];
      if (!node || !(node.querySelector('.jupyter-widgets') || node.textContent.includes('Error displaying widget')))
        return false;
    }
  }
  const sig = w.content.node.innerHTML.length + ':' + w.content.node.getElementsByTagName('*').length;
  if (window.__msplSettle && window.__msplSettle.sig === sig) return ++window.__msplSettle.same >= 3;
  window.__msplSettle = {sig: sig, same: 0};
  return false;
}""" % (_PANEL, WIDGET_MIME)

# One record per cell: the model's outputs next to what their DOM nodes show.
_CELLS = """(path) => {
  const w = (%s)(path);
  const cut = (s, n) => (s || '').slice(0, n);
  return w.content.widgets.map((cell, index) => {
    const m = cell.model;
    const rec = {index, type: m.type, tags: m.getMetadata('tags') || [],
                 source: m.sharedModel.getSource(), count: null, outputs: []};
    if (m.type !== 'code') return rec;
    rec.count = m.executionCount;
    const json = m.outputs.toJSON();
    // Top-level outputs only: an Output widget holds output areas of its own.
    const nodes = Array.from(cell.outputArea.node.querySelectorAll(
        ':scope > .jp-OutputArea-child > .jp-OutputArea-output'));
    rec.domCount = nodes.length;
    json.forEach((o, i) => {
      const data = o.data || {};
      const node = nodes[i];
      const text = node ? node.innerText : '';
      const imgs = node ? Array.from(node.querySelectorAll('img')) : [];
      rec.outputs.push({
        type: o.output_type, mimes: Object.keys(data), name: o.name || null,
        ename: o.ename || null, evalue: cut(o.evalue, 300),
        plain: cut(Array.isArray(data['text/plain']) ? data['text/plain'].join('') : data['text/plain'], 300),
        stream: cut(Array.isArray(o.text) ? o.text.join('') : o.text, 300),
        dom: !!node,
        domClass: node ? node.className : '',
        domMime: node ? node.getAttribute('data-mime-type') : null,
        domText: cut(text, 600),
        svgImages: imgs.filter(im => (im.getAttribute('src') || '').startsWith('data:image/svg+xml')).length,
        svgImagesDrawn: imgs.filter(im => (im.getAttribute('src') || '').startsWith('data:image/svg+xml')
                                          && im.complete && im.naturalWidth > 0).length,
        inlineSvgs: node ? Array.from(node.querySelectorAll('svg')).filter(s => s.querySelector('g')).length : 0,
        widgetViews: node ? node.querySelectorAll('.jupyter-widgets').length : 0,
        widgetErrors: node ? node.querySelectorAll('.jupyter-widgets-error-widget').length : 0,
      });
    });
    return rec;
  });
}""" % _PANEL

_SCROLL_HEIGHT = """(path) => {
  const w = (%s)(path);
  const scroller = w.content.node.querySelector('.jp-WindowedPanel-outer') || w.content.node;
  return {content: scroller.scrollHeight, visible: scroller.clientHeight};
}""" % _PANEL

# Back to the first cell: Run All leaves the notebook scrolled to its last cell.
_SCROLL_TOP = """(path) => {
  const w = (%s)(path);
  const scroller = w.content.node.querySelector('.jp-WindowedPanel-outer') || w.content.node;
  scroller.scrollTop = 0;
}""" % _PANEL


@dataclass
class Output:
    """One output of a cell: what the kernel sent (model) and what the page shows (DOM)."""

    type: str
    mimes: list
    name: str | None
    ename: str | None
    evalue: str
    plain: str
    stream: str
    dom: bool
    domClass: str
    domMime: str | None
    domText: str
    svgImages: int
    svgImagesDrawn: int
    inlineSvgs: int
    widgetViews: int
    widgetErrors: int

    @property
    def is_widget(self) -> bool:
        """The kernel displayed a widget here."""
        return WIDGET_MIME in self.mimes

    @property
    def is_svg(self) -> bool:
        """The kernel sent an SVG picture here (a Diagram's _repr_svg_)."""
        return SVG_MIME in self.mimes

    @property
    def drawn_pictures(self) -> int:
        """Pictures the browser actually drew: decoded SVG images plus inline SVG with content."""
        return self.svgImagesDrawn + self.inlineSvgs


@dataclass
class Cell:
    """A cell as the page shows it after running."""

    index: int
    type: str
    tags: list
    source: str
    count: int | None
    outputs: list[Output] = field(default_factory=list)
    domCount: int = 0

    @property
    def where(self) -> str:
        """'cell 7 (`fe.send(...)`)': how a failure names the cell."""
        first = next((ln.strip() for ln in self.source.splitlines() if ln.strip()), "")
        return f"cell {self.index + 1} (`{first[:70]}`)"


class LabPage:
    """A notebook open in JupyterLab: open it, run it, read its cells, take a screenshot."""

    def __init__(self, page, server, relpath: str):
        self.page = page
        self.server = server
        self.path = relpath

    # -- driving --------------------------------------------------------------------------

    def open(self) -> "LabPage":
        """Open the notebook in a fresh workspace and wait until its kernel reads Idle."""
        workspace = "t" + uuid.uuid4().hex[:12]
        self.page.goto(self.server.lab_url(self.path, workspace))
        self.page.wait_for_function(_KERNEL_IDLE, arg=self.path, timeout=KERNEL_IDLE_TIMEOUT_MS)
        return self

    def run_all(self) -> float:
        """Run all cells with JupyterLab's own command; wait until done and idle; return seconds."""
        start = time.monotonic()
        if not self.page.evaluate(_RUN_ALL, self.path):
            raise AssertionError(f"{self.path} is not the notebook in front")
        self.page.wait_for_function(_RUN_FINISHED, arg=self.path, timeout=RUN_ALL_TIMEOUT_MS, polling=200)
        self.settle_widgets()
        return time.monotonic() - start

    def settle_widgets(self) -> None:
        """Give widget views time to replace 'Loading widget...' (the check that follows reports any left)."""
        try:
            self.page.evaluate("() => { window.__msplSettle = null; }")
            self.page.wait_for_function(_WIDGETS_SETTLED, arg=self.path, timeout=WIDGETS_SETTLE_TIMEOUT_MS,
                                        polling=150)
        except Exception:  # noqa: BLE001  the assertions name the cells still loading
            pass

    def wait_idle(self, timeout_ms: int = KERNEL_IDLE_TIMEOUT_MS) -> None:
        """Wait until the kernel is idle again (after a widget's button ran code)."""
        self.page.wait_for_function(_KERNEL_IDLE, arg=self.path, timeout=timeout_ms)

    # -- reading --------------------------------------------------------------------------

    def cells(self) -> list[Cell]:
        """Every cell with its outputs, model next to DOM."""
        cells = []
        for rec in self.page.evaluate(_CELLS, self.path):
            outputs = [Output(**o) for o in rec.pop("outputs")]
            cells.append(Cell(outputs=outputs, domCount=rec.pop("domCount", 0), **rec))
        return cells

    def screenshot(self, path: Path) -> Path:
        """The whole notebook in one picture: the viewport grows to the notebook's height first."""
        size = dict(self.page.viewport_size)
        heights = self.page.evaluate(_SCROLL_HEIGHT, self.path)
        extra = max(0, heights["content"] - heights["visible"])
        tall = min(size["height"] + extra + 40, MAX_SHOT_HEIGHT)
        try:
            if tall > size["height"]:
                self.page.set_viewport_size({"width": size["width"], "height": tall})
                self.page.wait_for_timeout(400)  # let the lab lay the panel out again
            self.page.evaluate(_SCROLL_TOP, self.path)
            self.page.wait_for_timeout(100)
            self.page.screenshot(path=str(path), full_page=True)
        finally:
            self.page.set_viewport_size(size)
        return path

    def screenshot_element(self, locator, path: Path) -> Path:
        """One output (a widget) in full: the viewport grows to the notebook's height while it is taken."""
        size = dict(self.page.viewport_size)
        heights = self.page.evaluate(_SCROLL_HEIGHT, self.path)
        tall = min(size["height"] + max(0, heights["content"] - heights["visible"]) + 40, MAX_SHOT_HEIGHT)
        try:
            if tall > size["height"]:
                self.page.set_viewport_size({"width": size["width"], "height": tall})
                self.page.wait_for_timeout(300)
            self.page.evaluate(_SCROLL_TOP, self.path)
            locator.screenshot(path=str(path))
        finally:
            self.page.set_viewport_size(size)
        return path


def diagram_text(text: str) -> bool:
    """True when a text output is a diagram's repr shown instead of its picture."""
    return bool(re.match(r"\s*<Diagram\b", text or ""))
