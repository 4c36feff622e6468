"""The small widgets of notebooks 01, 03 and 04 (the chain and trace widgets live in mspl_lite.view).

* ``MessageExplorer``: pick a course message and a header; see its value and what each MSPL
  address function (GetUri, GetUserName, ...) returns for it, null included.
* ``FilterExplorer``: change methodNames, reasonCodes and proxyByDefault of a small application
  and see, on the simulated Front End, which requests and responses its script sees.
* ``ScriptPlayground``: run a short MSPL script on a course message; see its log, decisions,
  warnings and errors.

Each widget computes its view with a plain function (``explain_field``, ``filter_report``,
``run_report``: text in, HTML out) that the tests call directly, and only sets ``HTML.value``
when a control changes -- never prints into an Output widget, which strict nbval cannot replay
(nbval compares it as the cell's stdout). A widget's plain-text form says to run the cell: the notebooks are stored
without widget state.
"""
from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from ..errors import InputError, MsplLiteError
from ..language import compile_script
from ..sip import (get_display_name, get_host_name, get_parameter_value, get_scheme, get_uri, get_uri_parameter,
                   get_user_at_host, get_user_name)
from ..view.widgets.common import WHOLE_LABEL, WidgetBox, clean, pre, shielded
from .messages import course_message

__all__ = ["MessageExplorer", "FilterExplorer", "ScriptPlayground", "explain_field", "filter_report",
           "run_report", "EXPLORER_MESSAGES", "FILTER_MESSAGES"]


def _picker_layout() -> w.Layout:
    """A message picker as wide as its longest choice ("INVITE with Supported: timer, MS-EARLY-MEDIA"):
    a Dropdown of the default width cuts the chosen label."""
    return w.Layout(width="max-content")


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _mspl(value: str | None) -> str:
    """A helper's result as MSPL shows it: a quoted string, or null."""
    return "null" if value is None else '"' + value + '"'


# =============================================================================================
# 01: MessageExplorer

#: (label, course message name) offered by the explorer.
EXPLORER_MESSAGES: tuple[tuple[str, str], ...] = (
    ("INVITE Terry -> Jenny", "invite-jennyl"),
    ("180 Ringing from Jenny", "ringing-jennyl"),
    ("200 OK from Jenny", "ok-jennyl"),
    ("BYE Jenny -> Terry's GRUU", "bye-from-jennyl"),
    ("REGISTER of Adam's client", "register-adamb"),
    ("INVITE retargeted to Nuria", "retargeted-invite"),
    ("INVITE from the PSTN gateway", "invite-from-phone"),
)

_FIELDS = ("Request-URI", "From", "To", "Contact", "Call-ID", "CSeq", "Via")


def explain_field(message_name: str, field: str) -> str:
    """HTML: the message's start line, the field's value, and what each address function returns."""
    msg = course_message(message_name)
    start = str(msg).split("\r\n", 1)[0]
    if field == "Request-URI":
        value = getattr(msg, "request_uri", None)
        where = "msg.request_uri (MSPL sipRequest.RequestUri)"
        if value is None:
            return (f"<p><code>{_esc(start)}</code></p><p>A response has no Request-URI: "
                    "<code>sipRequest.RequestUri</code> reads false on a response.</p>")
    else:
        value = msg.get(field)
        where = f'msg.get("{field}")'
        if value is None:
            return (f"<p><code>{_esc(start)}</code></p><p>This message has no {_esc(field)} header: "
                    f"<code>{_esc(where)}</code> is None.</p>")
    rows = [
        ("GetUri", "get_uri", get_uri(value)),
        ("GetDisplayName", "get_display_name", get_display_name(value)),
        ("GetUserName", "get_user_name", get_user_name(value)),
        ("GetHostName", "get_host_name", get_host_name(value)),
        ("GetUserAtHost", "get_user_at_host", get_user_at_host(value)),
        ("GetScheme", "get_scheme", get_scheme(value)),
        ('GetUriParameter(..., "transport")', "get_uri_parameter", get_uri_parameter(value, "transport")),
        ('GetParameterValue(..., "tag")', "get_parameter_value", get_parameter_value(value, "tag")),
        ('GetParameterValue(..., "epid")', "get_parameter_value", get_parameter_value(value, "epid")),
    ]
    body = "".join(f'<tr><td style="text-align:left"><code>{_esc(mspl)}</code></td>'
                   f'<td style="text-align:left"><code>{_esc(_mspl(result))}</code></td></tr>'
                   for mspl, _, result in rows)
    return (f"<p><code>{_esc(start)}</code></p>"
            f"<p><b>{_esc(where)}</b> = <code>{_esc(value)}</code></p>"
            '<table><tr><th style="text-align:left">MSPL function</th>'
            f'<th style="text-align:left">returns</th></tr>{body}</table>')


