"""The comparison diagram and the verdict: computed from the two traces, never scripted."""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from mspl_lite.frontend.trace import Changes, Hop
from mspl_lite.view import compare_diagram, differences, verdict
from mspl_lite.view import style as st

sys.path.insert(0, str(Path(__file__).parent))
import view_fixtures as fx  # noqa: E402
from view_fixtures import dot_nodes, styles, text_of  # noqa: E402

NAMES = ("ProxyRequest", "RetargetRequest")
TITLES = ('ProxyRequest("sip:terrya@contoso.com")', 'RetargetRequest("sip:terrya@contoso.com")')


def _with_hop(trace, index: int, hop: Hop):
    hops = list(trace.hops)
    hops[index] = hop
    return dataclasses.replace(trace, hops=tuple(hops))


def test_verdict_says_the_filter_did_not_run_and_the_body_arrived_unchanged():
    line = verdict(fx.proxy_trace(), fx.retarget_trace(), NAMES)
    assert line == ("IIMFilter did not run with ProxyRequest (already routed above): the body reached "
                    "Terry Adams unchanged; with RetargetRequest it neutralised 1 link.")


def test_verdict_follows_the_data_not_a_script():
    # The same story with the sides swapped names the other side.
    swapped = verdict(fx.retarget_trace(), fx.proxy_trace(), ("R", "P"))
    assert swapped.startswith("IIMFilter did not run with P (already routed above)")
    # A filter that changes the Request-URI instead of the body is named as such.
    header_change = Hop(app="IIMFilter", priority=6, builtin=True, ran=True, effect="modified",
                        action="stamped a header",
                        changes=Changes(request_uri_before="sip:a@b", request_uri_after="sip:c@d"))
    b = _with_hop(fx.retarget_trace(), 6, header_change)
    line = verdict(fx.proxy_trace(), b, NAMES)
    assert "the Request-URI reached Terry Adams without IIMFilter's change" in line
    assert "with RetargetRequest it stamped a header" in line


def test_verdict_when_nothing_changed_the_message():
    a, b = fx.proxy_trace(), fx.proxy_trace()
    assert verdict(a, b, NAMES) == "No difference: in both, RedirectApp sent it to Terry Adams -> 200 OK."
    line = verdict(fx.proxy_trace(), fx.responded_trace(), ("P", "R"))
    assert line == "With P, RedirectApp sent it to Terry Adams; with R, RedirectApp answered 403 Forbidden."


def test_differences_list_every_hop_and_the_outcome():
    kinds = [(d.kind, d.app) for d in differences(fx.proxy_trace(), fx.retarget_trace())]
    assert ("action", "RedirectApp") in kinds
    assert ("ran", "IIMFilter") in kinds and ("ran", "DefaultRouting") in kinds
    assert ("decider", None) in kinds and ("body", None) in kinds
    assert ("ran", "UserPinService") not in kinds  # not run in both (for different reasons)


def test_comparison_puts_both_sides_in_one_figure_with_differences_marked():
    d = compare_diagram(fx.proxy_trace(), fx.retarget_trace(), titles=TITLES)
    source = d.source
    assert "subgraph cluster_a {" in source and "subgraph cluster_b {" in source
    nodes = dot_nodes(source)
    for side in ("a", "b"):
        for app_index in (3, 4, 5, 6, 8):  # RedirectApp, UserServices, InterClusterRouting, IIMFilter, DefaultRouting
            attrs = nodes[f"{side}_h{app_index}"]
            assert attrs["color"] == st.DIFF_COLOR and attrs["penwidth"] == "3"
            assert "\u2260" in attrs["label"]  # the mark is also a sign, not only a colour
        for same in (1, 2):
            assert "\u2260" not in nodes[f"{side}_h{same}"]["label"]
    # ProxyRequest side: IIMFilter not run; RetargetRequest side: it ran and changed the body.
    assert "dashed" in styles(nodes["a_h6"]) and "dashed" not in styles(nodes["b_h6"])
    assert "DECIDED" in nodes["a_h3"]["label"] and "DECIDED" in nodes["b_h8"]["label"]
    assert "{rank=same; a_h6; b_h6;}" in source
    heading = text_of(source.splitlines()[1])
    assert TITLES[0] in heading and TITLES[1] in heading
    assert "IIMFilter did not run with ProxyRequest" in heading
    assert repr(d).endswith("(32 nodes, 5 applications differ)>")


