"""Every notebook of the series, run in a real JupyterLab: no error, every widget drawn, diagrams as pictures.

Unit tests and nbval see the kernel's outputs; only a browser sees what a learner sees: a widget
that says "Error displaying widget", a diagram that shows as "<Diagram ...>" text because the
picture did not render, an SVG the browser cannot decode. New notebooks are picked up by the glob
below without editing this file. A full-page screenshot of each lands in artifacts/browser/.
"""
from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest

from .conftest import NOTEBOOKS, missing_requirements, skip_or_fail, under_ci
from .labpage import WIDGET_FAILURES, LabPage, diagram_text

NOTEBOOK_FILES = sorted(NOTEBOOKS.glob("*.ipynb"))


def _cells(notebook: Path) -> list[dict]:
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    cells = nb.get("cells", [])
    for cell in cells:
        source = cell.get("source", "")
        cell["source"] = "".join(source) if isinstance(source, list) else source
    return cells


def stored_diagrams(notebook: Path) -> dict[int, int]:
    """Cell index -> SVG pictures in the committed notebook's stored outputs (cells stored run only)."""
    return {i: sum("image/svg+xml" in o.get("data", {}) for o in cell.get("outputs", []))
            for i, cell in enumerate(_cells(notebook))
            if cell.get("cell_type") == "code" and cell.get("execution_count") is not None}


def expected_widgets(notebook: Path) -> dict[int, int]:
    """Cell index -> widgets its code displays: a last expression or display(...) that constructs a
    class imported from a `...widgets` module (ipywidgets, mspl_lite.view.widgets, ...).

    Read from the code, not from the stored outputs: the series is stored without widget state,
    so a stored cell holds only the widget's plain-text form.
    """
    cells = _cells(notebook)
    classes: set[str] = set()
    modules: set[str] = set()
    trees: dict[int, ast.Module] = {}
    for i, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        try:
            trees[i] = tree = ast.parse(cell["source"])
        except SyntaxError:  # IPython magics: not ours to count
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[-1] in ("widgets", "ipywidgets"):
                classes.update(a.asname or a.name for a in node.names)
            elif isinstance(node, ast.Import):
                modules.update(a.asname or a.name for a in node.names if a.name.split(".")[-1] == "ipywidgets")

    def constructs_widget(expr: ast.AST) -> bool:
        if not isinstance(expr, ast.Call):
            return False
        f = expr.func
        return ((isinstance(f, ast.Name) and f.id in classes and f.id[:1].isupper())
                or (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in modules
                    and f.attr[:1].isupper()))

    expected = {}
    for i, tree in trees.items():
        count = 0
        if tree.body and isinstance(tree.body[-1], ast.Expr) and constructs_widget(tree.body[-1].value):
            count += 1
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "display"):
                count += sum(constructs_widget(arg) for arg in node.args)
        if count:
            expected[i] = count
    return expected


def stored_diagrams_problems(lab: LabPage, stored: dict[int, int]) -> list[str]:
    """Before anything runs: a trusted notebook's stored diagrams must show as pictures."""
    problems = []
    for cell in lab.cells():
        if not stored.get(cell.index):
            continue
        for out in cell.outputs:
            if out.is_svg and out.drawn_pictures == 0:
                problems.append(f"{cell.where}: its stored diagram does not show as a picture on opening "
                                f"(the learner sees {out.domText[:80]!r})")
    return problems


