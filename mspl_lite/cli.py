"""The ``mspl-lite`` command line.

    mspl-lite check FILE.am ...                   lint manifests and their scripts
    mspl-lite apps  [--app FILE.am@PRIORITY ...]  list the chain like Get-CsServerApplication
    mspl-lite trace MESSAGE --app FILE.am@PRIO    simulate one transaction through the chain

This is the one place where errors become text and exit statuses: an ``MsplLiteError``
prints its message (file, line, column, what to do) and exits 1; never a traceback.
"""
from __future__ import annotations

import argparse
import os
import sys

from .errors import MsplLiteError
from .text import display_path, shown

__all__ = ["main"]


_APP_HELP = ("register an application from its manifest, optionally at a priority (0 runs first); "
             "repeat for several. Without @PRIORITY it goes just above UserServices when the manifest has "
             "<allowRegistrationBeforeUserServices/>, otherwise just below it (default: none, only the "
             "built-in applications)")
_LAB_HELP = "a lab file (TOML; template: mspl_lite/data/lab.toml) (default: the built-in contoso.com lab)"

_CHECK_EPILOG = """examples:
  mspl-lite check myapp.am
  mspl-lite check *.am --json

exit status: 0 when no file has an error (warnings allowed), 1 otherwise, 2 for a usage error."""

_APPS_EPILOG = """examples:
  mspl-lite apps
  mspl-lite apps --app myapp.am@3 --diagram chain.svg"""

_TRACE_EPILOG = """examples:
  mspl-lite trace message.sip --app myapp.am@3
  mspl-lite trace mspl_lite/data/messages/invite-jennyl.sip --app myapp.am --json --diagram path.svg

exit status: 0 when the transaction was simulated, 1 for bad input, 2 for a usage error."""


def _subparser(sub, name: str, help: str, epilog: str) -> argparse.ArgumentParser:
    # allow_abbrev is not inherited by subparsers: without it "--ap" silently meant "--app".
    return sub.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".", epilog=epilog,
                          allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mspl-lite",
        description="Learn, lint and dry-run MSPL scripts against a simulated Lync Server 2013 Front End.",
        epilog="mspl-lite COMMAND --help shows each command's options.",
        allow_abbrev=False,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    check = _subparser(sub, "check", "check application manifests (.am) and their MSPL scripts", _CHECK_EPILOG)
    check.add_argument("files", nargs="+", metavar="FILE.am",
                       help="a manifest (.am) or a bare MSPL script (.mspl); several are checked one by one")
    check.add_argument("--json", action="store_true",
                       help="print the diagnostics as one JSON list on stdout (default: text on stderr, "
                            "a summary on stdout)")

    apps = _subparser(sub, "apps", "list the server application chain (like Get-CsServerApplication)",
                      _APPS_EPILOG)
    apps.add_argument("--app", action="append", default=[], metavar="FILE.am[@PRIORITY]", help=_APP_HELP)
    apps.add_argument("--lab", metavar="FILE", help=_LAB_HELP)
    apps.add_argument("--json", action="store_true", help="print the chain as JSON (default: a table)")
    apps.add_argument("--diagram", metavar="FILE.svg",
                      help="also write the chain diagram; .svg, .dot or .png by the name's suffix "
                           "(default: no diagram)")

    trace = _subparser(sub, "trace", "simulate one SIP transaction through the chain", _TRACE_EPILOG)
    trace.add_argument("message", metavar="MESSAGE_FILE",
                       help="a file holding one SIP request or response as text (samples: "
                            "mspl_lite/data/messages/)")
    trace.add_argument("--app", action="append", default=[], metavar="FILE.am[@PRIORITY]", help=_APP_HELP)
    trace.add_argument("--lab", metavar="FILE", help=_LAB_HELP)
    trace.add_argument("--json", action="store_true",
                       help="print the trace as JSON (default: text, application by application)")
    trace.add_argument("--diagram", metavar="FILE.svg",
                       help="also write the transaction diagram; .svg, .dot or .png by the name's suffix "
                            "(default: no diagram)")
    return parser


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """Parse ``argv``; an unknown argument is reported with the subcommand's usage, not the top level's."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        sub.choices[args.command].error(f"unrecognized arguments: {' '.join(extra)}")  # exits 2
    return args


def _run(args) -> int:
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
    except BrokenPipeError:
        raise
    except OSError as err:  # e.g. --diagram into a folder that does not exist
        name = display_path(getattr(err, "filename", None) or "")
        print(f"{name}: error: {shown(err.strerror or str(err))}", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    try:
        status = _run(_parse(argv))
        sys.stdout.flush()  # here, so that a reader that went away is noticed inside the try
        return status
    except BrokenPipeError:
        # `mspl-lite apps | head`: the reader has gone, which is not an error. As the Python docs
        # (signal module, "Note on SIGPIPE") advise, point stdout at devnull so that the flush at
        # exit does not fail a second time, and end quietly.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):  # stdout is not a real file (captured in a test)
            pass
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
