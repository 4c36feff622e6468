"""The sockets: UDP and TCP on one port, an asyncio loop, and ``Server`` for Python callers.

``Server(fe)`` starts the loop in a background thread, bound to 127.0.0.1 on a free port (the
same for UDP and TCP), and is a context manager::

    with Server(fe) as server:
        ... send SIP to server.address ...
        server.traces      # the chain's Trace of each finished transaction (the last MAX_KEPT)
        server.ladder()    # what crossed the wire, peers named, no ports or times
        server.ladder_diagram({"127.0.0.1:5071": "Nuria"})   # the same, drawn (mspl_lite.view.wire_ladder)
"""
from __future__ import annotations

import asyncio
import socket
import threading
from typing import Iterable

from ..errors import UsageError
from .addresses import AddressPolicy, is_loopback
from .framing import MAX_MESSAGE_BYTES, FramingError, StreamFramer
from .proxy import Peer, ProxyCore
from .record import ladder_rows
from .transaction import Timing

__all__ = ["Server", "MAX_CONNECTIONS", "IDLE_SECONDS"]

#: TCP connections open at once; the next one is closed at once (a flood of connections costs
#: nothing but a count). A lab has a handful of user agents.
MAX_CONNECTIONS = 256
#: A TCP connection that sends nothing for this long is closed (keep-alive pings, decision D98, every
#: 30 s or so, keep a live one open); so is one that never completes a message.
IDLE_SECONDS = 120.0
#: Ports tried when the UDP port asked for (port 0: any) is free but TCP cannot bind it.
_BIND_ATTEMPTS = 20


#: The UDP socket's receive buffer asked for: a burst of SIPp calls arriving while the loop is
#: busy waits in the kernel instead of being dropped (Linux grants at most net.core.rmem_max).
_UDP_RECEIVE_BUFFER = 4 << 20


def _large_receive_buffer(sock) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _UDP_RECEIVE_BUFFER)
    except (OSError, AttributeError):   # a platform that refuses: the default buffer still works
        pass


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: "Server"):
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        if len(data) > MAX_MESSAGE_BYTES:
            self.server.oversize += 1
            return
        self.server.core.receive(data, Peer("udp", addr[0], addr[1]))

    def error_received(self, exc):   # an ICMP port unreachable from a peer that went away
        self.server.send_errors += 1


