"""The ladder of what really crossed the wire under ``mspl-lite serve`` (``Server.ladder_diagram``).

The transaction ladder (ladder.py) draws what the chain decided; this one draws the messages the
server sent and received, as ``Server.ladder()`` lists them: one arrow per datagram or framed TCP
message, in the order the server saw them, between the server and each peer. It is drawn by
ladder.py's ``draw_ladder`` (same lifelines, arrows, text alternative: decision D118). Peers are
named as the caller names them ({"127.0.0.1:5071": "Nuria"}); nothing drawn shows a port or a
time unless ``times=True``, so a notebook's picture is the same bytes on every run.
"""
from __future__ import annotations

from ..wire.record import SERVER_NAME, ladder_events
from .ladder import Step, draw_ladder
from .render import Diagram

__all__ = ["wire_ladder_diagram", "wire_ladder_lanes_and_steps", "MAX_WIRE_ROWS", "MAX_WIRE_PEERS"]

#: Messages drawn. One call through the server (INVITE, 100, 180, 200 both ways, ACK, BYE) is 13
#: rows; 120 rows are about nine calls and 3,700 px of picture, past which ``server.ladder_text()``
#: reads better. The rows left out are counted in a note on the server's lifeline.
MAX_WIRE_ROWS = 120
#: Peers with a lifeline of their own. Seven lifelines fit a notebook's 880 px at the narrowest gap
#: ladder.py allows (110 px); the rest share one "other peers" lifeline, which says how many they are.
MAX_WIRE_PEERS = 6

#: Short enough for the narrowest ladder (three lifelines, 464 px wide).
_LEGEND = "solid arrow: request  ·  dashed arrow: response  ·  one arrow per message"
_SERVER_ROLE = "the Front End (serve)"
_PEER_ROLE = "real user agent"


def wire_ladder_lanes_and_steps(exchanges, names: dict[str, str] | None = None, *,
                                times: bool = False) -> tuple[list[tuple[str, str]], list[Step]]:
    """The lifelines (name, role) and rows of the wire ladder of ``exchanges`` (Server.exchanges).

    The first peer that sent something (the caller) is on the left of the server, the others on
    its right in the order they first appear.
    """
    events = ladder_events(exchanges, names)
    order: list[str] = []
    for source, target, _, _ in events:
        peer = target if source == SERVER_NAME else source
        if peer not in order:
            order.append(peer)
    kept, merged = order[:MAX_WIRE_PEERS], order[MAX_WIRE_PEERS:]
    others = f"{len(merged)} other peers" if merged else ""
    lanes = ([(kept[0], _PEER_ROLE)] if kept else []) + [(SERVER_NAME, _SERVER_ROLE)] \
        + [(peer, _PEER_ROLE) for peer in kept[1:]] + ([(others, "their messages share this line")] if merged else [])
    index = {name: i for i, (name, _) in enumerate(lanes)}
    server = index[SERVER_NAME]
    steps: list[Step] = []
    for source, target, label, when in events[:MAX_WIRE_ROWS]:
        a, b = (index.get(source, index.get(others)), index.get(target, index.get(others)))
        kind = "response" if label[:1].isdigit() else "request"
        steps.append(Step(kind, a, b, f"{label}  (+{when:.3f} s)" if times else label))
    if len(events) > MAX_WIRE_ROWS:
        steps.append(Step("note", server, server, f"... {len(events) - MAX_WIRE_ROWS} more messages not drawn "
                                                  f"(MAX_WIRE_ROWS {MAX_WIRE_ROWS}; see server.ladder_text())"))
    dropped = sum(getattr(x, "events_dropped", 0) for x in exchanges)
    if dropped:
        steps.append(Step("note", server, server, f"... {dropped} more messages the server did not keep "
                                                  "(MAX_EVENTS per transaction)"))
    return lanes, steps


def wire_ladder_diagram(exchanges, names: dict[str, str] | None = None, *, title: str | None = None,
                        times: bool = False) -> Diagram:
    """The ladder of every message that crossed the wire in ``exchanges``, as a Diagram."""
    exchanges = tuple(exchanges)
    lanes, steps = wire_ladder_lanes_and_steps(exchanges, names, times=times)
    if not steps:
        steps = [Step("note", 0, 0, "nothing crossed the wire yet")]
    messages = sum(len(x.events) for x in exchanges)
    heading = title or f"What crossed the wire: {messages} messages in {len(exchanges)} transactions"
    return draw_ladder(heading, lanes, steps, legend=_LEGEND)
