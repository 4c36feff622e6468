"""The three widgets, used like a learner uses them: click, type, Run, and see the result change.

Each widget is tested where the series shows it: the first notebook whose code constructs it
(`CompareLab(`, `ScriptLab(`, `ChainEditor(`), run in full first. When no notebook shows it yet,
a two-cell scratch notebook in the temporary copy shows it instead, so the widget is tested
either way. Every step is a screenshot in artifacts/browser/ (widget-<name>-<step>.png).

The widgets answer through the kernel (a click goes to Python, which sets an HTML value), so
every check waits for the page to change rather than sleeping.
"""
from __future__ import annotations

import json
import re
import time

import nbformat

from .conftest import NOTEBOOKS
from .labpage import LabPage

#: How long a widget may take to answer a click in the browser (kernel round trip, diagram
#: drawing, SVG layout). The Python side takes under 100 ms (bench/); this is the page's budget.
ANSWER_TIMEOUT_MS = 20_000


def widget_home(class_name: str) -> str | None:
    """The first series notebook whose code constructs ``class_name`` (notebooks/NAME.ipynb), or None."""
    pattern = re.compile(rf"\b{class_name}\s*\(")
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb.get("cells", []):
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else source
            if cell.get("cell_type") == "code" and pattern.search(source):
                return f"notebooks/{path.name}"
    return None


def scratch_notebook(server, class_name: str) -> str:
    """A scratch notebook in the temporary copy that shows ``class_name()`` (defaults)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"Scratch notebook of tests/browser: no notebook of the series shows "
                                      f"`{class_name}` yet, so it is tested here with its defaults."),
        nbformat.v4.new_code_cell(f"from mspl_lite.view.widgets import {class_name}\n{class_name}()"),
    ]
    relpath = f"scratch/{class_name}.ipynb"
    nbformat.write(nb, server.root / relpath)
    return relpath


def open_widget(page, server, class_name: str, signature) -> tuple[LabPage, object, str]:
    """Open the widget's home notebook (or a scratch one), Run All, and locate the first instance.

    ``signature(page)`` is a locator that only this widget contains (a button or a label); the
    widget is the notebook output that holds it.
    """
    relpath = widget_home(class_name) or scratch_notebook(server, class_name)
    lab = LabPage(page, server, relpath).open()
    lab.run_all()
    outputs = page.locator(".jp-OutputArea-output").filter(has=signature(page))
    assert outputs.count() > 0, f"{relpath}: no {class_name} on the page after Run All"
    widget = outputs.first
    widget.scroll_into_view_if_needed()
    return lab, widget, relpath


def diagram_svg(widget) -> str:
    """The inline SVG diagram the widget shows now ('' when none)."""
    svgs = widget.locator(".mspl-diagram svg")
    return svgs.first.evaluate("s => s.outerHTML") if svgs.count() else ""


def assert_drawn(widget) -> None:
    """The widget's diagram is on the page as a picture of a readable size, not as text."""
    box = widget.locator(".mspl-diagram svg").first.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 100, f"the diagram is not drawn at a readable size: {box}"
    assert "<svg" not in widget.inner_text(), "the widget shows SVG source as text"


def text_of(locator) -> str:
    """What the learner reads in ``locator`` ('' when it is not on the page)."""
    return locator.first.inner_text() if locator.count() else ""


def wait_for_change(page, read, before: str, what: str, timeout_ms: int = ANSWER_TIMEOUT_MS) -> str:
    """Poll ``read()`` until it differs from ``before`` (and is not empty); return it."""
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        now = read()
        if now and now != before:
            return now
        page.wait_for_timeout(100)
    raise AssertionError(f"{what} did not change within {timeout_ms / 1000:.0f} s (still {before[:200]!r})")


