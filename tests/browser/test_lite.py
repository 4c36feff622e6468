"""The series as a JupyterLite site: every notebook run in headless Chromium with no other host reachable.

Theory of operation. The site is built once for the module (`lite/build.py` into a temporary
folder; MSPL_LITE_SITE names an already built one to reuse) and served from a thread of this
process on 127.0.0.1 at a free port, with tasks.py's own static server (the one `tasks.py lite
--serve` runs). Each test gets a fresh browser context (a learner's first visit: empty storage,
its own Pyodide kernel in its own web worker); every request to a host other than 127.0.0.1 is
aborted by a Playwright route and recorded, and the module fails if there was one.

The checks are those of the JupyterLab tests, reused (test_notebooks_in_lab.run_problems and the
three widget interactions of test_widgets_in_lab), so the site is held to the same standard.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from . import test_widgets_in_lab as in_lab
from .conftest import CHROMIUM_ARGS, CHROMIUM, NOTEBOOKS, ROOT, VIEWPORT, skip_or_fail
from .labpage import LabPage
from .test_notebooks_in_lab import expected_widgets, run_problems, stored_diagrams, stored_diagrams_problems

sys.path.insert(0, str(ROOT))
import tasks  # noqa: E402

#: Building the site: pip downloads (cached after the first time) and JupyterLite's build.
BUILD_TIMEOUT_S = 900
#: The notebooks the site holds: the series less what it leaves out (lite/build.py LEFT_OUT).
LITE_NOTEBOOKS = [p for p in sorted(NOTEBOOKS.glob("*.ipynb")) if p.name[:2] not in ("13",)]


class LiteSite:
    """A built site served on 127.0.0.1: LabPage drives it as it drives JupyterLab."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.server = tasks.site_server(folder, 0)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def lab_url(self, relpath: str, workspace: str) -> str:
        """JupyterLite opens ``relpath`` (a path in the site's files) from ?path=; a JupyterLab
        path (notebooks/NAME) is the site's NAME."""
        return f"{self.url}/lab/index.html?path={relpath.removeprefix('notebooks/')}"


class LitePage(LabPage):
    """LabPage on the site, where the series' notebooks/NAME is NAME."""

    def __init__(self, page, server, relpath: str):
        super().__init__(page, server, relpath.removeprefix("notebooks/"))