def run_problems(cells, stored: dict[int, int], widgets_wanted: dict[int, int]) -> list[str]:
    """Everything wrong with the notebook after Run All, one line per fault, naming the cell."""
    problems = []
    for cell in cells:
        if cell.type != "code":
            continue
        if cell.count is None and cell.source.strip():
            problems.append(f"{cell.where}: never ran (Run All stopped before it)")
        if cell.domCount != len(cell.outputs):
            problems.append(f"{cell.where}: {len(cell.outputs)} outputs in the notebook, "
                            f"{cell.domCount} on the page")
        widgets = svgs = 0
        for out in cell.outputs:
            if out.type == "error" and "raises-exception" not in cell.tags:
                problems.append(f"{cell.where}: raised {out.ename}: {out.evalue} "
                                "(tag the cell `raises-exception` if that is the lesson)")
            shown = out.domText
            for failure in WIDGET_FAILURES:
                if failure in shown:
                    problems.append(f"{cell.where}: the learner sees {shown.strip()[:160]!r}")
            if out.is_widget:
                widgets += 1
                if out.widgetViews == 0:
                    problems.append(f"{cell.where}: a widget was displayed but no widget view is on the page")
                if "<svg" in shown or diagram_text(shown):
                    problems.append(f"{cell.where}: the widget shows diagram source as text: {shown[:120]!r}")
            if out.widgetErrors:
                problems.append(f"{cell.where}: {out.widgetErrors} widget view(s) failed to render "
                                "(the learner sees 'Click to show javascript error.')")
            if out.is_svg:
                svgs += 1
                if out.drawn_pictures == 0:
                    problems.append(f"{cell.where}: the kernel sent an SVG diagram but the page draws no picture "
                                    f"(shows {shown.strip()[:100]!r})")
            elif diagram_text(out.plain) or diagram_text(shown):
                problems.append(f"{cell.where}: a diagram shows as text only: {out.plain or shown.strip()[:100]!r} "
                                "(no image/svg+xml output: is graphviz-pure installed in the kernel's Python?)")
        if cell.index in stored and svgs != stored[cell.index]:
            problems.append(f"{cell.where}: the committed notebook shows {stored[cell.index]} diagram(s); "
                            f"run in the lab it shows {svgs}")
        if widgets < widgets_wanted.get(cell.index, 0):
            problems.append(f"{cell.where}: its code displays {widgets_wanted[cell.index]} widget(s); "
                            f"the lab shows {widgets}")
    return problems


@pytest.mark.parametrize("notebook", NOTEBOOK_FILES or [None],
                         ids=[p.stem for p in NOTEBOOK_FILES] or ["no-notebooks-yet"])
def test_notebook_runs_in_lab(notebook, page, lab_server, artifacts):
    """Open, wait for Idle, Run All: no error, every widget drawn, every diagram a picture."""
    if notebook is None:
        skip_or_fail("notebooks/ holds no notebook yet: nothing for the browser to run")
    relpath = f"notebooks/{notebook.name}"
    stored, widgets_wanted = stored_diagrams(notebook), expected_widgets(notebook)
    lab = LabPage(page, lab_server, relpath).open()
    problems = stored_diagrams_problems(lab, stored)
    seconds = lab.run_all()
    cells = lab.cells()
    shot = lab.screenshot(artifacts / f"{notebook.stem}.png")
    problems += run_problems(cells, stored, widgets_wanted)
    code_cells = sum(c.type == "code" for c in cells)
    assert code_cells > 0, f"{relpath}: the lab shows no code cell (did the notebook open?)"
    assert not problems, (f"{relpath} in JupyterLab (Run All took {seconds:.1f} s; screenshot {shot}):\n  "
                          + "\n  ".join(problems))


def test_lab_kernel_is_the_test_python(page, lab_server):
    """The kernel JupyterLab offers runs this Python (the one with mspl_lite and graphviz-pure)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("import sys, mspl_lite\nprint(sys.executable)")]
    nbformat.write(nb, lab_server.root / "scratch" / "kernel-check.ipynb")
    lab = LabPage(page, lab_server, "scratch/kernel-check.ipynb").open()
    lab.run_all()
    [cell] = lab.cells()
    assert [o.type for o in cell.outputs] == ["stream"], cell.outputs
    assert cell.outputs[0].stream.strip() == sys.executable


# ---------------------------------------------------------------------------------------------
# The skip rule (no browser needed)


def test_missing_chromium_says_how_to_install_it(monkeypatch):
    """Without Chromium the reason names the apt command, and never `playwright install`."""
    from . import conftest as conftest_module

    monkeypatch.setattr(conftest_module, "CHROMIUM", "/nonexistent/chromium")
    [reason] = [m for m in conftest_module.missing_requirements() if "Chromium" in m]
    assert "apt-get install chromium" in reason and "never `playwright install`" in reason


def test_under_ci_a_missing_browser_fails_instead_of_skipping(monkeypatch):
    """CI=true turns the skip into a failure; elsewhere it is a skip."""
    monkeypatch.setenv("CI", "true")
    assert under_ci()
    with pytest.raises(pytest.fail.Exception, match="CI=true, so the browser tests must run, but no chromium"):
        skip_or_fail("no chromium")
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception, match="browser tests skipped: no chromium"):
        skip_or_fail("no chromium")


def test_this_machine_can_run_the_browser_tests_under_ci():
    """Under CI, Chromium and Playwright must be installed (.ci/run installs Chromium)."""
    if not under_ci():
        pytest.skip("only checked under CI=true")
    assert missing_requirements() == []