def toggle(widget, label: str):
    """The ToggleButtons of the widget whose description is ``label``."""
    return widget.locator(".widget-toggle-buttons").filter(
        has=widget.page.locator(".widget-label", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")))


def button(scope, description: str):
    """The button whose text is ``description`` (a widget Button's description, a toggle's option).

    Matched on the text, not the accessible name: an icon (``icon="play"``) adds to the name.
    """
    return scope.locator("button", has_text=re.compile(rf"^\s*{re.escape(description)}\s*$"))


def path_apps(text: str) -> list[str]:
    """The applications named after 'Saw the request:' in the chain editor, in order."""
    saw = text.split("Saw the request:", 1)[1].split("Outcome:", 1)[0]
    return [name.strip() for name in saw.split("\u2192") if name.strip()]


def active_option(toggle_buttons) -> str:
    """The selected option's text of a ToggleButtons."""
    return toggle_buttons.locator("button.mod-active").inner_text().strip()


# ---------------------------------------------------------------------------------------------


def test_compare_lab_switches_between_proxy_and_retarget(page, lab_server, artifacts):
    """Switching ProxyRequest <-> RetargetRequest redraws both diagrams and changes the verdict."""
    lab, widget, relpath = open_widget(page, lab_server, "CompareLab",
                                       lambda p: p.locator(".widget-label", has_text=re.compile(r"^\s*compare\s*$")))
    verdict = widget.locator(".widget-html", has_text="What changed:")
    first_verdict, first_svg = text_of(verdict), diagram_svg(widget)
    assert first_verdict and first_svg, f"{relpath}: CompareLab shows no verdict or no diagram before any click"
    assert_drawn(widget)
    lab.screenshot_element(widget, artifacts / "widget-compare-1-start.png")

    # Compare the application's two positions, so that the disposition becomes the learner's switch.
    vary, calls = toggle(widget, "compare"), toggle(widget, "script calls")
    if active_option(vary) != "above vs below the routing applications":
        button(vary, "above vs below the routing applications").click()
        wait_for_change(page, lambda: text_of(verdict), first_verdict, "the verdict after 'above vs below'")
    start = active_option(calls)
    other = "RetargetRequest" if start == "ProxyRequest" else "ProxyRequest"
    for step, disposition in enumerate((other, start), start=2):  # there and back again
        before_verdict, before_svg = text_of(verdict), diagram_svg(widget)
        button(calls, disposition).click()
        after_svg = wait_for_change(page, lambda: diagram_svg(widget), before_svg, f"the diagram after {disposition}")
        after_verdict = wait_for_change(page, lambda: text_of(verdict), before_verdict,
                                        f"the verdict after {disposition}")
        lab.screenshot_element(widget, artifacts / f"widget-compare-{step}-{disposition}.png")
        assert active_option(calls) == disposition
        assert_drawn(widget)
        # Both sides are titled with the disposition now called (the SVG escapes the quotes).
        unchosen = "ProxyRequest" if disposition == "RetargetRequest" else "RetargetRequest"
        assert re.search(rf"{disposition}\((&quot;|&#34;|\")", after_svg), \
            f"the diagram after choosing {disposition} does not show {disposition}(...) in its titles"
        assert not re.search(rf"{unchosen}\((&quot;|&#34;|\")", after_svg), \
            f"the diagram after choosing {disposition} still shows {unchosen}(...)"
        assert after_verdict.startswith("What changed:") and len(after_verdict) > len("What changed:") + 10


def test_script_lab_shows_a_syntax_error_in_place_then_runs_the_fix(page, lab_server, artifacts):
    """Type a script missing a ';' on line 3, Run: diagnostic at line 3; add it, Run: outcome and diagram."""
    lab, widget, relpath = open_widget(page, lab_server, "ScriptLab",
                                       lambda p: p.locator(".widget-html", has_text="MSPL script"))
    editor = widget.locator(".widget-textarea textarea").first
    run = button(widget, "Run")
    result = widget.locator(".widget-html").filter(has_text=re.compile("Outcome:|errors:|went wrong|could not"))
    broken = ('if (sipRequest) {\n'
              '    Log("Debugr", false, "to Nuria");\n'
              '    RetargetRequest("sip:nuriag@contoso.com")\n'
              '}\n')
    before = text_of(result)
    editor.fill(broken)
    run.click()
    shown = wait_for_change(page, lambda: text_of(result), before, "the result after running a broken script")
    lab.screenshot_element(widget, artifacts / "widget-script-lab-1-syntax-error.png")
    assert "The script or its manifest has errors:" in shown, shown
    diagnostic = text_of(widget.locator("pre.mspl-diagnostics"))
    assert re.search(r"script\.mspl:3:\d+: error: .*';'", diagnostic), diagnostic
    assert 'RetargetRequest("sip:nuriag@contoso.com")' in diagnostic, "the diagnostic does not quote line 3"
    assert re.search(r"^\s*\^\s*$", diagnostic, re.M), "no caret under the fault"
    assert diagram_svg(widget) == "", "a diagram is still shown next to the error"

    editor.fill(broken.replace('contoso.com")\n', 'contoso.com");\n'))
    run.click()
    shown = wait_for_change(page, lambda: text_of(result), shown, "the result after fixing the script")
    svg = wait_for_change(page, lambda: diagram_svg(widget), "", "the transaction diagram")
    assert_drawn(widget)
    lab.screenshot_element(widget, artifacts / "widget-script-lab-2-fixed.png")
    assert "Outcome:" in shown and "error" not in shown.split("Outcome:")[0].lower(), shown
    assert "(MSPL)" in svg, "the transaction diagram does not show the learner's MSPL application"
    assert "to Nuria" in shown, "the script's Log line is not shown"


def test_chain_editor_moving_an_application_changes_the_path(page, lab_server, artifacts):
    """Select the custom application (else the first on the path), Move down until the path changes."""
    lab, widget, relpath = open_widget(page, lab_server, "ChainEditor",
                                       lambda p: button(p, "Move down"))
    path = widget.locator(".widget-html", has_text="Saw the request:")
    select = widget.locator(".widget-select select").first
    options = [o.strip() for o in select.locator("option").all_inner_texts()]
    start_path = text_of(path)
    assert start_path, f"{relpath}: the chain editor shows no path before any click"
    # The application to move: the first custom one ([mspl]/[python] after its name) that saw the
    # request, else the first application on the path.
    names = [re.match(r"^\s*\d+\s+(\S+)", o).group(1) for o in options]  # "3  RedirectImRetarget  [mspl]"
    before = path_apps(start_path)
    custom = [n for n, o in zip(names, options) if "[" in o and n in before]
    name = (custom or [n for n in names if n in before])[0]
    index = names.index(name)
    select.select_option(index=index)
    lab.screenshot_element(widget, artifacts / "widget-chain-editor-1-start.png")

    down = button(widget, "Move down")
    now = start_path
    for moves in range(1, len(names) - index):
        before_list = select.inner_text()
        down.click()
        wait_for_change(page, lambda: select.inner_text(), before_list, f"the list after moving {name} down")
        listed = [o.strip() for o in select.locator("option").all_inner_texts()]
        assert re.match(rf"^\s*{index + moves}\s+{re.escape(name)}\b", listed[index + moves]), \
            f"after {moves} move(s) {name} is not at priority {index + moves}: {listed}"
        lab.wait_idle()  # the list changed, so this click's updates are arriving; idle: all arrived
        now = text_of(path)
        if now != start_path:
            break
    lab.screenshot_element(widget, artifacts / "widget-chain-editor-2-moved.png")
    assert now != start_path, f"moving {name} to the bottom never changed the request's path: {start_path!r}"
    assert diagram_svg(widget), "the chain editor shows no diagram after the move"
    assert_drawn(widget)
    order = path_apps(now)
    assert name not in order or order.index(name) > before.index(name), \
        f"{name} moved down but does not see the request later than before: {before} -> {order}"
