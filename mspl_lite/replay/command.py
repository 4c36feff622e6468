"""``mspl-lite replay CAPTURE... --app X.am[@P]``: a capture through the chain, summary then message by message.

This module is the command's top-of-stack part (like mspl_lite/commands.py): it reads captures
(mspl_lite.capture), runs the engine (run.py) and, for ``--report``, the view
(mspl_lite.view.replay_report). Per-message lines go to a temporary file while the replay runs,
so the summary can come first while memory stays bounded on a capture of any size.
"""
from __future__ import annotations

import json
import tempfile
from typing import Any, Iterable, Iterator, TextIO

from ..errors import InputError
from .engine import KEEP_TRACES, load_config
from .model import MessageResult, Summary
from .run import replay_stream

__all__ = ["replay_command", "captured_messages", "MAX_REPORT_ROWS"]

#: Messages the HTML report lists, each with its diagram: a browser handles a few hundred inline
#: SVG diagrams well; the summary counts every message and --json lists them all.
MAX_REPORT_ROWS = KEEP_TRACES

#: Capture statistics shown in the summary (CaptureStats fields).
_STATS = ("packets", "sip_messages", "non_sip", "keepalives", "tls_unreadable", "fragments", "unsupported",
          "truncated", "malformed", "gaps", "resyncs", "flows_evicted", "diagnostics_dropped")


def captured_messages(captures: Iterable[Any], summary: Summary) -> Iterator[Any]:
    """Every message of every capture in turn; each capture's statistics go into ``summary`` when it ends."""
    for capture in captures:
        for message in capture:
            yield message
        stats = {"path": capture.name, "format": capture.format}
        stats.update({k: getattr(capture.stats, k, 0) for k in _STATS})
        stats["diagnostics"] = [str(d) for d in getattr(capture.stats, "diagnostics", ())]
        summary.capture_stats.append(stats)


def replay_command(args, out: TextIO) -> int:
    """Replay the captures; text (summary first), or JSON with --json; --report writes the HTML report."""
    from ..capture import read_capture
    from ..commands import parse_app_spec

    apps = [parse_app_spec(spec) for spec in args.app or []]
    config = load_config(apps, getattr(args, "lab", None), getattr(args, "server_address", None) or ())
    jobs = getattr(args, "jobs", None)
    if jobs is not None and jobs < 1:
        raise InputError.at(f"--jobs {jobs}: the number of worker processes is 1 or more", filename="--jobs",
                            hint="leave --jobs out to use every core, or write --jobs 1 for one process")
    captures = [read_capture(path) for path in args.captures]   # each is sniffed now: a wrong file fails early
    summary = Summary()
    results = replay_stream(captured_messages(captures, summary), config, jobs=jobs, summary=summary)
    rows: list[MessageResult] = []
    want_rows = MAX_REPORT_ROWS if getattr(args, "report", None) else 0
    as_json = getattr(args, "json", False)
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="surrogateescape") as spool:
        for r in results:
            if len(rows) < want_rows:
                rows.append(r)
            if as_json:
                spool.write(json.dumps(r.to_json()) + "\n")
            else:
                spool.write(r.line() + "\n")
        if getattr(args, "report", None):
            from ..view.replay_report import write_report

            write_report(args.report, summary, rows, captures=[c.name for c in captures])
        spool.seek(0)
        if as_json:
            out.write('{"summary": ' + json.dumps(summary.to_json(), indent=2) + ',\n "messages": [\n')
            first = True
            for line in spool:
                out.write(("" if first else ",\n") + line.rstrip("\n"))
                first = False
            out.write("\n]}\n")
        else:
            out.write(summary.text() + "\n\n")
            for line in spool:
                out.write(line)
    return 0
