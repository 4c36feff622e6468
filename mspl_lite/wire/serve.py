"""``mspl-lite serve``: the Front End's chain as a SIP proxy and registrar on the loopback interface.

It prints exactly one line to stdout when the sockets are bound ("mspl-lite serve: listening on
HOST:PORT (udp, tcp); loopback only; N applications; Ctrl+C stops") and runs until SIGINT or
SIGTERM, which close the sockets and end with status 0. Diagnostics go to stderr.
"""
from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import Callable, TextIO

from ..errors import InputError
from ..text import display_path, shown
from .addresses import is_ip, is_loopback, split_host_port
from .contacts import parse_contact_spec
from .server import Server

__all__ = ["serve_command", "DEFAULT_LISTEN"]

DEFAULT_LISTEN = "127.0.0.1:5060"


def _listen(text: str) -> tuple[str, int]:
    try:
        host, port = split_host_port(text, None)
    except ValueError as err:
        host, port = "", None
        problem = str(err)
    else:
        problem = "give an IP address and a port"
    if not host or port is None or not is_ip(host):
        raise InputError.at(f"--listen {shown(text[:80])}: {problem}", filename="--listen",
                            hint="write --listen 127.0.0.1:5060, or 127.0.0.1:0 for a free port")
    return host.strip("[]"), port


def _transports(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(t.strip().lower() for t in text.split(",") if t.strip()))
    if not names or any(t not in ("udp", "tcp") for t in names):
        raise InputError.at(f"--transport {shown(text[:80])}: the transports are udp and tcp",
                            filename="--transport", hint="write --transport udp,tcp (the default), udp or tcp")
    return names


def serve_command(args, out: TextIO, front_end: Callable) -> int:
    """Run the server until a signal; ``front_end(args)`` builds the FrontEnd (--app, --lab)."""
    host, port = _listen(args.listen or DEFAULT_LISTEN)
    transports = _transports(args.transport or "udp,tcp")
    contacts = dict(parse_contact_spec(spec) for spec in args.contact or [])
    trace_dir = None
    if args.trace_dir:
        trace_dir = Path(args.trace_dir)
        try:
            trace_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise InputError.at(f"--trace-dir {display_path(trace_dir)}: {err.strerror or err}",
                                filename="--trace-dir", hint="name a folder you can write to") from None
    fe = front_end(args)
    explicit = args.listen is not None
    server = Server(fe, listen=(host, port), transports=transports, contacts=contacts, trace_dir=trace_dir,
                    allow_public=explicit)
    return asyncio.run(_run(server, fe, out))


async def _run(server: Server, fe, out: TextIO) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await server.open()
    except OSError as err:
        raise InputError.at(f"--listen {server._listen[0]}:{server._listen[1]}: {err.strerror or err}",
                            filename="--listen",
                            hint="another program has that port: choose another, or 127.0.0.1:0 for a free one") from None
    custom = sum(1 for a in fe.chain if not a.is_builtin)
    scope = "loopback only" if is_loopback(server.host) else \
        "NOT loopback only: reachable from other hosts, as --listen asked"
    names = ", ".join(server.transports)
    apps = f"{custom} application{'s' if custom != 1 else ''}"
    print(f"mspl-lite serve: listening on {server.host}:{server.port} ({names}); {scope}; {apps}; Ctrl+C stops",
          file=out, flush=True)
    try:
        await stop.wait()
    finally:
        await server._close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    core = server.core
    if core is not None and (core.refused or core.bad or core.policy.refused or server.oversize
                             or core.trace_files_skipped):
        print(f"mspl-lite serve: stopped; {core.bad} malformed messages, {server.oversize} oversize, "
              f"{core.refused} refused (too many transactions), {core.policy.refused} sends outside loopback "
              f"refused, {core.trace_files_skipped} trace files not written (disk too slow)",
              file=sys.stderr, flush=True)
    return 0
