"""``--contact sip:user@domain=HOST:PORT``: a lab user that a real user agent plays.

The user's endpoints become one real endpoint at HOST:PORT (decision D97): a call DefaultRouting
sends to that user reaches the real user agent only, as if it were her one signed-in client.
"""
from __future__ import annotations

import re
from typing import Mapping

from ..errors import InputError
from ..frontend.lab import Endpoint, aor_of, stable_id
from ..text import shown
from .addresses import is_ip, split_host_port

__all__ = ["parse_contact_spec", "bind_contacts"]

_USER_AGENT = "real user agent (mspl-lite serve --contact)"


def _fail(spec: str, message: str) -> InputError:
    return InputError.at(message, filename="--contact",
                         hint="write --contact sip:nuriag@contoso.com=127.0.0.1:5071 (a lab user's SIP URI, '=', "
                              "the IP address and port where the real user agent listens; tcp:127.0.0.1:5071 "
                              "for TCP)")


def parse_contact_spec(spec: str) -> tuple[str, str]:
    """``"sip:nuriag@contoso.com=127.0.0.1:5071"`` -> ("sip:nuriag@contoso.com", "127.0.0.1:5071")."""
    user, eq, where = spec.rpartition("=")
    if not eq or not user or not where:
        raise _fail(spec, f"--contact {shown(spec[:80])}: expected USER=HOST:PORT")
    return user.strip(), where.strip()


def bind_contacts(fe, contacts: Mapping[str, str]) -> set[str]:
    """Bind each lab user of ``contacts`` (URI -> "[tcp:|udp:]HOST:PORT") to a real endpoint in
    ``fe.registrations``; return the hosts named (the server may send there: decision D91)."""
    hosts = set()
    for uri, where in contacts.items():
        user = fe.lab.user(uri if ":" in uri.split("@", 1)[0] else "sip:" + uri)
        if user is None:
            known = ", ".join(u.uri for u in fe.lab.users[:6])
            raise _fail(uri, f"--contact {shown(uri[:80])}: no such user in the lab ({known}, ...)")
        transport = "udp"
        m = re.match(r"(udp|tcp):(.*)", where, re.IGNORECASE)
        if m:
            transport, where = m.group(1).lower(), m.group(2)
        try:
            host, port = split_host_port(where, None)
        except ValueError as err:
            raise _fail(where, f"--contact {shown(where[:80])}: {err}") from None
        if not is_ip(host) or not port:
            raise _fail(where, f"--contact {shown(where[:80])}: give an IP address and a port (names are not "
                               "resolved)")
        address = f"[{host.strip('[]')}]:{port}" if ":" in host else f"{host}:{port}"
        aor = aor_of(user.uri) or user.uri
        fe.registrations[aor] = (Endpoint(epid=stable_id(f"{aor}|{address}", 10), aor=aor, user_agent=_USER_AGENT,
                                          address=address, wire=transport),)
        hosts.add(host.strip("[]").lower())
    for endpoints in fe.registrations.values():      # the lab file's contact = "..." endpoints
        for e in endpoints:
            if e.wire:
                hosts.add(split_host_port(e.address)[0].strip("[]").lower())
    return hosts
