"""What the notebook widgets share (these three and the course's): sample messages, diagrams and
diagnostics as HTML, manifests in memory, the plain-text form of a widget in a stored notebook.

Widgets only set ``HTML.value`` and ``Label.value`` (never print into an Output widget), so a
notebook run by nbval replays them exactly.
"""
from __future__ import annotations

import functools
import html
import re
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from xml.sax.saxutils import quoteattr

import ipywidgets as W

from ...errors import Diagnostic, InputError, MsplLiteError, ScriptError
from ...text import lone_surrogate, replace_lone_surrogates, shown

__all__ = [
    "OWN_MESSAGE", "WHOLE_LABEL", "sample_messages", "choice_buttons", "inline_svg", "diagram_html", "pre",
    "diagnostics_html", "error_html", "critical_errors_html", "build_manifest",
    "manifest_xml", "run_cell_note", "widget_bundle", "preview_html", "WidgetBox", "clean", "shielded", "MAX_SHOWN_TEXT",
]

#: A widget shows at most this many characters of one text (a log, an error): a learner's 1 MB
#: message or a 20,000-line diagnostic list would freeze the browser tab; the rest is counted.
MAX_SHOWN_TEXT = 200_000


def clean(text: str) -> str:
    """Text a widget can send to the browser: widget values travel as UTF-8 JSON, which a lone
    surrogate (from a learner's paste or a script's escape) cannot be; it becomes U+FFFD."""
    return replace_lone_surrogates(text)


def shielded(attr: str = "result", heading: str = "Something went wrong:"):
    """Decorate a widget callback so that no exception escapes it (the last resort of the error contract).

    An exception the callback did not handle itself is shown in place in ``self.<attr>`` by
    error_html (which words anything but an MsplLiteError as "mspl-lite bug: ..."); the
    learner's text in the widget's text areas is never touched. Returns None then.
    """
    def decorate(method):
        @functools.wraps(method)
        def guarded(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except Exception as err:  # noqa: BLE001 -- shown in place, never out of a callback
                try:
                    if hasattr(self, "last_error"):
                        self.last_error = err
                    getattr(self, attr).value = error_html(err, heading)
                    status = getattr(self, "status", None)
                    if status is not None and hasattr(status, "value"):
                        status.value = "error: see below"
                except Exception:  # noqa: BLE001 -- the widget itself is broken: nothing more to show
                    pass
                return None
        return guarded
    return decorate


#: The message picker's entry for a message the learner wrote or edited.
OWN_MESSAGE = "(your own message)"

#: The style of a control whose description is a name the learner must read whole: ipywidgets
#: gives a description 80 px and cuts the rest ("methodN...", "reasonCo..."); "initial" sizes
#: it to its text.
WHOLE_LABEL = {"description_width": "initial"}

_PROLOG = re.compile(r"\A.*?(?=<svg\b)", re.S)


@lru_cache(maxsize=1)
def _samples() -> tuple[tuple[str, str], ...]:
    folder = resources.files("mspl_lite").joinpath("data", "messages")
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".sip"):
            found.append((entry.name, entry.read_text(encoding="utf-8")))
    return tuple(found)


def sample_messages() -> dict[str, str]:
    """The lab's sample messages (mspl_lite/data/messages/*.sip), file name -> text, sorted."""
    return dict(_samples())


def choice_buttons(options, value, description: str, *, label_width: str = "initial"):
    """ToggleButtons whose every choice reads whole, its description on the same line, left of them.

    ipywidgets 8 gives each button a fixed width and cuts a longer choice ("above the
    routin..."), and puts the description on a line of its own above the buttons. Here each
    button is as wide as its text, and the description sits before the buttons; ``label_width``
    (e.g. "6.5em") lines up the buttons of controls stacked one above the other.
    """
    buttons = W.ToggleButtons(options=options, value=value, description=description,
                              style={"button_width": "auto", "description_width": label_width},
                              layout=W.Layout(display="flex", flex_flow="row", align_items="baseline"))
    # The class of ipywidgets' one-line controls (Dropdown, Text): the description then looks
    # like theirs (right-aligned, the same gap), so stacked controls read as one form.
    # (ipywidgets 8 styles the label by the old name, widget-label, under widget-inline-hbox.)
    buttons.add_class("widget-inline-hbox")
    return buttons


def inline_svg(svg: str) -> str:
    """SVG text ready to sit inside HTML: no XML prolog, and it shrinks to the notebook's width."""
    body = _PROLOG.sub("", svg, count=1)
    return body.replace("<svg ", '<svg style="max-width:100%;height:auto" ', 1)


