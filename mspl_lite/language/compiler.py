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
from .builtins import BUILTINS, header_name, header_values, join_strings, log_level, log_summary, write_log
# ScriptEnvironment and DEFAULT_STEP_BUDGET live in context.py; importing them from here still works.
from .context import DEFAULT_STEP_BUDGET, ScriptContext, ScriptEnvironment, default_environment
from .run import ScriptFault, ScriptRun, new_log_entry
from .server import RegistrarEndpoint
from .signatures import BUILTIN_VARIABLES, ENUM_TYPES, FUNCTIONS, HANDLED_DISPOSITIONS, REMOVED_FUNCTIONS
from .values import (
    ENDPOINT_FIELDS, ENUMS, FLOAT_MAX, INT_MAX, INT_MIN, MESSAGE_READERS, REMOVED_ENUM_VALUES, REQUEST_READERS,
    RESPONSE_READERS, EnumValue, Row, coerce_to, compare, equal, read_member, show, to_collection, to_float,
    to_int, to_str, truth, type_name, wire_text,
)

__all__ = ["Script", "ScriptEnvironment", "WHILE_LIMIT", "DEFAULT_STEP_BUDGET"]

WHILE_LIMIT = 500
#: The compiler's fast paths (issue 13: bench/bench_script.py): closures specialised for common
#: shapes -- a variable read from its slot, a block entered by its if or foreach, a constant
#: argument worked out once, a call and its store in one closure. Each gives what the general
#: closure gives; tests/test_script_fast_paths.py compiles scripts with this off to show it.
FAST_PATHS = True
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
        # any(d.handles for d in record.dispositions), read off ctx.final: a run records at most one
        # final disposition (a second one is a critical error before it is recorded, ctx.dispose),
        # and only a final one handles the message
        final = ctx.final
        record.handled = final is not None and final.kind in HANDLED_DISPOSITIONS
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
            run_one.parts = (n, node, only)   # for stmt_If and stmt_Foreach: the same count, one call fewer
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
        run_block.statements = (n, node, compiled)   # for stmt_If: the same count, one call fewer
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
        if FAST_PATHS and getattr(expr, "void", False):
            return expr     # ``Log(...);``: the call returns None, the "go on" signal itself

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
        uri = getattr(value, "uri_call", None) if FAST_PATHS else None
        if uri is not None:     # ``user = GetUserAtHost(uri);``: uri_call and the store in one closure
            function, impl, helper, call_node, arg = uri
            s0 = getattr(arg, "slot", None)
            field = getattr(arg, "field", None)   # ``GetUri(sipRequest.From)``: kind_header's read
            header, want_request = field if field is not None else (None, None)

            def assign_uri_call(ctx, f):
                try:    # the body of _uri_call's closure
                    if header is not None:
                        if ctx.is_request == want_request:    # kind_header, inlined
                            v = ctx.message.get(header)
                            if v is None:
                                v = ""
                            elif not v.isascii():
                                v = wire_text(v)
                        else:
                            v = False
                    elif s0 is None:
                        v = arg(ctx, f)
                    else:
                        v = f[s0]
                        if v is UNSET:
                            v = arg(ctx, f)   # raises "read before any value was assigned"
                    if type(v) is not str:
                        v = impl(ctx, call_node, v)
                    else:
                        n = len(v)
                        ctx.work += n
                        if ctx.work > ctx.work_budget:
                            ctx.work -= n
                            ctx.charge(work=n)   # raises the work budget's fault
                        v = helper(v)
                except ScriptFault as fault:
                    raise _locate(fault, call_node)
                except Exception as exc:
                    raise _internal(exc, function, call_node) from exc
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
            return assign_uri_call
        row_column = getattr(value, "row_column", None) if FAST_PATHS else None
        if row_column is not None:   # ``action = policy[user].action;``: column_of_key and the store
            file, key_slot, lookup, column, index, member = row_column

            def assign_row_column(ctx, f):
                table = ctx.flat_files.get(file)
                key = f[key_slot]
                if table is not None and type(key) is str:
                    try:
                        row = table.lookup(key)
                    except UsageError:
                        row = lookup(ctx, f)   # raises the located fault
                else:
                    row = lookup(ctx, f)
                if row is None:
                    v = None
                else:
                    try:
                        v = row[column]
                    except KeyError:
                        raise _fault(f"flat file {_file_name(index)} has no column {column!r}", member,
                                     hint="columns: " + ", ".join(row)) from None
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
            return assign_row_column
        step = getattr(value, "step", None) if FAST_PATHS else None
        if step is not None:    # ``n = n + 1;``: the sum and the store in one closure
            s0, b, plus, op, left, sum_node = step

            def assign_step(ctx, f):
                a = f[s0]
                if type(a) is int and INT_MIN <= (v := a + b if plus else a - b) <= INT_MAX:
                    pass
                else:
                    if a is UNSET:
                        a = left(ctx, f)   # raises "read before any value was assigned"
                    v = _arithmetic(op, a, b, sum_node)
                t = f[tslot]
                if t is None:
                    f[tslot] = type(v)   # never None: a sum is a number
                    f[slot] = v
                elif type(v) is t:
                    f[slot] = v
                else:
                    f[slot] = _coerce_variable(v, t, name, node)
                return None
            return assign_step

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
        parts = getattr(then, "parts", None) if FAST_PATHS else None
        if node.else_ is None and parts is not None:   # ``if (c) { one statement }``
            n, block, only = parts
            if getattr(cond, "not_request", False):     # ``if (!sipRequest) { return; }``
                def unless_request(ctx, f):
                    if not ctx.is_request:
                        ctx.steps += n
                        if ctx.steps > ctx.budget:
                            raise ctx.over_budget(block)
                        return only(ctx, f)
                    return None
                return unless_request

            def run_if_block(ctx, f):
                if cond(ctx, f):
                    ctx.steps += n     # the block's count and check (block()), inlined
                    if ctx.steps > ctx.budget:
                        raise ctx.over_budget(block)
                    return only(ctx, f)
                return None
            return run_if_block
        if FAST_PATHS and node.else_ is None and getattr(then, "statements", None) is not None:
            n, block, statements = then.statements   # ``if (c) { s1 s2 ... }``

            def run_if_statements(ctx, f):
                if cond(ctx, f):
                    ctx.steps += n     # the block's count and check (block()), inlined
                    if ctx.steps > ctx.budget:
                        raise ctx.over_budget(block)
                    for stmt in statements:
                        signal = stmt(ctx, f)
                        if signal is not None:
                            return signal
                return None
            return run_if_statements
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
        parts = getattr(body, "parts", None) if FAST_PATHS else None
        if parts is not None:     # ``foreach (x in c) { one statement }``
            n, block, only = parts
            header = getattr(iterable, "header", None)   # ``GetHeaderValues("Via")``: called here

            def run_foreach_block(ctx, f):
                if header is not None:
                    try:    # _header_values_call's closure, inlined
                        collection = header_values(ctx, header)
                    except ScriptFault as fault:
                        raise _locate(fault, iterable_node)
                    except Exception as exc:
                        raise _internal(exc, "GetHeaderValues", iterable_node) from exc
                else:
                    collection = iterable(ctx, f)
                if type(collection) is not tuple:
                    collection = to_collection(collection)
                for item in collection:
                    ctx.steps += 1
                    if ctx.steps > ctx.budget:
                        raise ctx.over_budget(node)
                    t = f[tslot]   # the store of assigner(), inlined
                    if t is None:
                        if item is not None:
                            f[tslot] = type(item)
                        f[slot] = item
                    elif item is None or type(item) is t:
                        f[slot] = item
                    else:
                        f[slot] = _coerce_variable(item, t, var, node)
                    ctx.steps += n     # the block's count and check (block()), inlined
                    if ctx.steps > ctx.budget:
                        raise ctx.over_budget(block)
                    signal = only(ctx, f)
                    if signal is not None:
                        if signal == BREAK:
                            break
                        if signal == CONTINUE:
                            continue
                        return signal
                return None
            return run_foreach_block

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
            operand = node.operand
            if FAST_PATHS and isinstance(operand, ast.Name) and operand.name == "sipRequest" \
                    and "sipRequest" not in self.scope.slots:
                def not_request(ctx, f):
                    return not ctx.is_request
                not_request.not_request = True   # for stmt_If
                return not_request
            if FAST_PATHS and isinstance(operand, ast.Name) and operand.name == "sipResponse" \
                    and "sipResponse" not in self.scope.slots:
                return lambda ctx, f: not ctx.is_response
            inner = self.condition(operand)
            return lambda ctx, f: not inner(ctx, f)
        if isinstance(node, ast.Logical) or isinstance(node, ast.Binary) and node.op in _COMPARISONS:
            return self.expression(node)   # already a bool
        value = self.expression(node)
        if FAST_PATHS and getattr(value, "returns_bool", False):
            return value   # a built-in that always returns a bool (_BOOL_BUILTINS)

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

            header = getattr(reader, "header", None) if FAST_PATHS else None
            if header is not None:    # the reader of values._header, inlined
                def kind_header(ctx, f):
                    if ctx.is_request == want_request:
                        value = ctx.message.get(header)
                        if value is None:
                            return ""
                        return value if value.isascii() else wire_text(value)
                    return False
                kind_header.field = (header, want_request)   # for assigner()
                return kind_header
            if FAST_PATHS and name == "Method" and want_request:
                def request_method(ctx, f):
                    if ctx.is_request:
                        return ctx.message.method
                    return False
                request_method.method_field = True   # for equality()
                return request_method

            def kind_field(ctx, f):
                if ctx.is_request == want_request:
                    return reader(ctx.message, ctx)
                return False   # a field of the wrong kind reads false (LCS05 cc165101)
            return kind_field
        return None

    def row_member(self, node: ast.Member, index: ast.Index, column: str) -> Closure:
        """``file[key].column``: the column of the row, or null when there is no such row."""
        lookup = self.row_lookup(index)
        key_slot = getattr(getattr(lookup, "index", None), "slot", None) if FAST_PATHS else None
        if key_slot is not None:
            name = index.obj.name

            def column_of_key(ctx, f):
                table = ctx.flat_files.get(name)
                key = f[key_slot]
                if table is not None and type(key) is str:   # lookup(), inlined for a key string
                    try:
                        row = table.lookup(key)
                    except UsageError:
                        row = lookup(ctx, f)   # raises the located fault
                else:
                    row = lookup(ctx, f)
                if row is None:
                    return None
                try:
                    return row[column]
                except KeyError:
                    raise _fault(f"flat file {_file_name(index)} has no column {column!r}", node,
                                 hint="columns: " + ", ".join(row)) from None
            column_of_key.row_column = (name, key_slot, lookup, column, index, node)   # for assigner()
            return column_of_key

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
        lookup.index = index
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
        call = self.builtin_call(node, signature, args)
        if signature.returns == "void":
            call.void = True            # returns None: an expression statement needs no wrapper
        elif name in _BOOL_BUILTINS:
            call.returns_bool = True    # a condition needs no truth test
        return call

    def builtin_call(self, node: ast.Call, signature: Any, args: list[Closure]) -> Closure:
        """The closure of a call of a built-in, its message kind checked first."""
        name = node.name
        constants = [getattr(a, "constant", None) for a in args]
        if not FAST_PATHS:
            return _kind_guard(_general_call(name, BUILTINS[name], node, args), name, signature.kind,
                               signature.wrong_kind, node) if signature.kind != "any" \
                else _general_call(name, BUILTINS[name], node, args)
        if name == "Log" and len(args) >= 2 and constants[0] is not None and type(constants[0][0]) is str \
                and constants[1] is not None:
            return _log_call(node, constants[0][0], constants[1][0], args[2:])
        if name == "Concatenate":
            return _concatenate_call(node, args)
        if name == "ContainsString" and constants[0] is None and constants[1] is not None \
                and type(constants[1][0]) is str and constants[2] is not None:
            return _contains_constant_call(node, args[0], constants[1][0], truth(constants[2][0]))
        if name == "GetHeaderValues" and constants[0] is not None:
            try:
                header = header_name(constants[0][0], name, 1)
            except ScriptFault:
                pass   # a bad name: the general call raises the fault when the call runs
            else:
                return _header_values_call(node, header)
        if signature.kind != "any" and signature.wrong_kind == "critical" and len(args) <= 1:
            return _builtin_call(name, BUILTINS[name], node, args, want_request=signature.kind == "request")
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
                s = getattr(left, "slot", None) if FAST_PATHS else None
                if s is not None:
                    def arithmetic_variable_constant(ctx, f):
                        a = f[s]
                        if type(a) is int:
                            n = a + b if plus else a - b
                            if INT_MIN <= n <= INT_MAX:
                                return n
                        if a is UNSET:
                            a = left(ctx, f)   # raises "read before any value was assigned"
                        return _arithmetic(op, a, b, node)
                    arithmetic_variable_constant.step = (s, b, plus, op, left, node)   # for assigner()
                    return arithmetic_variable_constant

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
            s = getattr(left, "slot", None) if FAST_PATHS else None
            if s is not None:     # ``name == "text"``: the variable read inline
                def equal_text_variable(ctx, f):
                    v = f[s]
                    if type(v) is str:
                        return (v == literal) != negate
                    if v is UNSET:
                        v = left(ctx, f)   # raises "read before any value was assigned"
                    return equal(v, literal) != negate
                return equal_text_variable
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
        constant = getattr(right, "constant", None)
        enum = constant[0] if constant is not None else None
        if FAST_PATHS and type(enum) is EnumValue and enum.type == "StandardMethod" and enum.name != "NonStandard":
            text = enum.text   # ``sipRequest.Method == StandardMethod.Invite``

            if getattr(left, "method_field", False):   # ``sipRequest.Method`` read inline
                def method_is(ctx, f):
                    if ctx.is_request:
                        a = ctx.message.method
                        if type(a) is str and len(a) <= _FREE_TEXT:
                            return (a.upper() == text) != negate
                    else:
                        a = False
                    _charge_text(ctx, a, enum, node)
                    return equal(a, enum) != negate
                return method_is

            def equal_method(ctx, f):
                a = left(ctx, f)
                if type(a) is str and len(a) <= _FREE_TEXT:   # EnumValue.equals, inlined
                    return (a.upper() == text) != negate
                _charge_text(ctx, a, enum, node)
                return equal(a, enum) != negate
            return equal_method

        def equal_values(ctx, f):
            a = left(ctx, f)
            b = right(ctx, f)
            _charge_text(ctx, a, b, node)
            return equal(a, b) != negate
        return equal_values


