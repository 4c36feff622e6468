"""Finding ``Dispatch(`` calls in an MSPL script, which a scriptOnly application may not make."""
from __future__ import annotations

import re

_IDENT_START = re.compile(r"[A-Za-z_]")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def find_dispatch_calls(script: str) -> list[int]:
    """Offsets of each ``Dispatch(`` call in an MSPL script, outside comments and string literals.

    A small scan, not a parse: the language checker does the full check. ``DispatchNotification``
    is a different function and is not reported.
    """
    found: list[int] = []
    i, n = 0, len(script)
    while i < n:
        c = script[i]
        if script.startswith("//", i):
            end = script.find("\n", i)
            i = n if end < 0 else end
        elif script.startswith("/*", i):
            end = script.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif c == '"':
            i += 1
            while i < n and script[i] not in '"\n':
                i += 2 if script[i] == "\\" else 1
            i += 1
        elif _IDENT_START.match(c):
            match = _IDENT.match(script, i)
            word = match.group()
            end = match.end()
            if word == "Dispatch":
                j = end
                while j < n and script[j] in " \t\r\n":
                    j += 1
                if j < n and script[j] == "(":
                    found.append(i)
            i = end
        else:
            i += 1
    return found
