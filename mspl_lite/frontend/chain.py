"""The server application chain: an ordered table of applications, like Get-CsServerApplication.

Theory of operation. The chain is data: a list of ``ServerApplication`` rows whose position is
their Priority (0 runs first). New-CsServerApplication inserts at a priority and renumbers the
rows below; a priority past the end places the application last (set-csserverapplication,
new-csserverapplication). An application placed above UserServices must declare
``<allowRegistrationBeforeUserServices/>`` or the server refuses it (dn439109); the server also
refuses an application whose serverFilter roles exclude this server's role (bb679985). Every
application "must be set higher than the DefaultRouting application" (Dn439078): one registered
below it is accepted, run, and warned about everywhere it shows (decision D52). DefaultRouting is
critical and stays critical (Gg182598, decision D50).

Three kinds of rows: the built-in applications (builtins/), MSPL applications (a manifest and
its compiled Script), and ``PythonApplication`` -- a hand-written Python function standing in
for a script, used to compare costs (bench/bench_chain.py) and to try ideas quickly.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Literal

from ..errors import RegistrationRefused, UsageError
from ..language.run import CriticalError, Disposition, LogEntry, ScriptRun
from ..manifest import ApplicationManifest, RequestFilter, ResponseFilter
from ..sip import Response
from ..text import lone_surrogate, replace_lone_surrogates, shown
from .builtins import BuiltinApplication, default_builtins
from .lab import aor_of
from .managed import handler_fault

__all__ = ["ServerApplication", "PythonApplication", "ScriptApi", "Chain", "strict_route_reason"]

AppKind = Literal["builtin", "mspl", "python"]


# ---------------------------------------------------------------------------------------------
# A Python stand-in for a script


class ScriptApi:
    """What a PythonApplication's handler may do: the MSPL dispositions, in Python."""

    __slots__ = ("run",)

    def __init__(self, run: ScriptRun):
        self.run = run

    def __repr__(self) -> str:
        return f"<ScriptApi {len(self.run.dispositions)} dispositions>"

    def _dispose(self, kind: str, **fields: Any) -> None:
        # No source position: a Python stand-in has no script lines (line 0 = none).
        d = Disposition(kind=kind, line=0, column=0, **fields)
        self.run.dispositions.append(d)
        if d.handles:
            self.run.handled = True

    def proxy_request(self, uri: str = "") -> None:
        """ProxyRequest(uri): "" hands the request on; a URI routes it there."""
        _text_argument("proxy_request", uri)
        self._dispose("proxy", uri=uri)

    def retarget_request(self, uri: str) -> None:
        """RetargetRequest(uri): a new target user; later applications route it."""
        _text_argument("retarget_request", uri, empty=False)
        self._dispose("retarget", uri=uri)

    def respond(self, status: int, reason: str, *headers: str) -> None:
        """Respond(status, reason, "Name=value", ...).

        The response is checked here, by the SIP layer's own rules, so that a bad one is a fault
        of the handler (a critical error in the trace, D74), not an error later in FrontEnd.send.
        """
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 699:
            raise UsageError(f"respond() takes a status code from 100 to 699, not {_brief(status)}")
        if not all(isinstance(h, str) and "=" in h for h in headers):
            raise UsageError('respond() takes headers as "Name=value" strings (Respond\'s form, gg425477)')
        pairs = tuple(tuple(h.split("=", 1)) for h in headers)
        Response(status, reason, headers=pairs)    # raises UsageError for a reason or header SIP cannot carry
        self._dispose("respond", status=status, reason=reason, headers=pairs)

    def proxy_response(self) -> None:
        """ProxyResponse(): pass the response on."""
        self._dispose("proxy_response")

    def dispatch(self, method: str, *args: Any) -> None:
        """Dispatch(method, args...): hand the request to managed code (FrontEnd.send's dispatch_handlers)."""
        _text_argument("dispatch", method, empty=False)
        self._dispose("dispatch", method=method, args=args)

    def fork(self, *uris: str) -> None:
        """BeginFork(); Fork(u) for each; EndFork()."""
        if not uris:
            raise UsageError("fork() needs at least one URI (EndFork without a Fork is a critical error in MSPL)")
        for uri in uris:
            _text_argument("fork", uri, empty=False)
        self._dispose("fork", fork_uris=tuple(uris))

    def log(self, level: str, *lines: str) -> None:
        """Log(level, ...): "Event", "Error" or "Debugr" (anything else logs as Debugr)."""
        lvl = level if level in ("Event", "Error", "Debugr") else "Debugr"
        self.run.log.append(LogEntry(level=lvl, name=str(level), detail=False,
                                     lines=tuple(replace_lone_surrogates(str(line)) for line in lines)))


