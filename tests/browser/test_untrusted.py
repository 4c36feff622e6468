"""Every stored picture shows as a picture in a notebook nobody trusted (Binder, a copy, a download).

The notebooks are copied again into an untrusted/ folder of the server's root (no `jupyter trust`
runs on it, so JupyterLab treats them as untrusted) and opened without running anything.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from .conftest import NOTEBOOKS
from .labpage import LabPage

DIAGRAM_HTML = "data:image/svg+xml;base64,"
PREVIEW = "mspl-widget-preview"


def _outputs(notebook: Path):
    for i, cell in enumerate(json.loads(notebook.read_text(encoding="utf-8"))["cells"]):
        for j, out in enumerate(cell.get("outputs", []) if cell["cell_type"] == "code" else []):
            yield i, j, out.get("data", {})


def _html(data: dict) -> str:
    value = data.get("text/html", "")
    return "".join(value) if isinstance(value, list) else value


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_untrusted_notebook_shows_every_stored_picture(page, lab_server, name):
    folder = lab_server.root / "untrusted"
    folder.mkdir(exist_ok=True)
    shutil.copy2(NOTEBOOKS / name, folder / name)
    diagrams = [(i, j) for i, j, data in _outputs(NOTEBOOKS / name) if "image/svg+xml" in data]
    lacking = [i + 1 for i, j, data in _outputs(NOTEBOOKS / name)
               if "image/svg+xml" in data and DIAGRAM_HTML not in _html(data)]
    assert not lacking, f"{name}: diagram outputs of cells {lacking} have no text/html picture (re-execute it)"
    previews = sum(PREVIEW in _html(data) for _, _, data in _outputs(NOTEBOOKS / name))
    lab = LabPage(page, lab_server, f"untrusted/{name}").open()
    page.wait_for_timeout(1000)
    cells = lab.cells()
    drawn = {(c.index, k) for c in cells for k, o in enumerate(c.outputs) if o.is_svg and o.svgImagesDrawn >= 1}
    missing = [f"cell {i + 1}" for i, j in diagrams if (i, j) not in drawn]
    assert not missing, f"{name} untrusted: no picture drawn in {missing}"
    shown = page.locator(f".jp-OutputArea-output .{PREVIEW}").count()
    assert shown == previews, f"{name} untrusted: {shown} widget previews shown, {previews} stored"
    # The text alternative survives the sanitizer: every drawn picture keeps a non-empty alt, and
    # every line of every stored long description is there in its figcaption (decision D118).
    alts = page.eval_on_selector_all('.jp-OutputArea-output img[src^="data:image/svg+xml"]',
                                     "imgs => imgs.map(im => im.getAttribute('alt') || '')")
    assert all(a.strip() for a in alts), f"{name} untrusted: a picture without alt text"
    described = sum(_html(data).count("<li>") for _, _, data in _outputs(NOTEBOOKS / name)
                    if DIAGRAM_HTML in _html(data) and "<figcaption>" in _html(data))
    listed = page.locator(".jp-OutputArea-output figure figcaption li").count()
    assert listed == described, f"{name} untrusted: {listed} description lines shown, {described} stored"
