"""Compile an MSPL AST once into Python closures, and run it on SIP messages.

Theory of operation
-------------------
Every expression node becomes a closure ``(ctx, frame) -> value`` and every statement a closure
``(ctx, frame) -> signal``: ``None`` to go on, or BREAK / CONTINUE / RETURN (the value of a
``return`` travels in ``ctx.retval``). Nothing walks the AST while a message runs, and no user
text is ever evaluated as Python: a script reaches only the built-ins of builtins.py.

Variables (Dn439066): assignment and ``foreach`` declare a variable in the enclosing
function, or in the script body; a function cannot see the body's variables. Names are
resolved to slots at compile time; a *frame* is a list: the values of the slots, then the type
each variable took from its first non-null value (a later value of another type is coerced to
it, dn439149). Reading a variable before any assignment ran is a critical error.

Limits: a ``while`` loop runs at most 500 times per execution (Dn439066; the 501st is a
critical error, decision D34); the run has a step budget (``ScriptEnvironment.step_budget``: statements,
loop iterations and calls); strings and collections are bounded (context.MAX_STRING /
MAX_COLLECTION). Every runtime fault -- including a bug in a built-in -- becomes a
``CriticalError`` on the ``ScriptRun`` at the line and column of the node that failed.
"""
from __future__ import annotations

import difflib
import os
from typing import Any, Callable

from ..errors import Diagnostic, ScriptError, UsageError
from . import ast
from .builtins import BUILTINS
# ScriptEnvironment and DEFAULT_STEP_BUDGET live in context.py; importing them from here still works.
from .context import DEFAULT_STEP_BUDGET, ScriptContext, ScriptEnvironment, default_environment
from .run import ScriptFault, ScriptRun
from .server import RegistrarEndpoint
from .signatures import BUILTIN_VARIABLES, ENUM_TYPES, FUNCTIONS, REMOVED_FUNCTIONS
from .values import (
    ENDPOINT_FIELDS, ENUMS, FLOAT_MAX, INT_MAX, INT_MIN, MESSAGE_READERS, REMOVED_ENUM_VALUES, REQUEST_READERS,
    RESPONSE_READERS, Row, coerce_to, compare, equal, read_member, show, to_collection, to_float,
    to_int, to_str, truth, type_name,
)

__all__ = ["Script", "ScriptEnvironment", "WHILE_LIMIT", "DEFAULT_STEP_BUDGET"]

WHILE_LIMIT = 500
MAX_CALL_DEPTH = 32

BREAK = 1
CONTINUE = 2
RETURN = 3

Closure = Callable[[ScriptContext, list], Any]