_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})

#: Built-ins that return a bool whenever they return (tests/test_script_fast_paths.py checks it).
_BOOL_BUILTINS = frozenset({"ContainsString", "EqualString", "SupportsMethod", "DomainSupported",
                            "CheckUserOption", "AddHeader", "SetParameterValue", "Respond"})


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


def _general_call(name: str, impl: Callable[..., Any], node: Any, args: list[Closure]) -> Closure:
    """A call of a built-in the general way: every argument's closure called, left to right
    (what _builtin_call's shapes must equal; FAST_PATHS off)."""
    def call_n(ctx, f):
        try:
            return impl(ctx, node, *[a(ctx, f) for a in args])
        except ScriptFault as fault:
            raise _locate(fault, node)
        except Exception as exc:
            raise _internal(exc, name, node) from exc
    return call_n


def _builtin_call(name: str, impl: Callable[..., Any], node: Any, args: list[Closure],
                  want_request: bool | None = None) -> Closure:
    """A call of a built-in: evaluate the arguments, run it, locate any fault at the call.

    ``want_request`` (True/False) checks the message kind first, as _kind_guard does, for calls
    of up to one argument (ProxyRequest, Fork, ProxyResponse ...); None checks nothing."""
    # Unrolled for the common shapes: a call is the commonest step of a script, and the
    # general call_n (a list and a * call per run) costs measurably more (bench/bench_script.py).
    # Constant arguments (literals, enum values) are passed as values, not closures to call;
    # variables are read from their slot (a closure is called only to raise the fault of a
    # variable read before any assignment).
    count = len(args)
    constants = [getattr(a, "constant", None) for a in args]
    slots = [getattr(a, "slot", None) for a in args]
    if want_request is not None:
        if count > 1:
            raise ValueError("a kind check is fused only into calls of at most one argument")
        wrong = _wrong_kind(name, "request" if want_request else "response", node)
    helper = getattr(impl, "helper", None)
    if count == 1 and helper is not None and constants[0] is None and want_request is None:
        return _uri_call(name, impl, helper, node, args[0])
    if count == 1 and slots[0] is not None:
        a0 = args[0]
        s0 = slots[0]

        def call1_variable(ctx, f):
            if want_request is not None and ctx.is_request is not want_request:
                raise wrong()
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
            if want_request is not None and ctx.is_request is not want_request:
                raise wrong()
            try:
                return impl(ctx, node, v0)
            except ScriptFault as fault:
                raise _locate(fault, node)
            except Exception as exc:
                raise _internal(exc, name, node) from exc
        return call1_constant
    if count == 1:
        a0 = args[0]

        def call1(ctx, f):
            if want_request is not None and ctx.is_request is not want_request:
                raise wrong()
            try:
                return impl(ctx, node, a0(ctx, f))
            except ScriptFault as fault:
                raise _locate(fault, node)
            except Exception as exc:
                raise _internal(exc, name, node) from exc
        return call1
    if count == 0:
        def call0(ctx, f):
            if want_request is not None and ctx.is_request is not want_request:
                raise wrong()
            try:
                return impl(ctx, node)
            except ScriptFault as fault:
                raise _locate(fault, node)
            except Exception as exc:
                raise _internal(exc, name, node) from exc
        return call0
    if all(c is not None for c in constants):
        values = tuple(c[0] for c in constants)

        def call_constants(ctx, f):
            try:
                return impl(ctx, node, *values)
            except ScriptFault as fault:
                raise _locate(fault, node)
            except Exception as exc:
                raise _internal(exc, name, node) from exc
        return call_constants
    if count <= 3 and constants[0] is None and all(c is not None for c in constants[1:]):
        # ``ContainsString(agent, "Lync", true)``: one value, then constants
        a0 = args[0]
        s0 = slots[0]
        c1 = constants[1][0]
        c2 = constants[2][0] if count == 3 else None

        def call_first_dynamic(ctx, f):
            try:
                if s0 is None:
                    v = a0(ctx, f)
                else:
                    v = f[s0]
                    if v is UNSET:
                        v = a0(ctx, f)   # raises "read before any value was assigned"
                if count == 3:
                    return impl(ctx, node, v, c1, c2)
                return impl(ctx, node, v, c1)
            except ScriptFault as fault:
                raise _locate(fault, node)
            except Exception as exc:
                raise _internal(exc, name, node) from exc
        return call_first_dynamic
    if count > 3 or any(c is not None or s is not None for c, s in zip(constants, slots)):
        # the argument list with the constants in place; the others evaluated left to right
        template = [c[0] if c is not None else None for c in constants]
        dynamic = [(i, s, a) for i, (a, c, s) in enumerate(zip(args, constants, slots)) if c is None]

        def call_template(ctx, f):
            try:
                values = template.copy()
                for i, s, a in dynamic:
                    if s is None:
                        values[i] = a(ctx, f)
                    else:
                        v = f[s]
                        values[i] = a(ctx, f) if v is UNSET else v
                return impl(ctx, node, *values)
            except ScriptFault as fault:
                raise _locate(fault, node)
            except Exception as exc:
                raise _internal(exc, name, node) from exc
        return call_template
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
    a0, a1, a2 = args

    def call3(ctx, f):
        try:
            return impl(ctx, node, a0(ctx, f), a1(ctx, f), a2(ctx, f))
        except ScriptFault as fault:
            raise _locate(fault, node)
        except Exception as exc:
            raise _internal(exc, name, node) from exc
    return call3


