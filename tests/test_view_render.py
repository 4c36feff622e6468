"""Rendering: graphviz-pure is found, SVG is byte-identical run after run, errors are clean."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mspl_lite.errors import MsplLiteError, UsageError
from mspl_lite.view import render as render_module
from mspl_lite.view import transaction_diagram
from mspl_lite.view.render import Diagram, RenderFailed, RendererMissing, find_renderer, render

sys.path.insert(0, str(Path(__file__).parent))
import view_fixtures as fx  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


_fresh_cache = fx.fresh_render_cache   # autouse: graphviz-pure, an empty render cache


def test_graphviz_pure_is_found_next_to_this_python():
    path = Path(find_renderer())
    assert path.name.startswith("graphviz-pure")
    assert path.parent == Path(sys.executable).parent


def test_same_dot_gives_identical_svg_in_this_process_and_in_another():
    d = transaction_diagram(fx.retarget_trace())
    first = d.svg()
    render_module._render_cached.cache_clear()
    assert d.svg() == first
    code = ("import sys; sys.path.insert(0, 'tests'); import view_fixtures as fx; "
            "from mspl_lite.view import transaction_diagram; "
            "sys.stdout.write(transaction_diagram(fx.retarget_trace()).svg())")
    other = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert other.stdout == first
    assert first.lstrip().startswith("<?xml") and "</svg>" in first


def test_missing_renderer_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(render_module, "_candidates", lambda: [])
    with pytest.raises(RendererMissing) as info:
        render("digraph { a }")
    text = str(info.value)
    assert "pip install graphviz-pure" in text and sys.executable in text
    assert isinstance(info.value, MsplLiteError)  # the CLI prints it instead of a traceback


def test_missing_renderer_in_a_notebook_shows_text_not_a_traceback(monkeypatch):
    monkeypatch.setattr(render_module, "_candidates", lambda: [])
    d = transaction_diagram(fx.proxy_trace())
    bundle = d._repr_mimebundle_()
    assert "image/svg+xml" not in bundle
    assert bundle["text/plain"].startswith(repr(d)) and "graphviz-pure" in bundle["text/plain"]


def test_renderer_override_that_does_not_exist_is_named(monkeypatch):
    monkeypatch.setenv(render_module.RENDERER_ENV, "/nonexistent/dot")
    with pytest.raises(RendererMissing, match="MSPL_LITE_DOT=/nonexistent/dot"):
        find_renderer()


def test_broken_dot_gives_a_render_failed_with_the_renderers_words():
    with pytest.raises(RenderFailed) as info:
        render("digraph { a -> }")
    assert "could not draw" in str(info.value)


def test_save_writes_svg_dot_and_png_and_refuses_other_names(tmp_path):
    d = transaction_diagram(fx.proxy_trace())
    assert d.save(tmp_path / "t.svg").read_text(encoding="utf-8") == d.svg()
    assert d.save(tmp_path / "t.dot").read_text(encoding="utf-8") == d.source
    assert d.save(tmp_path / "t.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(UsageError, match=r"\.svg"):
        d.save(tmp_path / "t.pdf")


def test_repr_is_stable_and_has_no_address():
    d = transaction_diagram(fx.proxy_trace())
    assert repr(d) == "<Diagram transaction: MESSAGE sip:terrya@contoso.com (16 nodes)>"
    assert repr(d) == repr(transaction_diagram(fx.proxy_trace()))
    assert "0x" not in repr(d)


def test_notebook_bundle_has_the_svg_and_the_repr():
    d = transaction_diagram(fx.proxy_trace())
    bundle = d._repr_mimebundle_()
    assert bundle["image/svg+xml"] == d.svg() == d._repr_svg_()
    assert bundle["text/plain"] == repr(d)


def test_a_hand_drawn_diagram_cannot_be_saved_as_dot(tmp_path):
    d = Diagram(kind="ladder", title="x", source="<svg/>", size="0 lifelines", fmt="svg")
    with pytest.raises(UsageError):
        d.save(tmp_path / "x.dot")
    assert d.save(tmp_path / "x.svg").read_text() == "<svg/>"


@pytest.mark.skipif(__import__("shutil").which("dot") is None, reason="no system Graphviz on this machine")
def test_another_renderer_can_be_chosen_for_a_comparison(monkeypatch):
    monkeypatch.setenv(render_module.RENDERER_ENV, "dot")
    assert Path(find_renderer()).name == "dot"
    svg = transaction_diagram(fx.proxy_trace()).svg()
    assert "graphviz-pure" not in svg and "<title>h4</title>" in svg


def test_notebook_bundle_has_an_img_picture_with_a_text_alternative():
    import base64
    import re
    d = transaction_diagram(fx.proxy_trace())
    page = d._repr_mimebundle_()["text/html"]
    src = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', page).group(1)
    assert base64.b64decode(src).decode("utf-8") == d.svg()   # the same picture, shown untrusted too
    alt = re.search(r'alt="([^"]*)"', page).group(1)
    assert d.title.split()[0] in alt and alt == d._repr_mimebundle_()["text/html"].split('alt="')[1].split('"')[0]
