"""Traces built by hand (real Trace/Hop/Outcome values) for the view tests: no simulator needed.

The story is the one of the comparison notebook: Nuria sends Terry an IM with a link; a custom
application RedirectApp (priority 3, just above UserServices as the SDK asks) either ProxyRequest()s it straight to Terry or
RetargetRequest()s it, so that IIMFilter and DefaultRouting still run.
"""
from __future__ import annotations

import pytest

from mspl_lite.frontend.trace import Branch, Changes, Hop, LogLine, Note, Outcome, ResponseHop, Trace
from mspl_lite.view import render as render_module
from mspl_lite.view.style import style_of as styles  # noqa: F401  (the tests read node styles with it)

@pytest.fixture(autouse=True)
def fresh_render_cache(monkeypatch):
    """Every test renders with graphviz-pure (no $MSPL_LITE_DOT) and an empty render cache, so a test
    that changes the renderer cannot hand its SVG to the next. A module that wants it binds it:
    ``_fresh_cache = fx.fresh_render_cache``."""
    monkeypatch.delenv(render_module.RENDERER_ENV, raising=False)
    render_module._render_cached.cache_clear()
    yield
    render_module._render_cached.cache_clear()


MESSAGE = (
    "MESSAGE sip:terrya@contoso.com SIP/2.0\r\n"
    "Via: SIP/2.0/TLS 192.0.2.21:50230;branch=z9hG4bK6b1d\r\n"
    "Max-Forwards: 70\r\n"
    'From: "Nuria Gonzalez" <sip:nuriag@contoso.com>;tag=6b1d\r\n'
    "To: <sip:terrya@contoso.com>\r\n"
    "Call-ID: 6b1d4e2f-im\r\n"
    "CSeq: 1 MESSAGE\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 33\r\n"
    "\r\n"
    "see http://fabrikam.com/offer now"
)

CHAIN = [  # (name, builtin)
    ("ClientVersionFilter", True), ("TranslationService", True), ("IncomingFederation", True),
    ("RedirectApp", False), ("UserServices", True), ("InterClusterRouting", True), ("IIMFilter", True),
    ("UserPinService", True), ("DefaultRouting", True), ("ExumRouting", True), ("OutboundRouting", True),
    ("QoEAgent", True), ("OutgoingFederation", True), ("AcpRouting", True),
]
FILTERED = {"ClientVersionFilter": "ClientVersionFilter handles REGISTER, not MESSAGE",
            "UserPinService": "UserPinService handles SERVICE, not MESSAGE",
            "QoEAgent": "QoEAgent handles SERVICE, not MESSAGE",
            "AcpRouting": "AcpRouting handles INVITE, not MESSAGE"}
TERRY = "sip:terrya@contoso.com;opaque=user:epid:7c2e5f3a01;gruu"


def _hops(decider: str, ran: dict[str, Hop]) -> list[Hop]:
    hops, routed = [], False
    for priority, (name, builtin) in enumerate(CHAIN):
        if name in ran:
            hops.append(ran[name])
        elif routed:
            hops.append(Hop(app=name, priority=priority, builtin=builtin, ran=False, why="routed",
                            sentence="the request was already routed"))
        elif name in FILTERED:
            hops.append(Hop(app=name, priority=priority, builtin=builtin, ran=False, why="filter",
                            sentence=FILTERED[name]))
        else:
            hops.append(Hop(app=name, priority=priority, builtin=builtin, ran=True, effect="passed",
                            action="passed on", sentence="nothing to do"))
        if name == decider:
            routed = True
    return hops


def _responses(hops: list[Hop], decider: str) -> list[ResponseHop]:
    above = [h for h in hops[: [h.app for h in hops].index(decider) + 1]]
    out = []
    for h in reversed(above):
        if h.ran:
            out.append(ResponseHop(app=h.app, priority=h.priority, builtin=h.builtin, status=200, reason="OK",
                                   ran=True, action="passed it on"))
        else:
            out.append(ResponseHop(app=h.app, priority=h.priority, builtin=h.builtin, status=200, reason="OK",
                                   ran=False, why="not-in-path"))
    return out


