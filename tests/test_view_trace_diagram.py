"""The transaction diagram: ran / skipped / decided styles, exits, the response path, from the DOT."""
from __future__ import annotations

import re
import sys
from pathlib import Path

from mspl_lite.frontend import FrontEnd, sample_path
from mspl_lite.frontend.trace import Hop, Outcome, Trace
from mspl_lite.view import transaction_diagram, write_trace_diagram
from mspl_lite.view.trace_diagram import outcome_line, sender_name

sys.path.insert(0, str(Path(__file__).parent))
import view_fixtures as fx  # noqa: E402
from view_fixtures import dot_edges, dot_nodes, styles  # noqa: E402


def _svg_group(svg: str, node_id: str) -> str:
    start = svg.index(f"<title>{node_id}</title>")
    return svg[start: svg.index("</g>", start)]


def test_hops_after_proxyrequest_are_dashed_dimmed_and_say_already_routed():
    d = transaction_diagram(fx.proxy_trace())
    nodes = dot_nodes(d.source)
    for i in range(4, 14):
        attrs = nodes[f"h{i}"]
        assert {"dashed", "filled"} <= styles(attrs), attrs
        assert attrs["fontcolor"] != "black"
        assert "not run: already routed above" in attrs["label"]
    # The spine after the decider is dashed too: the request never travelled there.
    spine = [(t, h, a) for t, h, a in dot_edges(d.source) if t.startswith("h") and h.startswith("h")
             and int(h[1:]) == int(t[1:]) + 1]
    assert all("dashed" in a.get("style", "") for t, h, a in spine if int(t[1:]) >= 3)
    assert all("dashed" not in a.get("style", "") for t, h, a in spine if int(t[1:]) < 3)


def test_a_filtered_hop_before_the_decision_is_dashed_with_its_filter_sentence():
    nodes = dot_nodes(transaction_diagram(fx.proxy_trace()).source)
    label = fx.text_of(nodes["h0"]["label"])
    assert "dashed" in styles(nodes["h0"])
    assert "its filter does not match" in label and "handles REGISTER, not MESSAGE" in label


def test_the_deciding_application_is_thick_bold_and_says_decided():
    nodes = dot_nodes(transaction_diagram(fx.proxy_trace()).source)
    decided = [k for k, a in nodes.items() if "DECIDED" in a.get("label", "")]
    assert decided == ["h3"]
    assert nodes["h3"]["penwidth"] == "3" and "bold" in styles(nodes["h3"])
    assert "(MSPL)" in nodes["h3"]["label"] and "rounded" not in styles(nodes["h3"])  # custom: square corners
    assert "rounded" in styles(nodes["h2"])                                           # built-in: rounded


def test_ran_hops_are_solid_and_say_what_they_did():
    nodes = dot_nodes(transaction_diagram(fx.retarget_trace()).source)
    for i in (1, 2, 3, 4, 5, 6):
        assert "dashed" not in styles(nodes[f"h{i}"])
    assert "ran: retargeted to sip:terrya@contoso.com" in nodes["h3"]["label"]
    assert 'body now: &quot;see _http://fabrikam.com/offer now&quot;' in nodes["h6"]["label"]
    assert "DECIDED" in nodes["h8"]["label"]
    for i in range(9, 14):
        assert "already routed above" in nodes[f"h{i}"]["label"]


def test_the_exit_sits_beside_the_application_that_sent_it_and_the_response_climbs_back():
    d = transaction_diagram(fx.retarget_trace())
    nodes = dot_nodes(d.source)
    assert "Terry Adams" in nodes["x0"]["label"] and "got: 200 OK" in nodes["x0"]["label"]
    assert "{rank=same; h8; x0;}" in d.source
    edges = dot_edges(d.source)
    assert ("h8", "x0") in [(t, h) for t, h, _ in edges]
    response = [(t, h, a) for t, h, a in edges if a.get("arrowhead") == "empty"]
    # exit -> DefaultRouting -> ... every application that saw the response ... -> the sender
    assert [t for t, _, _ in response] == ["x0", "h8", "h6", "h5", "h4", "h3", "h2", "h1"]
    assert response[-1][1] == "sender" and response[-1][2]["label"].strip() == "200 OK"
    assert all(a["constraint"] == "false" for _, _, a in response)
    assert "h0" not in {h for _, h, _ in response} and "h7" not in {h for _, h, _ in response}


def test_an_answer_starts_the_response_at_the_application_and_leaves_no_exit():
    d = transaction_diagram(fx.responded_trace())
    nodes = dot_nodes(d.source)
    assert not any(k.startswith("x") for k in nodes)
    response = [(t, h) for t, h, a in dot_edges(d.source) if a.get("arrowhead") == "empty"]
    assert response[0][0] == "h3" and response[-1][1] == "sender"
    assert "not run: answered above" in nodes["h9"]["label"]


def test_a_dropped_request_has_no_response_path():
    d = transaction_diagram(fx.dropped_trace())
    nodes = dot_nodes(d.source)
    assert "request dropped" in nodes["drop"]["label"] and "dashed" in styles(nodes["drop"])
    assert "not run: dropped above" in nodes["h9"]["label"]
    assert not [a for _, _, a in dot_edges(d.source) if a.get("arrowhead") == "empty"]


def test_only_the_trace_decides_what_is_drawn_as_skipped():
    """A hop after the decider that the trace says ran is drawn as ran (position alone means nothing)."""
    base = fx.proxy_trace()
    hops = list(base.hops)
    hops[6] = Hop(app="IIMFilter", priority=6, builtin=True, ran=True, effect="passed", action="looked at it")
    trace = Trace(message=base.message, method=base.method, request_uri=base.request_uri, hops=hops,
                  outcome=base.outcome, branches=base.branches, responses=base.responses)
    nodes = dot_nodes(transaction_diagram(trace).source)
    assert "dashed" not in styles(nodes["h6"]) and "ran: looked at it" in nodes["h6"]["label"]
    assert "dashed" in styles(nodes["h5"])


