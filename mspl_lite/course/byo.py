"""Helpers of notebook 11 (bring your own): run the command line in a scratch folder.

    files = ScratchFolder()                  # a temporary folder, outside the repository
    files.write("my-message.sip", text)      # SIP text is stored with CRLF line ends
    files.cli("check", "my-broken.am")       # prints what `mspl-lite check` prints; returns its status

Files the notebook writes go to the scratch folder, so running it leaves nothing in notebooks/ and the
command line prints the short names the learner gave.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import UsageError
from ..text import replace_lone_surrogates

__all__ = ["ScratchFolder"]


class ScratchFolder:
    """A temporary folder where the notebook writes the learner's files and runs `mspl-lite`."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="mspl-byo-"))

    def write(self, name: str, text: str) -> Path:
        """Write ``text`` as ``name``; a .sip file gets CRLF line ends, as SIP requires.

        ``name`` is a plain file name ("my-app.am"): a path would write outside the scratch folder.
        """
        if not isinstance(name, str) or not name or name in (".", "..") or "/" in name or "\\" in name \
                or "\0" in name:
            raise UsageError(f"write() takes a plain file name such as 'my-app.am', not {name!r}: "
                             "the file goes in the scratch folder")
        if not isinstance(text, str):
            raise UsageError(f"write() takes the file's text as a str, not {type(text).__name__}")
        if name.endswith(".sip"):
            text = text.replace("\r\n", "\n").replace("\n", "\r\n")
        target = self.path / name
        target.write_bytes(replace_lone_surrogates(text).encode("utf-8"))   # U+FFFD: no UTF-8 form
        return target

    def cli(self, *args: str | os.PathLike) -> int:
        """Run ``mspl-lite ARGS`` with this folder as working directory; return its exit status.

        A usage error (an unknown option) or ``--help`` ends argparse with SystemExit: in a notebook
        that would show as an exception, so its status is returned like any other.
        """
        from ..cli import main

        here = os.getcwd()
        os.chdir(self.path)
        try:
            return main([os.fspath(a) for a in args])
        except SystemExit as end:
            return end.code if isinstance(end.code, int) else (0 if end.code is None else 1)
        finally:
            os.chdir(here)

    def __repr__(self) -> str:
        return "<ScratchFolder: a temporary folder for your files>"
