"""Issue 10, accessibility: every diagram has a text alternative built from the data it draws, and
colour is never the only signal (strip every colour from the DOT and each state still looks different).

A screen reader reads a diagram's img alt (one sentence) and the long description under it (a
<figcaption>, the SVG's <desc>); a reader who cannot tell green from grey reads the line styles,
border weights, double borders and the words in the boxes.
"""
from __future__ import annotations

import base64
import html
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from mspl_lite.frontend import FrontEnd, PythonApplication, sample_path
from mspl_lite.view import chain_diagram, compare_diagram, ladder_diagram, transaction_diagram
from mspl_lite.view import style as st
from mspl_lite.view.trace_diagram import MAX_DRAWN_BRANCHES

sys.path.insert(0, str(Path(__file__).parent))
import view_fixtures as fx  # noqa: E402
from _frontend_support import im  # noqa: E402
from view_fixtures import dot_edges, dot_nodes, text_of  # noqa: E402

_fresh_cache = fx.fresh_render_cache   # autouse: graphviz-pure, an empty render cache

DATA = Path(__file__).resolve().parent / "data" / "frontend"
COLOUR_KEYS = ("color", "fillcolor", "fontcolor", "bgcolor")


def _chain_front_end() -> FrontEnd:
    fe = FrontEnd()
    fe.register(str(sample_path("apps/redirect-im-retarget.am")), 5)
    fe.set_enabled("IIMFilter", False)
    return fe


def _critical_trace():
    fe = FrontEnd()
    fe.register(str(DATA / "broken-at-runtime.am"))
    return fe.send(im("sip:terrya@contoso.com", "hello"))


def _diagrams():
    a, b = fx.proxy_trace(), fx.retarget_trace()
    return [chain_diagram(_chain_front_end()), transaction_diagram(b), compare_diagram(a, b, titles=("P", "R")),
            ladder_diagram(b)]


# ---------------------------------------------------------------------------------------------
# Text alternatives


def test_the_chain_alt_and_description_name_every_application_in_order():
    fe = _chain_front_end()
    d = chain_diagram(fe)
    custom = fe.chain.index("RedirectImRetarget")
    assert "14 applications" in d.alt and "pool01.contoso.com" in d.alt
    assert f"custom: RedirectImRetarget at {custom}" in d.alt and "disabled: IIMFilter" in d.alt
    assert len(d.description) == len(fe.chain)
    for i, (line, app) in enumerate(zip(d.description, fe.chain)):
        assert line.startswith(f"{i} {app.name}: ")
        assert ("built-in" if app.kind == "builtin" else "MSPL script") in line
        assert ("disabled" if not app.enabled else "enabled") in line
    routing = d.description[fe.chain.index("DefaultRouting")]
    assert "critical" in routing and "signed-in clients" in routing and "inferred (D10)" in routing
    assert "[inferred]" in d.description[fe.chain.index("UserServices")]   # documented or inferred, in words


def test_the_transaction_alt_and_description_follow_the_trace():
    trace = fx.retarget_trace()
    d = transaction_diagram(trace)
    assert d.alt == ("Transaction diagram: MESSAGE sip:terrya@contoso.com from Nuria Gonzalez. DefaultRouting "
                     "sent it to Terry Adams -> 200 OK. 7 of 14 applications ran.")
    assert d.description[0] == "Nuria Gonzalez sends MESSAGE sip:terrya@contoso.com"
    for hop, line in zip(trace.hops, d.description[1:]):
        assert line.startswith(f"{hop.priority} {hop.app}")
        assert ("not run: " in line) == (not hop.ran)
    assert "DECIDED: proxied to" in d.description[1 + 8]           # DefaultRouting
    assert 'changed: body now: "see _http://fabrikam.com/offer now"' in d.description[1 + 6]   # IIMFilter
    assert any(line.startswith("DefaultRouting sent the MESSAGE out to Terry Adams") and "got 200 OK" in line
               for line in d.description)
    assert d.description[-1].startswith("the response 200 OK goes back to the sender through DefaultRouting")
    # Another trace, another text: nothing is generic.
    other = transaction_diagram(fx.dropped_trace())
    assert other.alt != d.alt and "RedirectApp dropped it" in other.alt
    assert other.description[-1] == "request dropped: no response: the IM times out"


