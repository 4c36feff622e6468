"""IP fragments put back together, so a SIP message sent over UDP in several fragments can be read.

A SIP request over UDP that is larger than the path's MTU (an INVITE with a long SDP, a presence
NOTIFY) is sent in IP fragments. Pieces are kept by (source, destination, protocol, identification)
until the last one and every gap have arrived; where pieces overlap, the bytes that came first
are kept. Bounded: at most
MAX_DATAGRAMS datagrams in progress and MAX_DATAGRAM bytes each; past a bound, and for the pieces of
datagrams the capture never completes, the pieces are counted as unreadable and reported once.
"""
from __future__ import annotations

from collections import OrderedDict

from .packets import Fragment

__all__ = ["Reassembler", "MAX_DATAGRAMS", "MAX_DATAGRAM"]

#: Most datagrams being put together at once. Fragmented SIP is rare and completes within a few
#: packets; 1,024 open datagrams means fragments of something else (or lost pieces).
MAX_DATAGRAMS = 1024
#: Largest reassembled payload: the IP total length field cannot say more than 65,535 bytes.
MAX_DATAGRAM = 65_535


class _Datagram:
    __slots__ = ("pieces", "size", "total", "first_packet", "count")

    def __init__(self, packet: int):
        self.pieces: dict[int, bytes] = {}
        self.size = 0
        self.total: int | None = None      # known once the last piece (more=False) arrived
        self.first_packet = packet
        self.count = 0


class Reassembler:
    """Takes ``Fragment`` pieces; ``add`` returns (proto, payload, src, dst, packets) when a datagram is whole."""

    def __init__(self):
        self.open: OrderedDict = OrderedDict()
        self.lost = 0                       # pieces of datagrams given up on
        self.first_lost_packet = 0

    def add(self, piece: Fragment, packet: int):
        datagram = self.open.get(piece.key)
        if datagram is None:
            if len(self.open) >= MAX_DATAGRAMS:
                _key, old = self.open.popitem(last=False)
                self._give_up(old)
            datagram = self.open[piece.key] = _Datagram(packet)
        datagram.count += 1
        if piece.cut or piece.offset + len(piece.data) > MAX_DATAGRAM:
            del self.open[piece.key]
            self._give_up(datagram)
            return None
        if piece.offset not in datagram.pieces or len(datagram.pieces[piece.offset]) < len(piece.data):
            datagram.size += len(piece.data) - len(datagram.pieces.get(piece.offset, b""))
            datagram.pieces[piece.offset] = piece.data
        if not piece.more:
            datagram.total = piece.offset + len(piece.data)
        if datagram.total is None or datagram.size < datagram.total:
            return None
        payload = bytearray()
        for offset in sorted(datagram.pieces):
            data = datagram.pieces[offset]
            if offset > len(payload):
                return None                 # a hole (the sizes added up through overlaps): wait
            payload += data[len(payload) - offset:]
        if len(payload) < datagram.total:
            return None
        del self.open[piece.key]
        return piece.proto, bytes(payload[:datagram.total]), piece.src, piece.dst, (datagram.first_packet, packet)

    def _give_up(self, datagram: _Datagram) -> None:
        if not self.lost:
            self.first_lost_packet = datagram.first_packet
        self.lost += datagram.count

    def finish(self) -> None:
        """The capture ended: what is still open will never complete."""
        for datagram in self.open.values():
            self._give_up(datagram)
        self.open.clear()