class _Unset:
    """The value of a variable no assignment has reached yet."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<unset>"


UNSET = _Unset()


# ============================================================================================
# The compiled script
# ============================================================================================

class Script:
    """A compiled MSPL script: ``run(message, env)`` executes it and returns a ScriptRun."""

    def __init__(self, script_ast: ast.Script, *, warnings: list[Diagnostic] | None = None,
                 manifest: Any = None, text: str | None = None):
        self.ast = script_ast
        self.warnings: list[Diagnostic] = list(warnings or ())
        self.manifest = manifest
        self._lines = _count_lines(script_ast, text)
        try:
            self._body, self._template = _Compiler(script_ast).compile()
        except RecursionError:
            raise ScriptError.at("the script nests too deeply to compile", filename=script_ast.filename,
                                 line=script_ast.line, column=script_ast.column,
                                 hint="split deeply nested expressions into several statements") from None

    @property
    def filename(self) -> str:
        """The file the script's positions refer to (the .am file for a manifest's script)."""
        return self.ast.filename

    def run(self, message: Any, env: ScriptEnvironment | None = None) -> ScriptRun:
        """Run the script on ``message`` (changed in place: AddHeader, SetParameterValue,
        Content, RetargetRequest's Request-URI) and return what it did."""
        ctx = ScriptContext(self, message, env if env is not None else default_environment())
        record = ctx.run
        try:
            if self._body(ctx, self._template.copy()) == RETURN:
                record.returned = True
            if ctx.fork_open is not None:
                ctx.critical(ctx.fork_open, f"the fork begun at line {ctx.fork_open.line} was never "
                                            "ended with EndFork: its branches were not sent",
                             hint="call EndFork() after the last Fork(...)")
        except ScriptFault as fault:
            if not fault.recorded:
                ctx.critical(fault.node, fault.message, fault.hint)
        except RecursionError:
            ctx.critical(None, "the script nests too deeply")
        except Exception as exc:  # a bug in mspl-lite: still never the caller's problem
            ctx.critical(None, f"internal error in mspl-lite: {exc!r}",
                         hint="this is a bug in mspl-lite, not in your script; please report it")
        record.steps = ctx.steps
        record.work = ctx.work
        record.memory = ctx.memory
        handled = False
        for d in record.dispositions:   # any(...) without a generator
            if d.handles:
                handled = True
                break
        record.handled = handled
        return record

    def __repr__(self) -> str:
        return f"<Script {os.path.basename(self.filename)} ({self._lines} lines)>"


def _count_lines(script_ast: ast.Script, text: str | None) -> int:
    if text is not None:
        return len(text.strip("\r\n").splitlines()) if text.strip() else 0
    lines = [n.line for n in ast.walk(script_ast) if n.line]
    return (max(lines) - min(lines) + 1) if lines else 0


# ============================================================================================
# Scopes
# ============================================================================================

class _Scope:
    """The variables of one function (or of the script body): name -> slot."""

    def __init__(self, function: str | None, params: list[str], body: list[ast.Stmt]):
        self.function = function
        self.slots: dict[str, int] = {}
        for name in params:
            self.slots.setdefault(name, len(self.slots))
        for name, _ in ast.declarations(body):
            if name not in BUILTIN_VARIABLES or name == "dbEndpoint":
                self.slots.setdefault(name, len(self.slots))

    def template(self) -> list:
        n = len(self.slots)
        frame: list = [UNSET] * n + [None] * n
        if "dbEndpoint" in self.slots:
            frame[self.slots["dbEndpoint"]] = False   # outside its loop dbEndpoint is false
        return frame


def _fault(message: str, node: Any, hint: str | None = None) -> ScriptFault:
    return ScriptFault(message, hint=hint, node=node)


def _failing(message: str, node: Any, hint: str | None = None) -> Closure:
    """A closure that raises a critical error when it runs (what the checker should have
    refused at compile time, kept safe at run time)."""
    def fail(ctx, f):
        raise ScriptFault(message, hint=hint, node=node)
    return fail


def _locate(fault: ScriptFault, node: Any) -> ScriptFault:
    if fault.node is None:
        fault.node = node
    return fault


def _internal(exc: Exception, what: str, node: Any) -> ScriptFault:
    return ScriptFault(f"internal error in mspl-lite while running {what}: {exc!r}",
                       hint="this is a bug in mspl-lite, not in your script; please report it", node=node)


# ============================================================================================
# The compiler
# ============================================================================================

class _Compiler:
    """Turns an ast.Script into the body closure and its frame template."""

    def __init__(self, script_ast: ast.Script):
        self.script = script_ast
        self.functions: dict[str, _Function] = {}
        self.body_scope = _Scope(None, [], script_ast.body)
        self.scope = self.body_scope

    def compile(self) -> tuple[Closure, list]:
        for fn in self.script.functions:
            self.functions.setdefault(fn.name, _Function(fn))
        for fn in self.script.functions:
            compiled = self.functions[fn.name]
            if compiled.node is not fn:
                continue   # a duplicate definition; the checker reports it
            self.scope = _Scope(fn.name, fn.params, fn.body.body)
            compiled.body = self.block(fn.body.body, fn.body)
            compiled.template = self.scope.template()
            compiled.nslots = len(self.scope.slots)
        self.scope = self.body_scope
        body = self.block(self.script.body, self.script)
        return body, self.body_scope.template()

    # -- statements -------------------------------------------------------------------------

    def block(self, stmts: list[ast.Stmt], node: Any) -> Closure:
        """``{ s1 s2 ... }``: counts its statements against the step budget on entry."""
        compiled = [c for c in (self.statement(s) for s in stmts) if c is not None]
        n = len(stmts) or 1
        if len(compiled) == 1:
            only = compiled[0]

            def run_one(ctx, f):
                ctx.steps += n
                if ctx.steps > ctx.budget:
                    raise ctx.over_budget(node)
                return only(ctx, f)
            return run_one

        def run_block(ctx, f):
            ctx.steps += n
            if ctx.steps > ctx.budget:
                raise ctx.over_budget(node)
            for stmt in compiled:
                signal = stmt(ctx, f)
                if signal is not None:
                    return signal
            return None
        return run_block

    def statement(self, node: ast.Stmt) -> Closure | None:
        method = getattr(self, "stmt_" + type(node).__name__, None)
        if method is None:
            return _failing(f"mspl-lite cannot run a {type(node).__name__} statement", node)
        return method(node)

    def stmt_Empty(self, node: ast.Empty) -> None:
        return None

    def stmt_Block(self, node: ast.Block) -> Closure:
        return self.block(node.body, node)

    # expression statement: ``Call(...);``
    def stmt_ExprStmt(self, node: ast.ExprStmt) -> Closure:
        expr = self.expression(node.expr)

        def run_expr(ctx, f):
            expr(ctx, f)
            return None
        return run_expr

    # ``name = value;`` / ``sipMessage.Content = value;``
    def stmt_Assign(self, node: ast.Assign) -> Closure:
        if isinstance(node.target, ast.Member):
            return self.assign_member(node)
        name = node.target.name
        value = self.expression(node.value)
        if name in BUILTIN_VARIABLES:
            return _failing(f"{name} is a built-in variable and cannot be assigned", node.target,
                            hint="choose another variable name")
        if name in ENUM_TYPES:
            return _failing(f"{name} is an enum type and cannot be assigned", node.target)
        return self.assigner(name, node, value)

    def assigner(self, name: str, node: Any, value: Closure) -> Closure:
        """``name = value;``: store, coercing to the type of the variable's first value (dn439149)."""
        slot = self.scope.slots[name]
        tslot = slot + len(self.scope.slots)
        constant = getattr(value, "constant", None)
        if constant is not None:    # ``name = "text";``: no closure to call for the value
            v = constant[0]
            vt = type(v)

            def assign_constant(ctx, f):
                t = f[tslot]
                if t is None:
                    if v is not None:
                        f[tslot] = vt
                    f[slot] = v
                elif v is None or vt is t:
                    f[slot] = v
                else:
                    f[slot] = _coerce_variable(v, t, name, node)
                return None
            return assign_constant

        def assign(ctx, f):
            v = value(ctx, f)
            t = f[tslot]
            if t is None:
                if v is not None:
                    f[tslot] = type(v)
                f[slot] = v
            elif v is None or type(v) is t:
                f[slot] = v
            else:
                f[slot] = _coerce_variable(v, t, name, node)
            return None
        return assign

    def assign_member(self, node: ast.Assign) -> Closure:
        target = node.target
        value = self.expression(node.value)
        obj = target.obj
        if isinstance(obj, ast.Name) and obj.name in ("sipMessage", "sipRequest", "sipResponse"):
            cls = {"sipMessage": "Message", "sipRequest": "Request", "sipResponse": "Response"}[obj.name]
            if target.name == "Content":
                return self.assign_content(node, obj.name, value)
            if target.name in ("RequestUri", "RequestURI"):
                return _failing(f"{obj.name}.{target.name} cannot be assigned", target,
                                hint="to send the request elsewhere call ProxyRequest(uri); to give it "
                                     "a new target user call RetargetRequest(uri)")
            readers = {"Message": MESSAGE_READERS, "Request": REQUEST_READERS,
                       "Response": RESPONSE_READERS}[cls]
            if target.name in readers:
                return _failing(f"{obj.name}.{target.name} is read only", target,
                                hint="only Content (and Transaction.MarshalContent) can be assigned")
            return _failing(f"{cls} has no field {target.name}", target)
        if target.name == "MarshalContent" and isinstance(obj, ast.Member) and obj.name == "Transaction":
            transaction = self.expression(obj)

            def set_marshal(ctx, f):
                v = value(ctx, f)
                if transaction(ctx, f) is not False:
                    ctx.marshal_content = truth(v)
                return None
            return set_marshal
        return _failing(f"{_describe_target(target)} cannot be assigned", target,
                        hint="MSPL variables are plain names; of the fields only sipMessage.Content "
                             "can be assigned")

    def assign_content(self, node: ast.Assign, view: str, value: Closure) -> Closure:
        """``sipMessage.Content = text``: replace the body; Content-Length follows."""
        def set_content(ctx, f):
            v = value(ctx, f)
            if view == "sipRequest" and not ctx.is_request or view == "sipResponse" and not ctx.is_response:
                raise _fault(f"{view}.Content cannot be set: the current message is a "
                             f"{'request' if ctx.is_request else 'response'}", node.target,
                             hint="test `if (sipRequest)` first, or assign sipMessage.Content")
            if v is None:
                raise _fault("null assigned to Content", node.value,
                             hint="Content must be a string; test the value with `!= null` first")
            try:
                text = v if type(v) is str else to_str(v)
            except ScriptFault as fault:
                raise _locate(fault, node.value)
            if len(text) > ctx.max_string:
                raise _fault(f"Content of {len(text)} characters; the limit is {ctx.max_string}", node)
            try:
                ctx.charge(work=len(text), memory=len(text))
            except ScriptFault as fault:
                raise _locate(fault, node)
            ctx.message.set_body(text.encode("utf-8"))
            return None
        return set_content

    # ``if (cond) stmt [else stmt]``
    def stmt_If(self, node: ast.If) -> Closure:
        cond = self.condition(node.cond)
        then = self.sub(node.then)
        if node.else_ is None:
            def run_if(ctx, f):
                if cond(ctx, f):
                    return then(ctx, f)
                return None
            return run_if
        other = self.sub(node.else_)

        def run_if_else(ctx, f):
            if cond(ctx, f):
                return then(ctx, f)
            return other(ctx, f)
        return run_if_else

    def sub(self, node: ast.Stmt) -> Closure:
        """A statement in a branch or loop body (an empty one does nothing)."""
        compiled = self.statement(node)
        return compiled if compiled is not None else _nothing

    # ``switch (x) { case v: ... break; default: ... break; }``
    def stmt_Switch(self, node: ast.Switch) -> Closure:
        subject = self.expression(node.subject)
        cases: list[tuple[Closure, Closure]] = []
        default: Closure | None = None
        for case in node.cases:
            body = self.block(case.body, case)
            if case.value is None:
                if default is None:
                    default = body
            else:
                cases.append((self.expression(case.value), body))

        def run_switch(ctx, f):
            v = subject(ctx, f)
            chosen = default
            for value, body in cases:
                if equal(v, value(ctx, f)):
                    chosen = body
                    break
            if chosen is None:
                return None
            signal = chosen(ctx, f)
            return None if signal == BREAK else signal
        return run_switch

    # ``foreach (x in collection) stmt``
    def stmt_Foreach(self, node: ast.Foreach) -> Closure:
        var = node.var
        iterable_node = node.iterable
        queries = isinstance(iterable_node, ast.Call) and iterable_node.name == "QueryEndpoints"
        if var == "dbEndpoint" and not queries:
            return _failing("dbEndpoint can only loop over QueryEndpoints(...)", node,
                            hint="write foreach (dbEndpoint in QueryEndpoints(userAtHost)) { ... }, "
                                 "or choose another loop variable")
        if queries and var != "dbEndpoint":
            return _failing("QueryEndpoints is only valid as `foreach (dbEndpoint in QueryEndpoints(...))`",
                            iterable_node, hint=f"rename the loop variable {var} to dbEndpoint")
        if var in BUILTIN_VARIABLES and var != "dbEndpoint":
            return _failing(f"{var} is a built-in variable and cannot be a loop variable", node)
        iterable = self.call(iterable_node, allow_query=True) if queries else self.expression(iterable_node)
        body = self.sub(node.body)
        slot = self.scope.slots[var]

        if queries:
            def run_endpoints(ctx, f):
                try:
                    for endpoint in iterable(ctx, f):
                        ctx.steps += 1
                        if ctx.steps > ctx.budget:
                            raise ctx.over_budget(node)
                        f[slot] = endpoint
                        signal = body(ctx, f)
                        if signal is not None:
                            if signal == BREAK:
                                break
                            if signal == CONTINUE:
                                continue
                            return signal
                finally:
                    f[slot] = False   # outside its loop dbEndpoint evaluates to false
                return None
            return run_endpoints

        tslot = slot + len(self.scope.slots)

        def run_foreach(ctx, f):
            collection = iterable(ctx, f)
            if type(collection) is not tuple:
                collection = to_collection(collection)
            for item in collection:
                ctx.steps += 1
                if ctx.steps > ctx.budget:
                    raise ctx.over_budget(node)
                # the store of assigner(), inlined: a helper call per item is measurably
                # slower in bench/bench_script.py
                t = f[tslot]
                if t is None:
                    if item is not None:
                        f[tslot] = type(item)
                    f[slot] = item
                elif item is None or type(item) is t:
                    f[slot] = item
                else:
                    f[slot] = _coerce_variable(item, t, var, node)
                signal = body(ctx, f)
                if signal is not None:
                    if signal == BREAK:
                        break
                    if signal == CONTINUE:
                        continue
                    return signal
            return None
        return run_foreach

    # ``while (cond) stmt``: at most 500 iterations per execution of the loop (Dn439066)
    def stmt_While(self, node: ast.While) -> Closure:
        cond = self.condition(node.cond)
        body = self.sub(node.body)

        def run_while(ctx, f):
            count = 0
            while cond(ctx, f):
                count += 1
                if count > WHILE_LIMIT:
                    raise _fault(f"while loop exceeded {WHILE_LIMIT} iterations", node,
                                 hint="a single while loop may not run more than 500 times (Dn439066); mspl-lite "
                                      "stops the script at the 501st (decision D34)")
                ctx.steps += 1
                if ctx.steps > ctx.budget:
                    raise ctx.over_budget(node)
                signal = body(ctx, f)
                if signal is not None:
                    if signal == BREAK:
                        break
                    if signal == CONTINUE:
                        continue
                    return signal
            return None
        return run_while

    def stmt_Break(self, node: ast.Break) -> Closure:
        return _signal_break

    def stmt_Continue(self, node: ast.Continue) -> Closure:
        return _signal_continue

    # ``return [value];`` (at the top level it ends the script)
    def stmt_Return(self, node: ast.Return) -> Closure:
        if node.value is None:
            def run_return(ctx, f):
                ctx.retval = None
                return RETURN
            return run_return
        value = self.expression(node.value)

        def run_return_value(ctx, f):
            ctx.retval = value(ctx, f)
            return RETURN
        return run_return_value

    # -- conditions (closures returning a Python bool) -----------------------------------------

    def condition(self, node: ast.Expr) -> Closure:
        if isinstance(node, ast.Name) and node.name == "sipRequest" and "sipRequest" not in self.scope.slots:
            return lambda ctx, f: ctx.is_request
        if isinstance(node, ast.Name) and node.name == "sipResponse" and "sipResponse" not in self.scope.slots:
            return lambda ctx, f: ctx.is_response
        if isinstance(node, ast.Unary) and node.op == "!":
            inner = self.condition(node.operand)
            return lambda ctx, f: not inner(ctx, f)
        if isinstance(node, ast.Logical) or isinstance(node, ast.Binary) and node.op in _COMPARISONS:
            return self.expression(node)   # already a bool
        value = self.expression(node)

        def test(ctx, f):
            v = value(ctx, f)
            if v is True or v is False:
                return v
            return truth(v)
        return test

    # -- expressions ----------------------------------------------------------------------------

    def expression(self, node: ast.Expr) -> Closure:
        method = getattr(self, "expr_" + type(node).__name__, None)
        if method is None:
            return _failing(f"mspl-lite cannot evaluate a {type(node).__name__}", node)
        return method(node)

    def expr_Literal(self, node: ast.Literal) -> Closure:
        return _constant(node.value)

    def expr_Name(self, node: ast.Name) -> Closure:
        name = node.name
        slots = self.scope.slots
        if name in slots:
            slot = slots[name]

            def read(ctx, f):
                v = f[slot]
                if v is UNSET:
                    raise _fault(f"variable {name} is read before any value was assigned to it", node,
                                 hint="assign it on every path before this line (e.g. "
                                      f"{name} = \"\"; at the start)")
                return v
            read.slot = slot    # a built-in call reads the slot itself (_builtin_call)
            return read
        builtin = _BUILTIN_VARIABLE_READERS.get(name)
        if builtin is not None:
            return builtin
        if name in ENUM_TYPES:
            return _failing(f"{name} is an enum type; use one of its values, e.g. {name}."
                            f"{next(iter(ENUMS.get(name) or {'Value': 0}))}", node)
        if name in FUNCTIONS or name in self.functions:
            return _failing(f"{name} is a function; call it: {name}(...)", node)
        scope = self.scope
        body_names = self.body_scope.slots

        def flat_file_or_unknown(ctx, f):
            if name in ctx.flat_files:
                raise _fault(f"flat file {name} must be indexed: {name}[row or key].column", node)
            if scope.function is not None and name in body_names:
                raise _fault(f"unknown name {name}: function {scope.function} cannot see the script "
                             "body's variables", node, hint=f"pass {name} to {scope.function} as an argument")
            close = difflib.get_close_matches(name, list(slots) + sorted(BUILTIN_VARIABLES), n=1)
            raise _fault(f"unknown name {name}", node, hint=f"did you mean {close[0]}?" if close else None)
        return flat_file_or_unknown

    def expr_Member(self, node: ast.Member) -> Closure:
        obj = node.obj
        name = node.name
        if isinstance(obj, ast.Name) and obj.name not in self.scope.slots:
            special = self.builtin_member(node, obj.name, name)
            if special is not None:
                return special
        if isinstance(obj, ast.Index):
            return self.row_member(node, obj, name)
        target = self.expression(obj)
        if isinstance(obj, ast.Name) and obj.name == "dbEndpoint" and name in ENDPOINT_FIELDS:
            attr = ENDPOINT_FIELDS[name]

            def endpoint_field(ctx, f):
                v = target(ctx, f)
                if type(v) is RegistrarEndpoint:
                    return getattr(v, attr)
                return read_member(v, name)
            return endpoint_field

        def member(ctx, f):
            v = target(ctx, f)
            try:
                return read_member(v, name)
            except ScriptFault as fault:
                raise _locate(fault, node)
        return member

    def builtin_member(self, node: ast.Member, base: str, name: str) -> Closure | None:
        """``StandardMethod.Invite`` (a constant) and ``sipRequest.Method`` (a direct read)."""
        if base in ENUM_TYPES:
            value = ENUMS.get(base, {}).get(name)
            if value is not None:
                return _constant(value)
            removed = REMOVED_ENUM_VALUES.get((base, name))
            if removed:
                return _failing(removed, node)
            close = difflib.get_close_matches(name, list(ENUMS.get(base, {})), n=1)
            return _failing(f"{base} has no value {name}", node,
                            hint=f"did you mean {base}.{close[0]}?" if close else None)
        if base == "sipMessage":
            reader = MESSAGE_READERS.get(name)
            if reader is None:
                return None

            def message_field(ctx, f):
                return reader(ctx.message, ctx)
            return message_field
        if base == "sipRequest" or base == "sipResponse":
            want_request = base == "sipRequest"
            reader = (REQUEST_READERS if want_request else RESPONSE_READERS).get(name)
            if reader is None:
                return None

            def kind_field(ctx, f):
                if ctx.is_request == want_request:
                    return reader(ctx.message, ctx)
                return False   # a field of the wrong kind reads false (LCS05 cc165101)
            return kind_field
        return None

    def row_member(self, node: ast.Member, index: ast.Index, column: str) -> Closure:
        """``file[key].column``: the column of the row, or null when there is no such row."""
        lookup = self.row_lookup(index)

        def column_of(ctx, f):
            row = lookup(ctx, f)
            if row is None:
                return None
            try:
                return row[column]
            except KeyError:
                raise _fault(f"flat file {_file_name(index)} has no column {column!r}", node,
                             hint="columns: " + ", ".join(row)) from None
        return column_of

    def expr_Index(self, node: ast.Index) -> Closure:
        lookup = self.row_lookup(node)
        name = _file_name(node)

        def row(ctx, f):
            values = lookup(ctx, f)
            return None if values is None else Row(name, values)
        return row

    def row_lookup(self, node: ast.Index) -> Closure:
        """``file[index]`` as the row's dict (None = null): by 0-based number or by key."""
        if not isinstance(node.obj, ast.Name) or node.obj.name in self.scope.slots:
            return _failing("[] only reads flat files: fileName[index].column", node,
                            hint="collections are read with foreach; flat files are declared with "
                                 "<lc:file name=...> in the manifest")
        name = node.obj.name
        index = self.expression(node.index)

        def lookup(ctx, f):
            table = ctx.flat_files.get(name)
            if table is None:
                raise _fault(f"no flat file named {name}", node.obj,
                             hint=f'declare it in the manifest: <lc:file name="{name}" path="..." ...>')
            key = index(ctx, f)
            t = type(key)
            if t is int:
                return table.row(key) if key >= 0 else None
            if t is str:
                try:
                    return table.lookup(key)
                except UsageError:
                    raise _fault(f"flat file {name} has no keyColumnName, so {name}[{show(key)}] cannot "
                                 "look a key up", node,
                                 hint=f"index {name} by row number, or add keyColumnName=\"...\" to its "
                                      "<lc:file> element") from None
            if t is float:
                return table.row(int(key)) if key >= 0 else None
            if key is None:
                raise _fault(f"null used as the index of flat file {name}", node.index,
                             hint="test the key with `!= null` first")
            raise _fault(f"a {type_name(key)} cannot index flat file {name}", node.index,
                         hint="use a row number or a key string")
        return lookup

    def expr_Call(self, node: ast.Call) -> Closure:
        return self.call(node)

    def call(self, node: ast.Call, allow_query: bool = False) -> Closure:
        name = node.name
        args = [self.expression(a) for a in node.args]
        if name in self.functions:
            return self.user_call(node, self.functions[name], args)
        signature = FUNCTIONS.get(name)
        if signature is None:
            if name in REMOVED_FUNCTIONS:
                return _failing(REMOVED_FUNCTIONS[name], node)
            close = difflib.get_close_matches(name, list(FUNCTIONS) + list(self.functions), n=1)
            return _failing(f"unknown function {name}", node, hint=f"did you mean {close[0]}?" if close else None)
        if name == "QueryEndpoints" and not allow_query:
            return _failing("QueryEndpoints is only valid as the collection of "
                            "`foreach (dbEndpoint in QueryEndpoints(...))`", node)
        count = len(args)
        if count < signature.min_args or signature.max_args is not None and count > signature.max_args:
            return _failing(f"{name} takes {_arity(signature)}, not {count}", node)
        call = _builtin_call(name, BUILTINS[name], node, args)
        if signature.kind == "any":
            return call
        return _kind_guard(call, name, signature.kind, signature.wrong_kind, node)

    def user_call(self, node: ast.Call, function: "_Function", args: list[Closure]) -> Closure:
        params = function.node.params
        if len(args) != len(params):
            return _failing(f"{function.node.name} takes {len(params)} argument(s), not {len(args)}", node)

        def call_function(ctx, f):
            return function.invoke(ctx, node, [a(ctx, f) for a in args])
        return call_function

    def expr_Unary(self, node: ast.Unary) -> Closure:
        if node.op == "!":
            inner = self.condition(node.operand)
            return lambda ctx, f: not inner(ctx, f)
        if node.op == "-":
            if isinstance(node.operand, ast.Literal) and type(node.operand.value) is float:
                negative = -node.operand.value
                return lambda ctx, f: negative
            if isinstance(node.operand, ast.Literal) and type(node.operand.value) is int:
                value = -node.operand.value
                if value < INT_MIN:
                    return _failing(f"-{node.operand.value} does not fit a 32-bit int", node)
                return lambda ctx, f: value
            operand = self.expression(node.operand)

            def negate(ctx, f):
                v = operand(ctx, f)
                return _arithmetic("-", 0, v, node)
            return negate
        return _failing(f"MSPL has no unary {node.op} operator", node)

    def expr_Logical(self, node: ast.Logical) -> Closure:
        left = self.condition(node.left)
        right = self.condition(node.right)
        if node.op == "&&":
            return lambda ctx, f: left(ctx, f) and right(ctx, f)
        if node.op == "||":
            return lambda ctx, f: left(ctx, f) or right(ctx, f)
        return _failing(f"MSPL has no {node.op} operator", node)

    def expr_Binary(self, node: ast.Binary) -> Closure:
        op = node.op
        left = self.expression(node.left)
        if op in ("==", "!="):
            return self.equality(node, left)
        right = self.expression(node.right)
        if op in ("<", "<=", ">", ">="):
            order = {"<": int.__lt__, "<=": int.__le__, ">": int.__gt__, ">=": int.__ge__}[op]

            def ordering(ctx, f):
                a = left(ctx, f)
                b = right(ctx, f)
                if type(a) is int and type(b) is int:
                    return order(a, b)
                _charge_text(ctx, a, b, node)
                return compare(op, a, b)
            return ordering
        if op in ("+", "-"):
            plus = op == "+"
            constant = getattr(right, "constant", None)
            if constant is not None and type(constant[0]) is int:   # ``n + 1``
                b = constant[0]

                def arithmetic_constant(ctx, f):
                    a = left(ctx, f)
                    if type(a) is int:
                        n = a + b if plus else a - b
                        if INT_MIN <= n <= INT_MAX:
                            return n
                    return _arithmetic(op, a, b, node)
                return arithmetic_constant

            def arithmetic(ctx, f):
                a = left(ctx, f)
                b = right(ctx, f)
                if type(a) is int and type(b) is int:
                    n = a + b if plus else a - b
                    if INT_MIN <= n <= INT_MAX:
                        return n
                return _arithmetic(op, a, b, node)
            return arithmetic
        return _failing(f"MSPL has no {op} operator", node,
                        hint="only + and - exist (decision D7); there is no *, / or %")

    def equality(self, node: ast.Binary, left: Closure) -> Closure:
        negate = node.op == "!="
        right_node = node.right
        if (isinstance(right_node, ast.Literal) and type(right_node.value) is str
                and len(right_node.value) <= _FREE_TEXT):
            literal = right_node.value
            if negate:
                def not_equal_text(ctx, f):
                    v = left(ctx, f)
                    if type(v) is str:
                        return v != literal
                    return not equal(v, literal)
                return not_equal_text

            def equal_text(ctx, f):
                v = left(ctx, f)
                if type(v) is str:
                    return v == literal
                return equal(v, literal)
            return equal_text
        right = self.expression(right_node)

        def equal_values(ctx, f):
            a = left(ctx, f)
            b = right(ctx, f)
            _charge_text(ctx, a, b, node)
            return equal(a, b) != negate
        return equal_values


_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})


