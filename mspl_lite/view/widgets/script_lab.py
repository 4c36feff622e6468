"""The script lab: write an MSPL script, set its manifest, pick a message, Run, see what happened.

Shows, in place: the outcome, the transaction (or ladder) diagram, the script's log, its
critical errors and warnings with line and caret, and the simulator's notes. A script that does
not compile, a setting the manifest refuses, a message that does not parse, or a registration
the server refuses shows its diagnostics instead; the learner's script and message are never
touched by the widget (only the message picker loads a sample, and keeps the learner's own
message to come back to).
"""
from __future__ import annotations

import html
import time

import ipywidgets as W

from ...errors import InputError
from ...frontend import FrontEnd, load_lab
from ..ladder import ladder_diagram
from ..trace_diagram import outcome_line, transaction_diagram
from .common import (LIVE_ONLY, OWN_MESSAGE, WHOLE_LABEL, build_manifest, choice_buttons, clean, critical_errors_html,
                     diagnostics_html, diagram_html, error_html, pre, sample_messages, shielded, widget_bundle)

__all__ = ["ScriptLab", "DEFAULT_SCRIPT"]

DEFAULT_SCRIPT = """\
if (sipRequest) {
    Log("Debugr", false, sipRequest.RequestUri);
    if (EqualString(GetUserAtHost(sipRequest.RequestUri), "jennyl@contoso.com", true)) {
        RetargetRequest("sip:nuriag@contoso.com");
    }
}
"""

SCRIPT_FILE = "script.mspl"
_CODE_STYLE = "<style>.mspl-code textarea{font-family:monospace;font-size:12px}</style>"
MESSAGE_FILE = "message.sip"