def _brief(value: Any) -> str:
    """A value as a message quotes it: printable, at most 60 characters."""
    text = shown(repr(value))
    return text if len(text) <= 60 else text[:57] + "..."


def _text_argument(call: str, value: Any, *, empty: bool = True) -> None:
    """A URI or name argument of a ScriptApi call: one line of text (else a UsageError in the handler)."""
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise UsageError(f"{call}() takes a {'non-empty ' if not empty else ''}string, not {_brief(value)}")
    if lone_surrogate(value) is not None or any(c in value for c in "\r\n\x00"):
        raise UsageError(f"{call}() takes one line of text, not {_brief(value)}")


@dataclass(frozen=True, slots=True, kw_only=True)
class PythonApplication:
    """A hand-written Python function in place of an MSPL script (same filters, same dispositions).

    ``handler(message, api)`` reads the sip message and calls ``api.proxy_request(...)``,
    ``api.retarget_request(...)``, ``api.respond(...)``, ``api.log(...)``. A handler that raises
    is a critical error of the application (in the trace with the handler's line; it counts
    toward the ten that disable it): the dispositions it made before stand, and proxyByDefault
    decides as after a script's critical error (decisions D35, D74).
    """

    name: str
    handler: Callable[[Any, ScriptApi], None]
    uri: str = ""
    request_filter: RequestFilter = field(default_factory=RequestFilter)
    response_filter: ResponseFilter = field(default_factory=ResponseFilter)
    proxy_by_default: bool = True
    allow_registration_before_user_services: bool = False

    def __post_init__(self):
        if not self.uri:
            object.__setattr__(self, "uri", f"http://python.mspl-lite.local/{self.name}")

    def run(self, message, env=None) -> ScriptRun:
        """Run the handler like Script.run: returns a ScriptRun (``env`` is not used)."""
        run = ScriptRun(filename=f"<python {self.name}>")
        try:
            self.handler(message, ScriptApi(run))
        except Exception as exc:  # noqa: BLE001 -- the learner's handler failed: a critical error (D74)
            fault = handler_fault(exc)
            where = f" at {fault.where()}" if fault.line else ""
            run.critical_errors.append(CriticalError(
                message=f"the handler raised {fault.exception}{where}", filename=fault.filename,
                line=fault.line, column=1 if fault.line else 0, source=fault.source,
                hint="the Python stand-in stopped like a script at a critical error (decisions D35, D74)"))
            run.aborted = True
        return run

    def __repr__(self) -> str:
        return f"<PythonApplication {self.name}>"


# ---------------------------------------------------------------------------------------------
# Filters


def strict_route_reason(request, lab) -> str | None:
    """Why a request counts as strictly routed (requestFilter strictRoute), or None.

    dn439115 (its third condition is not retrieved): "The request URI has the maddr parameter.";
    "The request had a Route header that pointed to the local server when it arrived, meaning that
    the request already has destination set in the request-uri in compliance with RFC 3261." That
    is RFC 3261 loose routing (;lr), such as a request inside a dialog; dn439171 likewise calls a
    request whose "Route" header "is present and populated" one with a strict route.
    """
    uri = request.request_uri
    if ";maddr=" in uri.lower():
        return "its Request-URI has a maddr parameter"
    for route in request.get_all("Route"):
        text = route.lower()
        host = (aor_of(route) or "").split("@")[-1] or text
        if lab.server in text or lab.pool in text or lab.is_this_server(host):
            return "it arrived with a Route header pointing to this server (a strict route, dn439115)"
    return None