def _branch(sent_by: str, body_changed: bool) -> Branch:
    return Branch(target=TERRY, kind="endpoint", sent_by=sent_by, party="Terry Adams: Lync 2013 (desktop)",
                  responses=((200, "OK"),), request="MESSAGE ...")


def proxy_trace() -> Trace:
    """RedirectApp calls ProxyRequest("sip:terrya@contoso.com"): every later application is skipped."""
    redirect = Hop(app="RedirectApp", priority=3, builtin=False, ran=True, effect="proxied",
                   action="proxied to sip:terrya@contoso.com", sentence='ProxyRequest("sip:terrya@contoso.com")',
                   uri="http://www.contoso.com/RedirectApp",
                   log=(LogLine(app="RedirectApp", level="Event", text="to Terry", line=7),))
    hops = _hops("RedirectApp", {"RedirectApp": redirect})
    return Trace(message=MESSAGE, method="MESSAGE", request_uri="sip:terrya@contoso.com", hops=hops,
                 outcome=Outcome(kind="proxied", decided_by="RedirectApp", destination=TERRY,
                                 destination_kind="endpoint", destinations=(TERRY,), status=200, reason="OK",
                                 forwarded=MESSAGE.replace("sip:terrya@contoso.com SIP", TERRY + " SIP")),
                 branches=[_branch("RedirectApp", False)], responses=_responses(hops, "RedirectApp"),
                 log=redirect.log, notes=(Note(kind="decision", text="ProxyRequest(uri) ends the chain"),),
                 server="fe01.contoso.com", pool="pool01.contoso.com")


def retarget_trace() -> Trace:
    """RedirectApp calls RetargetRequest(...): IIMFilter and DefaultRouting still run."""
    redirect = Hop(app="RedirectApp", priority=3, builtin=False, ran=True, effect="retargeted",
                   action="retargeted to sip:terrya@contoso.com",
                   sentence='RetargetRequest("sip:terrya@contoso.com")', uri="http://www.contoso.com/RedirectApp")
    body_after = "see _http://fabrikam.com/offer now"
    iim = Hop(app="IIMFilter", priority=6, builtin=True, ran=True, effect="modified",
              action="neutralised 1 link", sentence="Action Allow: a '_' before each link",
              changes=Changes(body_before="see http://fabrikam.com/offer now", body_after=body_after,
                              headers=()))
    default = Hop(app="DefaultRouting", priority=8, builtin=True, ran=True, effect="proxied",
                  action="proxied to Terry Adams's 1 endpoint", sentence="Terry Adams is signed in on 1 client")
    hops = _hops("DefaultRouting", {"RedirectApp": redirect, "IIMFilter": iim, "DefaultRouting": default})
    forwarded = MESSAGE.replace("see http://", "see _http://")
    return Trace(message=MESSAGE, method="MESSAGE", request_uri="sip:terrya@contoso.com", hops=hops,
                 outcome=Outcome(kind="proxied", decided_by="DefaultRouting", destination=TERRY,
                                 destination_kind="endpoint", destinations=(TERRY,), status=200, reason="OK",
                                 forwarded=forwarded),
                 branches=[_branch("DefaultRouting", True)], responses=_responses(hops, "DefaultRouting"),
                 server="fe01.contoso.com", pool="pool01.contoso.com")


