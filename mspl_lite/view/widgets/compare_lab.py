"""The comparison lab: the same message through two chains that differ in one thing, side by side.

One control chooses what differs: the disposition (ProxyRequest vs RetargetRequest) or where
the application sits (above the routing applications, just above UserServices as the SDK asks
of an application that calls RetargetRequest (Dn439073), vs last in the chain). The other
controls fix the rest: the disposition or position not being compared, the message, the address
the application sends it to. The application is a two-line MSPL script
built in memory; the verdict line is computed from the two traces (verdict.py).
"""
from __future__ import annotations

import html
import time

import ipywidgets as W

from ...frontend import FrontEnd, load_lab
from ..compare import compare_diagram
from ..verdict import verdict
from .common import (LIVE_ONLY, WHOLE_LABEL, build_manifest, choice_buttons, clean, diagram_html, error_html, sample_messages,
                     shielded, widget_bundle)

__all__ = ["CompareLab", "redirect_script"]

APP_NAME = "RedirectApp"
DISPOSITIONS = ("ProxyRequest", "RetargetRequest")
POSITIONS = {"above": "above the routing applications", "below": "last in the chain"}
#: The width of the controls' descriptions ("script calls" is the longest), so their buttons line up.
LABEL_WIDTH = "6.5em"


def _mspl_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def redirect_script(disposition: str, target: str) -> str:
    """The compared application: send every request it sees to ``target`` with ``disposition``."""
    return ("if (sipRequest) {\n"
            f'    Log("Debugr", false, "{disposition} to ", {_mspl_string(target)});\n'
            f"    {disposition}({_mspl_string(target)});\n"
            "}\n")


class CompareLab:
    """Two transactions side by side with a one-line verdict; every control change redraws."""

    def __init__(self, *, message: str = "im-with-link.sip", target: str = "sip:nuriag@contoso.com",
                 vary: str = "disposition", disposition: str = "ProxyRequest", position: str = "above",
                 lab=None, run: bool = True):
        self.lab = lab if lab is not None else load_lab()
        self._samples = sample_messages()
        # One label column, so the three rows of buttons start at the same place.
        self.vary = choice_buttons([("ProxyRequest vs RetargetRequest", "disposition"),
                                    ("above vs below the routing applications", "position")],
                                   vary, "compare", label_width=LABEL_WIDTH)
        self.disposition = choice_buttons(list(DISPOSITIONS), disposition, "script calls", label_width=LABEL_WIDTH)
        self.position = choice_buttons([(v, k) for k, v in POSITIONS.items()], position, "app sits",
                                       label_width=LABEL_WIDTH)
        self.message_picker = W.Dropdown(options=list(self._samples), value=message, description="message",
                                         style={"description_width": LABEL_WIDTH})
        self.target = W.Text(value=target, description="sends to", style=WHOLE_LABEL, layout=W.Layout(width="360px"))
        self.verdict = W.HTML(value="")
        self.status = W.Label(value="").add_class(LIVE_ONLY)  # timings: not in the stored preview
        self.result = W.HTML(value="")
        self.traces: tuple | None = None
        self.last_error: BaseException | None = None
        for control in (self.vary, self.disposition, self.position, self.message_picker, self.target):
            control.observe(lambda _change: self.update(), names="value")
        self.ui = W.VBox([self.vary, self.disposition, self.position, W.HBox([self.message_picker, self.target]),
                          self.verdict, self.status, self.result])
        if run:
            self.update()

    def _trace(self, disposition: str, position: str):
        message = self._samples[self.message_picker.value]
        method = message.split(None, 1)[0] if message.strip() else "ALL"
        manifest = build_manifest(redirect_script(disposition, self.target.value.strip()),
                                  filename=f"{APP_NAME}.mspl", app_uri=f"http://www.contoso.com/{APP_NAME}",
                                  method_names=method, proxy_by_default=True, reason_codes="NONE",
                                  allow_before_user_services=True)
        fe = FrontEnd(self.lab)
        # "above": just above UserServices, where the SDK requires a RetargetRequest application
        # to sit (Dn439073), and both sides of a comparison sit in the same place;
        # "below": past the end, i.e. last.
        priority = fe.default_priority(True) if position == "above" else len(fe.chain)
        fe.register(manifest, priority)
        return fe.send(message, filename=self.message_picker.value)

    def sides(self) -> tuple[tuple[str, str], tuple[str, str], tuple[str, str]]:
        """((disposition, position) of each side), their titles, and the names the verdict uses."""
        target = self.target.value.strip()
        if self.vary.value == "disposition":
            pos = self.position.value
            where = "" if pos == "above" else f", {POSITIONS[pos]}"
            return ((DISPOSITIONS[0], pos), (DISPOSITIONS[1], pos)), \
                (f'{DISPOSITIONS[0]}("{target}"){where}', f'{DISPOSITIONS[1]}("{target}"){where}'), DISPOSITIONS
        disp = self.disposition.value
        return ((disp, "above"), (disp, "below")), \
            (f'{disp}("{target}") {POSITIONS["above"]}', f'{disp}("{target}") {POSITIONS["below"]}'), \
            (f"{APP_NAME} {POSITIONS['above']}", f"{APP_NAME} {POSITIONS['below']}")

    @shielded(heading="Cannot compare:")
    def update(self):
        """Send the message through both chains and show them with the verdict; returns the traces."""
        start = time.perf_counter()
        self.disposition.disabled = self.vary.value == "disposition"
        self.position.disabled = self.vary.value == "position"
        (a_cfg, b_cfg), titles, names = self.sides()
        try:
            a = self._trace(*a_cfg)
            b = self._trace(*b_cfg)
            line = verdict(a, b, names)
            diagram = compare_diagram(a, b, titles=titles, names=names)
        except Exception as err:  # noqa: BLE001 - shown in place; error_html words a bug as one
            self.last_error = err
            self.traces = None
            self.verdict.value = ""
            self.result.value = error_html(err, "Cannot compare:")
            self.status.value = "error: change the settings"
            return None
        self.last_error = None
        self.traces = (a, b)
        self.verdict.value = f'<p style="font-size:110%"><b>What changed:</b> {html.escape(clean(line))}</p>'
        self.result.value = diagram_html(diagram)
        self.status.value = f"updated in {(time.perf_counter() - start) * 1000:.0f} ms"
        return a, b

    def __repr__(self) -> str:
        return f"<CompareLab {self.vary.value}: {self.message_picker.value}>"

    def _repr_mimebundle_(self, **kwargs):
        return widget_bundle(self.ui, "CompareLab", **kwargs)
