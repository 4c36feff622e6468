"""Where the server may send: loopback, and only what the user configured besides.

The issue's rule: "The server never sends a packet to an address outside 127.0.0.0/8 or ::1
unless the user configured that address". Every send goes through ``AddressPolicy.allows``;
a refused one is counted and reported, never silently dropped.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

__all__ = ["is_loopback", "split_host_port", "AddressPolicy", "DEFAULT_PORT"]

DEFAULT_PORT = 5060   # RFC 3261 19.1.2: the default port of sip: over UDP and TCP


def is_loopback(host: str) -> bool:
    """True for an IP literal in 127.0.0.0/8 or ::1 (names are not resolved: "localhost" is False)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def split_host_port(text: str, default_port: int | None = DEFAULT_PORT) -> tuple[str, int | None]:
    """``"127.0.0.1:5071"`` -> ("127.0.0.1", 5071); ``"[::1]:5071"``; no port -> default_port.
    Raises ValueError for a port that is not 0-65535."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        host, port_text = text, ""
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or len(port_text) > 5 or int(port_text) > 65535:
        raise ValueError(f"{port_text!r} is not a port (0-65535)")
    return host, int(port_text)


@dataclass
class AddressPolicy:
    """Loopback always; ``hosts`` (addresses the user named: --contact, a lab contact, a non-loopback
    --listen) besides. ``refused`` counts the sends it stopped."""

    hosts: set[str] = field(default_factory=set)
    refused: int = 0

    def allows(self, host: str) -> bool:
        return is_loopback(host) or host.strip("[]").lower() in self.hosts

    def allow(self, host: str) -> None:
        self.hosts.add(host.strip("[]").lower())
