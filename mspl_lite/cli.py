"""The ``mspl-lite`` command line.

    mspl-lite check FILE.am ...                   lint manifests and their scripts
    mspl-lite apps  [--app FILE.am@PRIORITY ...]  list the chain like Get-CsServerApplication
    mspl-lite trace MESSAGE --app FILE.am@PRIO    simulate one transaction through the chain

This is the one place where errors become text and exit statuses: an ``MsplLiteError``
prints its message (file, line, column, what to do) and exits 1; never a traceback.
"""
from __future__ import annotations

import argparse
import sys

from .errors import MsplLiteError
from .text import display_path, shown

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mspl-lite",
        description="Learn, lint and dry-run MSPL scripts against a simulated Lync Server 2013 Front End.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    check = sub.add_parser("check", help="check application manifests (.am) and their MSPL scripts")
    check.add_argument("files", nargs="+", metavar="FILE.am")
    check.add_argument("--json", action="store_true", help="print diagnostics as JSON")

    apps = sub.add_parser("apps", help="list the server application chain (like Get-CsServerApplication)")
    apps.add_argument("--app", action="append", default=[], metavar="FILE.am[@PRIORITY]")
    apps.add_argument("--lab", metavar="FILE", help="a lab file (TOML) instead of the built-in lab")
    apps.add_argument("--json", action="store_true")
    apps.add_argument("--diagram", metavar="FILE.svg", help="also write the chain diagram")

    trace = sub.add_parser("trace", help="simulate one SIP transaction through the chain")
    trace.add_argument("message", metavar="MESSAGE_FILE")
    trace.add_argument("--app", action="append", default=[], metavar="FILE.am[@PRIORITY]")
    trace.add_argument("--lab", metavar="FILE")
    trace.add_argument("--json", action="store_true")
    trace.add_argument("--diagram", metavar="FILE.svg", help="also write the transaction diagram")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "check":
            from .check import check_command
            return check_command(args, sys.stdout)
        from . import commands  # the simulator and the view are only loaded when needed
        if args.command == "apps":
            return commands.apps_command(args, sys.stdout)
        return commands.trace_command(args, sys.stdout)
    except MsplLiteError as err:
        # shown(): a file name from argv that is not UTF-8 arrives with surrogate escapes, which
        # a strict stream would refuse to print (UnicodeEncodeError instead of the message).
        print(shown(str(err)), file=sys.stderr)
        return 1
    except OSError as err:  # e.g. --diagram into a folder that does not exist
        name = display_path(getattr(err, "filename", None) or "")
        print(f"{name}: error: {shown(err.strerror or str(err))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