#: Strings up to this length are compared or parsed as numbers without counting the work.
_FREE_TEXT = 256


def _charge_text(ctx: Any, a: Any, b: Any, node: Any) -> None:
    """Count a comparison of long strings against the work budget (it reads them whole)."""
    size = (len(a) if type(a) is str else 0) + (len(b) if type(b) is str else 0)
    if size > _FREE_TEXT:
        try:
            ctx.charge(work=size)
        except ScriptFault as fault:
            raise _locate(fault, node)


def _nothing(ctx, f):
    return None


def _constant(value: Any) -> Closure:
    """The closure of a literal or an enum constant; marked so that a built-in call can take
    the value itself instead of calling the closure on every run (_builtin_call)."""
    def constant(ctx, f):
        return value
    constant.constant = (value,)
    return constant


def _signal_break(ctx, f):
    return BREAK


def _signal_continue(ctx, f):
    return CONTINUE


def _file_name(node: ast.Index) -> str:
    return node.obj.name if isinstance(node.obj, ast.Name) else "?"


def _describe_target(node: Any) -> str:
    if isinstance(node, ast.Name):
        return node.name
    if isinstance(node, ast.Member):
        return f"{_describe_target(node.obj)}.{node.name}"
    if isinstance(node, ast.Index):
        return f"{_describe_target(node.obj)}[...]"
    return "this"