class _Connection:
    """One TCP connection: framing by Content-Length, bounded, closed when idle."""

    def __init__(self, server: "Server", reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.server, self.reader, self.writer = server, reader, writer
        host, port = writer.get_extra_info("peername")[:2]
        self.peer = Peer("tcp", host, port, self)
        self.framer = StreamFramer()

    def write(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data)

    async def run(self) -> None:
        key = (self.peer.host, self.peer.port)
        self.server.connections[key] = self
        try:
            while True:
                data = await asyncio.wait_for(self.reader.read(65536), IDLE_SECONDS)
                if not data:
                    break
                pings = self.framer.pings
                try:
                    messages = self.framer.feed(data)
                except FramingError as err:
                    self.server.oversize += err.status == 413
                    self.server.bad_streams += 1
                    self.write(f"SIP/2.0 {err.status} {err.reason}\r\nWarning: 399 {self.server.core.host} "
                               f"\"{err.warning}\"\r\nContent-Length: 0\r\n\r\n".encode())
                    break
                for _ in range(self.framer.pings - pings):
                    self.write(b"\r\n")                 # the pong (decision D98)
                for message in messages:
                    self.server.core.receive(message, self.peer)
        except (asyncio.TimeoutError, ConnectionError, OSError):
            pass
        finally:
            if self.server.connections.get(key) is self:
                del self.server.connections[key]
            self.writer.close()


class Server:
    """A loopback SIP proxy and registrar around a FrontEnd (see the module's docstring).

    ``listen``: (host, port); port 0 picks a free one. A host outside 127.0.0.0/8 and ::1 is
    refused unless ``allow_public=True`` (the CLI passes it when the user named the address).
    ``contacts``: {"sip:user@domain": "host:port" or "tcp:host:port"}: lab users a real user
    agent plays.
    """

    def __init__(self, fe, *, listen: tuple[str, int] = ("127.0.0.1", 0), transports: Iterable[str] = ("udp", "tcp"),
                 contacts: dict[str, str] | None = None, trace_dir=None, timing: Timing = Timing(),
                 allow_public: bool = False, log=None):
        host, port = listen
        if not is_loopback(host) and not allow_public:
            raise UsageError(f"Server(listen=({host!r}, {port})): only a loopback address (127.0.0.1, ::1) unless "
                             "allow_public=True")
        self.fe = fe
        self.transports = tuple(dict.fromkeys(t.lower() for t in transports))
        if not self.transports or any(t not in ("udp", "tcp") for t in self.transports):
            raise UsageError(f"transports are udp and/or tcp, not {', '.join(transports) or 'none'}")
        self.policy = AddressPolicy()
        if not is_loopback(host):
            self.policy.allow(host)
        from .contacts import bind_contacts
        for address in bind_contacts(fe, contacts or {}):
            self.policy.allow(address)
        self._listen = (host, port)
        self._trace_dir = trace_dir
        self._timing = timing
        self._log = log
        self.connections: dict[tuple[str, int], _Connection] = {}
        self.oversize = 0
        self.bad_streams = 0
        self.send_errors = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self.core: ProxyCore | None = None
        self._thread: threading.Thread | None = None
        self._udp: _Udp | None = None
        self._tcp: asyncio.base_events.Server | None = None
        self._stopped = threading.Event()
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # -- life cycle -------------------------------------------------------------------------

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"listening on {self.host}:{self.port}" if self.core is not None else "not started"
        return f"<Server {state} ({', '.join(self.transports)})>"

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    @property
    def host(self) -> str:
        return self.core.host if self.core else self._listen[0]

    @property
    def port(self) -> int:
        return self.core.port if self.core else self._listen[1]

    def start(self) -> "Server":
        """Start in a background thread; return once the sockets are bound (or raise OSError)."""
        if self._thread is not None:
            raise UsageError("this Server is already started")
        self._thread = threading.Thread(target=self._thread_main, name="mspl-lite-serve", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self

    def _thread_main(self) -> None:
        loop = asyncio.new_event_loop()
        self.loop = loop
        try:
            loop.run_until_complete(self.open())
        except BaseException as err:   # handed to start(), which raises it in the caller's thread
            self._error = err
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._close())
            loop.close()
            self._stopped.set()

    async def open(self) -> None:
        """Bind the sockets on the running loop (the CLI calls it from its own loop)."""
        loop = asyncio.get_running_loop()
        self.loop = loop
        host, port = self._listen
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        last: OSError | None = None
        for _ in range(_BIND_ATTEMPTS if port == 0 else 1):
            udp = tcp = None
            try:
                chosen = port
                if "udp" in self.transports:
                    udp, proto = await loop.create_datagram_endpoint(lambda: _Udp(self), local_addr=(host, port),
                                                                     family=family)
                    chosen = udp.get_extra_info("sockname")[1]
                    _large_receive_buffer(udp.get_extra_info("socket"))
                if "tcp" in self.transports:
                    tcp = await asyncio.start_server(self._accept, host, chosen, family=family,
                                                     reuse_address=True)
                    chosen = tcp.sockets[0].getsockname()[1]
            except OSError as err:
                last = err
                if udp is not None:
                    udp.close()
                if tcp is not None:
                    tcp.close()
                continue
            self._udp = proto if udp is not None else None
            self._tcp = tcp
            self.core = ProxyCore(self.fe, loop, self._send, (host, chosen), timing=self._timing, policy=self.policy,
                                  trace_dir=self._trace_dir, transports=self.transports, log=self._log)
            loop.call_later(1.0, self._sweep)
            return
        raise last or OSError(f"cannot bind {host}:{port}")

    def _sweep(self) -> None:
        if self.core is None or self.core.closed:
            return
        if self.core.expiry:
            self.core.executor.submit(self.core.sweep)
        if self.core.simulated:
            self.core.simulated.sweep()     # on the loop's thread, where every dialog is touched
        self.loop.call_later(1.0, self._sweep)

    async def _accept(self, reader, writer) -> None:
        if len(self.connections) >= MAX_CONNECTIONS:
            writer.close()
            return
        await _Connection(self, reader, writer).run()

    def _send(self, peer: Peer, data: bytes) -> None:
        if peer.transport == "udp":
            # is_closing(): a worker can finish a transaction while the server shuts down; a
            # closing transport would fail inside asyncio (its loop already gone), so count it.
            if self._udp is None or self._udp.transport is None or self._udp.transport.is_closing():
                self.send_errors += 1
                return
            self._udp.transport.sendto(data, (peer.host, peer.port))
            return
        conn = peer.conn if isinstance(peer.conn, _Connection) else self.connections.get((peer.host, peer.port))
        if conn is not None and not conn.writer.is_closing():
            conn.write(data)
            return
        self.loop.create_task(self._connect_and_send(peer, data))

    async def _connect_and_send(self, peer: Peer, data: bytes) -> None:
        key = (peer.host, peer.port)
        conn = self.connections.get(key)
        if conn is None:
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(peer.host, peer.port), 5)
            except (OSError, asyncio.TimeoutError):
                self.send_errors += 1
                return
            conn = _Connection(self, reader, writer)
            conn.peer = Peer("tcp", peer.host, peer.port, conn)
            self.loop.create_task(conn.run())
            await asyncio.sleep(0)
        conn.write(data)

    async def _close(self) -> None:
        if self.core is not None:
            self.core.close()
        if self._udp is not None and self._udp.transport is not None:
            self._udp.transport.close()
        if self._tcp is not None:
            self._tcp.close()
        for conn in list(self.connections.values()):
            conn.writer.close()
        await asyncio.sleep(0)

    def stop(self, timeout: float = 10.0) -> None:
        """Close the sockets and end the loop's thread (idempotent)."""
        if self._thread is None or self.loop is None or self._stopped.is_set():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._stopped.wait(timeout)
        self._thread.join(timeout)

    # -- what happened -----------------------------------------------------------------------

    @property
    def exchanges(self) -> tuple:
        """Finished transactions (the last MAX_KEPT), each with its Trace and what crossed the wire."""
        return tuple(self.core.kept) if self.core else ()

    @property
    def traces(self) -> tuple:
        """The chain's Trace of each finished transaction that ran the chain, oldest first. A real
        branch that lost shows what it had answered when the caller's response went up ("CANCEL
        sent"), until it ends: then its Branch shows that end too (decision D100)."""
        return tuple(x.trace for x in self.exchanges if x.trace is not None)

    def ladder(self, names: dict[str, str] | None = None) -> list[tuple[str, str, str]]:
        """(from, to, label) for every message that crossed the wire, in order; ``names`` maps a
        peer's "host:port" to a name (otherwise "peer 1", "peer 2", ...)."""
        return ladder_rows(self.exchanges, names)

    def ladder_diagram(self, names: dict[str, str] | None = None, *, title: str | None = None,
                       times: bool = False):
        """The ladder of ``ladder(names)`` drawn as a Diagram (mspl_lite.view.wire_ladder), with its
        text alternative; no port, and no time unless ``times=True``."""
        from ..view.wire_ladder import wire_ladder_diagram   # lazily: the view is the layer above

        return wire_ladder_diagram(self.exchanges, names, title=title, times=times)

    def ladder_text(self, names: dict[str, str] | None = None) -> str:
        rows = self.ladder(names)
        width = max([len(a) for a, _, _ in rows] + [len(b) for _, b, _ in rows] + [4])
        return "\n".join(f"{a:>{width}} -> {b:<{width}}  {label}" for a, b, label in rows)
