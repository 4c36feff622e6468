"""The record of one script execution: what it decided, what it logged, where it failed.

``Script.run(message)`` returns a ``ScriptRun``. The Front End simulator reads it to move the
message along the application chain; the trace and the widgets show it to the learner.

* ``Disposition``: one routing decision (ProxyRequest, Respond, EndFork, Dispatch, ...).
* ``LogEntry``: one call of ``Log`` (what ApiLogger.exe or the event log would show).
* ``CriticalError``: a runtime fault the server logs as a critical error; the script stops.
  Ten of them disable the application (Dn439080) -- the simulator counts them.

``ScriptFault`` is the interpreter's internal signal for such a fault; it never leaves
``Script.run``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import Diagnostic
from .signatures import HANDLED_DISPOSITIONS

__all__ = ["Disposition", "LogEntry", "CriticalError", "ScriptRun", "ScriptFault", "DISPOSITION_KINDS",
           "log_line"]

DispositionKind = Literal["proxy", "retarget", "respond", "proxy_response", "dispatch",
                          "dispatch_notification", "fork"]

#: Every disposition kind, with the built-in that records it.
DISPOSITION_KINDS: dict[str, str] = {
    "proxy": "ProxyRequest",
    "retarget": "RetargetRequest",
    "respond": "Respond",
    "proxy_response": "ProxyResponse",
    "dispatch": "Dispatch",
    "dispatch_notification": "DispatchNotification",
    "fork": "EndFork",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Disposition:
    """One routing decision of a script, at the line and column of the call that made it.

    ``proxy`` with ``uri == ""`` is ``ProxyRequest("")``: hand the request on unchanged.
    ``respond`` carries ``status``, ``reason`` and the extra ``headers`` as (name, value) pairs.
    ``dispatch``/``dispatch_notification`` carry the managed ``method`` and its ``args``.
    ``fork`` (recorded by EndFork) carries every ``Fork`` URI in ``fork_uris``.
    """

    kind: DispositionKind
    line: int
    column: int
    uri: str | None = None
    status: int | None = None
    reason: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    method: str | None = None
    args: tuple[Any, ...] = ()
    fork_uris: tuple[str, ...] = ()

    @property
    def function(self) -> str:
        """The MSPL built-in that made this decision."""
        return DISPOSITION_KINDS[self.kind]

    @property
    def is_final(self) -> bool:
        """True when the message has left the application (a 1xx Respond has not)."""
        if self.kind == "respond":
            return (self.status or 0) >= 200
        return self.kind != "dispatch_notification"

    @property
    def handles(self) -> bool:
        """True when this decision counts as "handled" for proxyByDefault (hh364691)."""
        return self.kind in HANDLED_DISPOSITIONS and self.is_final

    def describe(self) -> str:
        """``ProxyRequest("sip:bob@contoso.com")`` -- the call as the script made it."""
        if self.kind in ("proxy", "retarget"):
            return f'{self.function}("{self.uri or ""}")'
        if self.kind == "respond":
            extra = "".join(f', "{n}={v}"' for n, v in self.headers)
            return f'Respond({self.status}, "{self.reason or ""}"{extra})'
        if self.kind in ("dispatch", "dispatch_notification"):
            args = "".join(", " + _show(a) for a in self.args)
            return f'{self.function}("{self.method}"{args})'
        if self.kind == "fork":
            return "EndFork() -> " + ", ".join(self.fork_uris)
        return f"{self.function}()"

    def __str__(self) -> str:
        return f"line {self.line}: {self.describe()}"


def log_line(strings) -> str:
    """The strings of one ``Log`` call as one line: the spaces at their ends dropped, one space between.

    The server writes each string on a line of its own (gg439513), while scripts write them as
    the parts of one sentence: ``Log("Debugr", false, "call to ", uri)``. Read on one line, the
    parts join as their author meant, ``call to sip:kima@contoso.com``, not ``call to  | sip:...``
    with the trailing space and a separator. The strings themselves stay in ``LogEntry.lines``
    and, one per line as the server writes them, in ``LogEntry.text`` and ``LogLine.text``.
    """
    return " ".join(part.strip() for text in strings for part in text.splitlines() if part.strip())


@dataclass(frozen=True, slots=True, kw_only=True)
class LogEntry:
    """One ``Log(name, detail, s1, ...)`` call.

    ``level`` is where the server writes it: "Event" (a warning in the event log), "Error"
    (an error in the event log) or "Debugr" (the debug log of ApiLogger.exe) -- any other
    ``name`` logs as "Debugr"; ``name`` keeps what the script wrote. ``lines`` are the string
    arguments, one per line. ``summary`` is what the server adds: with ``detail`` false the
    application URI, Method, Request-Uri, From and To; with ``detail`` true the whole message
    except its Content, decision D15 (the server's time stamp is left out: the simulator has no
    clock).
    """

    level: Literal["Event", "Error", "Debugr"]
    name: str
    detail: bool
    lines: tuple[str, ...]
    summary: tuple[str, ...] = ()
    line: int = 0
    column: int = 0

    @property
    def text(self) -> str:
        """The logged strings, joined as the server joins them (one per line)."""
        return "\n".join(self.lines)

    def __str__(self) -> str:
        name = self.level if self.name == self.level else f"{self.level} (as {self.name!r})"
        return f"[{name}] line {self.line}: {log_line(self.lines)}".rstrip()


@dataclass(frozen=True, slots=True, kw_only=True)
class CriticalError:
    """A runtime fault of the script, as the server logs it; the script stops there.

    ``source`` is the text of the offending line; ``str()`` renders like a Diagnostic:
    ``file:line:col: critical error: message``, the line, a caret and a hint.
    """

    message: str
    filename: str = "<script>"
    line: int = 0
    column: int = 0
    source: str | None = None
    hint: str | None = None

    def to_diagnostic(self) -> Diagnostic:
        """The same fault as a Diagnostic (severity "critical error") for shared renderers."""
        return Diagnostic(severity="critical error", message=self.message,  # type: ignore[arg-type]
                          filename=self.filename, line=self.line, column=self.column,
                          source=self.source, hint=self.hint, code="critical")

    def render(self) -> str:
        """``file:line:col: critical error: message``, the source line, a caret and the hint."""
        return self.to_diagnostic().render()

    def __str__(self) -> str:
        return self.render()


@dataclass(slots=True, eq=False)
class ScriptRun:
    """Everything one execution of a script did, in order.

    ``handled`` is true when a disposition counts as handled for proxyByDefault (Dispatch,
    ProxyRequest, ProxyResponse, EndFork, a final Respond, and RetargetRequest per
    docs/ARCHITECTURE.md). ``aborted`` is true when a critical error stopped the script.
    """

    filename: str = "<script>"
    dispositions: list[Disposition] = field(default_factory=list)
    log: list[LogEntry] = field(default_factory=list)
    critical_errors: list[CriticalError] = field(default_factory=list)
    aborted: bool = False
    handled: bool = False
    steps: int = 0
    work: int = 0            # characters the built-ins touched (ScriptEnvironment.work_budget)
    memory: int = 0          # characters the run built or kept (ScriptEnvironment.memory_budget)
    returned: bool = False   # the script body ended with a top-level ``return``

    @classmethod
    def fresh(cls, filename: str) -> "ScriptRun":
        """An empty record, as ``ScriptRun(filename=filename)`` makes it, without the generated
        ``__init__``'s keyword handling and default factories: every script run starts with one."""
        run = object.__new__(cls)
        run.filename = filename
        run.dispositions = []
        run.log = []
        run.critical_errors = []
        run.aborted = run.handled = run.returned = False
        run.steps = run.work = run.memory = 0
        return run

    @property
    def final(self) -> Disposition | None:
        """The disposition that sent the message on (None if there is none)."""
        for d in self.dispositions:
            if d.is_final:
                return d
        return None

    def describe(self) -> str:
        """A few readable lines: decisions, log, critical errors."""
        out = [f"{self.filename}: {'handled' if self.handled else 'not handled'}"
               f"{', aborted' if self.aborted else ''}, {self.steps} steps"]
        out += [f"  {d}" for d in self.dispositions]
        out += [f"  {e}" for e in self.log]
        out += ["  " + e.render().replace("\n", "\n  ") for e in self.critical_errors]
        return "\n".join(out)

    def __repr__(self) -> str:
        kinds = ",".join(f"{d.kind}@{d.line}" for d in self.dispositions) or "none"
        flags = ("handled " if self.handled else "") + ("aborted " if self.aborted else "")
        return (f"<ScriptRun {flags}dispositions={kinds} log={len(self.log)} "
                f"critical={len(self.critical_errors)} steps={self.steps}>")

    def __str__(self) -> str:
        return self.describe()


