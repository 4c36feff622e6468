"""The widgets of notebooks 08, 09 and 10 (notebook 07 uses the ScriptLab of mspl_lite.view).

* ``CriticalErrorBench`` (08): one Front End kept across sends; send messages through an
  application that faults, watch the critical error count climb to 10 and the application go
  disabled, re-enable it.
* ``DispatchLab`` (09): pick what the managed handler behind Dispatch does (and whether the UCMA
  application has a default routing endpoint); see whether the Contoso Helpdesk endpoint gets the call.
* ``CapstoneBench`` (10): pick a test case of the capstone; see what your AfterHours did with it.

Each widget computes its view with a plain function (``bench_html``, ``dispatch_html``,
``case_html``) that the tests call directly, and only sets ``HTML.value`` when a control changes:
nothing is printed into an Output widget, which strict nbval cannot replay (nbval compares it as stdout).
A widget's plain-text form says to run the cell, as the notebooks are stored without widget state.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import ipywidgets as w

from ..view import ladder_diagram
from ..view.widgets.common import WidgetBox, clean, diagram_html, pre, shielded
from .variants import variant

__all__ = ["CriticalErrorBench", "DispatchLab", "CapstoneBench", "bench_html", "dispatch_html", "case_html",
           "BENCH_MESSAGES", "Send"]


def _esc(value: Any) -> str:
    return html.escape(str(value))


# =============================================================================================
# 08: CriticalErrorBench

#: (label, message factory) offered by the bench.
BENCH_MESSAGES: tuple[tuple[str, Any], ...] = (
    ("Terry calls Jenny", lambda: variant("invite-jennyl")),
    ("Terry calls Jenny's desktop (To names epid=5f3a7c9e01)",
     lambda: variant("invite-jennyl", headers={"To": '"Jenny Lee" <sip:jennyl@contoso.com>;epid=5f3a7c9e01'})),
    ("Terry's IM to Adam", lambda: variant("message-adamb")),
)


@dataclass(frozen=True, slots=True)
class Send:
    """One send of the bench: the message, what the application did, what the sender got."""

    number: int
    message: str
    app_did: str
    outcome: str


def _app_did(trace, app: str) -> str:
    hop = trace.hop(app)
    if not hop.ran:
        return f"did not run: {hop.sentence}"
    if hop.critical_errors:
        c = hop.critical_errors[0]
        text = f"critical error at line {c.line} ({c.count} of 10): {c.message}"
        return text + ("; the application is now disabled" if hop.disabled_after else "")
    return hop.action


def bench_html(sends: list[Send], app: str, count: int, enabled: bool) -> str:
    """HTML: the application's critical error count and state, and every send so far (newest first)."""
    state = "Enabled" if enabled else "<b>disabled</b> (Set-CsServerApplication -Enabled $True brings it back)"
    head = (f"<p><b>{_esc(app)}</b>: {count} critical error{'s' if count != 1 else ''} so far &mdash; {state}</p>")
    if not sends:
        return head + "<p>Nothing sent yet.</p>"
    rows = "".join(f"<tr><td>{s.number}</td><td style='text-align:left'>{_esc(s.message)}</td>"
                   f"<td style='text-align:left'>{_esc(s.app_did)}</td>"
                   f"<td style='text-align:left'>{_esc(s.outcome)}</td></tr>" for s in reversed(sends))
    return (head + "<table><tr><th>#</th><th style='text-align:left'>message</th>"
            f"<th style='text-align:left'>{_esc(app)}</th><th style='text-align:left'>the sender got</th></tr>"
            f"{rows}</table>")


class CriticalErrorBench(WidgetBox):
    """Send messages through one Front End, again and again: the critical error count is kept across sends."""

    label = "critical error bench"

    def __init__(self, manifest: Any = None):
        from .debugging_exercises import default_routing_app

        self._manifest = manifest if manifest is not None else default_routing_app()
        self.message = w.Dropdown(options=[(label, i) for i, (label, _) in enumerate(BENCH_MESSAGES)], value=0,
                                  description="Message", layout=w.Layout(width="480px"))
        self.send_button = w.Button(description="Send", button_style="primary")
        self.enable_button = w.Button(description="Re-enable")
        self.reset_button = w.Button(description="Start over")
        self.view = w.HTML()
        super().__init__([w.HBox([self.message, self.send_button, self.enable_button, self.reset_button]),
                          self.view])
        self.send_button.on_click(lambda _b: self.send())
        self.enable_button.on_click(lambda _b: self.enable())
        self.reset_button.on_click(lambda _b: self.reset())
        self.reset()

    @shielded("view", "The application cannot be registered:")
    def reset(self) -> None:
        """A fresh Front End with the application registered (no critical error yet)."""
        from ..frontend import FrontEnd

        self.app = None
        self.sends = []
        self.fe = FrontEnd()
        self.app = self.fe.register(self._manifest).name
        self.sends: list[Send] = []
        self._show()

    @shielded("view", "The message cannot be sent:")
    def send(self) -> Send | None:
        """Send the chosen message through the same Front End (None when the application did not load)."""
        if self.app is None:
            self.reset()
            if self.app is None:
                return None
        label, factory = BENCH_MESSAGES[self.message.value]
        trace = self.fe.send(factory())
        entry = Send(len(self.sends) + 1, label, _app_did(trace, self.app), trace.outcome.summary())
        self.sends.append(entry)
        self._show()
        return entry

    @shielded("view", "The application cannot be enabled:")
    def enable(self) -> None:
        """Set-CsServerApplication -Enabled $True: the count starts again from 0."""
        if self.app is None:
            return
        self.fe.set_enabled(self.app, True)
        self._show()

    @shielded("view", "The bench cannot be shown:")
    def _show(self) -> None:
        self.view.value = bench_html(self.sends, self.app, self.fe.critical_errors.get(self.app, 0),
                                     self.fe.chain.get(self.app).enabled)


