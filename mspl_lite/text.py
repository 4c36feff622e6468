"""Where foreign input becomes mspl-lite's text: bounded file reads and one rule for odd characters.

Every file the project opens goes through :func:`read_input`: regular files only, at most ``limit``
bytes, so a FIFO, ``/dev/zero`` or a 2 GB log named by mistake is refused at once instead of blocking
or filling memory. Every ``str`` that comes from outside (a Python caller, a widget, ``sys.argv``) is
checked with :func:`lone_surrogate` before it reaches a message or a script: a lone surrogate
(``"\\ud800"``) is not a character, cannot be written as UTF-8 and would otherwise escape as
``UnicodeEncodeError`` far from where it came in. :func:`shown` makes any such text printable in a
diagnostic.
"""
from __future__ import annotations

import os
import re
import stat
from typing import Type

from .errors import InputError

__all__ = [
    "MAX_MESSAGE_FILE", "MAX_MANIFEST_FILE", "MAX_FLAT_FILE", "MAX_LAB_FILE", "MAX_SCRIPT_FILE",
    "read_input", "lone_surrogate", "replace_lone_surrogates", "shown", "display_path", "size_text",
]

# Size limits of the files mspl-lite reads. They are far above anything real (a Lync manifest and
# its script are a few KB; a SIP message over TCP rarely passes 64 KB) and far below what would hurt
# a laptop or a shared workshop server.
MAX_MESSAGE_FILE = 1 << 20      # 1 MiB: one SIP message
MAX_MANIFEST_FILE = 4 << 20     # 4 MiB: an .am file with its script
MAX_SCRIPT_FILE = 4 << 20       # 4 MiB: a bare .mspl script
MAX_FLAT_FILE = 16 << 20        # 16 MiB: a flat file (a table of rows)
MAX_LAB_FILE = 1 << 20          # 1 MiB: a lab description (TOML)

_SURROGATE = re.compile("[\ud800-\udfff]")


def size_text(n: int) -> str:
    """``1 MiB``, ``4 MiB``, ``512 KiB``: a limit as a person reads it."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"


def lone_surrogate(text: str) -> int | None:
    """The index of the first lone surrogate in ``text``, or None when every character is one.

    A Python ``str`` holds code points, so any surrogate code point in it is unpaired: it comes
    from ``surrogateescape`` (bytes that were not UTF-8), from ``"\\ud800"`` in code, or from a
    browser text box.
    """
    match = _SURROGATE.search(text)
    return match.start() if match else None


def replace_lone_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD, as a UTF-8 encoder with replacement does."""
    return _SURROGATE.sub("\ufffd", text)


def shown(text: str) -> str:
    """``text`` safe to print: a lone surrogate is written as ``\\udXXX`` (``\\xNN`` for an escaped byte)."""
    def one(match: re.Match) -> str:
        code = ord(match.group())
        return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"
    return _SURROGATE.sub(one, text)


def display_path(path: str | os.PathLike) -> str:
    """A path as a diagnostic shows it (never raises, even for a name that is not UTF-8)."""
    try:
        return shown(os.fsdecode(path))
    except (TypeError, ValueError):
        return repr(path)


def read_input(
    path: str | os.PathLike,
    *,
    limit: int,
    what: str,
    error: Type[InputError] = InputError,
    filename: str | None = None,
) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them; anything else raises ``error``.

    ``what`` names the file for the learner ("manifest", "SIP message"). The file is opened
    non-blocking and checked with ``fstat`` on the open descriptor, so a FIFO never blocks and a
    file swapped between a check and the read cannot slip through.
    """
    name = filename if filename is not None else display_path(path)

    def refuse(message: str, hint: str, code: str) -> InputError:
        return error.at(message, filename=name, hint=hint, code=code)

    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except (OSError, ValueError, TypeError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        if isinstance(err, FileNotFoundError):
            raise refuse(f"cannot read the {what}: no such file", "check the path and the file name",
                         "no-such-file") from None
        if isinstance(err, IsADirectoryError):
            raise refuse("this is a folder, not a file", f"give the {what} file inside it", "not-a-file") from None
        raise refuse(f"cannot read the {what}: {shown(reason)}", "check the path and that you may read the file",
                     "unreadable") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise refuse("this is a folder, not a file", f"give the {what} file inside it", "not-a-file")
        if not stat.S_ISREG(info.st_mode):
            raise refuse(f"this is not a regular file (a pipe, a device or a socket); mspl-lite reads a {what} "
                         "only from a file", f"save the {what} to a file and give its path", "not-a-file")
        too_big = refuse(f"the {what} is larger than {size_text(limit)}, the most mspl-lite reads",
                         f"give a single {what}; a real one is a few kilobytes", "too-large")
        if info.st_size > limit:
            raise too_big
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 16, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:   # the file grew after fstat
            raise too_big
        return b"".join(chunks)
    except OSError as err:
        if isinstance(err, IsADirectoryError):
            raise refuse("this is a folder, not a file", f"give the {what} file inside it", "not-a-file") from None
        raise refuse(f"cannot read the {what}: {shown(err.strerror or str(err))}",
                     "check the path and that you may read the file", "unreadable") from None
    finally:
        os.close(fd)