def responded_trace() -> Trace:
    """A script answers 403 itself: no branch, the response starts at the script."""
    respond = Hop(app="RedirectApp", priority=3, builtin=False, ran=True, effect="responded",
                  action="responded 403 Forbidden", sentence='Respond(403, "Forbidden")')
    hops = []
    for h in _hops("RedirectApp", {"RedirectApp": respond}):
        if not h.ran and h.why == "routed":
            h = Hop(app=h.app, priority=h.priority, builtin=h.builtin, ran=False, why="not-reached",
                    sentence="an application above answered")
        hops.append(h)
    responses = [ResponseHop(app=r.app, priority=r.priority, builtin=r.builtin, status=403, reason="Forbidden",
                             ran=r.ran, why=r.why, action=r.action)
                 for r in _responses(hops, "RedirectApp") if r.app != "RedirectApp"]
    return Trace(message=MESSAGE, method="MESSAGE", request_uri="sip:terrya@contoso.com", hops=hops,
                 outcome=Outcome(kind="responded", decided_by="RedirectApp", status=403, reason="Forbidden"),
                 responses=responses, server="fe01.contoso.com", pool="pool01.contoso.com")


def dropped_trace() -> Trace:
    """proxyByDefault false and no disposition: the request is gone."""
    drop = Hop(app="RedirectApp", priority=3, builtin=False, ran=True, effect="dropped",
               action="dropped (no disposition, proxyByDefault false)")
    hops = []
    for h in _hops("RedirectApp", {"RedirectApp": drop}):
        if not h.ran and h.why == "routed":
            h = Hop(app=h.app, priority=h.priority, builtin=h.builtin, ran=False, why="not-reached")
        hops.append(h)
    return Trace(message=MESSAGE, method="MESSAGE", request_uri="sip:terrya@contoso.com", hops=hops,
                 outcome=Outcome(kind="dropped", decided_by="RedirectApp",
                                 client_experience="no response: the IM times out"),
                 server="fe01.contoso.com", pool="pool01.contoso.com")


# ---------------------------------------------------------------------------------------------
# Reading the DOT the view writes (one statement per line), so tests assert structure.


def _split_attrs(text: str) -> dict[str, str]:
    """'a="x, y", b=<html <b>x</b>>, c=1' -> {'a': 'x, y', 'b': 'html <b>x</b>', 'c': '1'}."""
    attrs, i, n = {}, 0, len(text)
    while i < n:
        eq = text.index("=", i)
        key = text[i:eq].strip(" ,")
        j = eq + 1
        if text[j] == '"':
            k = j + 1
            while text[k] != '"':
                k += 2 if text[k] == "\\" else 1
            attrs[key] = text[j + 1:k].replace('\\"', '"')
            i = k + 1
        elif text[j] == "<":
            depth, k = 0, j
            while True:
                depth += {"<": 1, ">": -1}.get(text[k], 0)
                if depth == 0:
                    break
                k += 1
            attrs[key] = text[j + 1:k]
            i = k + 1
        else:
            k = text.find(",", j)
            k = n if k < 0 else k
            attrs[key] = text[j:k].strip()
            i = k
        while i < n and text[i] in ", ":
            i += 1
    return attrs


def dot_nodes(source: str) -> dict[str, dict[str, str]]:
    """node id -> attributes, for every node statement of a DOT text written by DotWriter."""
    import re

    out = {}
    for line in source.splitlines():
        m = re.match(r"\s*([A-Za-z_][\w]*) \[(.*)\];$", line)
        if m and m.group(1) not in ("graph", "node", "edge"):
            out[m.group(1)] = _split_attrs(m.group(2))
    return out


def dot_edges(source: str) -> list[tuple[str, str, dict[str, str]]]:
    """(tail, head, attributes) of every edge, ports stripped, in order."""
    import re

    out = []
    for line in source.splitlines():
        m = re.match(r"\s*([\w]+)(?::\w+)? -> ([\w]+)(?::\w+)?(?: \[(.*)\])?;$", line)
        if m:
            out.append((m.group(1), m.group(2), _split_attrs(m.group(3)) if m.group(3) else {}))
    return out


def real_traces():
    """The sample IM through the sample ProxyRequest and RetargetRequest applications (real simulator)."""
    from mspl_lite.frontend import sample_comparison

    return sample_comparison("im-with-link.sip")


def text_of(label: str) -> str:
    """The words of an HTML-like label, lines joined by spaces, entities decoded."""
    import html
    import re

    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", label.replace("<br/>", " ")).split()))