def _arity(signature: Any) -> str:
    lo, hi = signature.min_args, signature.max_args
    if hi is None:
        return f"at least {lo} argument(s)"
    if lo == hi:
        return f"{lo} argument(s)"
    return f"{lo} to {hi} arguments"


def _coerce_variable(value: Any, target: type, name: str, node: Any) -> Any:
    """A new value of a typed variable, converted to its type (dn439149)."""
    try:
        return coerce_to(value, target)
    except ScriptFault as fault:
        kind = {str: "a string", bool: "a bool", int: "an int", float: "a float"}.get(target, "")
        raise _fault(f"cannot assign {show(value)} to {name}: {fault.message}", node,
                     hint=f"{name} is {kind} since its first assignment (a variable keeps the type of "
                          "its first value); use a new variable") from None


def _arithmetic(op: str, a: Any, b: Any, node: Any) -> Any:
    """``+``/``-`` (decision D7) with MSPL's coercions: numeric strings become ints; with a float
    the result is a float (decision D31); bool, null and objects are faults; overflow of 32 bits
    is a fault."""
    try:
        if type(a) is float or type(b) is float:
            x, y = to_float(a), to_float(b)
            result = x + y if op == "+" else x - y
            if abs(result) > FLOAT_MAX:
                raise ScriptFault(f"float overflow: {show(x)} {op} {show(y)} does not fit a float",
                                  hint="MSPL floats are IEEE single precision, at most about 3.4e38 (dn439149)")
            return result
        if a is None or b is None or type(a) is bool or type(b) is bool:
            bad = a if (a is None or type(a) is bool) else b
            raise ScriptFault(f"{show(bad)} used in {op}: only numbers can be added or subtracted",
                              hint="MSPL has no string +; join strings with Concatenate(...)")
        x, y = to_int(a), to_int(b)
    except ScriptFault as fault:
        join = "MSPL has no string +; join strings with Concatenate(...)"
        fault.hint = join if fault.hint is None or "Concatenate" in fault.hint else f"{fault.hint}; {join}"
        raise _locate(fault, node)
    n = x + y if op == "+" else x - y
    if not INT_MIN <= n <= INT_MAX:
        raise _fault(f"integer overflow: {x} {op} {y} does not fit a 32-bit int", node,
                     hint=f"MSPL ints go from {INT_MIN} to {INT_MAX}")
    return n