# =============================================================================================
# 09: DispatchLab


def dispatch_html(variant_label: str, default_endpoint: bool) -> str:
    """HTML: the handler's C# shape, and what happened to Nuria's call to the helpdesk line."""
    from ..frontend import default_lab_text, load_lab, parse_lab
    from .managed_exercises import HANDLER_VARIANTS, helpdesk_trace

    handler, csharp = HANDLER_VARIANTS[variant_label]
    lab = load_lab()
    if default_endpoint:
        text = default_lab_text().replace("default_routing_endpoint = false", "default_routing_endpoint = true")
        lab = parse_lab(text, filename="lab.toml")
    trace = helpdesk_trace(handler, lab=lab)
    parts = ["<p><b>The handler</b> (as C#, in the managed application):</p>", pre(csharp),
             f"<p><b>Outcome:</b> {_esc(trace.outcome.summary())}</p>"]
    for b in trace.branches:
        if b.kind == "application":
            parts.append(f"<p><b>At HelpdeskBot:</b> {_esc(b.note)}</p>")
    notes = [str(n) for n in trace.notes if n.kind in ("documented", "inferred", "hint")]
    if notes:
        parts.append("<p><b>Notes</b> (documented / inferred / hint)</p>" + pre("\n".join(notes)))
    parts.append(diagram_html(ladder_diagram(trace)))
    return "".join(parts)


class DispatchLab(WidgetBox):
    """Choose the managed handler behind Dispatch("OnInvite"); see where Nuria's call ends up."""

    label = "dispatch lab"

    def __init__(self, handler: str = "Retarget, send on", default_endpoint: bool = False):
        from .managed_exercises import HANDLER_VARIANTS

        self.handler = w.Dropdown(options=list(HANDLER_VARIANTS), value=handler, description="Handler",
                                  layout=w.Layout(width="420px"))
        self.default_endpoint = w.Checkbox(value=default_endpoint, indent=False,
                                           description="HelpdeskBot has a default routing endpoint")
        self.view = w.HTML()
        super().__init__([w.HBox([self.handler, self.default_endpoint]), self.view])
        for control in (self.handler, self.default_endpoint):
            control.observe(self._update, names="value")
        self._update()

    @shielded("view", "The handler cannot be tried:")
    def _update(self, _change: Any = None) -> None:
        self.view.value = clean(dispatch_html(self.handler.value, self.default_endpoint.value))


# =============================================================================================
# 10: CapstoneBench


def case_html(manifest_text: str, exceptions_text: str, index: int) -> str:
    """HTML: what the spec expects of case ``index``, what the application did, and the ladder diagram."""
    from .capstone import CASES, application_problem, run_case

    case = CASES[index]
    problem = application_problem(manifest_text, exceptions_text)
    expected = {"untouched": "AfterHours leaves it alone", "delegate": "Nuria's phone rings, not Jenny's",
                "voicemail": "voice mail answers; Adam's desk phone does not ring"}[case.expect]
    parts = [f"<p><b>hours.txt:</b> {_esc(case.hours)} &mdash; <b>expected:</b> {_esc(expected)}</p>"]
    if problem is not None:
        parts.append(f"<p><b>Your application does not load:</b> {_esc(problem.message)}</p>")
        if problem.hint:
            parts.append(f"<p><b>Hint:</b> {_esc(problem.hint)}</p>")
        if problem.details:
            parts.append(pre("\n".join(problem.details)))
        return "".join(parts)
    result = run_case(manifest_text, exceptions_text, case)
    verdict = "passes" if result.passed else "fails"
    parts.append(f"<p><b>This case {verdict}:</b> {_esc(result.what)}</p>")
    if not result.passed:
        parts.append(f"<p><b>Hint:</b> {_esc(result.hint or case.hint)}</p>")
    log = [str(entry) for entry in result.trace.log]
    if log:
        parts.append("<p><b>Log</b></p>" + pre("\n".join(log)))
    parts.append(diagram_html(ladder_diagram(result.trace)))
    return "".join(parts)


class CapstoneBench(WidgetBox):
    """Pick a case of the capstone battery; see what your AfterHours did with it, as a ladder diagram."""

    label = "capstone bench"

    def __init__(self, manifest_text: str, exceptions_text: str, case: int = 1):
        from .capstone import CASES

        self._texts = (manifest_text, exceptions_text)
        self.case = w.Dropdown(options=[(c.name, i) for i, c in enumerate(CASES)], value=case, description="Case",
                               layout=w.Layout(width="640px"))
        self.view = w.HTML()
        super().__init__([self.case, self.view])
        self.case.observe(self._update, names="value")
        self._update()

    @shielded("view", "This case cannot be run (your files are unchanged):")
    def _update(self, _change: Any = None) -> None:
        self.view.value = clean(case_html(*self._texts, self.case.value))
