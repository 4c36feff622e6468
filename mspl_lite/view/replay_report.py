"""The HTML report of a replay (``mspl-lite replay --report FILE.html``): one self-contained file.

Summary, the per-message table, and under it the diagram of the message a reader clicks (or
selects with the keyboard: rows are buttons). Everything is inline: CSS, a few lines of script,
each diagram as inline SVG rendered by the existing view code (transaction_diagram), so the file
opens from a mail attachment or a closed network, and fetches nothing. A message whose trace was
not kept (past the first rows) or whose diagram cannot be rendered shows its text trace instead.
A row with no trace of its own (the response that answered a request's replay, a retransmission,
what the Front End sent) says what it is, shows the diagram of the request it belongs to, and has
a button that selects that request's row.
"""
from __future__ import annotations

import html
import os
import re
from pathlib import Path
from typing import Any, Iterable, Sequence

from .render import RendererMissing, RenderFailed
from .trace_diagram import transaction_diagram

__all__ = ["report_html", "write_report"]

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1b1b}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.4em}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.3em .5em;
text-align:left;vertical-align:top}th{background:#f3f3f3}
tr.msg{cursor:pointer}tr.msg:hover,tr.msg:focus{background:#eef5ff;outline:none}
tr.msg.selected{background:#d8e8ff}.changed{color:#8a3b00;font-weight:600}.fault{color:#a00}
.differs{color:#a00;font-weight:600}.agrees{color:#176b17}code,pre{font-family:ui-monospace,monospace;
font-size:12px}pre{white-space:pre-wrap;background:#f8f8f8;padding:.6em}
#detail{border:1px solid #bbb;padding:.8em;margin-top:1em;min-height:3em}
#detail svg{max-width:100%;height:auto}.muted{color:#666}.points{font-weight:600}
button.goto{font:inherit;margin-left:.5em;cursor:pointer}
"""

_JS = """
(function(){
  var detail=document.getElementById('detail');
  function show(row){
    document.querySelectorAll('tr.msg.selected').forEach(function(r){r.classList.remove('selected');});
    row.classList.add('selected');
    var t=document.getElementById('d'+row.dataset.index);
    detail.innerHTML='';
    detail.appendChild(t.content.cloneNode(true));
    detail.dataset.shown=row.dataset.index;
  }
  document.querySelectorAll('tr.msg').forEach(function(row){
    row.addEventListener('click',function(){show(row);});
    row.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();show(row);}});
  });
  detail.addEventListener('click',function(e){
    var b=e.target.closest('button.goto');
    if(!b)return;
    var row=document.querySelector('tr.msg[data-index="'+b.dataset.goto+'"]');
    if(!row)return;
    show(row);
    row.focus();
    row.scrollIntoView({block:'nearest'});
  });
})();
"""

_PROLOG = re.compile(r"\A.*?(?=<svg\b)", re.S)


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _inline_svg(trace: Any) -> str:
    """The trace's diagram as inline SVG (no XML prolog, no DOCTYPE), or its text when it cannot render."""
    try:
        return _PROLOG.sub("", transaction_diagram(trace).svg(), count=1)
    except (RendererMissing, RenderFailed) as err:
        return f'<p class="muted">No diagram ({_e(err)}); the trace:</p><pre>{_e(trace.text())}</pre>'


def _effects(result: Any) -> str:
    parts = []
    for a in result.apps:
        if a.builtin and a.effects == ("passed",) and not a.changes:
            continue
        if not a.builtin or a.effects != ("passed",):
            step = "" if a.step == "request" else f" ({a.step})"
            parts.append(f"<b>{_e(a.app)}</b>{_e(step)}: {_e(', '.join(a.effects))}")
    return "<br>".join(parts)


def _fate(result: Any) -> str:
    if result.role == "observed":
        cls = {True: "agrees", False: "differs", None: "muted"}[result.agree]
        word = {True: "agrees", False: "differs", None: "not compared"}[result.agree]
        of = f" (for #{result.matched})" if result.matched is not None else ""
        return (f'observed{_e(of)}: {_e(result.observed)}<br>predicted: {_e(result.predicted or "-")} '
                f'<span class="{cls}">[{word}]</span>')
    if result.role in ("malformed", "retransmission"):
        return _e(result.faults[0].message.splitlines()[0] if result.faults else f"retransmission of #{result.matched}")
    text = _e(result.outcome)
    if result.changed:
        text += f'<br><span class="changed">without the applications: {_e(result.baseline)}</span>'
    return text


_NO_TRACE = ('<p class="muted">No diagram kept for {what} (only the first ones are); run '
             '<code>mspl-lite trace</code> on it for the whole trace.</p>')


def _goto(index: int, by_index: dict) -> str:
    """A button that selects row ``index`` (when the table lists it)."""
    if index not in by_index:
        return f' <span class="muted">(#{index} is not in this table)</span>'
    return f' <button type="button" class="goto" data-goto="{index}">Show #{index}</button>'


def _request_of(result: Any, by_index: dict) -> Any:
    """The row of the request a row without a trace of its own belongs to: a retransmitted final
    response names the answer it repeats, which names its request."""
    seen = set()
    row = by_index.get(result.matched)
    while row is not None and row.role in ("answer", "retransmission") and row.index not in seen:
        seen.add(row.index)
        row = by_index.get(row.matched)
    return row


def _what_it_is(result: Any, by_index: dict) -> str:
    """For a row with no trace of its own: what it is, and the row it points to."""
    n = result.matched
    if result.role == "answer":
        return (f'<p class="points">This response answered the replay of #{n}: the response path ran on it '
                f"there.{_goto(n, by_index)}</p>")
    if result.role == "retransmission":
        again = "final response" if result.first_line.startswith("SIP/") else "request"
        return (f'<p class="points">A retransmission: the same {again} as #{n} again, skipped (the Front End '
                f"absorbs it as part of that transaction).{_goto(n, by_index)}</p>")
    if result.role == "observed":
        if n is None:
            return ('<p class="points">Sent by the Front End, for a request the capture does not hold: '
                    "nothing to compare it with.</p>")
        return (f'<p class="points">Sent by the Front End: what really happened next to #{n}, set beside what '
                f"the simulator predicted for it.{_goto(n, by_index)}</p>")
    return ""


def _detail(result: Any, by_index: dict) -> str:
    out = [f"<h3>#{result.index} {_e(result.where)}</h3><p><code>{_e(result.first_line)}</code></p>",
           f"<pre>{_e(result.line())}</pre>"]
    for f in result.faults:
        out.append(f'<pre class="fault">{_e(f.message)}</pre>')
    if result.trace is not None:
        out.append(_inline_svg(result.trace))
    elif result.role in ("answer", "retransmission", "observed"):
        out.append(_what_it_is(result, by_index))
        request = _request_of(result, by_index)
        if request is not None and request.trace is not None:
            out.append(f"<p>The diagram of #{request.index}, the request it belongs to:</p>")
            out.append(_inline_svg(request.trace))
        elif request is not None:
            out.append(_NO_TRACE.format(what=f"#{request.index}"))
    elif result.role == "replayed":
        out.append(_NO_TRACE.format(what="this message"))
    return "".join(out)


def report_html(summary: Any, results: Sequence[Any], *, captures: Iterable[str] = (), title: str = "") -> str:
    """The report as one HTML document (str)."""
    names = ", ".join(captures)
    head = title or f"mspl-lite replay: {names or 'capture'}"
    rows, templates = [], []
    by_index = {r.index: r for r in results}
    for r in results:
        cls = "msg" + (" changed-row" if r.changed else "")
        faults = "".join(f'<div class="fault">{_e(f.kind)}</div>' for f in r.faults)
        rows.append(
            f'<tr class="{cls}" tabindex="0" role="button" data-index="{r.index}" data-role="{_e(r.role)}">'
            f"<td>{r.index}</td><td>{_e(r.where)}</td><td>{_e(r.role)}</td><td><code>{_e(r.first_line)}</code></td>"
            f"<td>{_effects(r)}</td><td>{_fate(r)}{faults}</td></tr>")
        templates.append(f'<template id="d{r.index}">{_detail(r, by_index)}</template>')
    shown = (f"<p>The table lists the first {len(results)} of {summary.messages} messages; "
             "<code>--json</code> lists every one.</p>" if len(results) < summary.messages else "")
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(head)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(head)}</h1>",
        '<h2>Summary</h2><pre id="summary">' + _e(summary.text()) + "</pre>",
        "<h2>Messages</h2><p>Click a message (or press Enter on it) to see what each application did and its "
        "diagram.</p>" + shown,
        '<table id="messages"><thead><tr><th>#</th><th>where</th><th>role</th><th>message</th>'
        "<th>applications</th><th>fate</th></tr></thead><tbody>",
        *rows, "</tbody></table>",
        '<div id="detail" aria-live="polite"><p class="muted">No message selected.</p></div>',
        *templates,
        f"<script>{_JS}</script></body></html>", ""])


def write_report(path: str | os.PathLike, summary: Any, results: Sequence[Any], **kw: Any) -> Path:
    """Write the report to ``path`` (UTF-8)."""
    path = Path(path)
    path.write_text(report_html(summary, results, **kw), encoding="utf-8", errors="surrogateescape")
    return path