class MessageExplorer(WidgetBox):
    """Pick a message and a field; see the value and the MSPL address functions' results."""

    label = "message explorer"

    def __init__(self, message: str = "invite-jennyl", field: str = "From"):
        self.message = w.Dropdown(options=EXPLORER_MESSAGES, value=message, description="Message",
                                  style=WHOLE_LABEL, layout=_picker_layout())
        self.field = w.Dropdown(options=_FIELDS, value=field, description="Field", style=WHOLE_LABEL)
        self.view = w.HTML()
        super().__init__([w.HBox([self.message, self.field]), self.view])
        for control in (self.message, self.field):
            control.observe(self._update, names="value")
        self._update()

    @shielded("view", "The field cannot be explained:")
    def _update(self, _change: Any = None) -> None:
        self.view.value = clean(explain_field(self.message.value, self.field.value))


# =============================================================================================
# 03: FilterExplorer

#: (what, course message name) sent through the Front End by the filter explorer.
FILTER_MESSAGES: tuple[tuple[str, str], ...] = (
    ("INVITE Terry -> Jenny", "invite-jennyl"),
    ("MESSAGE Terry -> Adam", "message-adamb"),
    ("REGISTER of Adam's client", "register-adamb"),
    ("SUBSCRIBE Terry -> Jenny (presence)", "subscribe-jennyl"),
)

_FILTER_SCRIPT = """
if (sipRequest) { Log("Debugr", false, "request ", sipRequest.Method); }
if (sipResponse) { Log("Debugr", false, "response ", sipResponse.StatusCode); }
"""


def filter_manifest(method_names: str, reason_codes: str, proxy_by_default: bool) -> str:
    """The manifest text of the explorer's application ("" leaves an attribute's element out)."""
    lines = ['<?xml version="1.0"?>',
             '<r:applicationManifest r:appUri="http://www.contoso.com/FirstApp"',
             '                       xmlns:r="http://schemas.microsoft.com/lcs/2006/05">',
             "  <r:allowRegistrationBeforeUserServices/>"]
    if method_names.strip():
        lines.append(f'  <r:requestFilter methodNames="{method_names.strip()}"/>')
    if reason_codes.strip():
        lines.append(f'  <r:responseFilter reasonCodes="{reason_codes.strip()}"/>')
    lines.append(f'  <r:proxyByDefault action="{"true" if proxy_by_default else "false"}"/>')
    lines += ["  <r:scriptOnly/>", f"  <r:splScript><![CDATA[{_FILTER_SCRIPT}]]></r:splScript>",
              "</r:applicationManifest>"]
    return "\n".join(lines)


def filter_report(method_names: str, reason_codes: str, proxy_by_default: bool) -> str:
    """HTML: what the application's script sees of each FILTER_MESSAGES transaction, and the outcome."""
    from ..frontend import FrontEnd
    from ..manifest import parse_manifest

    text = filter_manifest(method_names, reason_codes, proxy_by_default)
    try:
        manifest = parse_manifest(text, filename="FirstApp.am")
    except InputError as err:
        return ("<p><b>The manifest does not load</b> (the server would refuse it):</p>"
                + pre(str(err)))
    fe = FrontEnd()
    try:
        fe.register(manifest, priority=fe.chain.index("UserServices"))
    except MsplLiteError as err:   # RegistrationRefused: the server's reason, in place
        return "<p><b>The server refuses the application:</b></p>" + pre(str(err))
    rows = []
    for what, name in FILTER_MESSAGES:
        trace = fe.send(course_message(name))
        hop = trace.hop("FirstApp")
        seen = "sees it" if hop.ran else f"not seen: {hop.sentence}"
        responses = [r for r in trace.responses if r.app == "FirstApp"]
        if responses:
            r = responses[0]
            resp = (f"sees the {r.status}" if r.ran else f"not seen: the {r.status} "
                    + ("is not in its reasonCodes" if r.why == "response-filter"
                       else "does not pass through it (it never saw the request)"))
        else:
            resp = "no response passes through it"
        rows.append((what, seen, resp, trace.outcome.summary()))
    body = "".join("<tr>" + "".join(f'<td style="text-align:left">{_esc(c)}</td>' for c in row) + "</tr>"
                   for row in rows)
    head = "".join(f'<th style="text-align:left">{h}</th>'
                   for h in ("message", "the request", "the final response", "outcome"))
    return (f"<table><tr>{head}</tr>{body}</table>"
            "<details><summary>the manifest</summary>" + pre(text) + "</details>")