# ---------------------------------------------------------------------------------------------
# One row of the chain


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerApplication:
    """One application of the chain: what Get-CsServerApplication shows, plus what runs."""

    name: str
    uri: str
    kind: AppKind
    enabled: bool = True
    critical: bool = False
    script_name: str | None = None
    builtin: BuiltinApplication | None = None
    manifest: ApplicationManifest | None = None
    script: Any = None          # the compiled Script of an MSPL application
    python: PythonApplication | None = None
    order_guessed: bool = False

    def __repr__(self) -> str:
        state = "" if self.enabled else " (disabled)"
        return f"<ServerApplication {self.name} {self.kind}{state}>"

    @property
    def is_builtin(self) -> bool:
        """True for the Front End's own applications (ClientVersionFilter ... AcpRouting)."""
        return self.kind == "builtin"

    @property
    def exits(self) -> tuple[str, ...]:
        """Where it sends requests out of the server (Branch kinds): a built-in's own ``exits``;
        () for a custom application, whose ProxyRequest(uri) may go anywhere."""
        return self.builtin.exits if self.builtin is not None else ()

    @property
    def _declared(self) -> ApplicationManifest | PythonApplication | None:
        """What declares this application's filters and flags (None for a built-in application)."""
        return self.manifest if self.manifest is not None else self.python

    @property
    def allow_registration_before_user_services(self) -> bool:
        """<allowRegistrationBeforeUserServices/> (a built-in application is where it is anyway)."""
        declared = self._declared
        return True if declared is None else declared.allow_registration_before_user_services

    @property
    def proxy_by_default(self) -> bool:
        """<proxyByDefault action=...>: pass the message on when the script takes no action."""
        declared = self._declared
        return True if declared is None else declared.proxy_by_default

    @property
    def request_filter(self) -> RequestFilter | None:
        """<requestFilter>; None for a built-in application (its ``methods`` say what it sees)."""
        declared = self._declared
        return None if declared is None else declared.request_filter

    @property
    def response_filter(self) -> ResponseFilter | None:
        """<responseFilter>; None for a built-in application, which sees every response."""
        declared = self._declared
        return None if declared is None else declared.response_filter

    def runner(self):
        """The object whose ``run(message, env)`` gives a ScriptRun (script or Python stand-in)."""
        return self.script if self.kind == "mspl" else self.python

    def filter_reason(self, ctx) -> str | None:
        """None when the application sees this request; else why its filter keeps it out."""
        if self.builtin is not None:
            return self.builtin.filter_reason(ctx)
        rf = self.request_filter
        if rf is None:
            return None
        request = ctx.request
        if not rf.accepts_method(request.method):
            return f"requestFilter methodNames={rf.method_names_text} does not include {request.method}"
        if not rf.strict_route:
            why = strict_route_reason(request, ctx.lab)
            if why:
                return f"strictRoute is false and {why}"
        if not rf.registrar_generated:
            top_via = (request.get("Via") or "").lower()
            if ctx.lab.server in top_via or ctx.lab.pool in top_via:
                return "registrarGenerated is false and the request was generated by this server"
        if rf.domain_supported:
            # Decision D55: domainSupported="true" passes only requests for a domain this pool serves.
            domain = ctx.target_domain()
            if domain is not None and not ctx.lab.supports_domain(domain):
                return f'domainSupported="true" and {domain} is not a domain of this pool'
        return None

    def accepts_response(self, status: int) -> bool:
        """Whether its responseFilter lets a response of ``status`` through (built-ins see them all)."""
        if self.builtin is not None:
            return True
        rf = self.response_filter
        return rf is None or rf.accepts(status)

    def listing_row(self, pool: str, priority: int) -> dict:
        """The fields Get-CsServerApplication prints for this application."""
        return {
            "Identity": f"service:Registrar:{pool}/{self.name}",
            "Priority": priority,
            "Uri": self.uri,
            "Name": self.name,
            "Enabled": self.enabled,
            "Critical": self.critical,
            "ScriptName": self.script_name or "",
            "Kind": self.kind,
            "OrderGuessed": self.order_guessed,
        }


# ---------------------------------------------------------------------------------------------
# The chain