def test_a_critical_error_and_a_failover_are_in_the_words():
    d = transaction_diagram(_critical_trace())
    assert any("CRITICAL ERROR line" in line for line in d.description)
    trace = FrontEnd().send(sample_path("messages/invite-adamb.sip").read_text())
    words = transaction_diagram(trace).description
    assert any(re.match(r"\d+ ExumRouting: FAILOVER: sent the unanswered call", line) for line in words)
    assert any("cancelled by the server" in line for line in words)


def test_the_comparison_says_both_paths_and_the_difference():
    a, b = fx.proxy_trace(), fx.retarget_trace()
    d = compare_diagram(a, b, titles=('ProxyRequest("sip:..")', 'RetargetRequest("sip:..")'))
    assert d.alt.startswith('Comparison diagram: ProxyRequest("sip:..") vs RetargetRequest("sip:..")')
    assert d.description[0].startswith("Verdict: IIMFilter did not run with ProxyRequest")
    assert "differs, IIMFilter: ProxyRequest: not run (already routed above); RetargetRequest: neutralised 1 link" \
        in d.description
    paths = [line for line in d.description if line.startswith("path with ")]
    assert len(paths) == 2
    assert "IIMFilter" not in paths[0] and "RedirectApp (DECIDED: proxied to" in paths[0]
    assert "IIMFilter (neutralised 1 link)" in paths[1] and "DefaultRouting (DECIDED: proxied to" in paths[1]
    assert 'body as it left the server: ProxyRequest: see http://fabrikam.com/offer now; RetargetRequest: ' \
           'see _http://fabrikam.com/offer now' in d.description[-3]   # the evidence, whole
    same = compare_diagram(a, a)
    assert "no difference" in same.description


def test_the_ladder_description_is_every_row_in_order():
    trace = fx.retarget_trace()
    d = ladder_diagram(trace)
    from mspl_lite.view import ladder_steps
    steps = ladder_steps(trace)
    assert len(d.description) == len(steps)
    assert d.description[0] == "1. request Nuria Gonzalez -> Front End: MESSAGE sip:terrya@contoso.com"
    assert d.description[-1] == "11. response Front End -> Nuria Gonzalez: 200 OK"
    assert "messages between Nuria Gonzalez, Front End, RedirectApp" in d.alt
    assert "<desc>" + html.escape("; ".join(d.description), quote=True).replace("&#x27;", "'") + "</desc>" in d.svg()