class FilterExplorer(WidgetBox):
    """Change the filters and proxyByDefault of an application just above UserServices; see what it sees."""

    label = "filter explorer"

    def __init__(self, method_names: str = "INVITE", reason_codes: str = "", proxy_by_default: bool = True):
        # The descriptions are the manifest's attribute names: shown whole, never "methodN...".
        self.method_names = w.Text(value=method_names, description="methodNames", style=WHOLE_LABEL,
                                   layout=w.Layout(width="340px"),
                                   placeholder="empty: no requestFilter (ALL)", continuous_update=False)
        self.reason_codes = w.Text(value=reason_codes, description="reasonCodes", style=WHOLE_LABEL,
                                   layout=w.Layout(width="340px"),
                                   placeholder="empty: no responseFilter (ALL)", continuous_update=False)
        self.proxy_by_default = w.Checkbox(value=proxy_by_default, description="proxyByDefault", indent=False)
        self.view = w.HTML()
        super().__init__([w.HBox([self.method_names, self.reason_codes, self.proxy_by_default]), self.view])
        for control in (self.method_names, self.reason_codes, self.proxy_by_default):
            control.observe(self._update, names="value")
        self._update()

    @shielded("view", "The application cannot be tried:")
    def _update(self, _change: Any = None) -> None:
        self.view.value = clean(filter_report(self.method_names.value, self.reason_codes.value,
                                              self.proxy_by_default.value))


# =============================================================================================
# 04: ScriptPlayground

_PLAYGROUND_MESSAGES: tuple[tuple[str, str], ...] = EXPLORER_MESSAGES + (
    ("MESSAGE Terry -> Jenny about a password", "im-password"),
    ("INVITE with Supported: timer, MS-EARLY-MEDIA", "invite-nuriag-caps"),
)


def run_report(script_text: str, message_name: str) -> str:
    """HTML: compile ``script_text`` and run it on a course message; errors are shown, never raised."""
    try:
        script = compile_script(script_text, filename="playground.mspl")
    except InputError as err:
        return "<p><b>Does not compile</b> (CompileSPL.exe would refuse it):</p>" + pre(str(err))
    run = script.run(course_message(message_name))
    parts = []
    if script.warnings:
        parts.append("<p><b>Warnings</b></p>" + pre("\n".join(d.render() for d in script.warnings)))
    log = "\n".join(str(e) for e in run.log) or "(nothing logged)"
    parts.append("<p><b>Log</b></p>" + pre(log))
    decisions = "\n".join(str(d) for d in run.dispositions) or "(no routing action)"
    parts.append("<p><b>Decisions</b></p>" + pre(decisions))
    if run.critical_errors:
        parts.append("<p><b>Critical error</b> (the script stopped here)</p>"
                     + pre("\n".join(e.render() for e in run.critical_errors)))
    parts.append(f"<p>{run.steps} steps.</p>")
    return "".join(parts)


class ScriptPlayground(WidgetBox):
    """Edit a short MSPL script, pick a message, press Run: see the log, decisions and errors."""

    label = "script playground"

    def __init__(self, script: str = 'Log("Debugr", false, sipRequest.Method);', message: str = "invite-jennyl"):
        self.script = w.Textarea(value=script, layout=w.Layout(width="100%", height="160px"))
        self.message = w.Dropdown(options=_PLAYGROUND_MESSAGES, value=message, description="Message",
                                  style=WHOLE_LABEL, layout=_picker_layout())
        self.run_button = w.Button(description="Run", button_style="primary")
        self.view = w.HTML()
        super().__init__([self.script, w.HBox([self.message, self.run_button]), self.view])
        self.run_button.on_click(self._update)
        self.message.observe(self._update, names="value")
        self._update()

    @shielded("view", "mspl-lite could not run this (your script is unchanged):")
    def _update(self, _change: Any = None) -> None:
        self.view.value = clean(run_report(self.script.value, self.message.value))
