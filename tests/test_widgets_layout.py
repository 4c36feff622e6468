"""Every widget shows its controls whole: no choice or description cut to "methodN..." at notebook width.

ipywidgets 8 gives a description 80 px (about 8 characters) and cuts the rest, gives every
ToggleButtons choice one fixed width and cuts a longer label ("above the routin..."), and cuts a
Dropdown's chosen label to the control's 300 px. The browser tests show the result
(artifacts/browser/widget-*.png); these checks keep the settings that prevent it.
"""
from __future__ import annotations

import pytest

W = pytest.importorskip("ipywidgets")

from mspl_lite.course.widgets import FilterExplorer, MessageExplorer, ScriptPlayground  # noqa: E402
from mspl_lite.view.widgets import ChainEditor, CompareLab, ScriptLab  # noqa: E402

#: The characters a description shows whole in ipywidgets' default 80 px ("priority", "message").
DEFAULT_LABEL_CHARS = 8
#: The characters a Dropdown of the default width shows of its chosen label.
DEFAULT_DROPDOWN_CHARS = 24


def _controls(widget):
    """Every ipywidgets control inside ``widget`` (depth first)."""
    root = getattr(widget, "ui", widget)
    stack = [root]
    while stack:
        w = stack.pop()
        yield w
        stack.extend(reversed(getattr(w, "children", ())))


def _widgets():
    return {"CompareLab": CompareLab(), "ScriptLab": ScriptLab(), "ChainEditor": ChainEditor(),
            "MessageExplorer": MessageExplorer(), "FilterExplorer": FilterExplorer(),
            "ScriptPlayground": ScriptPlayground()}


@pytest.mark.parametrize("name", ["CompareLab", "ScriptLab", "ChainEditor", "MessageExplorer", "FilterExplorer",
                                  "ScriptPlayground"])
def test_no_description_or_choice_is_cut(name):
    widget = _widgets()[name]
    checked = 0
    for control in _controls(widget):
        if isinstance(control, (W.Button, W.Checkbox, W.HTML, W.Label, W.Box)):
            continue  # their description is their own text, or they have none
        description = getattr(control, "description", "")
        if len(description) > DEFAULT_LABEL_CHARS:
            assert control.style.description_width, f"{name}: the description {description!r} is cut"
            checked += 1
        if isinstance(control, W.ToggleButtons):
            assert control.style.button_width == "auto", f"{name}: the choices of {description!r} are cut"
            # On the buttons' line, left of them: ipywidgets 8 otherwise puts it on a line of its own.
            assert control.layout.flex_flow == "row", f"{name}: {description!r} sits above its buttons"
            checked += 1
        if isinstance(control, W.Dropdown):
            longest = max(len(label) for label in control._options_labels)
            if longest > DEFAULT_DROPDOWN_CHARS:
                assert control.layout.width, f"{name}: the {description!r} picker cuts its longest choice"
                checked += 1
    assert checked, f"{name}: no control checked (the widget changed shape: update this test)"


def test_the_manifest_names_in_the_script_lab_and_filter_explorer_read_whole():
    lab, explorer = ScriptLab(), FilterExplorer()
    for control in (lab.method_names, lab.reason_codes, explorer.method_names, explorer.reason_codes):
        assert control.description in ("methodNames", "reasonCodes")
        assert control.style.description_width == "initial"


def test_widget_bundle_stores_a_static_preview_of_the_first_state():
    import ipywidgets as W
    from mspl_lite.view.widgets.common import widget_bundle
    ui = W.VBox([W.Textarea(value="if (sipRequest) { Respond(403); }"), W.Button(description="Run <it>")])
    data = widget_bundle(ui, "ScriptLab")
    data = data[0] if isinstance(data, tuple) else data
    page = data["text/html"]
    assert "run this cell" in page and "Respond(403);" in page and "Run &lt;it&gt;" in page
    assert page == (lambda b: b[0] if isinstance(b, tuple) else b)(widget_bundle(ui, "ScriptLab"))["text/html"]


def test_the_stored_preview_leaves_out_how_long_a_run_took():
    """The preview is stored in the notebook and compared by nbval: "ran in 18 ms" would differ per run."""
    lab = ScriptLab()
    bundle = lab._repr_mimebundle_()
    page = (bundle[0] if isinstance(bundle, tuple) else bundle)["text/html"]
    assert lab.status.value.startswith("ran in")
    assert "ran in" not in page and "ms</div>" not in page