class Chain:
    """The ordered applications of one Registrar service; position = Priority."""

    __slots__ = ("pool", "_apps")

    def __init__(self, pool: str, apps: Iterable[ServerApplication] = ()):
        self.pool = pool
        self._apps: list[ServerApplication] = list(apps)

    @classmethod
    def default(cls, pool: str) -> "Chain":
        """The built-in applications of a Lync Server 2013 Front End in the order Gg182575 lists them (D10)."""
        rows = []
        for b in default_builtins():
            rows.append(ServerApplication(name=b.name, uri=b.uri, kind="builtin", enabled=True,
                                          critical=b.critical, builtin=b,
                                          order_guessed=b.order_guessed))
        return cls(pool, rows)

    def __repr__(self) -> str:
        return f"<Chain {self.pool}: {', '.join(a.name for a in self._apps)}>"

    def __len__(self) -> int:
        return len(self._apps)

    def __iter__(self):
        return iter(self._apps)

    def __getitem__(self, index: int) -> ServerApplication:
        return self._apps[index]

    @property
    def apps(self) -> tuple[ServerApplication, ...]:
        """The applications in priority order (a snapshot)."""
        return tuple(self._apps)

    def index(self, name: str) -> int:
        """Priority of the application called ``name`` (case-insensitive); KeyError if absent."""
        for i, app in enumerate(self._apps):
            if app.name.lower() == name.lower():
                return i
        raise KeyError(f"no application named {name!r} in the chain")

    def get(self, name: str) -> ServerApplication:
        """The application called ``name`` (case-insensitive); KeyError if absent."""
        return self._apps[self.index(name)]

    def insert(self, app: ServerApplication, priority: int | None = None) -> int:
        """New-CsServerApplication: put ``app`` at ``priority`` (None or past the end: last).

        Raises RegistrationRefused with the server's reason when an application would run
        before UserServices without <allowRegistrationBeforeUserServices/>, or when the name is
        already taken. Returns the priority it got.
        """
        if any(a.name.lower() == app.name.lower() for a in self._apps):
            raise RegistrationRefused(
                f"Cannot register {app.name}: an application named {app.name!r} already exists in "
                f"Service:Registrar:{self.pool} (Identity must be unique). Remove it first or give the "
                "new one another name.")
        if priority is not None and priority < 0:
            raise RegistrationRefused(f"Cannot register {app.name}: Priority must be 0 or more, not {priority}.")
        position = len(self._apps) if priority is None or priority > len(self._apps) else priority
        try:
            us = self.index("UserServices")
        except KeyError:
            us = -1
        if position <= us and not app.allow_registration_before_user_services:
            raise RegistrationRefused(
                f"Cannot register {app.name} at priority {position}: it would run before UserServices "
                f"(priority {us}), and its manifest does not declare <allowRegistrationBeforeUserServices/>. "
                "The server refuses the registration and logs an event (dn439109). Add the element to the "
                f"manifest, or register it at priority {us + 1} or later.")
        self._apps.insert(position, app)
        return position

    def remove(self, name: str) -> ServerApplication:
        """Remove-CsServerApplication: the rows below move up one priority."""
        return self._apps.pop(self.index(name))

    def replace(self, name: str, **changes) -> ServerApplication:
        """Set-CsServerApplication -Enabled/-Critical: change a row in place.

        DefaultRouting's Critical mark cannot be changed (Gg182598): asking raises UsageError.
        """
        i = self.index(name)
        allowed = {"enabled", "critical"}
        if not set(changes) <= allowed:
            raise UsageError(f"only {sorted(allowed)} can be changed, not {sorted(set(changes) - allowed)}")
        app = self._apps[i]
        fixed = app.builtin.critical_fixed if app.builtin is not None else None
        if fixed and "critical" in changes and bool(changes["critical"]) != app.critical:
            raise UsageError(
                f"{app.name} stays critical: \"the DefaultRouting script is marked as critical, and this option "
                f"cannot be changed for DefaultRouting\" ({fixed}). The Control Panel offers no \"Unselect as "
                "critical\" for it, and mspl-lite refuses the change (decision D50).")
        self._apps[i] = replace(self._apps[i], **changes)
        return self._apps[i]

    # -- listing ----------------------------------------------------------------------------

    def below_default_routing(self) -> list[tuple[int, ServerApplication]]:
        """(priority, application) of every custom application placed below DefaultRouting.

        Dn439078: "In any case, the application priority level must be set higher than the
        DefaultRouting application." The simulator still runs such an application (decision D52).
        """
        try:
            dr = self.index("DefaultRouting")
        except KeyError:
            return []
        return [(i, a) for i, a in enumerate(self._apps) if i > dr and not a.is_builtin]

    def placement_warnings(self, *, quote: bool = True) -> list[str]:
        """One sentence per custom application registered where Dn439078 says it must not be
        (``quote=False``: without Dn439078's sentence, for a trace that quotes it once)."""
        try:
            dr = self.index("DefaultRouting")
        except KeyError:
            return []
        return [placement_warning(app.name, i, dr, quote=quote) for i, app in self.below_default_routing()]

    def listing(self) -> list[dict]:
        """Get-CsServerApplication as rows of dicts, in priority order (plus mspl-lite's notes)."""
        rows = [app.listing_row(self.pool, i) for i, app in enumerate(self._apps)]
        below = {i for i, _ in self.below_default_routing()}
        dr = self.index("DefaultRouting") if below else -1
        for row in rows:
            row["Warning"] = placement_warning(row["Name"], row["Priority"], dr) if row["Priority"] in below else ""
        return rows

    def listing_text(self) -> str:
        """Get-CsServerApplication's list format, one block per application, then the notes."""
        blocks = []
        for app, row in zip(self._apps, self.listing()):
            lines = []
            for key in ("Identity", "Priority", "Uri", "Name", "Enabled", "Critical", "ScriptName"):
                value = row[key]
                if isinstance(value, bool):
                    value = "True" if value else "False"
                lines.append(f"{key:<11}: {value}")
            if app.builtin is not None:
                lines.append(f"{'Note':<11}: {builtin_note(app.builtin)}")
            elif row["Kind"] == "python":
                lines.append(f"{'Note':<11}: Python stand-in (not an MSPL script)")
            if row["Warning"]:
                lines.append(f"{'Warning':<11}: {row['Warning']}")
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks) + "\n\n" + LISTING_FOOTER

    def table_text(self) -> str:
        """A compact one-line-per-application table (Get-CsServerApplication | Format-Table)."""
        width = max([len(a.name) for a in self._apps] + [4])
        out = [f"{'Priority':>8}  {'Name':<{width}}  {'Enabled':<7}  {'Critical':<8}  Uri"]
        below = {i for i, _ in self.below_default_routing()}
        for i, app in enumerate(self._apps):
            mark = " *" if app.order_guessed else (" !" if i in below else "")
            out.append(f"{i:>8}  {app.name:<{width}}  {str(app.enabled):<7}  {str(app.critical):<8}  {app.uri}{mark}")
        out.append("* listed in this order by Gg182575; that DefaultRouting runs before ExumRouting and "
                   "OutboundRouting is inferred (decision D10)")
        if below:
            out.append("! below DefaultRouting: Dn439078 says every application \"must be set higher than the "
                       "DefaultRouting application\" (decision D52)")
        out.append("Priority numbers, Uris and the Enabled and Critical values of the built-in applications are "
                   "inferred, except DefaultRouting: enabled by default (Gg182575), critical (Gg182598); "
                   "decision D50")
        return "\n".join(out)