class ScriptLab:
    """An MSPL script, its manifest settings, a message, a Run button and the result in place."""

    # allowRegistrationBeforeUserServices is on by default: the default script calls
    # RetargetRequest, which the SDK requires to run above UserServices (Dn439073).
    def __init__(self, script: str = DEFAULT_SCRIPT, *, message: str = "im-with-link.sip",
                 priority: int | None = None, method_names: str = "MESSAGE", proxy_by_default: bool = True,
                 reason_codes: str = "NONE", allow_before_user_services: bool = True, lab=None,
                 app_name: str = "LabApp", run: bool = True):
        self.lab = lab if lab is not None else load_lab()
        self.app_name = app_name
        samples = sample_messages()
        self._samples = samples
        if priority is None:
            priority = FrontEnd(self.lab).default_priority(allow_before_user_services)
        self.script = W.Textarea(value=script, layout=W.Layout(width="100%", height="220px"))
        # The descriptions are the manifest's own names: shown whole (WHOLE_LABEL), never "methodN...".
        self.priority = W.BoundedIntText(value=priority, min=0, max=40, description="priority", style=WHOLE_LABEL,
                                         layout=W.Layout(width="130px"))
        self.method_names = W.Text(value=method_names, description="methodNames", style=WHOLE_LABEL,
                                   layout=W.Layout(width="330px"))
        self.reason_codes = W.Text(value=reason_codes, description="reasonCodes", style=WHOLE_LABEL,
                                   layout=W.Layout(width="250px"))
        self.proxy_by_default = W.Checkbox(value=proxy_by_default, description="proxyByDefault", indent=False)
        self.allow_before = W.Checkbox(value=allow_before_user_services, indent=False,
                                       description="allowRegistrationBeforeUserServices")
        if message in samples:
            picked, text = message, samples[message]
        else:
            picked, text = OWN_MESSAGE, message
        self._own = text if picked == OWN_MESSAGE else ""
        self._loaded = text
        self._syncing = False
        self.message_picker = W.Dropdown(options=list(samples) + [OWN_MESSAGE], value=picked, description="message")
        self.message = W.Textarea(value=text, layout=W.Layout(width="100%", height="160px"))
        self.view = choice_buttons(["transaction", "ladder"], "transaction", "diagram")
        self.run_button = W.Button(description="Run", button_style="primary", icon="play")
        self.status = W.Label(value="").add_class(LIVE_ONLY)  # timings: not in the stored preview
        self.result = W.HTML(value="")
        self.last_trace = None
        self.last_error: BaseException | None = None
        self._warnings: list = []   # the checker's warnings of the script last run

        self.message_picker.observe(self._on_pick, names="value")
        self.message.observe(self._on_message_edit, names="value")
        self.run_button.on_click(lambda _button: self.run())
        self.view.observe(lambda _change: self._show(), names="value")

        settings = W.HBox([self.priority, self.method_names, self.reason_codes])
        flags = W.HBox([self.proxy_by_default, self.allow_before])
        for area in (self.script, self.message):
            area.add_class("mspl-code")
        self.ui = W.VBox([
            W.HTML(_CODE_STYLE + "<b>MSPL script</b> (the splScript of the manifest)"), self.script,
            W.HTML("<b>Manifest</b>"), settings, flags,
            W.HTML("<b>Message</b>"), self.message_picker, self.message,
            W.HBox([self.run_button, self.view, self.status]), self.result,
        ])
        if run:
            self.run()

    # -- the message picker: a sample, or the learner's own text (never lost) -------------------

    @shielded()
    def _on_pick(self, change) -> None:
        if self._syncing:
            return
        if self.message.value != self._loaded:  # the learner edited it: keep it as their own
            self._own = self.message.value
        self._syncing = True
        try:
            if change["new"] == OWN_MESSAGE:
                self.message.value = self._own
            else:
                self.message.value = self._samples[change["new"]]
            self._loaded = self.message.value
        finally:
            self._syncing = False

    @shielded()
    def _on_message_edit(self, change) -> None:
        if self._syncing:
            return
        self._own = change["new"]
        if self.message_picker.value != OWN_MESSAGE:
            self._syncing = True
            try:
                self.message_picker.value = OWN_MESSAGE
            finally:
                self._syncing = False
        self._loaded = change["new"]

    # -- Run --------------------------------------------------------------------------------

    def build_front_end(self):
        """A fresh Front End of the lab with the learner's application registered (may raise)."""
        manifest = build_manifest(
            self.script.value, filename=SCRIPT_FILE, app_uri=f"http://www.contoso.com/{self.app_name}",
            method_names=self.method_names.value.strip() or "ALL", proxy_by_default=self.proxy_by_default.value,
            reason_codes=self.reason_codes.value.strip() or "NONE",
            allow_before_user_services=self.allow_before.value)
        fe = FrontEnd(self.lab)
        fe.register(manifest, self.priority.value)
        return fe, manifest

    @shielded(heading="mspl-lite could not run this (your script and message are unchanged):")
    def run(self):
        """Compile, register, send; show the result (or the errors) in place. Returns the Trace or None."""
        start = time.perf_counter()
        self.last_trace = None
        self.last_error = None
        # Every failure is shown in place (error_html words a bug in mspl-lite as one): never a traceback.
        try:
            fe, _ = self.build_front_end()
        except Exception as err:  # noqa: BLE001
            return self._fail(err, "The script or its manifest has errors:" if isinstance(err, InputError)
                              else "The application could not be registered:", start)
        try:
            trace = fe.send(self.message.value, filename=MESSAGE_FILE)
        except Exception as err:  # noqa: BLE001
            return self._fail(err, "The message could not be sent:", start)
        self.last_trace = trace
        self._warnings = list(getattr(fe.chain.get(self.app_name).script, "warnings", ()) or ())
        self._show()
        self.status.value = f"ran in {(time.perf_counter() - start) * 1000:.0f} ms"
        return trace

    def _fail(self, err: BaseException, heading: str, start: float):
        self.last_error = err
        self.result.value = error_html(err, heading)
        self.status.value = f"error ({(time.perf_counter() - start) * 1000:.0f} ms): fix it and Run again"
        return None

    @shielded(heading="The result cannot be shown:")
    def _show(self) -> None:
        trace = self.last_trace
        if trace is None:
            return
        parts = [f"<p><b>Outcome:</b> {html.escape(outcome_line(trace))}"]
        if trace.outcome.client_experience:
            parts.append(f"<br/><b>The sender:</b> {html.escape(trace.outcome.client_experience)}")
        parts.append("</p>")
        parts.append(critical_errors_html(trace, self.script.value, SCRIPT_FILE))
        if self._warnings:
            parts.append(diagnostics_html(self._warnings, "Warnings:"))
        parts.append(diagram_html(ladder_diagram(trace) if self.view.value == "ladder" else transaction_diagram(trace)))
        if trace.log:
            parts.append("<b>Log</b>" + pre("\n".join(str(entry) for entry in trace.log)))
        if trace.notes:
            parts.append("<b>Notes</b>" + pre("\n".join(str(n) for n in trace.notes)))
        self.result.value = clean("".join(parts))

    # -- display ------------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"<ScriptLab {self.app_name} at priority {self.priority.value}, message {self.message_picker.value}>"

    def _repr_mimebundle_(self, **kwargs):
        return widget_bundle(self.ui, "ScriptLab", **kwargs)
