"""Static rules of MSPL: the errors CompileSPL refuses, and warnings for what learners trip over.

``check(script, manifest=None)`` walks an ``ast.Script`` once and returns every diagnostic,
sorted by position. It never raises for a bad script.

Errors (a script with any of these does not compile):
  unknown function (closest built-in suggested; removed functions say why), wrong number of
  arguments, a function defined twice or named like a built-in, recursion of any kind (a cycle
  of the call graph, "A -> B -> A"), Concatenate without arguments, QueryEndpoints anywhere but
  as the collection of ``foreach (dbEndpoint in QueryEndpoints(...))``, Dispatch or
  DispatchNotification in a ``scriptOnly`` manifest, a flat file or column the manifest does not
  declare, ``[]`` on anything but a flat file, assignment to a built-in variable, an enum or a
  read-only field, an unknown enum value, an unknown field of a built-in object (field names are
  case-sensitive; the right spelling is suggested), ``break``/``continue`` outside a loop
  (``break`` also ends a switch case), a function returning a collection.
  Decision: ``return value;`` in the script body is an error, since the body has no caller to
  receive the value (write ``return;``); CompileSPL's behaviour here is undocumented.

Warnings (the script compiles, but probably does not do what its author meant), each with a
``code``: ``unreachable``, ``unassigned-variable`` / ``undefined-variable`` (read before the first
assignment in source order, within the function or the script body: a flow-insensitive
approximation), ``unguarded-request-function`` / ``unguarded-response-function`` (a call that
needs one message kind outside ``if (sipRequest)`` or after no early exit such as
``if (!sipRequest) return;``; a manifest whose responseFilter accepts nothing guards every
request function), ``log-debug`` / ``log-level``, ``proxy-request-uri`` (``ProxyRequest`` with a
literal URI), ``retarget-below-userservices`` (RetargetRequest in a manifest without
<allowRegistrationBeforeUserServices/>: the SDK wants such an application above UserServices,
Dn439073), ``no-routing`` (proxyByDefault false and nothing routes), ``no-effect``,
``infinite-loop`` (``while (true)`` without break), ``flat-file-no-key``.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace

from . import ast
from ..errors import Diagnostic, source_line
from .run import DISPOSITION_KINDS
from .signatures import (
    BUILTIN_VARIABLES, ENUM_TYPES, FUNCTIONS, HANDLED_DISPOSITIONS, REMOVED_FUNCTIONS, FunctionSignature,
)
from .values import ENUMS, REMOVED_ENDPOINT_FIELDS, REMOVED_ENUM_VALUES

__all__ = ["check", "FIELDS", "VARIABLE_TYPES", "WRITABLE_FIELDS"]

# --------------------------------------------------------------------------------------------
# The built-in classes and their fields (dn439152 and dn439153, Lync Server 2013)
# --------------------------------------------------------------------------------------------

_MESSAGE_FIELDS = {
    "From": "string", "To": "string", "Content": "string", "Authenticated": "bool",
    "Transaction": "Transaction", "TlsPeer": "string", "Origin": "MessageOrigin",
    "ExternalSourceType": "ExternalSourceType", "ExternalSourceNetwork": "ExternalSourceNetwork",
    "Stamp": "string", "StampPool": "string",
}
_REQUEST_ONLY = {"Method": "string", "StandardMethod": "StandardMethod",
                 # the field table and the samples write RequestUri, the syntax block RequestURI
                 "RequestUri": "string", "RequestURI": "string"}
_RESPONSE_ONLY = {"StatusCode": "int", "StatusClass": "StatusClass", "StatusReasonPhrase": "string"}

#: Fields of each built-in class: name -> type (a class name, an enum type or a scalar).
FIELDS: dict[str, dict[str, str]] = {
    "Message": _MESSAGE_FIELDS,
    "Request": {**_MESSAGE_FIELDS, **_REQUEST_ONLY},
    "Response": {**_MESSAGE_FIELDS, **_RESPONSE_ONLY},
    "Transaction": {"Request": "Request", "MarshalContent": "bool"},
    "RegistrarEndpoint": {"EPID": "string", "Instance": "string", "StandardMethods": "int",
                          "ExtraMethods": "string", "ContactInfo": "string"},
    "TargetInfo": {"Uri": "string", "Aor": "string", "Instance": "string", "IsPhone": "bool",
                   "DomainSupported": "bool"},
    "SourceInfo": {"Aor": "string", "IsPhone": "bool", "Instance": "string"},  # dn439168
}

#: The type of each built-in variable (dn439152).
VARIABLE_TYPES: dict[str, str] = {
    "sipMessage": "Message", "sipRequest": "Request", "sipResponse": "Response",
    "RequestSource": "SourceInfo", "RequestTarget": "TargetInfo", "dbEndpoint": "RegistrarEndpoint",
    "FQDN": "string", "ServerPool": "string", "Role": "ServerRole",
}

#: The only fields a script may assign (``sipMessage.Content = ...`` in the 2013 privacy sample;
#: Transaction.MarshalContent is documented as settable).
WRITABLE_FIELDS: frozenset[str] = frozenset({"Content", "MarshalContent"})

_SCALAR_TYPES = frozenset({"string", "int", "bool"}) | ENUM_TYPES
_LOG_LEVELS = ("Event", "Error", "Debugr")
# Calls that count as handling the message for proxyByDefault: the built-ins that record the
# dispositions a run counts as handled (hh364691, plus RetargetRequest), so the two never disagree.
_ROUTING_FUNCTIONS = frozenset(DISPOSITION_KINDS[kind] for kind in HANDLED_DISPOSITIONS)


def _closest(name: str, candidates) -> str | None:
    """The candidate that differs from ``name`` only in case, else the closest by difflib."""
    candidates = [c for c in candidates if c != name]
    for c in candidates:
        if c.lower() == name.lower():
            return c
    found = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return found[0] if found else None


def _did_you_mean(name: str, candidates) -> str:
    best = _closest(name, candidates)
    if best is None:
        return ""
    if best.lower() == name.lower():
        return f"did you mean {best}? (names are case-sensitive)"
    return f"did you mean {best}?"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _arity_text(lo: int, hi: int | None) -> str:
    if hi is None:
        return f"at least {_plural(lo, 'argument')}"
    if lo == hi:
        return _plural(lo, "argument")
    return f"{lo} to {hi} arguments"


# --------------------------------------------------------------------------------------------
# Message-kind facts: what a condition proves about the current message
# --------------------------------------------------------------------------------------------

def _kind_of_root(expr) -> str | None:
    """'request' for sipRequest[.field...], 'response' for sipResponse[.field...]."""
    while isinstance(expr, ast.Member):
        expr = expr.obj
    if isinstance(expr, ast.Name):
        return {"sipRequest": "request", "sipResponse": "response"}.get(expr.name)
    return None


def facts_if_true(cond) -> frozenset[str]:
    """Message kinds known to be current when ``cond`` is true."""
    if isinstance(cond, ast.Name):
        kind = _kind_of_root(cond)
        return frozenset({kind}) if kind else frozenset()
    if isinstance(cond, ast.Unary) and cond.op == "!":
        return facts_if_false(cond.operand)
    if isinstance(cond, ast.Logical):
        left, right = facts_if_true(cond.left), facts_if_true(cond.right)
        return left | right if cond.op == "&&" else left & right
    if isinstance(cond, ast.Binary) and cond.op == "==":
        # A field of the wrong kind of message reads as false (cc165101, LCS 2005), so
        # sipRequest.Method == "INVITE" can only be true on a request.
        for side in (cond.left, cond.right):
            if isinstance(side, ast.Member):
                kind = _kind_of_root(side)
                if kind:
                    return frozenset({kind})
    return frozenset()


def facts_if_false(cond) -> frozenset[str]:
    """Message kinds known to be current when ``cond`` is false."""
    if isinstance(cond, ast.Name):
        kind = _kind_of_root(cond)
        other = {"request": "response", "response": "request"}.get(kind or "")
        return frozenset({other}) if other else frozenset()
    if isinstance(cond, ast.Unary) and cond.op == "!":
        return facts_if_true(cond.operand)
    if isinstance(cond, ast.Logical):
        left, right = facts_if_false(cond.left), facts_if_false(cond.right)
        return left | right if cond.op == "||" else left & right
    return frozenset()


def _leaves(stmt) -> str | None:
    """'return', 'break' or 'continue' if ``stmt`` always leaves the statement list it is in."""
    if isinstance(stmt, ast.Return):
        return "return"
    if isinstance(stmt, ast.Break):
        return "break"
    if isinstance(stmt, ast.Continue):
        return "continue"
    if isinstance(stmt, ast.Block):
        for inner in stmt.body:
            how = _leaves(inner)
            if how:
                return how
        return None
    if isinstance(stmt, ast.If) and stmt.else_ is not None:
        a, b = _leaves(stmt.then), _leaves(stmt.else_)
        if a and b:
            return "return" if "return" in (a, b) else a
    return None


# --------------------------------------------------------------------------------------------
# The walk
# --------------------------------------------------------------------------------------------

@dataclass(slots=True)
class _Scope:
    """Variables of one function or of the script body (LCS 2005: a function cannot see the
    body's variables). ``first`` holds every name's first assignment, ``assigned`` those seen so far."""

    first: dict[str, ast.Node] = field(default_factory=dict)
    assigned: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class _Context:
    scope: _Scope
    function: ast.Function | None = None
    loops: int = 0
    switches: int = 0
    facts: frozenset[str] = frozenset()


#: Diagnostics a check reports; more would bury the first ones (and 10,000 warnings of a
#: generated script cost seconds to render). The parser stops at 20 errors (parser.MAX_ERRORS);
#: the checker goes on, so its bound is larger.
MAX_DIAGNOSTICS = 200


class Checker:
    """One run of the static rules over one script."""

    def __init__(self, script: ast.Script, manifest=None):
        self.script = script
        self.manifest = manifest
        self.diagnostics: list[Diagnostic] = []
        self.functions: dict[str, ast.Function] = {}
        # script function name -> {message kind it needs and does not test itself: the built-in that needs it}
        self.needs: dict[str, dict[str, str]] = {}
        self.warned_retarget = False    # retarget-below-userservices is said once per script
        self.files = getattr(manifest, "files", None)
        if self.files is not None and not isinstance(self.files, dict):
            self.files = dict(self.files)

    # ---------------------------------------------------------------------------------------
    # reporting
    # ---------------------------------------------------------------------------------------

    def report(self, severity: str, node: ast.Node, message: str, hint: str | None = None,
               code: str | None = None):
        """Record one diagnostic at ``node``, with the source line for the caret."""
        line = getattr(node, "line", 0) or 0
        column = getattr(node, "column", 0) or 0
        self.diagnostics.append(Diagnostic(
            severity=severity, message=message, filename=self.script.filename, line=line, column=column,
            source=source_line(self.script.source, line), hint=hint, code=code,
        ))

    def error(self, node, message, hint=None, code=None):
        """Record a compile error."""
        self.report("error", node, message, hint, code)

    def warning(self, node, message, hint=None, code=None):
        """Record a learner warning."""
        self.report("warning", node, message, hint, code)

    # ---------------------------------------------------------------------------------------
    # the whole script
    # ---------------------------------------------------------------------------------------

    def run(self) -> list[Diagnostic]:
        """Check functions (callees first), then the body; return the sorted diagnostics."""
        self.define_functions()
        graph = self.call_graph()
        self.find_recursion(graph)
        initial = self.manifest_facts()
        self.body_scope = self.new_scope(self.script.body)
        for function in self.callees_first(graph):
            scope = self.new_scope(function.body.body, params=function.params)
            ctx = _Context(scope=scope, function=function, facts=initial)
            self.needs.setdefault(function.name, {})
            self.statements(function.body.body, ctx)
        body_ctx = _Context(scope=self.body_scope, facts=initial)
        self.statements(self.script.body, body_ctx)
        self.check_routing()
        return self.sorted_diagnostics()

    def sorted_diagnostics(self) -> list[Diagnostic]:
        """The diagnostics without duplicates, by position, errors before warnings; at most
        MAX_DIAGNOSTICS (errors kept first), then a note saying how many more were found."""
        seen, out = set(), []
        for d in list(getattr(self.script, "warnings", ())) + self.diagnostics:
            key = (d.line, d.column, d.severity, d.message)
            if key not in seen:
                seen.add(key)
                out.append(d)
        order = {"error": 0, "warning": 1, "note": 2}
        if len(out) > MAX_DIAGNOSTICS:
            ranked = sorted(out, key=lambda d: (order.get(d.severity, 3), d.line, d.column))
            shown, hidden = ranked[:MAX_DIAGNOSTICS], len(ranked) - MAX_DIAGNOSTICS
            last = max(shown, key=lambda d: (d.line, d.column))
            shown.append(Diagnostic(
                severity="note", message=f"{hidden} more not shown (the first {MAX_DIAGNOSTICS} are)",
                filename=self.script.filename, line=last.line, column=last.column, source=last.source,
                hint="fix these and check again", code="too-many"))
            out = shown
        return sorted(out, key=lambda d: (d.line, d.column, order.get(d.severity, 3)))

    def manifest_facts(self) -> frozenset[str]:
        """A responseFilter that accepts no response means the script only ever sees requests;
        a requestFilter that accepts no method, only responses (duck-typed manifest)."""
        if self.manifest is None:
            return frozenset()
        rf = getattr(self.manifest, "response_filter", None)
        if rf is not None and not getattr(rf, "all_codes", True) \
                and not getattr(rf, "classes", ()) and not getattr(rf, "codes", ()):
            return frozenset({"request"})
        qf = getattr(self.manifest, "request_filter", None)
        if qf is not None and getattr(qf, "all_methods", True) is False and not getattr(qf, "method_names", ()):
            return frozenset({"response"})
        return frozenset()

    # ---------------------------------------------------------------------------------------
    # functions: definitions, call graph, recursion
    # ---------------------------------------------------------------------------------------

    def define_functions(self):
        """Duplicate functions, functions named like built-ins, bad parameters."""
        for function in self.script.functions:
            name = function.name
            if name in FUNCTIONS or name in REMOVED_FUNCTIONS:
                self.error(function, f"{name} is the name of a built-in function",
                           hint="choose another name for your function", code="builtin-redefined")
            elif name in self.functions:
                first = self.functions[name]
                self.error(function, f"function {name} is defined twice",
                           hint=f"the first definition is at line {first.line}; rename or remove one",
                           code="duplicate-function")
                continue
            else:
                self.functions[name] = function
            seen = set()
            for param in function.params:
                if param in seen:
                    self.error(function, f"parameter {param} appears twice in function {name}",
                               hint="give each parameter its own name", code="duplicate-parameter")
                seen.add(param)
                if param in BUILTIN_VARIABLES or param in ENUM_TYPES:
                    self.error(function, f"parameter {param} of function {name} hides the built-in {param}",
                               hint="choose another parameter name", code="assign-builtin")

    def call_graph(self) -> dict[str, list[ast.Call]]:
        """Script function -> its calls of script functions, in source order."""
        graph: dict[str, list[ast.Call]] = {}
        for name, function in self.functions.items():
            graph[name] = [n for n in ast.walk(function.body)
                           if isinstance(n, ast.Call) and n.name in self.functions]
        return graph

    def find_recursion(self, graph: dict[str, list[ast.Call]]):
        """Report each cycle of the call graph once, at the call that closes it."""
        reported: set[frozenset[str]] = set()
        state: dict[str, int] = {}  # 1 = on the current path, 2 = done
        path: list[str] = []

        def visit(name: str):
            state[name] = 1
            path.append(name)
            for call in graph.get(name, ()):
                callee = call.name
                if state.get(callee) == 1:
                    cycle = path[path.index(callee):] + [callee]
                    key = frozenset(cycle)
                    if key not in reported:
                        reported.add(key)
                        self.error(call, "recursion is not allowed in MSPL: " + " -> ".join(cycle),
                                   hint="a function may not call itself, directly or through other functions; "
                                        "use a foreach or while loop instead", code="recursion")
                elif callee not in state:
                    visit(callee)
            path.pop()
            state[name] = 2

        for name in graph:
            if name not in state:
                visit(name)

    def callees_first(self, graph: dict[str, list[ast.Call]]) -> list[ast.Function]:
        """Functions ordered so that a function is checked after the ones it calls."""
        order: list[ast.Function] = []
        done: set[str] = set()

        def visit(name: str):
            if name in done:
                return
            done.add(name)
            for call in graph.get(name, ()):
                visit(call.name)
            order.append(self.functions[name])

        for name in graph:
            visit(name)
        # duplicates and shadowing definitions are still checked inside
        order += [f for f in self.script.functions if self.functions.get(f.name) is not f]
        return order

    def new_scope(self, body: list, params=()) -> _Scope:
        """The scope of a function or of the body, with the first assignment of each name."""
        scope = _Scope()
        for name in params:
            scope.assigned.add(name)
        for name, node in ast.declarations(body):
            scope.first.setdefault(name, node)
        return scope

    # ---------------------------------------------------------------------------------------
    # statements
    # ---------------------------------------------------------------------------------------

    def statements(self, body: list, ctx: _Context):
        """A statement list: unreachable code, and the early exits that guard what follows."""
        left_by = None
        warned = False
        for stmt in body:
            if left_by and not warned and not isinstance(stmt, ast.Empty):
                self.warning(stmt, f"this code is never reached: the '{left_by}' before it always leaves",
                             hint=f"remove it, or move it above the {left_by}", code="unreachable")
                warned = True
            self.statement(stmt, ctx)
            left_by = left_by or _leaves(stmt)
            if isinstance(stmt, ast.If):
                # if (!sipRequest) return;  -> the rest of the list runs only for requests
                if _leaves(stmt.then):
                    ctx = replace(ctx, facts=ctx.facts | facts_if_false(stmt.cond))
                if stmt.else_ is not None and _leaves(stmt.else_):
                    ctx = replace(ctx, facts=ctx.facts | facts_if_true(stmt.cond))

    def statement(self, stmt, ctx: _Context):
        """Dispatch to ``stmt_<NodeClass>``."""
        method = getattr(self, "stmt_" + type(stmt).__name__, None)
        if method is not None:
            method(stmt, ctx)

    def stmt_Block(self, stmt: ast.Block, ctx):
        """{ statements }"""
        self.statements(stmt.body, ctx)

    def stmt_Empty(self, stmt, ctx):
        """;"""
        pass

    def stmt_ExprStmt(self, stmt: ast.ExprStmt, ctx):
        """expression;  (only a call does something)"""
        self.expr(stmt.expr, ctx)
        expr = stmt.expr
        if isinstance(expr, ast.Call):
            return
        if isinstance(expr, ast.Binary) and expr.op == "==":
            self.warning(stmt, "this comparison has no effect",
                         hint="to assign a value write a single '=': name = value;", code="no-effect")
        else:
            self.warning(stmt, "this expression has no effect",
                         hint="only function calls and assignments do something as a statement", code="no-effect")

    def stmt_Assign(self, stmt: ast.Assign, ctx):
        """name = value;  or  object.Field = value;"""
        self.expr(stmt.value, ctx)
        target = stmt.target
        if isinstance(target, ast.Name):
            name = target.name
            if name in BUILTIN_VARIABLES:
                self.error(target, f"{name} is a built-in variable and cannot be assigned",
                           hint="store the value in a variable of your own", code="assign-builtin")
            elif name in ENUM_TYPES:
                self.error(target, f"{name} is a built-in enumeration and cannot be assigned",
                           hint="choose another variable name", code="assign-builtin")
            elif self.files and name in self.files:
                self.error(target, f"{name} is a flat file of the manifest and cannot be assigned",
                           hint="flat files are read-only; choose another variable name", code="assign-builtin")
            ctx.scope.assigned.add(name)
        elif isinstance(target, ast.Member):
            self.expr(target.obj, ctx)
            obj_type = self.type_of(target.obj, ctx)
            if isinstance(target.obj, ast.Name) and target.obj.name in ENUM_TYPES:
                self.error(target, f"{target.obj.name}.{target.name} is a constant and cannot be assigned",
                           code="assign-builtin")
            elif isinstance(target.obj, ast.Index):
                self.flat_file_column(target, ctx)
                self.error(target, "flat files are read-only", hint="assign the value to a variable instead",
                           code="assign-builtin")
            elif isinstance(target.obj, ast.Name) and target.obj.name not in BUILTIN_VARIABLES \
                    and obj_type not in FIELDS:
                self.error(self.member_name_position(target),
                           f"{target.obj.name} is a variable of your script: it has no field {target.name} to assign",
                           hint="only sipMessage.Content and sipMessage.Transaction.MarshalContent can be assigned; "
                                "store the value in a variable of its own", code="read-only-field")
            elif obj_type in FIELDS:
                if self.field(target, obj_type) and target.name not in WRITABLE_FIELDS:
                    hint = ("change headers with AddHeader and SetParameterValue; "
                            "only Content and Transaction.MarshalContent can be assigned")
                    if target.name.lower() == "requesturi":
                        hint = "to send the request to another user call RetargetRequest(uri); " + hint
                    self.error(self.member_name_position(target), f"{self.describe(target)} is read-only",
                               hint=hint, code="read-only-field")

    def stmt_If(self, stmt: ast.If, ctx):
        """if (cond) then [else else_]: each branch knows what the condition proved."""
        self.expr(stmt.cond, ctx)
        self.statement(stmt.then, replace(ctx, facts=ctx.facts | facts_if_true(stmt.cond)))
        if stmt.else_ is not None:
            self.statement(stmt.else_, replace(ctx, facts=ctx.facts | facts_if_false(stmt.cond)))

    def stmt_Switch(self, stmt: ast.Switch, ctx):
        """switch (subject) { case v: ... break; }"""
        self.expr(stmt.subject, ctx)
        inner = replace(ctx, switches=ctx.switches + 1)
        for case in stmt.cases:
            if case.value is not None:
                self.expr(case.value, ctx)
            self.statements(case.body, inner)

    def stmt_Foreach(self, stmt: ast.Foreach, ctx):
        """foreach (var in iterable) body"""
        iterable = stmt.iterable
        if isinstance(iterable, ast.Call) and iterable.name == "QueryEndpoints":
            if stmt.var != "dbEndpoint":
                self.error(stmt, f"the loop variable of QueryEndpoints must be dbEndpoint, not {stmt.var}",
                           hint="write foreach (dbEndpoint in QueryEndpoints(userAtHost)) { ... }",
                           code="query-endpoints")
            self.call(iterable, ctx, as_collection=True)
        else:
            if stmt.var in BUILTIN_VARIABLES or stmt.var in ENUM_TYPES:
                hint = "choose another loop variable name"
                if stmt.var == "dbEndpoint":
                    hint = "dbEndpoint is the loop variable of QueryEndpoints only; " + hint
                self.error(stmt, f"{stmt.var} is a built-in and cannot be the loop variable", hint=hint,
                           code="assign-builtin")
            self.expr(iterable, ctx)
        ctx.scope.assigned.add(stmt.var)
        self.statement(stmt.body, replace(ctx, loops=ctx.loops + 1))

    def stmt_While(self, stmt: ast.While, ctx):
        """while (cond) body"""
        self.expr(stmt.cond, ctx)
        cond = stmt.cond
        if isinstance(cond, ast.Literal) and cond.value not in (False, None, 0, "") and not self.loop_exits(stmt.body):
            self.warning(stmt, "this loop has no break: it only stops at the 500-iteration limit",
                         hint="add a break (or return) for when the work is done; Lync Server 2013 stops "
                              "a while loop after 500 iterations", code="infinite-loop")
        self.statement(stmt.body, replace(ctx, loops=ctx.loops + 1))

    def loop_exits(self, body) -> bool:
        """Does a break or return leave this loop (not an inner loop or switch)?"""
        if isinstance(body, (ast.Return, ast.Break)):
            return True
        if isinstance(body, (ast.While, ast.Foreach, ast.Switch)):
            # a break in there leaves the inner statement; a return still leaves ours
            return any(isinstance(n, ast.Return) for n in ast.walk(body))
        if isinstance(body, ast.Block):
            return any(self.loop_exits(s) for s in body.body)
        if isinstance(body, ast.If):
            return self.loop_exits(body.then) or (body.else_ is not None and self.loop_exits(body.else_))
        return False

    def stmt_Break(self, stmt, ctx):
        """break;  (in a loop or a switch case)"""
        if not ctx.loops and not ctx.switches:
            self.error(stmt, "'break' outside a loop or a switch",
                       hint="break leaves a foreach, a while or a switch case; use return to end the script",
                       code="break-outside-loop")

    def stmt_Continue(self, stmt, ctx):
        """continue;  (in a loop)"""
        if not ctx.loops:
            self.error(stmt, "'continue' outside a loop",
                       hint="continue goes on with the next round of a foreach or while loop",
                       code="continue-outside-loop")

    def stmt_Return(self, stmt: ast.Return, ctx):
        """return [value];"""
        if stmt.value is None:
            return
        self.expr(stmt.value, ctx)
        if ctx.function is None:
            self.error(stmt, "the script body cannot return a value",
                       hint="write 'return;' to end the script; only functions return values",
                       code="return-value")
        elif isinstance(stmt.value, ast.Call) and stmt.value.name in FUNCTIONS \
                and FUNCTIONS[stmt.value.name].returns == "collection":
            self.error(stmt, "a function cannot return a collection",
                       hint="MSPL functions return a string, bool, int or float; loop over the collection "
                            "where you need it", code="return-collection")

    # ---------------------------------------------------------------------------------------
    # expressions
    # ---------------------------------------------------------------------------------------

    def expr(self, expr, ctx: _Context):
        """Check an expression in evaluation order."""
        if isinstance(expr, ast.Name):
            self.read(expr, ctx)
        elif isinstance(expr, ast.Call):
            self.call(expr, ctx)
        elif isinstance(expr, ast.Member):
            self.member(expr, ctx)
        elif isinstance(expr, ast.Index):
            self.index(expr, ctx)
            if isinstance(expr.obj, ast.Name):
                self.error(expr, "a flat-file row needs a column: write fileName[index].columnName",
                           hint="name the <column> of the manifest's <file> to read", code="flat-file")
        elif isinstance(expr, ast.Unary):
            self.expr(expr.operand, ctx)
        elif isinstance(expr, ast.Binary):
            self.expr(expr.left, ctx)
            self.expr(expr.right, ctx)
        elif isinstance(expr, ast.Logical):
            self.expr(expr.left, ctx)
            # the right operand runs only when the left one decided nothing yet
            proven = facts_if_true(expr.left) if expr.op == "&&" else facts_if_false(expr.left)
            self.expr(expr.right, replace(ctx, facts=ctx.facts | proven))

    def read(self, name_node: ast.Name, ctx: _Context):
        """A variable read: warn when it comes before any assignment."""
        name = name_node.name
        if name in BUILTIN_VARIABLES or name in ctx.scope.assigned:
            return
        if name in ENUM_TYPES or (self.files and name in self.files):
            return
        first = ctx.scope.first.get(name)
        if first is not None:
            self.warning(name_node, f"{name} is read before it is assigned",
                         hint=f"MSPL creates a variable at its first assignment (line {first.line}); "
                              f"assign {name} before this point", code="unassigned-variable")
            return
        if name in self.functions or name in FUNCTIONS:
            self.warning(name_node, f"{name} is a function: call it with ()", hint=f"write {name}(...)",
                         code="undefined-variable")
            return
        if ctx.function is not None and name in self.body_scope.first:
            self.warning(name_node, f"{name} is never assigned in function {ctx.function.name}",
                         hint="a function cannot see the variables of the script body: pass the value "
                              f"as a parameter, function {ctx.function.name}(..., {name})",
                         code="undefined-variable")
            return
        candidates = set(ctx.scope.first) | set(ctx.scope.assigned) | BUILTIN_VARIABLES
        suggestion = _did_you_mean(name, candidates)
        self.warning(name_node, f"{name} is never assigned",
                     hint=suggestion or f"assign it first ({name} = value;); an unassigned name has no value",
                     code="undefined-variable")

    def member(self, expr: ast.Member, ctx: _Context):
        """obj.name: an enum value, a flat-file column or a field of a built-in object."""
        obj = expr.obj
        if isinstance(obj, ast.Name) and obj.name in ENUM_TYPES:
            self.enum_value(expr, obj.name)
            return
        if isinstance(obj, ast.Index):
            self.flat_file_column(expr, ctx)
            return
        self.expr(obj, ctx)
        obj_type = self.type_of(obj, ctx)
        if obj_type in FIELDS:
            self.field(expr, obj_type)
        elif obj_type in _SCALAR_TYPES:
            what = "an enumeration value" if obj_type in ENUM_TYPES else f"a {obj_type}"
            hint = "read the parts of an address with GetUri, GetUserName, GetHostName, GetUriParameter ..."
            self.error(self.member_name_position(expr), f"{self.describe(obj)} is {what} and has no field {expr.name}", hint=hint,
                       code="unknown-field")

    def enum_value(self, expr: ast.Member, enum: str):
        """Type.Value against values.ENUMS (a warning where mspl-lite's list is partly guessed)."""
        values = ENUMS.get(enum)
        if not values or expr.name in values:   # no values known (UserPolicyType): nothing to check
            return
        at = self.member_name_position(expr)
        removed = REMOVED_ENUM_VALUES.get((enum, expr.name))
        if removed:
            self.error(at, removed, hint=f"the values are: {', '.join(values)}", code="removed-enum-value")
            return
        hint = _did_you_mean(expr.name, values) or f"the values are: {', '.join(values)}"
        if any(getattr(v, "guess", False) for v in values.values()):
            # part of this list is mspl-lite's guess: an unknown name may still be real
            self.warning(at, f"{enum} has no value {expr.name} that mspl-lite knows",
                         hint=hint + " (mspl-lite's list of these values is partly inferred: dn439131's list is incomplete)",
                         code="unknown-enum-value")
        else:
            self.error(at, f"{enum} has no value {expr.name}", hint=hint, code="unknown-enum-value")

    def member_name_position(self, expr: ast.Member) -> ast.Node:
        """Where the field name of ``obj.name`` is, so that the caret sits under it.

        The tree keeps only the position of an expression's first token; the name is found
        again in the source line (falling back to the expression's start)."""
        text = source_line(self.script.source, expr.line) or ""
        needle = "." + expr.name
        start = max(expr.column - 1, 0)
        while True:
            i = text.find(needle, start)
            if i < 0:
                return expr
            after = i + len(needle)
            if after >= len(text) or not (text[after].isalnum() or text[after] == "_"):
                return ast.Empty(line=expr.line, column=i + 2)
            start = i + 1

    def field(self, expr: ast.Member, obj_type: str) -> bool:
        """Check ``obj.name`` against the fields of ``obj_type``; True when the field exists."""
        fields = FIELDS[obj_type]
        name = expr.name
        if name in fields:
            return True
        where = self.describe(expr.obj)
        at = self.member_name_position(expr)
        if obj_type == "RegistrarEndpoint" and name in REMOVED_ENDPOINT_FIELDS:
            self.error(at, f"{where}.{name} was removed in Lync Server 2013",
                       hint="the OCS 2007 presence fields of RegistrarEndpoint no longer exist; "
                            "the fields are EPID, Instance, StandardMethods, ExtraMethods, ContactInfo",
                       code="removed-field")
            return False
        if obj_type in ("Request", "Message") and name in _RESPONSE_ONLY:
            self.error(at, f"{where} has no field {name}: {name} is a field of responses",
                       hint=f"test if (sipResponse) and read sipResponse.{name}", code="unknown-field")
            return False
        if obj_type in ("Response", "Message") and name in _REQUEST_ONLY:
            hint = f"test if (sipRequest) and read sipRequest.{name}"
            if obj_type == "Response":
                hint = f"the request of a response is sipResponse.Transaction.Request.{name}"
            self.error(at, f"{where} has no field {name}: {name} is a field of requests", hint=hint,
                       code="unknown-field")
            return False
        suggestion = _did_you_mean(name, fields)
        self.error(at, f"{where} ({obj_type}) has no field {name}",
                   hint=suggestion or f"the fields are: {', '.join(sorted(fields))}", code="unknown-field")
        return False

    def type_of(self, expr, ctx: _Context) -> str | None:
        """The built-in class (or scalar) an expression has, when it is known statically."""
        if isinstance(expr, ast.Name):
            # built-in variables cannot be assigned (an error of its own), so their type is fixed
            return VARIABLE_TYPES.get(expr.name)
        if isinstance(expr, ast.Member):
            outer = self.type_of(expr.obj, ctx)
            if outer in FIELDS:
                return FIELDS[outer].get(expr.name)
        return None

    def describe(self, expr) -> str:
        """The source spelling of a name or a chain of fields, for messages."""
        if isinstance(expr, ast.Name):
            return expr.name
        if isinstance(expr, ast.Member):
            return f"{self.describe(expr.obj)}.{expr.name}"
        if isinstance(expr, ast.Call):
            return f"{expr.name}(...)"
        return "this value"

    # ---------------------------------------------------------------------------------------
    # flat files
    # ---------------------------------------------------------------------------------------

    def index(self, expr: ast.Index, ctx: _Context):
        """``file[key]``: only flat files declared by the manifest can be indexed."""
        self.expr(expr.index, ctx)
        obj = expr.obj
        if not isinstance(obj, ast.Name):
            self.expr(obj, ctx)
            self.error(expr, "[] reads flat files only: write fileName[index].columnName",
                       hint="MSPL has no arrays; loop over a collection with foreach", code="flat-file")
            return None
        if self.files is None:
            return None  # no manifest: the flat files are not known
        if obj.name not in self.files:
            known = list(self.files)
            hint = _did_you_mean(obj.name, known) or (
                f"the manifest declares: {', '.join(sorted(known))}" if known
                else f"declare it in the manifest: <lc:file name=\"{obj.name}\" path=\"...\"> with <lc:column> children")
            self.error(obj, f"no flat file named {obj.name} in the manifest", hint=hint, code="unknown-file")
            return None
        flat = self.files[obj.name]
        key_column = getattr(flat, "key_column", None)
        if isinstance(expr.index, ast.Literal) and isinstance(expr.index.value, str) and not key_column:
            self.warning(expr, f"{obj.name} has no keyColumnName, so a key string cannot look it up",
                         hint="add keyColumnName to the <file> element, or use a 0-based row number; "
                              "at run time this aborts the script", code="flat-file-no-key")
        return flat

    def flat_file_column(self, expr: ast.Member, ctx: _Context):
        """file[key].column: the file and the column must be declared by the manifest."""
        flat = self.index(expr.obj, ctx)
        if flat is None:
            return
        columns = list(getattr(flat, "columns", ()) or ())
        columns = [getattr(c, "name", c) for c in columns]
        if columns and expr.name not in columns:
            file_name = expr.obj.obj.name
            self.error(self.member_name_position(expr), f"flat file {file_name} has no column {expr.name}",
                       hint=_did_you_mean(expr.name, columns) or f"its columns are: {', '.join(columns)}",
                       code="unknown-column")

    # ---------------------------------------------------------------------------------------
    # calls
    # ---------------------------------------------------------------------------------------

    def call(self, call: ast.Call, ctx: _Context, as_collection: bool = False):
        """Name(args): existence, arity, and the rules of particular built-ins."""
        for arg in call.args:
            self.expr(arg, ctx)
        name = call.name
        if name in self.functions:
            function = self.functions[name]
            if len(call.args) != len(function.params):
                params = ", ".join(function.params)
                self.error(call, f"{name} takes {_plural(len(function.params), 'argument')} ({params}), "
                                 f"but {len(call.args)} {'was' if len(call.args) == 1 else 'were'} given",
                           hint=f"call it as {name}({params})", code="argument-count")
            needs = {k: v for k, v in self.needs.get(name, {}).items() if k not in ctx.facts}
            if ctx.function is not None:
                for kind, builtin in needs.items():
                    self.needs[ctx.function.name].setdefault(kind, builtin)
            else:
                for kind, builtin in sorted(needs.items()):
                    self.unguarded(call, FUNCTIONS[builtin], via=name)
            return
        sig = FUNCTIONS.get(name)
        if sig is None:
            self.unknown_function(call)
            return
        self.arity(call, sig)
        if name == "QueryEndpoints" and not as_collection:
            self.error(call, "QueryEndpoints can only be the collection of a foreach loop",
                       hint="write foreach (dbEndpoint in QueryEndpoints(userAtHost)) { ... }",
                       code="query-endpoints")
        if name in ("Dispatch", "DispatchNotification") and getattr(self.manifest, "script_only", False):
            self.error(call, f"{name} hands the message to managed code, but this manifest is scriptOnly",
                       hint="remove <scriptOnly/> and run the managed part with a ServerAgent, "
                            "or do the work in the script", code="dispatch-script-only")
        if name == "Log":
            self.log_level(call)
        if name == "ProxyRequest" and call.args:
            arg = call.args[0]
            if isinstance(arg, ast.Literal) and isinstance(arg.value, str) and arg.value != "":
                self.warning(call, "ProxyRequest with a URI routes the request itself: in mspl-lite every later "
                                   "application, IIMFilter and OutboundRouting included, is skipped (decision D1)",
                             hint="to send the request to another user and let the server route it, use "
                                  "RetargetRequest(uri); ProxyRequest(\"\") hands it on unchanged",
                             code="proxy-request-uri")
        if name == "IsPhoneUri" and call.args:
            arg = call.args[0]
            if (isinstance(arg, ast.Literal) and isinstance(arg.value, str)
                    and arg.value.strip().lower().startswith("tel:")):
                self.warning(arg, "IsPhoneUri is false for a tel: URI: it looks only for the user=phone parameter",
                             hint='dn439134: "Returns true if the supplied URI contains the user=phone parameter; '
                                  'otherwise, false." Write the number as sip:+14255550100@contoso.com;user=phone',
                             code="is-phone-uri")
        if name == "RetargetRequest":
            self.retarget_placement(call)
        if sig.kind in ("request", "response") and sig.kind not in ctx.facts:
            if ctx.function is not None:
                # reported where the function is called, unless the function tests the kind itself
                self.needs[ctx.function.name].setdefault(sig.kind, name)
            else:
                self.unguarded(call, sig)

    def retarget_placement(self, call: ast.Call):
        """RetargetRequest in a manifest without <allowRegistrationBeforeUserServices/> (once per script).

        Dn439073: an application that calls RetargetRequest "must be registered with a priority
        higher (smaller number) than UserServices", and only that element allows it (dn439109).
        """
        if self.manifest is None or self.warned_retarget:
            return
        if getattr(self.manifest, "allow_registration_before_user_services", None) is not False:
            return  # declared, or a duck-typed manifest that does not say
        self.warned_retarget = True
        self.warning(call, "RetargetRequest needs the application above UserServices, but this manifest does not "
                           "declare <allowRegistrationBeforeUserServices/>, so it can only be registered below it",
                     hint="add <r:allowRegistrationBeforeUserServices/> (with your manifest's prefix) before "
                          "<r:splScript>, as the SDK's ForwardInvite sample does, and register the application "
                          "with a priority smaller than UserServices' (Dn439073)",
                     code="retarget-below-userservices")

    def unguarded(self, call: ast.Call, sig: FunctionSignature, via: str | None = None):
        """Warn that a request-only (response-only) call is not limited to that kind."""
        kind = sig.kind
        test = "sipRequest" if kind == "request" else "sipResponse"
        other = "sipResponse" if kind == "request" else "sipRequest"
        effect = "it returns false" if sig.wrong_kind == "false" else "it is a critical error"
        what = f"{via} calls {sig.name}, which works" if via else f"{sig.name} works"
        self.warning(call, f"{what} only on {kind}s, but this script may also run for "
                           f"{'responses' if kind == 'request' else 'requests'} ({effect} there)",
                     hint=f"put it inside if ({test}) {{ ... }}, or leave early with "
                          f"if (!{test}) return; (or if ({other}) return;) before it",
                     code=f"unguarded-{kind}-function")

    def unknown_function(self, call: ast.Call):
        """A call of a name that is neither a built-in nor a script function."""
        name = call.name
        if name in REMOVED_FUNCTIONS:
            self.error(call, REMOVED_FUNCTIONS[name], hint="Lync Server 2013 has no such function",
                       code="removed-function")
            return
        candidates = list(FUNCTIONS) + list(self.functions)
        suggestion = _did_you_mean(name, candidates)
        self.error(call, f"unknown function {name}",
                   hint=suggestion or "see the list of MSPL built-in functions, or define it with "
                                      f"function {name}(...) {{ ... }} before the script body",
                   code="unknown-function")

    def arity(self, call: ast.Call, sig: FunctionSignature):
        """The number of arguments of a built-in call."""
        n = len(call.args)
        if sig.min_args <= n and (sig.max_args is None or n <= sig.max_args):
            return
        if sig.name == "Concatenate" and n == 0:
            self.error(call, "Concatenate needs at least one argument",
                       hint='Concatenate("a", b, ...) joins its arguments; with none it is a compile error',
                       code="argument-count")
            return
        hint = sig.doc or f"{sig.name} takes {_arity_text(sig.min_args, sig.max_args)}"
        self.error(call, f"{sig.name} takes {_arity_text(sig.min_args, sig.max_args)}, "
                         f"but {n} {'was' if n == 1 else 'were'} given", hint=hint, code="argument-count")

    def log_level(self, call: ast.Call):
        """Log("Debug", ...) and other names that log as Debugr."""
        if not call.args:
            return
        level = call.args[0]
        if not (isinstance(level, ast.Literal) and isinstance(level.value, str)):
            return
        if level.value in _LOG_LEVELS:
            return
        if level.value.lower() in {"event", "error", "debugr"}:
            proper = next(name for name in _LOG_LEVELS if name.lower() == level.value.lower())
            self.warning(level, f'"{level.value}" is not "{proper}": it logs as "Debugr"',
                         hint=f'write Log("{proper}", ...); mspl-lite matches log names exactly '
                              '(decision D13: the documentation does not say whether case matters)',
                         code="log-level")
            return
        if level.value.lower() == "debug":
            self.warning(level, '"Debug" is the log name of LCS 2005 and OCS 2007; from OCS 2007 R2 on '
                                '(Lync Server 2010 and 2013 too) it is "Debugr"',
                         hint='write Log("Debugr", ...) and read it with ApiLogger.exe. "Debug": cc165045 '
                              '(LCS 2005), bb680052 (OCS 2007); "Debugr": dd130061 (OCS 2007 R2), gg439513 '
                              '(Lync Server 2010), Dn439089 (Lync Server 2013). Any other name logs as Debugr '
                              '(gg439513)', code="log-debug")
            return
        self.warning(level, f'"{level.value}" is not a log name: it logs as "Debugr"',
                     hint='use "Event" (event log warning), "Error" (event log error) or "Debugr" (ApiLogger.exe)',
                     code="log-level")

    # ---------------------------------------------------------------------------------------
    # the whole script again: proxyByDefault
    # ---------------------------------------------------------------------------------------

    def check_routing(self):
        """proxyByDefault false and nothing that routes: every message is dropped."""
        if self.manifest is None or getattr(self.manifest, "proxy_by_default", True) is not False:
            return
        for node in ast.walk(self.script):
            if isinstance(node, ast.Call) and node.name in _ROUTING_FUNCTIONS:
                return
        self.warning(self.script, "this script never proxies, responds or dispatches, and proxyByDefault is "
                                  "false: every message it sees is dropped",
                     hint='call ProxyRequest("") / ProxyResponse() where the message should go on, or set '
                          '<proxyByDefault action="true"/>', code="no-routing")


# Like pylox's visitor check: every stmt_X method must name a real statement class.
for _name in [n for n in vars(Checker) if n.startswith("stmt_")]:
    assert _name[5:] in ast.__all__, f"Checker.{_name} names no ast class"


def check(script: ast.Script, *, manifest=None) -> list[Diagnostic]:
    """Every static error and warning of ``script``, sorted by position; never raises for a bad script.

    ``manifest`` (optional, duck-typed ApplicationManifest) adds the rules that depend on it:
    scriptOnly, flat files, proxyByDefault, responseFilter, allowRegistrationBeforeUserServices.
    """
    checker = Checker(script, manifest)
    try:
        return checker.run()
    except RecursionError:  # a hand-built tree deeper than the parser accepts
        checker.error(script, "this script is nested too deeply to check",
                      hint="split deep nesting into functions or several statements", code="too-deep")
        return checker.sorted_diagnostics()
