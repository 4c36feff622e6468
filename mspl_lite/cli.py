"""The ``mspl-lite`` command line.

    mspl-lite check FILE.am ...                   lint manifests and their scripts
    mspl-lite apps  [--app FILE.am@PRIORITY ...]  list the chain like Get-CsServerApplication
    mspl-lite trace MESSAGE --app FILE.am@PRIO    simulate one transaction through the chain
    mspl-lite serve --app FILE.am@PRIO            the chain as a loopback SIP proxy and registrar
    mspl-lite replay CAPTURE... --app FILE.am     replay captured traffic through the chain

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


_REPLAY_EPILOG = """examples:
  mspl-lite replay calls.pcapng --app myapp.am@3
  mspl-lite replay fe01.log --app myapp.am --report replay.html
  mspl-lite replay mspl_lite/data/messages --app myapp.am --json --jobs 1

Messages the Front End received run through the chain; messages it sent are set beside
the prediction (decision D107 in docs/ARCHITECTURE.md).

exit status: 0 when the captures were replayed (malformed messages are counted, not fatal),
1 for a file that is no capture or another bad input, 2 for a usage error."""


_SERVE_EPILOG = """examples:
  mspl-lite serve --app myapp.am@3
  mspl-lite serve --listen 127.0.0.1:0 --contact sip:nuriag@contoso.com=127.0.0.1:5071 --trace-dir traces
  sipp -sn uac -s nuriag 127.0.0.1:5060 -m 1       (a SIPp call through the chain)

When ready it prints one line, "mspl-lite serve: listening on HOST:PORT (...)"; Ctrl+C (SIGINT) or
SIGTERM stops it. exit status: 0 when stopped, 1 for bad input, 2 for a usage error."""


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

    replay = _subparser(sub, "replay", "replay captured SIP traffic (pcap, pcapng, Lync server or client logs, "
                        ".sip files) through the chain", _REPLAY_EPILOG)
    replay.add_argument("captures", nargs="+", metavar="CAPTURE",
                        help="a pcap or pcapng file, a Lync Server SIPStack log (OCSLogger, CLS or Snooper text), "
                             "a Lync client UccApi log, a .sip file or a folder of them; several are replayed in turn")
    replay.add_argument("--app", action="append", default=[], metavar="FILE.am[@PRIORITY]", help=_APP_HELP)
    replay.add_argument("--lab", metavar="FILE", help=_LAB_HELP)
    replay.add_argument("--json", action="store_true",
                        help="print the summary and every message as JSON (default: text, summary first)")
    replay.add_argument("--report", metavar="FILE.html",
                        help="also write a self-contained HTML report: summary, message table, the diagram "
                             "of a message when clicked (default: no report)")
    replay.add_argument("--jobs", type=int, metavar="N",
                        help="worker processes; results are the same for any N (default: every core)")
    replay.add_argument("--server-address", action="append", default=[], metavar="HOST",
                        help="an address (IP or name) of the Front End in the capture's Via headers, besides the "
                             "lab's server and pool names; repeat for several (default: none)")

    serve = _subparser(sub, "serve", "run the chain as a SIP proxy and registrar on the loopback interface",
                       _SERVE_EPILOG)
    serve.add_argument("--app", action="append", default=[], metavar="FILE.am[@PRIORITY]", help=_APP_HELP)
    serve.add_argument("--lab", metavar="FILE", help=_LAB_HELP)
    serve.add_argument("--listen", metavar="HOST:PORT",
                       help="where to listen, UDP and TCP on the same port; 127.0.0.1:0 picks a free port. An "
                            "address outside 127.0.0.0/8 and ::1 is used only when named here, and the start "
                            "line says so (default: 127.0.0.1:5060)")
    serve.add_argument("--transport", metavar="udp,tcp", help="the transports to listen on (default: udp,tcp)")
    serve.add_argument("--contact", action="append", default=[], metavar="USER=HOST:PORT",
                       help="let a real user agent play a lab user: sip:nuriag@contoso.com=127.0.0.1:5071 "
                            "(tcp:127.0.0.1:5071 for TCP) replaces that user's simulated endpoints; repeat for "
                            "several (default: only the lab's own endpoints, and clients that REGISTER)")
    serve.add_argument("--trace-dir", metavar="DIR",
                       help="write NNNNNN-METHOD.txt and .json (the trace and what crossed the wire) for every "
                            "transaction into DIR, created if missing (default: none written)")
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
        if args.command == "serve":
            from .wire.serve import serve_command
            return serve_command(args, sys.stdout, commands._front_end)
        if args.command == "apps":
            return commands.apps_command(args, sys.stdout)
        if args.command == "replay":
            from .replay.command import replay_command
            return replay_command(args, sys.stdout)
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