def _builtin_call(name: str, impl: Callable[..., Any], node: Any, args: list[Closure]) -> Closure:
    """A call of a built-in: evaluate the arguments, run it, locate any fault at the call."""
    # Unrolled for up to three arguments: a call is the commonest step of a script, and the
    # general call_n (a list and a * call per run) costs measurably more. Constant arguments
    # (literals, enum values) are passed as values, not closures to call.
    count = len(args)
    constants = [getattr(a, "constant", None) for a in args]
    if count == 1 and getattr(args[0], "slot", None) is not None:
        a0 = args[0]
        s0 = a0.slot

        def call1_variable(ctx, f):
            try:
                v = f[s0]
                if v is UNSET:
                    v = a0(ctx, f)   # raises "read before any value was assigned"
                return impl(ctx, node, v)
            except ScriptFault as fault:
                raise _locate(fault, node)
            except Exception as exc:
                raise _internal(exc, name, node) from exc
        return call1_variable
    if count == 1 and constants[0] is not None:
        v0 = constants[0][0]

        def call1_constant(ctx, f):
            try:
                return impl(ctx, node, v0)
            except ScriptFault as fault:
                raise _locate(fault, node)
            except Exception as exc:
                raise _internal(exc, name, node) from exc
        return call1_constant
    if count > 3 or (count > 1 and all(c is not None for c in constants)):
        # the argument list with the constants in place; the others evaluated left to right
        template = [c[0] if c is not None else None for c in constants]
        dynamic = [(i, a) for i, (a, c) in enumerate(zip(args, constants)) if c is None]

        def call_template(ctx, f):
            try:
                values = template.copy()
                for i, a in dynamic:
                    values[i] = a(ctx, f)
                return impl(ctx, node, *values)
            except ScriptFault as fault:
                raise _locate(fault, node)
            except Exception as exc:
                raise _internal(exc, name, node) from exc
        return call_template
    if count == 0:
        def call0(ctx, f):
            try:
                return impl(ctx, node)
            except ScriptFault as fault:
                raise _locate(fault, node)
            except Exception as exc:
                raise _internal(exc, name, node) from exc
        return call0
    if count == 1:
        a0 = args[0]

        def call1(ctx, f):
            try:
                return impl(ctx, node, a0(ctx, f))
            except ScriptFault as fault:
                raise _locate(fault, node)
            except Exception as exc:
                raise _internal(exc, name, node) from exc
        return call1
    if count == 2:
        a0, a1 = args

        def call2(ctx, f):
            try:
                return impl(ctx, node, a0(ctx, f), a1(ctx, f))
            except ScriptFault as fault:
                raise _locate(fault, node)
            except Exception as exc:
                raise _internal(exc, name, node) from exc
        return call2
    if count == 3:
        a0, a1, a2 = args

        def call3(ctx, f):
            try:
                return impl(ctx, node, a0(ctx, f), a1(ctx, f), a2(ctx, f))
            except ScriptFault as fault:
                raise _locate(fault, node)
            except Exception as exc:
                raise _internal(exc, name, node) from exc
        return call3

    def call_n(ctx, f):
        try:
            return impl(ctx, node, *[a(ctx, f) for a in args])
        except ScriptFault as fault:
            raise _locate(fault, node)
        except Exception as exc:
            raise _internal(exc, name, node) from exc
    return call_n