#: What `mspl-lite apps` says under the list: which parts of it are documented.
LISTING_FOOTER = (
    "The built-in applications are in the order Gg182575 lists them; that page says of the Control Panel's "
    "list that \"The scripts run in the order they are listed\", and that its own list is that order is "
    "inferred (decision D10). Their Priority numbers and Uris are inferred (only QoEAgent's Uri is "
    "documented, set-csserverapplication). Their Enabled and Critical values are inferred too (decision D50), "
    "except DefaultRouting's: \"It is enabled by default\" (Gg182575), and \"the DefaultRouting script is "
    "marked as critical, and this option cannot be changed for DefaultRouting\" (Gg182598).")


def builtin_note(builtin: BuiltinApplication) -> str:
    """The Note line `mspl-lite apps` prints for a built-in application: what is inferred about it."""
    parts = ["built-in; Priority number inferred"]
    if builtin.place_note:
        parts.append(builtin.place_note)
    if builtin.critical_source:
        fixed = ", and that cannot be changed" if builtin.critical_fixed else ""
        parts.append(f"critical ({builtin.critical_source}){fixed}")
    else:
        parts.append("Critical value not documented (decision D50)")
    parts.append(f"methods it handles: {builtin.methods_basis()}")
    return "; ".join(parts)


def placement_warning(name: str, priority: int, default_routing: int, *, quote: bool = True) -> str:
    """The warning for a custom application at ``priority``, below DefaultRouting at ``default_routing``."""
    rule = ("Dn439078: \"In any case, the application priority level must be set higher than the DefaultRouting "
            "application.\" " if quote else "")
    return (f"{name} is at priority {priority}, below DefaultRouting (priority {default_routing}). {rule}"
            "mspl-lite runs it for the requests DefaultRouting passes on (decision D52); "
            f"on a real pool register it at priority {default_routing} or less.")