def diagram_html(diagram) -> str:
    """A Diagram as inline SVG in a widget's page; when it cannot be drawn (no renderer), why."""
    try:
        return f'<div class="mspl-diagram">{inline_svg(diagram.svg())}</div>'
    except MsplLiteError as err:
        return error_html(err, "The diagram cannot be drawn:")


def pre(text: str, cls: str = "mspl-text") -> str:
    """Text in a <pre>, HTML-escaped, without lone surrogates, at most MAX_SHOWN_TEXT characters."""
    if len(text) > MAX_SHOWN_TEXT:
        text = text[:MAX_SHOWN_TEXT] + f"\n... ({len(text) - MAX_SHOWN_TEXT} more characters not shown)"
    return f'<pre class="{cls}" style="white-space:pre-wrap;margin:4px 0">{html.escape(clean(text))}</pre>'


def diagnostics_html(diagnostics: list[Diagnostic], heading: str) -> str:
    """Compiler-style diagnostics (file:line:col, the line, a caret, the hint), escaped in a <pre>."""
    text = "\n".join(d.render() for d in diagnostics)
    return f"<b>{html.escape(heading)}</b>" + pre(text, "mspl-diagnostics")


def error_html(err: BaseException, heading: str) -> str:
    """An error shown in place: diagnostics for bad input, the message for a refusal."""
    if isinstance(err, InputError):
        return diagnostics_html(err.diagnostics, heading)
    if isinstance(err, MsplLiteError):
        return f"<b>{html.escape(heading)}</b>" + pre(str(err), "mspl-diagnostics")
    # Anything else is a bug in mspl_lite: say so, keep the widget usable.
    try:
        detail = str(err)
    except Exception:  # noqa: BLE001 -- an exception whose str() fails
        detail = ""
    return (f"<b>{html.escape(heading)}</b>"
            + pre(f"mspl-lite bug: {type(err).__name__}: {detail}\nPlease report it with the script and "
                  "message you used.", "mspl-diagnostics"))


def critical_errors_html(trace, script: str, filename: str) -> str:
    """The script's critical errors of this run, each with its line and a caret under it."""
    hint = "the server logs it and stops the script; 10 of them disable the application"
    diags = [c.diagnostic(script, filename, hint) for c in trace.critical_errors]
    return diagnostics_html(diags, "The script stopped on a critical error:") if diags else ""


def manifest_xml(script: str, *, app_uri: str, method_names: str, proxy_by_default: bool,
                 reason_codes: str, allow_before_user_services: bool = False) -> str:
    """The text of an application manifest (.am) holding ``script`` with these settings."""
    before = "  <r:allowRegistrationBeforeUserServices/>\n" if allow_before_user_services else ""
    cdata = script.replace("]]>", "]]]]><![CDATA[>")
    return (
        '<?xml version="1.0"?>\n'
        f'<r:applicationManifest r:appUri={quoteattr(app_uri)} xmlns:r="http://schemas.microsoft.com/lcs/2006/05">\n'
        f"{before}"
        f'  <r:requestFilter methodNames={quoteattr(method_names)} strictRoute="false" registrarGenerated="true"/>\n'
        f"  <r:responseFilter reasonCodes={quoteattr(reason_codes)}/>\n"
        f'  <r:proxyByDefault action="{"true" if proxy_by_default else "false"}"/>\n'
        "  <r:scriptOnly/>\n"
        f"  <r:splScript><![CDATA[{cdata}]]></r:splScript>\n"
        "</r:applicationManifest>\n")


def _refuse_lone_surrogate(script: str, filename: str) -> None:
    """A lone surrogate in the learner's script: a ScriptError pointing at it in the learner's own text
    (else the manifest built around the script would point into a file the learner never saw)."""
    at = lone_surrogate(script)
    if at is None:
        return
    start = script.rfind("\n", 0, at) + 1
    end = script.find("\n", at)
    raise ScriptError(Diagnostic(
        severity="error", message=f"the script holds an invalid character (a lone UTF-16 surrogate, "
                                  f"U+{ord(script[at]):04X}): it cannot be saved as UTF-8",
        filename=filename, line=script.count("\n", 0, at) + 1, column=at - start + 1,
        source=shown(script[start:end if end >= 0 else len(script)]),
        hint="retype the text around it (a paste from another program can carry half of a character)"))