def test_svg_really_draws_skipped_boxes_dashed_and_is_identical_twice():
    d = transaction_diagram(fx.proxy_trace())
    svg = d.svg()
    assert "stroke-dasharray" in _svg_group(svg, "h9")
    assert "stroke-dasharray" not in _svg_group(svg, "h2")
    assert 'stroke-width="3"' in _svg_group(svg, "h3")
    assert transaction_diagram(fx.proxy_trace()).svg() == svg


def test_heading_names_the_request_and_the_outcome_without_colour():
    d = transaction_diagram(fx.retarget_trace())
    graph_line = d.source.splitlines()[1]
    assert "MESSAGE sip:terrya@contoso.com" in graph_line
    assert "DefaultRouting" in graph_line and "200 OK" in graph_line
    assert "dashed grey box: did not run" in graph_line  # the legend says it in words
    assert sender_name(fx.retarget_trace()) == "Nuria Gonzalez"
    assert outcome_line(fx.retarget_trace()) == "DefaultRouting sent it to Terry Adams -> 200 OK"


def test_a_real_fork_with_voicemail_failover():
    trace = FrontEnd().send(sample_path("messages/invite-adamb.sip").read_text())
    d = transaction_diagram(trace)
    nodes = dot_nodes(d.source)
    exum = next(k for k, a in nodes.items() if "ExumRouting" in a.get("label", ""))
    default = next(k for k, a in nodes.items() if "DefaultRouting" in a.get("label", ""))
    failover = [a for t, h, a in dot_edges(d.source) if (t, h) == (default, exum) and "failover" in a.get("label", "")]
    assert failover and "dashed" not in failover[0].get("style", "")
    cancelled = [k for k, a in nodes.items() if k.startswith("x") and "cancelled" in a["label"]]
    assert cancelled and "dashed" in styles(nodes[cancelled[0]])
    assert any("Exchange UM" in a["label"] and "dashed" not in styles(a) for k, a in nodes.items() if k.startswith("x"))
    # DefaultRouting routed first (DECIDED); ExumRouting, the failover, routed it in the end.
    assert "DECIDED: proxied to" in nodes[default]["label"]
    assert "FAILOVER: sent the unanswered call" in nodes[exum]["label"]
    assert outcome_line(trace) == ("ExumRouting sent it to Exchange UM um01.contoso.com "
                                   "(failover after DefaultRouting) -> 200 OK")


def test_write_trace_diagram_writes_the_svg(tmp_path):
    trace = fx.retarget_trace()
    path = write_trace_diagram(trace, tmp_path / "trace.svg")
    text = path.read_text(encoding="utf-8")
    assert text == transaction_diagram(trace).svg()
    assert re.search(r"<svg width=\"\d+pt\"", text)


def test_notebook_width():
    """At most 9.3 inches (670 pt, about 900 px) wide, even for a wide diagram."""
    for trace in (fx.proxy_trace(), fx.retarget_trace()):
        width = float(re.search(r'<svg width="([\d.]+)pt"', transaction_diagram(trace).svg()).group(1))
        assert width <= 670


def test_outcome_line_for_each_kind():
    assert outcome_line(fx.responded_trace()) == "RedirectApp answered it -> 403 Forbidden"
    assert outcome_line(fx.dropped_trace()) == "RedirectApp dropped it"
    t = fx.proxy_trace()
    nothing = Trace(message=t.message, method=t.method, request_uri=t.request_uri, hops=t.hops,
                    outcome=Outcome(kind="proxied", decided_by="RedirectApp", destination="sip:x@y"))
    assert outcome_line(nothing) == "RedirectApp sent it to sip:x@y -> no final response"


def _watch4xx_trace():
    fe = FrontEnd()
    fe.register(str(sample_path("apps/watch-4xx.am")))
    text = sample_path("messages/im-to-nuriag.sip").read_text().replace("nuriag", "kima")  # Kim is signed out
    return fe.send(text)


def test_what_an_application_did_to_the_response_is_in_its_box():
    trace = _watch4xx_trace()
    nodes = dot_nodes(transaction_diagram(trace).source)
    watch = next(a for a in nodes.values() if "Watch4xx" in a.get("label", ""))
    assert "response 480 Temporarily Unavailable: + X-Seen-By: Watch4xx" in fx.text_of(watch["label"])


def test_a_response_filter_that_excludes_the_status_is_said_in_the_box():
    _, retarget = fx.real_traces()
    nodes = dot_nodes(transaction_diagram(retarget).source)
    app = next(a for a in nodes.values() if "RedirectImRetarget" in a.get("label", ""))
    assert "response 200 not seen: responseFilter excludes it" in fx.text_of(app["label"])


def test_a_changed_body_is_wrapped_not_cut_where_the_evidence_is():
    """06's comparison cut "body now: ..._ht..." exactly where the link a filter must see begins."""
    from types import SimpleNamespace

    from mspl_lite.view.trace_diagram import change_lines

    body = "Have a look at _http://www.fabrikam.com/offer_ before Friday"
    changes = SimpleNamespace(request_uri_changed=False, body_changed=True, body_after=body, headers=[])
    lines = change_lines(changes)
    assert "".join(lines).replace(" ", "").find("_http://www.fabrikam.com/offer_") >= 0
    assert all(len(line) <= 48 for line in lines)