def _uri_call(name: str, impl: Callable[..., Any], helper: Callable[[str], Any], node: Any,
              arg: Closure) -> Closure:
    """``GetUserAtHost(uri)`` and the other mspl_lite.sip.address functions (builtins._uri_function):
    for a string the helper is called directly, after the same work charge; any other value
    takes the built-in's own path (its faults)."""
    s0 = getattr(arg, "slot", None)

    def uri_call(ctx, f):
        try:
            if s0 is None:
                v = arg(ctx, f)
            else:
                v = f[s0]
                if v is UNSET:
                    v = arg(ctx, f)   # raises "read before any value was assigned"
            if type(v) is not str:
                return impl(ctx, node, v)
            n = len(v)
            ctx.work += n    # ctx.charge(work=n), inlined as in the built-in
            if ctx.work > ctx.work_budget:
                ctx.work -= n
                ctx.charge(work=n)   # raises the work budget's fault
            return helper(v)
        except ScriptFault as fault:
            raise _locate(fault, node)
        except Exception as exc:
            raise _internal(exc, name, node) from exc
    uri_call.uri_call = (name, impl, helper, node, arg)   # for assigner()
    return uri_call


def _log_call(node: Any, level_name: str, detail: Any, args: list[Closure]) -> Closure:
    """``Log("Debugr", false, ...)``: the name and detail flag are constants (the usual case), so
    the level and the flag are worked out once, and the constant strings measured once. On each
    run the other strings are evaluated left to right; ints and bools become their text as they
    come (that cannot fail); any other value is converted by builtins.write_log once all are
    evaluated, as log() does, so its fault comes after every argument ran."""
    level = log_level(level_name)
    full = truth(detail)
    line = node.line
    column = node.column
    constants = [getattr(a, "constant", None) for a in args]
    if any(c is not None and type(c[0]) is not str for c in constants):
        return _builtin_call("Log", BUILTINS["Log"], node,
                             [_constant(level_name), _constant(detail)] + args)
    template = [c[0] if c is not None else None for c in constants]
    fixed = len(level_name) + sum(len(c[0]) for c in constants if c is not None)
    dynamic = [(i, getattr(a, "slot", None), a) for i, (a, c) in enumerate(zip(args, constants)) if c is None]

    def log_constant_level(ctx, f):
        try:
            values = template.copy()
            size = fixed
            other = False
            for i, s, a in dynamic:
                if s is None:
                    v = a(ctx, f)
                else:
                    v = f[s]
                    if v is UNSET:
                        v = a(ctx, f)   # raises "read before any value was assigned"
                t = type(v)
                if t is str:
                    pass
                elif t is int:
                    v = str(v)      # to_str, inlined
                elif t is bool:
                    v = "true" if v else "false"
                else:
                    other = True    # converted (or refused) below, in argument order
                values[i] = v
                if not other:
                    size += len(v)
            if other or full:
                write_log(ctx, node, level_name, level, full, values, 3)
                return None
            # builtins.append_log without the whole message (full is false), inlined
            ctx.work += size
            ctx.memory += size
            if ctx.work > ctx.work_budget or ctx.memory > ctx.memory_budget:
                ctx.work -= size
                ctx.memory -= size
                ctx.charge(work=size, memory=size)   # raises the fault of the budget that is over
            ctx.run.log.append(new_log_entry(level, level_name, False, tuple(values), log_summary(ctx, False),
                                             line, column))
        except ScriptFault as fault:
            raise _locate(fault, node)
        except Exception as exc:
            raise _internal(exc, "Log", node) from exc
    return log_constant_level