def build_site(dest: Path) -> Path:
    """Build the site with lite/build.py into ``dest`` (npm ci first when lite/node_modules is stale)."""
    try:
        import jupyterlite_core  # noqa: F401
    except ImportError:
        skip_or_fail("jupyterlite-core is not installed: `pip install -r requirements-lite.txt`")
    try:
        tasks.npm_install()
    except tasks.SetupError as err:
        skip_or_fail(str(err))
    done = subprocess.run([sys.executable, str(ROOT / "lite" / "build.py"), "--out", str(dest)],
                          capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    assert done.returncode == 0, f"lite/build.py failed:\n{done.stdout}{done.stderr}"
    return dest


@pytest.fixture(scope="module")
def lite_site(browser_requirements, tmp_path_factory):
    reuse = os.environ.get("MSPL_LITE_SITE")
    folder = Path(reuse) if reuse else build_site(tmp_path_factory.mktemp("lite") / "_site")
    site = LiteSite(folder)
    site.thread.start()
    try:
        yield site
    finally:
        site.server.shutdown()
        site.server.server_close()


@pytest.fixture(scope="module")
def outside_requests(lite_site):
    """Every request the site's pages made to a host other than 127.0.0.1 (aborted); none allowed."""
    outside: list[str] = []
    yield outside
    assert not outside, f"the site asked for other hosts: {sorted(set(outside))[:10]}"


@pytest.fixture
def lite_page(browser, outside_requests):
    """A fresh context and page per test: every request outside 127.0.0.1 is aborted and recorded.

    Fresh, because the site keeps its layout in the browser's storage: a second page in the same
    context reopens every notebook opened before, each with its own kernel (measured: kernel start
    grew from 20 s to over 90 s by the tenth notebook).
    """
    context = browser.new_context(viewport=dict(VIEWPORT))

    def route(request_route):
        url = request_route.request.url
        if url.startswith(("http://127.0.0.1:", "data:", "blob:")):
            request_route.continue_()
        else:
            outside_requests.append(url)
            request_route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        context.close()  # ends this notebook's kernel (its web worker)


def test_start_page_says_where_work_is_kept_and_lists_the_notebooks(lite_page, lite_site):
    lite_page.goto(f"{lite_site.url}/")
    text = lite_page.inner_text("body")
    assert "Your work stays in this browser" in text and "File → Download" in text
    links = lite_page.locator("a[href^='lab/index.html?path=']").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    assert [h.split("=", 1)[1] for h in links[1:]] == [p.name for p in LITE_NOTEBOOKS]
    if any(p.name.startswith("13") for p in NOTEBOOKS.glob("*.ipynb")):
        assert "cannot open sockets" in text, "the start page does not say why notebook 13 is left out"


@pytest.mark.parametrize("notebook", LITE_NOTEBOOKS, ids=[p.stem for p in LITE_NOTEBOOKS])
def test_notebook_runs_in_the_site(notebook, lite_page, lite_site, artifacts):
    """Open in the site, wait for the Pyodide kernel, Run All: no error, widgets drawn, diagrams pictures."""
    stored, widgets_wanted = stored_diagrams(notebook), expected_widgets(notebook)
    start = time.monotonic()
    lab = LitePage(lite_page, lite_site, notebook.name).open()
    ready = time.monotonic() - start
    problems = stored_diagrams_problems(lab, stored)
    seconds = lab.run_all()
    cells = lab.cells()
    shot = lab.screenshot(artifacts / f"lite-{notebook.stem}.png")
    problems += run_problems(cells, stored, widgets_wanted)
    assert sum(c.type == "code" for c in cells) > 0, f"{notebook.name}: the site shows no code cell"
    assert not problems, (f"{notebook.name} in the JupyterLite site (kernel ready in {ready:.0f} s, Run All "
                          f"{seconds:.1f} s; screenshot {shot}):\n  " + "\n  ".join(problems))


@pytest.mark.parametrize("interaction", [
    "test_compare_lab_switches_between_proxy_and_retarget",
    "test_script_lab_shows_a_syntax_error_in_place_then_runs_the_fix",
    "test_chain_editor_moving_an_application_changes_the_path",
])
def test_widget_interaction_in_the_site(interaction, lite_page, lite_site, artifacts, monkeypatch):
    """The three interactions of test_widgets_in_lab, as they are, on the site's notebooks."""
    monkeypatch.setattr(in_lab, "LabPage", LitePage)
    shots = artifacts / "lite"
    shots.mkdir(exist_ok=True)
    getattr(in_lab, interaction)(lite_page, lite_site, shots)


# ---------------------------------------------------------------------------------------------
# The browser branch of render.py, without a browser


def test_in_a_browser_kernel_without_the_sites_graphviz_the_diagram_says_what_is_missing(monkeypatch):
    """render() under Pyodide goes to the WebAssembly Graphviz; without its wheel, a clear error."""
    from mspl_lite.view import render, wasm_graphviz

    monkeypatch.setattr(render, "IN_BROWSER", True)
    monkeypatch.setitem(sys.modules, "mspl_lite_graphviz_wasm", None)   # import fails
    wasm_graphviz._renderer.cache_clear()
    wasm_graphviz.render_svg.cache_clear()
    with pytest.raises(render.RendererMissing, match="has no mspl_lite_graphviz_wasm.*tasks.py lite"):
        render.render("digraph { a -> b }")
    with pytest.raises(render.RenderFailed, match="SVG only"):
        render.render("digraph { a -> b }", "png")
    wasm_graphviz._renderer.cache_clear()


def test_in_a_browser_kernel_graphviz_errors_become_render_failed(monkeypatch):
    from mspl_lite.view import render, wasm_graphviz

    monkeypatch.setattr(render, "IN_BROWSER", True)
    answers = {"digraph { a -> b }": '{"status": "success", "output": "<svg/>", "errors": []}',
               "digraph {": '{"status": "failure", "output": "", "errors": ["error: syntax error in line 1"]}'}
    monkeypatch.setattr(wasm_graphviz, "_renderer", lambda: answers.__getitem__)
    wasm_graphviz.render_svg.cache_clear()
    try:
        assert render.render("digraph { a -> b }") == b"<svg/>"
        with pytest.raises(render.RenderFailed, match="syntax error in line 1"):
            render.render("digraph {")
    finally:
        wasm_graphviz.render_svg.cache_clear()


_PANEL_READY = """(path) => {
  const app = window.jupyterapp;
  const w = app && app.shell && app.shell.currentWidget;
  return !!(w && w.context && w.context.path === path && w.context.isReady && w.content.widgets.length);
}"""


def test_saved_work_survives_a_reload_and_deleting_it_brings_the_original_back(lite_page, lite_site):
    """The start page's promise: saved work is kept in the browser; delete it to start afresh."""
    name = LITE_NOTEBOOKS[0].name
    note = "my own note, kept across a reload"

    def open_it() -> str:
        lite_page.goto(lite_site.lab_url(name, ""))
        lite_page.wait_for_function(_PANEL_READY, arg=name, timeout=120_000)
        return lite_page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets[0].model"
                                  ".sharedModel.getSource()")

    original = open_it()
    assert original != note
    lite_page.evaluate("""(note) => {
      const w = window.jupyterapp.shell.currentWidget;
      w.content.model.sharedModel.insertCell(0, {cell_type: 'markdown', source: note});
      return window.jupyterapp.commands.execute('docmanager:save');
    }""", note)
    assert open_it() == note, "the saved notebook did not come back after a reload"
    lite_page.evaluate("""(path) => { const app = window.jupyterapp;
      return app.commands.execute('application:close-all').then(() => app.serviceManager.contents.delete(path)); }""",
                       name)
    assert open_it() == original, "after deleting the learner's copy the original did not come back"
