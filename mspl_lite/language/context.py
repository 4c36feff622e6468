"""What a script runs in: the environment the caller sets up, and the live state of one run.

* ``ScriptEnvironment``: where a script runs -- the server (its FQDN, pool, role and registrar
  state) and the facts about the message that are not in the message itself. The Front End
  simulator builds one per application; ``Script.run(message, env)`` takes it.
* ``ScriptContext``: the state of one run, built from the script, the message and the
  environment. The compiled closures (compiler.py) and the built-ins (builtins.py) read and
  change it; its ``run`` is the ScriptRun record returned to the caller.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError, source_line
from ..sip import Request, Response
from ..sip import address as sip_address
from .run import CriticalError, Disposition, ScriptFault, ScriptRun
from .server import InMemoryServer, ServerState
from .values import ENUMS, MessageView, SourceInfo, TargetInfo

__all__ = ["ScriptEnvironment", "ScriptContext", "default_environment",
           "MAX_STRING", "MAX_COLLECTION", "DEFAULT_STEP_BUDGET", "DEFAULT_WORK_BUDGET",
           "DEFAULT_MEMORY_BUDGET"]

#: Memory bounds of one run: a longer string or a bigger collection is a critical error.
MAX_STRING = 1_000_000
MAX_COLLECTION = 100_000
#: Statements, loop iterations and calls one run may take before it is stopped.
DEFAULT_STEP_BUDGET = 100_000
#: Characters (and collection elements) the built-ins of one run may touch: searched, compared,
#: copied, split, case-folded, parsed or logged. A step can touch up to MAX_STRING characters, so
#: the step budget alone bounds nothing (100,000 searches of 512 KB ran for a minute). 50 million
#: is under a second of the slowest such work (case folding, the message text of a detailed Log)
#: here, and about 5,000 times what a shipped sample's run touches.
DEFAULT_WORK_BUDGET = 50_000_000
#: Characters one run may leave alive: strings built (Concatenate, SubString, Split), header
#: values added or set, Content, Log entries (their strings and summary), Respond's headers and
#: Fork URIs. MAX_STRING bounds one string, not their sum; 20 million characters is at most
#: 80 MB of Python text (4 bytes per character, 20 MB for ASCII), far above any real run, and
#: below the work budget so that a loop that keeps what it builds stops on memory first.
DEFAULT_MEMORY_BUDGET = 20_000_000

# ============================================================================================
# The environment a script runs in
# ============================================================================================

@dataclass(frozen=True, slots=True)
class ScriptEnvironment:
    """Where a script runs: the server (its FQDN, pool, role and registrar state) and the facts
    about the message that are not in the message itself.

    ``flat_files`` default to the manifest's files and ``app_uri`` to its appUri.
    ``request_target`` / ``request_source`` default to what the Request-URI / From header say
    (Uri, Aor, IsPhone for ``tel:`` or ``user=phone``, DomainSupported via ``server``).
    ``transaction_request`` is the request a response answers (``Transaction.Request``); by
    default it is rebuilt from the response's From/To/Call-ID/CSeq.
    """

    fqdn: str = "fe01.contoso.com"
    server_pool: str = "pool01.contoso.com"
    role: str = "FrontEnd"
    server: ServerState = field(default_factory=InMemoryServer)
    flat_files: Any = None
    app_uri: str | None = None
    request_target: TargetInfo | None = None
    request_source: SourceInfo | None = None
    step_budget: int = DEFAULT_STEP_BUDGET
    transaction_request: Any = None
    origin: str = "NetworkUnknown"          # MessageOrigin of the message (non-Edge server)
    authenticated: bool = True
    tls_peer: str = ""
    stamp: str | None = None
    stamp_pool: str | None = None
    max_string: int = MAX_STRING
    max_collection: int = MAX_COLLECTION
    work_budget: int = DEFAULT_WORK_BUDGET
    memory_budget: int = DEFAULT_MEMORY_BUDGET

    def __post_init__(self) -> None:
        if self.role not in ENUMS["ServerRole"]:
            raise UsageError(f"role must be one of {list(ENUMS['ServerRole'])}, not {self.role!r}")
        if self.origin not in ENUMS["MessageOrigin"]:
            raise UsageError(f"origin must be one of {list(ENUMS['MessageOrigin'])}, not {self.origin!r}")
        if isinstance(self.step_budget, bool) or not isinstance(self.step_budget, int) or self.step_budget < 1:
            raise UsageError(f"step_budget must be a positive int, not {self.step_budget!r}")
        for name in ("work_budget", "memory_budget"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"{name} must be a positive int, not {value!r}")

    def __repr__(self) -> str:
        return f"ScriptEnvironment(fqdn={self.fqdn!r}, pool={self.server_pool!r}, role={self.role!r})"


_default_environment: ScriptEnvironment | None = None


def default_environment() -> ScriptEnvironment:
    """The shared default environment (contoso.com pool of InMemoryServer)."""
    global _default_environment
    if _default_environment is None:
        _default_environment = ScriptEnvironment()
    return _default_environment


# ============================================================================================
# The state of one run
# ============================================================================================

class ScriptContext:
    """The live state of one run: the message, the environment, and what the script did so far.

    The compiled closures and the built-ins read and change it; ``run`` is the ScriptRun record
    returned to the caller.
    """

    # Only what a run changes, or reads on most runs, is copied in here: a run is short, so
    # its setup is a measurable part of it (bench/bench_script.py). The rest -- the message
    # views, the server's facts, the enum values of the environment -- is read when a script
    # asks (the properties below).
    __slots__ = (
        "script", "message", "env", "run", "is_request", "is_response",
        "_message_view", "_request_view", "_response_view",
        "flat_files", "app_uri", "marshal_content",
        "steps", "budget", "work", "work_budget", "memory", "memory_budget", "depth", "retval", "final",
        "final_response_sent", "fork_open", "fork_uris", "max_string", "max_collection",
        "_target", "_source", "_transaction_request",
    )

    def __init__(self, script: Any, message: Any, env: Any):
        kind = type(message)
        known = kind is Request or kind is Response     # the usual case, without hasattr
        if not known and not (hasattr(message, "get") and hasattr(message, "get_all")):
            raise UsageError(f"Script.run needs a mspl_lite.sip Request or Response, not {type(message).__name__}")
        self.script = script
        self.message = message
        self.env = env
        self.run = ScriptRun.fresh(script.ast.filename)
        self.is_request = is_request = kind is Request or (not known and hasattr(message, "request_uri"))
        self.is_response = not is_request
        self._message_view = self._request_view = self._response_view = None
        files = env.flat_files
        app_uri = env.app_uri
        if files is None or app_uri is None:
            manifest = script.manifest
            if files is None:
                files = manifest.files if manifest is not None else {}
            if app_uri is None:
                app_uri = manifest.app_uri if manifest is not None else ""
        self.flat_files = files
        self.app_uri = app_uri
        self.marshal_content = True
        self.steps = 0
        self.budget = env.step_budget
        self.work = 0
        self.work_budget = env.work_budget
        self.memory = 0
        self.memory_budget = env.memory_budget
        self.depth = 0
        self.retval = None
        self.final: Disposition | None = None
        self.final_response_sent = False
        self.fork_open: Any = None          # the BeginFork call node while a fork is open
        self.fork_uris: Any = ()            # a list from BeginFork on (Fork needs an open fork)
        self.max_string = env.max_string
        self.max_collection = env.max_collection
        self._target = env.request_target
        self._source = env.request_source
        self._transaction_request = env.transaction_request

    # -- what the script reads rarely: built when it is read ------------------------------------

    @property
    def message_view(self) -> MessageView:
        """``sipMessage`` as a value."""
        view = self._message_view
        if view is None:
            view = self._message_view = MessageView(self.message, "Message", True, self)
        return view

    @property
    def request_view(self) -> MessageView:
        """``sipRequest`` as a value (present only while a request runs)."""
        view = self._request_view
        if view is None:
            view = self._request_view = MessageView(self.message, "Request", self.is_request, self)
        return view

    @property
    def response_view(self) -> MessageView:
        """``sipResponse`` as a value (present only while a response runs)."""
        view = self._response_view
        if view is None:
            view = self._response_view = MessageView(self.message, "Response", self.is_response, self)
        return view

    server = property(lambda self: self.env.server, doc="The registrar state (ScriptEnvironment.server).")
    fqdn = property(lambda self: self.env.fqdn, doc="``FQDN``.")
    server_pool = property(lambda self: self.env.server_pool, doc="``ServerPool``.")
    role = property(lambda self: ENUMS["ServerRole"][self.env.role], doc="``Role``, a ServerRole value.")
    authenticated = property(lambda self: self.env.authenticated, doc="``sipMessage.Authenticated``.")
    tls_peer = property(lambda self: self.env.tls_peer, doc="``sipMessage.TlsPeer``.")
    origin = property(lambda self: ENUMS["MessageOrigin"][self.env.origin],
                      doc="``sipMessage.Origin``, a MessageOrigin value.")
    external_source_type = property(lambda self: ENUMS["ExternalSourceType"]["None"],
                                    doc="``sipMessage.ExternalSourceType`` (always None: no Edge server).")
    external_source_network = property(lambda self: ENUMS["ExternalSourceNetwork"]["None"],
                                       doc="``sipMessage.ExternalSourceNetwork`` (always None).")
    stamp = property(lambda self: self.env.stamp, doc="``sipMessage.Stamp``.")
    stamp_pool = property(lambda self: self.env.stamp_pool, doc="``sipMessage.StampPool``.")

    # -- faults ---------------------------------------------------------------------------------

    def critical(self, node: Any, message: str, hint: str | None = None) -> CriticalError:
        """Record a critical error at ``node`` (an AST node or None) and return it."""
        line = getattr(node, "line", 0) or 0
        column = getattr(node, "column", 0) or 0
        ast_script = self.script.ast
        error = CriticalError(message=message, filename=ast_script.filename, line=line, column=column,
                              source=source_line(ast_script.source, line), hint=hint)
        self.run.critical_errors.append(error)
        self.run.aborted = True
        return error

    def over_budget(self, node: Any) -> ScriptFault:
        """The fault that stops a run which took more than its step budget."""
        return ScriptFault(f"step budget exhausted: the script ran more than {self.budget} steps",
                           hint="mspl-lite stops runaway scripts; MSPL is meant for light processing "
                                "(is a loop running far more often than you think?)", node=node)

    def charge(self, work: int = 0, memory: int = 0) -> None:
        """Count what a built-in does against the run's budgets: ``work`` characters (or
        elements) it touches, ``memory`` characters it leaves alive. Call it BEFORE the work
        where the size is known, so an over-budget call never runs. Over a budget: a fault
        (a critical error at the call) naming the budget, its limit and what to do."""
        if work:
            self.work += work
            if self.work > self.work_budget:
                raise ScriptFault(
                    f"work budget exhausted: the script's built-ins touched more than "
                    f"{self.work_budget:,} characters (searching, comparing, copying, logging)",
                    hint="mspl-lite bounds the work of one run, as MSPL is meant for light processing: "
                         "search or log a large string once, outside the loop, or a shorter part "
                         "of it (SubString); ScriptEnvironment(work_budget=...) raises the limit")
        if memory:
            self.memory += memory
            if self.memory > self.memory_budget:
                raise ScriptFault(
                    f"memory budget exhausted: the run built or kept more than "
                    f"{self.memory_budget:,} characters (strings, headers, Content, log entries)",
                    hint="mspl-lite bounds the memory of one run: add a header, log or build a large "
                         "string once, not in a loop; ScriptEnvironment(memory_budget=...) raises the limit")

    # -- dispositions ---------------------------------------------------------------------------

    def dispose(self, node: Any, disposition: Disposition) -> None:
        """Record a disposition; a second final one is a critical error (ARCHITECTURE decisions)."""
        if disposition.is_final:
            if self.final is not None:
                first = self.final
                raise ScriptFault(
                    f"{disposition.function} after {first.describe()} at line {first.line}: "
                    "the message already left this application",
                    hint="a script makes one final decision; put `return;` right after it", node=node)
            self.final = disposition
        self.run.dispositions.append(disposition)

    # -- facts derived from the message ------------------------------------------------------

    def request_target(self) -> Any:
        """``RequestTarget``: from the environment, else derived from the Request-URI."""
        if not self.is_request:
            return False
        if self._target is None:
            self._target = self._address_info(TargetInfo, self.message.request_uri)
        return self._target

    def request_source(self) -> Any:
        """``RequestSource``: from the environment, else derived from the From header (a guess)."""
        if not self.is_request:
            return False
        if self._source is None:
            uri = sip_address.get_uri(self.message.get("From") or "") or ""
            self._source = self._address_info(SourceInfo, uri)
        return self._source

    def retarget(self, uri: str) -> None:
        """RetargetRequest's new target: the Request-URI changes, and RequestTarget is derived
        again from it (unless the environment fixed RequestTarget)."""
        self.message.request_uri = uri
        if self.env.request_target is None:
            self._target = None

    def _address_info(self, cls: type, uri: str) -> Any:
        scheme = (sip_address.get_scheme(uri) or "").lower()
        is_phone = scheme == "tel" or (sip_address.get_uri_parameter(uri, "user") or "").lower() == "phone"
        host = sip_address.get_host_name(uri)
        supported = bool(host) and bool(self.server.domain_supported(host))
        return cls(uri=uri, aor=sip_address.get_user_at_host(uri),
                   instance=sip_address.get_uri_parameter(uri, "gr"), is_phone=is_phone,
                   domain_supported=supported)

    def transaction_request_of(self, message: Any) -> Any:
        """The request that started ``message``'s transaction (``Transaction.Request``)."""
        if message is self.message and self.is_request:
            return message
        if message is self.message and self._transaction_request is not None:
            return self._transaction_request
        if hasattr(message, "request_uri"):
            return message
        request = _request_from_response(message)
        if message is self.message:
            self._transaction_request = request
        return request


def _request_from_response(response: Any) -> Any:
    """Rebuild the request of a response's transaction from its Via/From/To/Call-ID/CSeq
    (what the simulator does not supply: ScriptEnvironment.transaction_request)."""
    cseq = response.get("CSeq") or "1 UNKNOWN"
    method = cseq.split()[-1] if cseq.split() else "UNKNOWN"
    target = sip_address.get_uri(response.get("To") or "") or "sip:unknown@invalid"
    headers = [(h.name, h.value) for h in response.headers
               if h.name.lower() in ("via", "v", "from", "f", "to", "t", "call-id", "i", "cseq")]
    return Request(method, target, headers=headers)
