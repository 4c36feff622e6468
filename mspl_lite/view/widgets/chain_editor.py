"""The chain editor: reorder, enable and disable applications, and watch one message's path change.

The editor keeps its own copy of the chain (Set-CsServerApplication -Priority / -Enabled on
it). After each change the chosen message goes through a fresh Front End with that chain, so
the picture depends only on the chain and the message, never on what was sent before. A move
the server would refuse (a custom application above UserServices without
allowRegistrationBeforeUserServices) is shown as the server's reason and undone. A custom
application moved below DefaultRouting stays there, marked "!" with Dn439078's rule quoted: the
SDK says every application must be above it (decision D52).
"""
from __future__ import annotations

import difflib
import html
import time
from typing import Any

import ipywidgets as W

from ...errors import MsplLiteError, RegistrationRefused, UsageError
from ...text import shown
from ...frontend import Chain, FrontEnd, sample_path
from ..chain_diagram import chain_diagram
from ..ladder import ladder_diagram
from ..trace_diagram import outcome_line, transaction_diagram
from .common import LIVE_ONLY, choice_buttons, clean, diagram_html, error_html, sample_messages, shielded, widget_bundle

__all__ = ["ChainEditor"]


class ChainEditor:
    """A list of the chain's applications with Move up / Move down / Enable-Disable, and the result."""

    def __init__(self, front_end=None, *, message: str = "im-with-link.sip", run: bool = True):
        if front_end is None:
            front_end = FrontEnd()
            front_end.register(str(sample_path("apps/redirect-im-retarget.am")))
        self.lab = front_end.lab
        # Our own copy: editing here never changes the caller's FrontEnd.
        self.chain = Chain(front_end.chain.pool, front_end.chain.apps)
        self._samples = sample_messages()
        self.apps = W.Select(options=self._options(), rows=min(16, len(self.chain)),
                             layout=W.Layout(width="320px"))
        self.up = W.Button(description="Move up", icon="arrow-up")
        self.down = W.Button(description="Move down", icon="arrow-down")
        self.toggle = W.Button(description="Enable / disable", icon="power-off")
        if message not in self._samples:
            close = difflib.get_close_matches(str(message), list(self._samples), n=3, cutoff=0.4)
            raise UsageError(f"ChainEditor(message=...) names one of the lab's sample messages, not "
                             f"{shown(repr(message))[:80]}" + (f"; did you mean {', '.join(close)}?" if close else
                                                               f"; they are: {', '.join(self._samples)}"))
        self.message_picker = W.Dropdown(options=list(self._samples), value=message, description="message")
        self.view = choice_buttons(["transaction", "ladder", "chain"], "transaction", "diagram")
        self.status = W.Label(value="").add_class(LIVE_ONLY)  # timings: not in the stored preview
        self.path = W.HTML(value="")
        self.result = W.HTML(value="")
        self.last_trace = None
        self.last_error: BaseException | None = None
        self.apps.value = self.chain[0].name if len(self.chain) else None
        self.up.on_click(lambda _b: self.move(self.apps.value, -1))
        self.down.on_click(lambda _b: self.move(self.apps.value, +1))
        self.toggle.on_click(lambda _b: self.toggle_enabled(self.apps.value))
        self.message_picker.observe(lambda _c: self.update(), names="value")
        self.view.observe(lambda _c: self.update(), names="value")
        self.ui = W.VBox([
            W.HBox([self.apps, W.VBox([self.up, self.down, self.toggle, self.message_picker, self.view])]),
            self.status, self.path, self.result])
        if run:
            self.update()

    def _options(self) -> list[tuple[str, str]]:
        out = []
        below = {i for i, _ in self.chain.below_default_routing()}
        for i, app in enumerate(self.chain):
            mark = ("" if app.enabled else "  (disabled)") + ("  ! below DefaultRouting" if i in below else "")
            kind = "" if app.kind == "builtin" else f"  [{app.kind}]"
            out.append((f"{i:>2}  {app.name}{kind}{mark}", app.name))
        return out

    def _refresh_list(self, selected: str | None) -> None:
        self.apps.options = self._options()
        self.apps.value = selected

    # -- edits ----------------------------------------------------------------------------------

    def _unknown(self, name: Any) -> bool:
        """True (and a message in place, with the closest names) when ``name`` is no application of the chain."""
        names = [app.name for app in self.chain]
        if isinstance(name, str) and any(n.lower() == name.lower() for n in names):
            return False
        close = difflib.get_close_matches(str(name), names, n=3, cutoff=0.5) if isinstance(name, str) else []
        err = UsageError(f"no application named {shown(repr(name))[:80]} in the chain"
                         + (f"; did you mean {', '.join(close)}?" if close else "")
                         + f" The chain has: {', '.join(names)}.")
        self.last_error = err
        self.status.value = "no such application"
        self.path.value = error_html(err, "Cannot change the chain:")
        return True

    @shielded("path", "Cannot change the chain:")
    def move(self, name: str | None, delta: int):
        """Move application ``name`` up (delta -1) or down (+1) one place; returns the new trace."""
        if name is None:
            return self.last_trace
        if self._unknown(name):
            return self.last_trace
        i = self.chain.index(name)
        j = i + delta
        if not 0 <= j < len(self.chain):
            self.status.value = f"{name} is already {'first' if j < 0 else 'last'}"
            return self.last_trace
        app = self.chain.remove(name)
        try:
            self.chain.insert(app, j)
        except RegistrationRefused as err:
            self.chain.insert(app, i)  # undo: the server keeps the old order
            self._refresh_list(name)
            self.last_error = err
            self.status.value = "the server refused the move"
            self.path.value = error_html(err, f"Cannot move {name} to priority {j}:")
            return self.last_trace
        self._refresh_list(name)
        return self.update()

    @shielded("path", "Cannot change the chain:")
    def toggle_enabled(self, name: str | None):
        """Set-CsServerApplication -Enabled: flip ``name``; returns the new trace."""
        if name is None:
            return self.last_trace
        if self._unknown(name):
            return self.last_trace
        app = self.chain.get(name)
        try:
            self.chain.replace(name, enabled=not app.enabled)
        except MsplLiteError as err:   # e.g. a change the server refuses
            self.last_error = err
            self.status.value = "the server refused the change"
            self.path.value = error_html(err, f"Cannot change {name}:")
            return self.last_trace
        self._refresh_list(name)
        return self.update()

    # -- the result ----------------------------------------------------------------------------

    @shielded("path", "Cannot send the message:")
    def update(self):
        """Send the chosen message through a fresh Front End with this chain; show it. Returns the Trace."""
        start = time.perf_counter()
        fe = FrontEnd(self.lab)
        fe.chain = Chain(self.chain.pool, self.chain.apps)
        try:
            trace = fe.send(self._samples[self.message_picker.value], filename=self.message_picker.value)
            if self.view.value == "chain":
                diagram = chain_diagram(fe)
            elif self.view.value == "ladder":
                diagram = ladder_diagram(trace)
            else:
                diagram = transaction_diagram(trace)
        except Exception as err:  # noqa: BLE001 - shown in place; error_html words a bug as one
            self.last_error = err
            self.path.value = error_html(err, "Cannot send the message:")
            self.result.value = ""
            return None
        self.last_error = None
        self.last_trace = trace
        saw = " \u2192 ".join(trace.ran) or "no application"
        # What the receiver gets depends on who changed the request on its way (IIMFilter's links):
        # say it in words, so moving IIMFilter below DefaultRouting shows in the text, not only the picture.
        changed = "; ".join(f"{h.app} ({h.action})" if h.action else h.app for h in trace.hops
                            if h.ran and h.changes is not None and not h.changes.empty)
        warnings = "".join(f"<br/><b>Warning:</b> {html.escape(w)}" for w in self.chain.placement_warnings())
        self.path.value = clean(f"<p><b>Saw the request:</b> {html.escape(saw)}<br/>"
                           f"<b>Outcome:</b> {html.escape(outcome_line(trace))}<br/>"
                           f"<b>Changed the request:</b> {html.escape(changed or 'no application')}"
                           f"{warnings}</p>")
        self.result.value = diagram_html(diagram)
        self.status.value = f"updated in {(time.perf_counter() - start) * 1000:.0f} ms"
        return trace

    def __repr__(self) -> str:
        return f"<ChainEditor {len(self.chain)} applications, message {self.message_picker.value}>"

    def _repr_mimebundle_(self, **kwargs):
        return widget_bundle(self.ui, "ChainEditor", **kwargs)
