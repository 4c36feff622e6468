"""The chain diagram: the applications in priority order as a pipeline, with the server's exits.

Built-in applications have rounded corners and say "built-in"; custom ones (MSPL scripts,
Python stand-ins) have square corners and a heavier border and say what they are, with their
requestFilter, responseFilter and proxyByDefault. A disabled application is dashed and dimmed
and says "disabled". The green boxes on the right are where the built-in routing applications
send requests out of the server: signed-in clients, another pool, the PSTN gateway, the Edge,
Exchange UM, the conferencing provider. A custom script may send a request anywhere with
ProxyRequest(uri); that is written in its box rather than drawn.

Reads the chain as Get-CsServerApplication shows it (name, priority = position, kind, enabled,
critical, filters, and the exits each built-in application declares) and, when given, the lab's
names for the exits; nothing else.
"""
from __future__ import annotations

from typing import Any, Iterable

from . import style as st
from .dot import DotWriter, label, short, wrap
from .render import Diagram

__all__ = ["chain_diagram", "chain_rows", "chain_alt", "chain_description"]

# Methods named in a requestFilter, used to say "all but REGISTER" rather than list 14 names.
_METHODS = ("ACK", "BENOTIFY", "BYE", "CANCEL", "INFO", "INVITE", "MESSAGE", "NOTIFY", "OPTIONS", "PRACK",
            "PUBLISH", "REFER", "REGISTER", "SERVICE", "SUBSCRIBE", "UPDATE")


def _apps(chain_or_frontend: Any) -> tuple[list, Any]:
    """The ServerApplication rows and the lab (or None) of a Chain, a FrontEnd or a list of rows."""
    lab = getattr(chain_or_frontend, "lab", None)
    chain = getattr(chain_or_frontend, "chain", chain_or_frontend)
    apps = getattr(chain, "apps", chain)
    return list(apps), lab


def _methods_text(methods: Iterable[str] | None) -> str:
    if methods is None:
        return "all methods"
    methods = sorted(set(methods))
    if len(methods) <= 4:
        return ", ".join(methods)
    missing = sorted(set(_METHODS) - set(methods))
    if len(missing) <= 3:
        return "all methods but " + ", ".join(missing)
    return f"{len(methods)} methods"


def chain_rows(chain_or_frontend: Any) -> list[dict]:
    """One dict per application as the diagram shows it: priority, name, kind, state, filters, role,
    exits (where a built-in routing application sends requests out of the server; ServerApplication.exits)."""
    apps, _ = _apps(chain_or_frontend)
    rows = []
    names = [a.name for a in apps]
    default_routing = names.index("DefaultRouting") if "DefaultRouting" in names else len(apps)
    for priority, app in enumerate(apps):
        kind = getattr(app, "kind", "builtin")
        builtin = getattr(app, "builtin", None)
        row = {"priority": priority, "name": app.name, "kind": kind, "builtin": kind == "builtin",
               "enabled": bool(getattr(app, "enabled", True)), "critical": bool(getattr(app, "critical", False)),
               "order_guessed": bool(getattr(app, "order_guessed", False)), "filters": [], "role": "",
               "exits": tuple(getattr(app, "exits", ())),
               "below_default_routing": kind != "builtin" and priority > default_routing}
        if kind == "builtin":
            basis = "" if getattr(builtin, "methods_source", None) else " [inferred]"
            row["filters"].append(f"handles {_methods_text(getattr(builtin, 'methods', None))}{basis}")
            row["role"] = getattr(builtin, "role", "") or ""
        else:
            rf = getattr(app, "request_filter", None)
            if rf is not None:
                row["filters"].append(f"methodNames={rf.method_names_text}")
            resp = getattr(app, "response_filter", None)
            if resp is not None:
                row["filters"].append(f"responseFilter={resp.reason_codes_text}")
            row["filters"].append(f"proxyByDefault={'true' if getattr(app, 'proxy_by_default', True) else 'false'}")
        rows.append(row)
    return rows


def _exit_names(lab: Any) -> dict[str, str]:
    """The lab's own names for the exits (e.g. the gateway's FQDN), when a lab is known."""
    if lab is None:
        return {}
    names = {"endpoint": f"users of {getattr(lab, 'pool', 'this pool')}"}
    pools = [p.fqdn for p in getattr(lab, "pools", ())]
    if pools:
        names["pool"] = ", ".join(pools)
    gateways = [g.fqdn for g in getattr(lab, "gateways", ())]
    if gateways:
        names["gateway"] = ", ".join(gateways)
    if getattr(lab, "edge", None):
        names["edge"] = lab.edge
    um = getattr(lab, "exchange_um", None)
    if um is not None:
        names["voicemail"] = um.server
    acp = getattr(lab, "acp", None)
    if acp is not None:
        names["acp"] = acp.gateway
    apps = [t.fqdn for t in getattr(lab, "trusted_applications", ())]
    if apps:
        names["application"] = ", ".join(apps)
    return names