def _concatenate_call(node: Any, args: list[Closure]) -> Closure:
    """``Concatenate(...)``: the arguments evaluated with constants in place and variables read
    from their slots, then joined by builtins.join_strings."""
    constants = [getattr(a, "constant", None) for a in args]
    template = [c[0] if c is not None else None for c in constants]
    dynamic = [(i, getattr(a, "slot", None), a) for i, (a, c) in enumerate(zip(args, constants)) if c is None]
    texts = all(c is None or type(c[0]) is str for c in constants)
    fixed = sum(len(c[0]) for c in constants if c is not None) if texts else 0

    def concatenate_values(ctx, f):
        try:
            values = template.copy()
            size = fixed
            strings = texts
            for i, s, a in dynamic:
                if s is None:
                    v = a(ctx, f)
                else:
                    v = f[s]
                    if v is UNSET:
                        v = a(ctx, f)   # raises "read before any value was assigned"
                values[i] = v
                if type(v) is str:
                    size += len(v)
                else:
                    strings = False
            if not strings or size > ctx.max_string:
                return join_strings(ctx, values)   # converts, or raises the fault
            ctx.work += size     # join_strings' ctx.charge(work=size, memory=size), inlined
            ctx.memory += size
            if ctx.work > ctx.work_budget or ctx.memory > ctx.memory_budget:
                ctx.work -= size
                ctx.memory -= size
                ctx.charge(work=size, memory=size)   # raises the fault of the budget that is over
            return "".join(values)
        except ScriptFault as fault:
            raise _locate(fault, node)
        except Exception as exc:
            raise _internal(exc, "Concatenate", node) from exc
    return concatenate_values