def _kind_guard(call: Closure, name: str, kind: str, wrong_kind: str, node: Any) -> Closure:
    """Request-only / response-only built-ins (hh347152): the other kind is a critical error,
    or false for Respond (its own page says so)."""
    want_request = kind == "request"
    if wrong_kind == "false":
        def guarded_false(ctx, f):
            if ctx.is_request == want_request:
                return call(ctx, f)
            return False
        return guarded_false
    other = "response" if want_request else "request"
    guard = "if (sipRequest) { ... }" if want_request else "if (sipResponse) { ... }"

    def guarded(ctx, f):
        if ctx.is_request == want_request:
            return call(ctx, f)
        raise _fault(f"{name} needs a {kind}, but the current message is a {other}", node,
                     hint=f"guard it with {guard}; calling a {kind}-only function on a {other} "
                          "is a critical error")
    return guarded


class _Function:
    """A script function, compiled: ``invoke`` runs it in a fresh frame (pass by value)."""

    __slots__ = ("node", "body", "template", "nslots")

    def __init__(self, node: ast.Function):
        self.node = node
        self.body: Closure = _nothing
        self.template: list = []
        self.nslots = 0

    def invoke(self, ctx: ScriptContext, at: Any, args: list) -> Any:
        if ctx.depth >= MAX_CALL_DEPTH:
            raise _fault(f"function calls nested deeper than {MAX_CALL_DEPTH}", at,
                         hint="MSPL functions cannot call themselves, directly or through others")
        ctx.steps += 1
        if ctx.steps > ctx.budget:
            raise ctx.over_budget(at)
        frame = self.template.copy()
        n = self.nslots
        for i, value in enumerate(args):
            frame[i] = value
            if value is not None:
                frame[n + i] = type(value)
        ctx.depth += 1
        try:
            signal = self.body(ctx, frame)
        finally:
            ctx.depth -= 1
        if signal != RETURN:
            return None
        value = ctx.retval
        ctx.retval = None
        if type(value) is tuple:
            raise _fault(f"function {self.node.name} returns a collection", at,
                         hint="MSPL functions return a string, int, float or bool; loop over the "
                              "collection inside the function instead")
        return value


def _read_request_view(ctx, f):
    return ctx.request_view


def _read_response_view(ctx, f):
    return ctx.response_view


def _read_message_view(ctx, f):
    return ctx.message_view


_BUILTIN_VARIABLE_READERS: dict[str, Closure] = {
    "sipMessage": _read_message_view,
    "sipRequest": _read_request_view,
    "sipResponse": _read_response_view,
    "RequestTarget": lambda ctx, f: ctx.request_target(),
    "RequestSource": lambda ctx, f: ctx.request_source(),
    "FQDN": lambda ctx, f: ctx.fqdn,
    "ServerPool": lambda ctx, f: ctx.server_pool,
    "Role": lambda ctx, f: ctx.role,
    "dbEndpoint": lambda ctx, f: False,   # not inside foreach (dbEndpoint in QueryEndpoints(...))
}
