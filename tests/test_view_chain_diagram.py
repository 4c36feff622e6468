"""The chain diagram: priority order, built-in vs custom, filters, disabled, exits."""
from __future__ import annotations

import sys
from pathlib import Path

from mspl_lite.frontend import FrontEnd, sample_path
from mspl_lite.view import chain_diagram, write_chain_diagram

sys.path.insert(0, str(Path(__file__).parent))
from view_fixtures import dot_edges, dot_nodes, styles, text_of  # noqa: E402


def _front_end() -> FrontEnd:
    fe = FrontEnd()
    fe.register(str(sample_path("apps/redirect-im-retarget.am")), 5)
    fe.set_enabled("IIMFilter", False)
    return fe


def test_applications_in_priority_order_as_one_pipeline():
    fe = _front_end()
    d = chain_diagram(fe)
    nodes = dot_nodes(d.source)
    names = [a.name for a in fe.chain]
    for i, name in enumerate(names):
        assert text_of(nodes[f"a{i}"]["label"]).startswith(f"{i} {name}")
    pipeline = [(t, h) for t, h, _ in dot_edges(d.source) if h.startswith("a")]
    assert pipeline == [("arrive", "a0")] + [(f"a{i}", f"a{i + 1}") for i in range(len(names) - 1)]
    assert repr(d) == "<Diagram chain: Server applications of pool01.contoso.com (14 applications, 6 exits)>"


def test_custom_and_builtin_look_different_and_say_so():
    fe = _front_end()
    nodes = dot_nodes(chain_diagram(fe).source)
    i = fe.chain.index("RedirectImRetarget")
    custom = nodes[f"a{i}"]
    assert "rounded" not in styles(custom) and float(custom["penwidth"]) > 2
    words = text_of(custom["label"])
    assert "MSPL script" in words and "methodNames=" in words and "MESSAGE" in words
    assert "responseFilter=NONE" in words and "proxyByDefault=true" in words
    builtin = nodes[f"a{fe.chain.index('UserServices')}"]
    assert "rounded" in styles(builtin) and "built-in" in text_of(builtin["label"])
    assert "critical" not in text_of(builtin["label"])   # not documented (decision D50)
    routing = text_of(nodes[f"a{fe.chain.index('DefaultRouting')}"]["label"])
    assert "critical" in routing and "runs before ExumRouting, OutboundRouting: inferred (D10)" in routing
    assert "runs after DefaultRouting: inferred (D10)" in text_of(nodes[f"a{fe.chain.index('ExumRouting')}"]["label"])
    assert "[inferred]" in text_of(builtin["label"])            # its method filter (decision D51)


def test_builtin_filters_are_shown_as_methods():
    fe = _front_end()
    nodes = dot_nodes(chain_diagram(fe).source)
    assert "handles REGISTER" in text_of(nodes[f"a{fe.chain.index('ClientVersionFilter')}"]["label"])
    assert "handles all methods but REGISTER, SERVICE" in text_of(
        nodes[f"a{fe.chain.index('DefaultRouting')}"]["label"])


def test_a_disabled_application_is_dashed_and_says_disabled():
    fe = _front_end()
    nodes = dot_nodes(chain_diagram(fe).source)
    iim = nodes[f"a{fe.chain.index('IIMFilter')}"]
    assert "dashed" in styles(iim) and "disabled" in text_of(iim["label"])
    other = nodes[f"a{fe.chain.index('UserPinService')}"]
    assert "dashed" not in styles(other)


def test_exits_name_the_labs_gateway_edge_voicemail_and_pools():
    fe = _front_end()
    d = chain_diagram(fe)
    nodes = dot_nodes(d.source)
    exits = {k: text_of(a["label"]) for k, a in nodes.items() if k.startswith("exit")}
    joined = " | ".join(exits.values())
    for name in ("gw01.contoso.com", "edge01.contoso.com", "um01.contoso.com", "pool02.contoso.com",
                 "acpgw.adatum.net", "signed-in clients"):
        assert name in joined
    outbound = fe.chain.index("OutboundRouting")
    assert f"{{rank=same; a{outbound}; exit{outbound};}}" in d.source
    assert "PSTN gateway: gw01.contoso.com" in exits[f"exit{outbound}"]


def test_a_bare_chain_draws_without_lab_names():
    fe = _front_end()
    d = chain_diagram(fe.chain)
    joined = " ".join(text_of(a["label"]) for k, a in dot_nodes(d.source).items() if k.startswith("exit"))
    assert "PSTN gateway" in joined and "gw01" not in joined


def test_write_chain_diagram_and_determinism(tmp_path):
    fe = _front_end()
    path = write_chain_diagram(fe, tmp_path / "chain.svg")
    assert path.read_text(encoding="utf-8") == chain_diagram(_front_end()).svg()
    assert "<title>a0</title>" in path.read_text(encoding="utf-8")


def test_every_exit_a_built_in_application_takes_is_one_the_diagram_draws():
    # Each built-in declares its exits (BuiltinApplication.exits) apart from the code that routes:
    # each branch a built-in sends, for every sample and course message, must leave through an
    # exit the diagram draws beside that application.
    from mspl_lite.course.messages import MESSAGE_NAMES, message_text
    from mspl_lite.view.style import EXIT_KINDS

    texts = [p.read_text() for p in sample_path("messages").iterdir() if p.name.endswith(".sip")]
    texts += [message_text(name) for name in MESSAGE_NAMES]
    taken = {(b.sent_by, b.kind) for text in texts for b in FrontEnd().send(text).branches}
    assert {"DefaultRouting", "ExumRouting", "OutboundRouting"} <= {app for app, _ in taken}
    fe = FrontEnd()
    nodes = dot_nodes(chain_diagram(fe).source)
    drawn = {name: text_of(nodes[f"exit{i}"]["label"]) if f"exit{i}" in nodes else ""
             for i, name in enumerate(a.name for a in fe.chain)}
    assert not {(app, kind) for app, kind in taken if EXIT_KINDS[kind] not in drawn[app]}


def test_an_application_below_defaultrouting_is_marked_in_its_box():
    fe = FrontEnd()
    fe.register(str(sample_path("apps/block-word.am")), 9)
    nodes = dot_nodes(chain_diagram(fe).source)
    words = text_of(nodes[f"a{fe.chain.index('BlockWord')}"]["label"])
    assert "below DefaultRouting: Dn439078 says it must be above (D52)" in words
    above = FrontEnd()
    above.register(str(sample_path("apps/block-word.am")))
    box = dot_nodes(chain_diagram(above).source)[f"a{above.chain.index('BlockWord')}"]
    assert "Dn439078" not in text_of(box["label"])