def test_comparison_of_real_traces_renders_identically_and_fits_the_notebook():
    import re

    a, b = fx.real_traces()
    titles = ('ProxyRequest("sip:nuriag@contoso.com")', 'RetargetRequest("sip:nuriag@contoso.com")')
    svg = compare_diagram(a, b, titles=titles).svg()
    assert svg == compare_diagram(*fx.real_traces(), titles=titles).svg()
    assert float(re.search(r'<svg width="([\d.]+)pt"', svg).group(1)) <= 670
    assert "IIMFilter did not run with ProxyRequest" in verdict(a, b, NAMES)
    assert "reached Nuria Gonzalez unchanged" in verdict(a, b, NAMES)


def _moved_last(trace):
    """``trace``'s chain with RedirectApp moved to the end, where it never runs (DefaultRouting routed)."""
    hops = [h for h in trace.hops if h.app != "RedirectApp"]
    hops = [dataclasses.replace(h, priority=i) for i, h in enumerate(hops)]
    hops.append(Hop(app="RedirectApp", priority=len(hops), builtin=False, ran=False, why="routed",
                    sentence="DefaultRouting already routed the request"))
    return dataclasses.replace(trace, hops=tuple(hops))


def test_verdict_of_a_move_says_where_the_application_sat_and_what_ran_first():
    above, last = fx.retarget_trace(), _moved_last(fx.retarget_trace())
    line = verdict(above, last, ("RedirectApp above", "RedirectApp last"))
    assert line == ("Placed last in the chain, RedirectApp never ran: DefaultRouting had already routed the IM to "
                    "Terry Adams; placed above DefaultRouting, it retargeted the IM to sip:terrya@contoso.com, "
                    "then DefaultRouting sent it to Terry Adams.")
    # The sides are told apart by where the application sits, so the order of the sides does not matter.
    assert verdict(last, above, ("RedirectApp last", "RedirectApp above")) == line
    # With ProxyRequest the application itself decides, above the application that routes it otherwise.
    line = verdict(fx.proxy_trace(), last, ("above", "last"))
    assert line.startswith("Placed last in the chain, RedirectApp never ran: DefaultRouting had already routed")
    assert line.endswith("placed above DefaultRouting, it proxied the IM to sip:terrya@contoso.com, so the IM "
                         "reached Terry Adams.")
    # An answered request is named as answered, with the answer.
    answered = _moved_last(fx.responded_trace())
    answered = dataclasses.replace(
        answered, hops=tuple(dataclasses.replace(h, why="not-reached") if h.app == "RedirectApp" else h
                             for h in answered.hops),
        outcome=dataclasses.replace(answered.outcome, decided_by="UserServices"))
    assert "UserServices had already answered the IM (403 Forbidden)" in verdict(fx.retarget_trace(), answered)


def test_an_application_added_above_is_not_a_move():
    # One more application at the top shifts every priority; IIMFilter still sits where it did.
    b = fx.retarget_trace()
    extra = Hop(app="AuditApp", priority=0, builtin=False, ran=True, effect="passed", action="passed on")
    hops = (extra,) + tuple(dataclasses.replace(h, priority=h.priority + 1) for h in b.hops)
    b = dataclasses.replace(b, hops=hops)
    assert verdict(fx.proxy_trace(), b, NAMES).startswith("IIMFilter did not run with ProxyRequest")