class _Page(HTMLParser):
    """The tags, attributes and text of a notebook output, as a browser would read them."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.items: list[str] = []
        self._in_li = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "li":
            self._in_li = True
            self.items.append("")

    def handle_endtag(self, tag):
        if tag == "li":
            self._in_li = False

    def handle_data(self, data):
        if self._in_li:
            self.items[-1] += data


@pytest.mark.parametrize("index", range(4), ids=["chain", "transaction", "comparison", "ladder"])
def test_the_notebook_html_carries_alt_and_long_description_and_the_svg_its_title(index):
    d = _diagrams()[index]
    page = _Page()
    page.feed(d._repr_mimebundle_()["text/html"])
    tags = [t for t, _ in page.tags]
    # figure > img + figcaption > details > summary + list: tags JupyterLab's sanitizer keeps.
    assert tags[:5] == ["figure", "img", "figcaption", "details", "summary"]
    img = dict(page.tags)["img"]
    assert img["alt"] == d.alt and len(d.alt) <= st.ALT_CHARS and d.alt != d.title
    assert page.items == list(d.description) and len(d.description) >= 3
    svg = base64.b64decode(img["src"].split(",", 1)[1]).decode("utf-8")
    assert svg == d.svg() and "<desc>" in svg and svg.count("<title>") >= 1
    if d.fmt == "dot":
        head = svg[svg.index("<svg"):]
        assert head.split(">", 1)[0].endswith(' role="img"')
        assert head.split(">", 1)[1].startswith("\n<title>" + html.escape(d.alt, quote=False) + "</title><desc>")


def test_a_huge_reason_phrase_and_300_branches_keep_the_text_bounded():
    uris = [f"sip:u{i}@fabrikam.com" for i in range(300)]
    fe = FrontEnd()
    fe.register(PythonApplication(name="Forker", handler=lambda message, api: api.fork(*uris)))
    d = transaction_diagram(fe.send(im("sip:bob@contoso.com", "hi")))
    assert len(d.alt) <= st.ALT_CHARS
    branch_lines = [line for line in d.description if " sent the MESSAGE out to " in line]
    assert len(branch_lines) == MAX_DRAWN_BRANCHES   # what the picture draws ...
    assert f"... {300 - MAX_DRAWN_BRANCHES} more branches, not drawn (see trace.text())" in d.description  # ... said
    fe = FrontEnd()
    reason = "x" * 1_000_000
    fe.register(PythonApplication(name="Answerer", handler=lambda message, api: api.respond(486, reason)))
    d = transaction_diagram(fe.send(im("sip:bob@contoso.com", "hi")))
    assert len(d.alt) <= st.ALT_CHARS and d.alt.endswith("...")
    assert all(len(line) <= st.DESCRIPTION_LINE_CHARS for line in d.description)
    assert len(d.html()) < 200_000


# ---------------------------------------------------------------------------------------------
# Colour is never the only signal


def _shape(attrs: dict) -> tuple:
    """What a node or edge looks like with every colour removed: line style, weight, border, shape, arrows."""
    plain = {k: v for k, v in attrs.items() if k not in COLOUR_KEYS}
    style = frozenset(st.style_of(plain)) - {"filled"}
    return (style, float(plain.get("penwidth", 1)), int(plain.get("peripheries", 1)), plain.get("shape", "box"),
            plain.get("arrowhead", "normal"))


def _hop_states(trace, nodes: dict, prefix: str = "") -> dict[str, list[tuple]]:
    """state -> the colourless looks of the hop nodes in that state, the state read from the Trace."""
    from mspl_lite.view.trace_diagram import first_router
    states: dict[str, list[tuple]] = {}
    for i, hop in enumerate(trace.hops):
        if not hop.ran:
            state = "not run"
        elif hop.app in (first_router(trace), trace.outcome.decided_by):
            state = "decided"
        elif hop.changes is not None and not hop.changes.empty:
            state = "changed"
        else:
            state = "ran"
        states.setdefault(state, []).append(_shape(nodes[f"{prefix}h{i}"]))
    return states


def _words(trace, nodes: dict, i: int) -> str:
    return text_of(nodes[f"h{i}"]["label"])


def test_each_hop_state_looks_different_without_colour_and_says_so():
    trace = fx.retarget_trace()
    nodes = dot_nodes(transaction_diagram(trace).source)
    states = _hop_states(trace, nodes)
    assert set(states) == {"ran", "changed", "decided", "not run"}
    for a in states:
        for b in states:
            if a != b:
                assert not set(states[a]) & set(states[b]), (a, b, states[a], states[b])
    words = {"ran": "ran: ", "changed": "body now:", "decided": "DECIDED: ", "not run": "not run: "}
    for i, hop in enumerate(trace.hops):
        state = next(s for s, looks in states.items() if _shape(nodes[f"h{i}"]) in looks)
        assert words[state] in _words(trace, nodes, i), (hop.app, state)


def test_exits_taken_and_not_taken_and_the_edges_look_different_without_colour():
    trace = FrontEnd().send(sample_path("messages/invite-adamb.sip").read_text())
    source = transaction_diagram(trace).source
    nodes = dot_nodes(source)
    exits = {k: a for k, a in nodes.items() if re.fullmatch(r"x\d+", k)}
    cancelled = {_shape(a) for a in exits.values() if "cancelled by the server" in text_of(a["label"])}
    taken = {_shape(a) for k, a in exits.items() if "cancelled" not in text_of(a["label"])}
    assert cancelled and taken and not cancelled & taken
    edges = dot_edges(source)
    kinds = {"request": [], "unused": [], "response": [], "route": []}
    for tail, head, attrs in edges:
        if attrs.get("style") == "invis":
            continue
        if attrs.get("arrowhead") == "empty":
            kinds["response"].append(attrs)
        elif head in exits and "dashed" not in attrs.get("style", ""):
            kinds["route"].append(attrs)
        elif attrs.get("arrowhead") == "none":
            kinds["unused"].append(attrs)
        elif re.fullmatch(r"h\d+", head) and "label" not in attrs:
            kinds["request"].append(attrs)
    assert all(kinds.values()), kinds

    def looks(attrs):   # an edge's colourless look, its label included (the route says the method)
        return _shape(attrs) + ("label" in attrs,)

    for a in kinds:
        for b in kinds:
            if a != b:
                assert not {looks(x) for x in kinds[a]} & {looks(x) for x in kinds[b]}, (a, b)


def test_the_chain_tells_builtin_custom_disabled_and_exits_apart_without_colour():
    fe = _chain_front_end()
    fe.set_enabled("ExumRouting", False)   # a disabled application with an exit
    nodes = dot_nodes(chain_diagram(fe).source)
    looks = {"built-in": set(), "custom": set(), "disabled": set()}
    for i, app in enumerate(fe.chain):
        state = "disabled" if not app.enabled else "built-in" if app.kind == "builtin" else "custom"
        looks[state].add(_shape(nodes[f"a{i}"]))
        assert {"disabled": "disabled", "built-in": "built-in", "custom": "MSPL script"}[state] in \
            text_of(nodes[f"a{i}"]["label"])
    assert not looks["built-in"] & looks["custom"] and not looks["disabled"] & (looks["built-in"] | looks["custom"])
    exits = [a for k, a in nodes.items() if k.startswith("exit")]
    unused = {_shape(a) for a in exits if "dashed" in st.style_of(a)}
    used = {_shape(a) for a in exits if "dashed" not in st.style_of(a)}
    assert used and unused and not used & unused   # ExumRouting's exit is not taken
    assert all(text_of(a["label"]).startswith("exit of ") for a in exits)


def test_the_comparison_marks_a_difference_with_a_sign_and_a_border_not_only_orange():
    a, b = fx.proxy_trace(), fx.retarget_trace()
    nodes = dot_nodes(compare_diagram(a, b).source)
    for i, hop in enumerate(b.hops):
        node = nodes[f"b_h{i}"]
        differs = node.get("color") == st.DIFF_COLOR
        assert ("\u2260" in text_of(node["label"])) == differs, hop.app
        if differs:
            assert float(node["penwidth"]) >= 3


def test_the_ladder_tells_requests_from_responses_without_colour():
    svg = ladder_diagram(fx.retarget_trace()).svg()
    lines = re.findall(r'<line x1="\d+" y1="(\d+)" x2="\d+" y2="\1" ([^/]*)/>', svg)

    def plain(attrs: str) -> str:
        return re.sub(r'\b(stroke|fill)="[^"]*"\s*', "", attrs)

    requests = {plain(a) for _, a in lines if "url(#req)" in a}
    responses = {plain(a) for _, a in lines if "url(#resp)" in a}
    assert requests and responses and not requests & responses
    assert all("stroke-dasharray" in r for r in responses)


def test_every_legend_that_names_a_colour_also_names_another_cue():
    colours = re.compile(r"\b(green|grey|gray|orange|blue|yellow|red)\b")
    cues = re.compile(r"\b(solid|dashed|thick|double|rounded|square|hollow|heavy|exit of)\b|\u2260")
    for d in _diagrams()[:3]:
        legend = text_of(fx._split_attrs(d.source.splitlines()[1][len("  graph ["):-2])["label"])
        assert colours.search(legend), d.kind   # the legends do name colours: the check is not empty
        for part in re.split(r"[;:] ", legend):
            if colours.search(part):
                assert cues.search(part), (d.kind, part)
    assert "double border" in st.LEGEND