# -- the records a run makes most, made without the generated __init__ -------------------------
# A frozen dataclass's __init__ takes keywords and sets each field through object.__setattr__;
# setting the slots through their descriptors makes the same (equal) record in half the time,
# which is a measurable part of a short script's run (bench/bench_script.py). The parameters
# follow the fields in order (tests/test_script_fast_paths.py checks that they still do).

_new = object.__new__
(_d_kind, _d_line, _d_column, _d_uri, _d_status, _d_reason, _d_headers, _d_method, _d_args,
 _d_fork_uris) = (Disposition.__dict__[name].__set__ for name in (
    "kind", "line", "column", "uri", "status", "reason", "headers", "method", "args", "fork_uris"))
(_l_level, _l_name, _l_detail, _l_lines, _l_summary, _l_line, _l_column) = (
    LogEntry.__dict__[name].__set__ for name in ("level", "name", "detail", "lines", "summary", "line", "column"))


def new_disposition(kind: str, line: int, column: int, uri: str | None = None, status: int | None = None,
                    reason: str | None = None, headers: tuple = (), method: str | None = None,
                    args: tuple = (), fork_uris: tuple = ()) -> Disposition:
    """``Disposition(kind=..., line=..., ...)``, made faster (see above)."""
    d = _new(Disposition)
    _d_kind(d, kind)
    _d_line(d, line)
    _d_column(d, column)
    _d_uri(d, uri)
    _d_status(d, status)
    _d_reason(d, reason)
    _d_headers(d, headers)
    _d_method(d, method)
    _d_args(d, args)
    _d_fork_uris(d, fork_uris)
    return d


def new_log_entry(level: str, name: str, detail: bool, lines: tuple, summary: tuple, line: int,
                  column: int) -> LogEntry:
    """``LogEntry(level=..., name=..., ...)``, made faster (see above)."""
    e = _new(LogEntry)
    _l_level(e, level)
    _l_name(e, name)
    _l_detail(e, detail)
    _l_lines(e, lines)
    _l_summary(e, summary)
    _l_line(e, line)
    _l_column(e, column)
    return e


class ScriptFault(Exception):
    """Internal: a runtime fault of the script. The interpreter adds the location (``node``)
    and ``Script.run`` turns it into a ``CriticalError``; it never reaches the caller."""

    def __init__(self, message: str, hint: str | None = None, node: Any = None, *,
                 recorded: bool = False):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.node = node
        self.recorded = recorded   # the CriticalError(s) are already on the run


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value + '"'
    return str(value)