def build_manifest(script: str, *, filename: str, app_uri: str, method_names: str, proxy_by_default: bool,
                   reason_codes: str, allow_before_user_services: bool = False):
    """Parse the manifest of these settings, then point its script at the learner's own text.

    ManifestError (a bad setting) points into the generated manifest, which is shown with it.
    Script diagnostics and critical errors then carry ``filename`` and the script's own line
    numbers, so the caret lands in the text the learner typed.
    """
    from ...manifest import parse_manifest

    _refuse_lone_surrogate(script, filename)
    text = manifest_xml(script, app_uri=app_uri, method_names=method_names, proxy_by_default=proxy_by_default,
                        reason_codes=reason_codes, allow_before_user_services=allow_before_user_services)
    manifest = parse_manifest(text, filename="settings.am")
    return replace(manifest, filename=filename, source=script, script=script, script_line=1, script_column=1)


def run_cell_note(name: str, what: str = "the widget") -> str:
    """A widget's plain-text form: a reader of the stored notebook (or a kernel without the widget
    front end) is told to run the cell, instead of the ``VBox(children=(...`` dump of ipywidgets."""
    return f"{name}: run this cell to use {what} (widgets need a live kernel)"


_MUTED = "color:#555;border:1px solid #bbb;border-radius:3px;padding:1px 6px;margin:2px;display:inline-block"


#: The class of a widget that only a live kernel shows (left out of the stored preview).
LIVE_ONLY = "mspl-live-only"


def _preview(widget) -> str:
    """The HTML of what ``widget`` shows now, drawn without a kernel: text boxes as <pre>, buttons and
    choices as inert labels (the chosen one in bold), HTML as itself, containers in order. A widget
    with the class LIVE_ONLY (a status line saying how long a run took) is left out: the preview
    is stored in the notebook and must be the same on every run."""
    if LIVE_ONLY in getattr(widget, "_dom_classes", ()):
        return ""
    desc = getattr(widget, "description", "") or ""
    head = f"<b>{html.escape(clean(desc))}</b> " if desc else ""
    if isinstance(widget, W.Box):
        inner = "".join(_preview(child) for child in widget.children)
        flow = "flex-direction:row;flex-wrap:wrap;gap:4px" if isinstance(widget, W.HBox) else "flex-direction:column"
        return f'<div style="display:flex;{flow}">{inner}</div>'
    if isinstance(widget, (W.HTML, W.HTMLMath)):
        return f"<div>{head}{clean(widget.value)}</div>"
    if isinstance(widget, W.Label):
        return f"<div>{html.escape(clean(widget.value))}</div>"
    if isinstance(widget, (W.Textarea, W.Text)):
        return f"<div>{head}{pre(widget.value)}</div>"
    if isinstance(widget, W.Button):
        return f'<span style="{_MUTED}">{html.escape(clean(desc))}</span>'
    if isinstance(widget, (W.ToggleButtons, W.Dropdown, W.RadioButtons, W.Select)):
        chosen = widget.label
        items = "".join(f'<span style="{_MUTED}{";font-weight:bold;color:#000" if lab == chosen else ""}">'
                        f"{html.escape(clean(str(lab)))}</span>"
                        for lab in (widget._options_labels if isinstance(widget, W.ToggleButtons) else [chosen]))
        return f"<div>{head}{items}</div>"
    if isinstance(widget, (W.Checkbox, W.ToggleButton)):
        return f'<div>{"&#9746;" if widget.value else "&#9744;"} {html.escape(clean(desc))}</div>'
    if hasattr(widget, "value"):
        return f"<div>{head}{html.escape(clean(str(widget.value)))}</div>"
    return ""


def preview_html(ui, name: str) -> str:
    """A static picture of the widget's first state, with the invitation to run the cell.

    JupyterLab with a live kernel shows the widget view instead (its mime type ranks first);
    nbviewer, GitHub and a notebook opened without a kernel show this. Deterministic.
    """
    note = html.escape(run_cell_note(name))
    return (f'<div class="mspl-widget-preview" role="img" aria-label="{html.escape(name)}: a preview of the '
            f'widget as it starts">'
            f'<p style="margin:2px 0"><i>Preview: {note}.</i></p>'
            f'<div style="border:1px dashed #999;padding:6px;opacity:0.85">{_preview(ui)}</div></div>')


def widget_bundle(ui, name: str, **kwargs):
    """The display bundle of the widget whose controls are ``ui``: its plain text run_cell_note(name),
    and a text/html preview of its first state for a reader without a kernel."""
    bundle = ui._repr_mimebundle_(**kwargs)
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    if isinstance(data, dict) and "text/plain" in data:
        data["text/plain"] = run_cell_note(name)
        data["text/html"] = preview_html(ui, name)
    return bundle


class WidgetBox(W.VBox):
    """A widget that is itself a VBox; its plain text (ipywidgets shows the repr) is run_cell_note,
    naming it by ``label``."""

    label = "widget"

    def __repr__(self) -> str:
        return run_cell_note(type(self).__name__, f"the {self.label}")