def _kind_words(row: dict) -> str:
    return {"builtin": "built-in", "mspl": "MSPL script", "python": "Python stand-in"}.get(row["kind"], row["kind"])


def chain_diagram(chain_or_frontend: Any, *, title: str | None = None) -> Diagram:
    """The chain as a pipeline (a Chain, a FrontEnd, or a list of ServerApplication rows)."""
    _, lab = _apps(chain_or_frontend)
    rows = chain_rows(chain_or_frontend)
    pool = getattr(getattr(chain_or_frontend, "chain", chain_or_frontend), "pool", None) or getattr(lab, "pool", "")
    heading = title or (f"Server applications of {pool}" if pool else "Server applications")
    legend = ("rounded: built-in; square, heavy border: custom (MSPL); dashed grey: disabled; "
              "\"exit of\" (green): where requests leave the server; built-in order as Gg182575 lists it (D10)")
    graph = dict(st.GRAPH, label=label(heading, "priority 0 runs first", small=[legend]))
    w = DotWriter("chain", graph, st.NODE, st.EDGE)
    w.node("arrive", label=label("a request arrives", small=["from a client, another pool or the Edge"]),
           shape="box", style="rounded,filled", fillcolor="#f7f7f7")
    previous = "arrive"
    exit_names = _exit_names(lab)
    exits = 0
    for row in rows:
        node_id = f"a{row['priority']}"
        small = list(row["filters"])
        if row["role"]:
            small += wrap(row["role"], 46, 2)
        if row["order_guessed"]:
            small.append("runs before ExumRouting, OutboundRouting:" if row["name"] == "DefaultRouting"
                         else "runs after DefaultRouting:")
            small.append("inferred (D10)")
        if row["below_default_routing"]:
            small.append("below DefaultRouting: Dn439078 says")
            small.append("it must be above (D52)")
        lines = [_kind_words(row) + (", critical" if row["critical"] else "")]
        bold = [] if row["enabled"] else ["disabled: requests pass it by"]
        title_text = f"{row['priority']}  {row['name']}"
        if not row["enabled"]:
            attrs = st.skipped_node(row["builtin"])
        elif row["builtin"]:
            attrs = st.ran_node(True)
        else:
            attrs = dict(st.ran_node(False), penwidth=2.5, fillcolor=st.CUSTOM_FILL)
        w.node(node_id, label=label(title_text, *lines, bold_lines=bold, small=small), **attrs)
        # The pipeline itself: every row is a step (a disabled one says so in its box).
        w.edge(previous, node_id, **st.request_edge())
        previous = node_id
        kinds = row["exits"]
        if kinds:
            exit_id = f"exit{row['priority']}"
            parts = []
            for kind in kinds:
                parts.append(st.EXIT_KINDS[kind] + (f": {short(exit_names[kind], 34)}" if kind in exit_names else ""))
            w.node(exit_id, label=label(f"exit of {row['name']}", *parts), **st.exit_node(taken=row["enabled"]))
            w.edge(node_id, exit_id, **(st.route_edge() if row["enabled"] else st.unused_edge()))
            w.same_rank([node_id, exit_id])
            exits += 1
    return Diagram(kind="chain", title=heading, source=w.text(),
                   size=f"{len(rows)} applications, {exits} exits",
                   alt=chain_alt(heading, rows), description=chain_description(rows, exit_names))


def chain_alt(heading: str, rows: list[dict]) -> str:
    """The chain in one sentence: how many applications, the custom and the disabled ones by name."""
    custom = [f"{r['name']} at {r['priority']}" for r in rows if not r["builtin"]]
    disabled = [r["name"] for r in rows if not r["enabled"]]
    text = f"Chain diagram: {heading}, {len(rows)} applications in priority order, 0 runs first"
    text += f"; custom: {', '.join(custom)}" if custom else "; all built-in"
    if disabled:
        text += f"; disabled: {', '.join(disabled)}"
    return st.alt_text(text + ".")


def chain_description(rows: list[dict], exit_names: dict[str, str] | None = None) -> tuple[str, ...]:
    """One line per application, in the order the request meets them: priority, name, built-in or
    custom, enabled or disabled, critical, filters, and where it sends requests out of the server."""
    exit_names = exit_names or {}
    lines = []
    for row in rows:
        kind = _kind_words(row) + (f" ({short(row['role'], 90)})" if row["role"] else "")
        parts = [kind, "enabled" if row["enabled"] else "disabled: requests pass it by"]
        if row["critical"]:
            parts.append("critical")
        parts += row["filters"]
        if row["exits"]:
            parts.append("sends requests out to " + ", ".join(
                st.EXIT_KINDS[k] + (f" ({short(exit_names[k], 60)})" if k in exit_names else "") for k in row["exits"]))
        if row["order_guessed"]:
            parts.append("its place in the order is inferred (D10)")
        if row["below_default_routing"]:
            parts.append("below DefaultRouting, where Dn439078 says it must not be (D52)")
        lines.append(st.description_line(f"{row['priority']} {row['name']}: " + "; ".join(parts)))
    return tuple(lines)