def _contains_constant_call(node: Any, source: Closure, search: str, ignore_case: bool) -> Closure:
    """``ContainsString(agent, "Microsoft Lync", true)``: the search string and the flag are
    constants, so the search string is folded once; the work charged is contains_string's."""
    folded = search.casefold() if ignore_case else search
    factor = 2 if ignore_case else 1
    slot = getattr(source, "slot", None)
    impl = BUILTINS["ContainsString"]

    def contains_constant(ctx, f):
        try:
            if slot is None:
                v = source(ctx, f)
            else:
                v = f[slot]
                if v is UNSET:
                    v = source(ctx, f)   # raises "read before any value was assigned"
            if type(v) is not str:
                return impl(ctx, node, v, search, ignore_case)   # converts, or raises the fault
            work = (len(v) + len(search)) * factor
            ctx.work += work
            if ctx.work > ctx.work_budget:
                ctx.work -= work
                ctx.charge(work=work)   # raises the work budget's fault
            return folded in (v.casefold() if ignore_case else v)
        except ScriptFault as fault:
            raise _locate(fault, node)
        except Exception as exc:
            raise _internal(exc, "ContainsString", node) from exc
    return contains_constant


def _header_values_call(node: Any, header: str) -> Closure:
    """``GetHeaderValues(StandardHeader.Via)`` / ``GetHeaderValues("Via")``: the name is known
    when the script compiles (get_header_values works it out on each call)."""
    def header_values_of(ctx, f):
        try:
            return header_values(ctx, header)
        except ScriptFault as fault:
            raise _locate(fault, node)
        except Exception as exc:
            raise _internal(exc, "GetHeaderValues", node) from exc
    header_values_of.header = header   # for stmt_Foreach
    return header_values_of


def _wrong_kind(name: str, kind: str, node: Any) -> Callable[[], ScriptFault]:
    """The fault of a request-only built-in called on a response (or the reverse)."""
    other = "response" if kind == "request" else "request"
    guard = "if (sipRequest) { ... }" if kind == "request" else "if (sipResponse) { ... }"

    def fault() -> ScriptFault:
        return _fault(f"{name} needs a {kind}, but the current message is a {other}", node,
                      hint=f"guard it with {guard}; calling a {kind}-only function on a {other} "
                           "is a critical error")
    return fault


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
    wrong = _wrong_kind(name, kind, node)

    def guarded(ctx, f):
        if ctx.is_request == want_request:
            return call(ctx, f)
        raise wrong()
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
