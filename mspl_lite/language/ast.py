"""The MSPL abstract syntax tree.

Every node carries the 1-based ``line`` and ``column`` of its first token *in the file the
script came from* (for a script inside a manifest, lines of the .am file), so that every
diagnostic and every critical error can point at the fault.

This module is the contract between the parser (which builds these nodes), the checker
(which walks them for static diagnostics) and the compiler (which turns them into Python
closures). It holds data, and two queries of a tree that more than one phase needs
(``walk``, ``declarations``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

__all__ = [
    "Node", "Expr", "Stmt",
    "Literal", "Name", "Member", "Index", "Call", "Unary", "Binary", "Logical",
    "ExprStmt", "Assign", "Block", "If", "Case", "Switch", "Foreach", "While",
    "Break", "Continue", "Return", "Empty", "Function", "Script",
    "walk", "declarations",
]


@dataclass(eq=False, slots=True, kw_only=True)
class Node:
    line: int
    column: int


# --------------------------------------------------------------------------------------------
# Expressions
# --------------------------------------------------------------------------------------------

@dataclass(eq=False, slots=True, kw_only=True)
class Literal(Node):
    """``"text"``, ``42``, ``0x7FFFFFFF``, ``1.5``, ``true``, ``false``, ``null`` (value None)."""
    value: str | int | float | bool | None


@dataclass(eq=False, slots=True, kw_only=True)
class Name(Node):
    """A variable, a built-in variable (``sipRequest``), an enum type (``StandardMethod``)
    or a flat file declared in the manifest."""
    name: str


@dataclass(eq=False, slots=True, kw_only=True)
class Member(Node):
    """``obj.name``: a field (``sipRequest.Method``), an enum value (``StatusClass._2xx``)
    or a flat-file column (``file[key].column``)."""
    obj: "Expr"
    name: str


@dataclass(eq=False, slots=True, kw_only=True)
class Index(Node):
    """``file[key]``: a flat-file row by 0-based number or by key string (read-only)."""
    obj: "Expr"
    index: "Expr"


@dataclass(eq=False, slots=True, kw_only=True)
class Call(Node):
    """``Name(args...)``: a built-in or a script function. MSPL has no function values,
    so the callee is always a plain name."""
    name: str
    args: list["Expr"] = field(default_factory=list)


@dataclass(eq=False, slots=True, kw_only=True)
class Unary(Node):
    """``!x`` or ``-x`` (the minus of a signed numeric constant)."""
    op: str
    operand: "Expr"


@dataclass(eq=False, slots=True, kw_only=True)
class Binary(Node):
    """``== != < <= > >=`` and integer ``+ -``."""
    op: str
    left: "Expr"
    right: "Expr"


@dataclass(eq=False, slots=True, kw_only=True)
class Logical(Node):
    """``&&`` and ``||``; both short-circuit (docs/ARCHITECTURE.md, decisions)."""
    op: str
    left: "Expr"
    right: "Expr"


Expr = Union[Literal, Name, Member, Index, Call, Unary, Binary, Logical]


# --------------------------------------------------------------------------------------------
# Statements
# --------------------------------------------------------------------------------------------

@dataclass(eq=False, slots=True, kw_only=True)
class ExprStmt(Node):
    expr: Expr


@dataclass(eq=False, slots=True, kw_only=True)
class Assign(Node):
    """``x = value;`` declares x in the enclosing scope. ``target`` is a Name, or a Member for
    the few writable fields (``sipMessage.Content = ...``)."""
    target: Union[Name, Member]
    value: Expr


@dataclass(eq=False, slots=True, kw_only=True)
class Block(Node):
    body: list["Stmt"] = field(default_factory=list)


@dataclass(eq=False, slots=True, kw_only=True)
class If(Node):
    cond: Expr
    then: "Stmt"
    else_: "Stmt | None" = None


@dataclass(eq=False, slots=True, kw_only=True)
class Case(Node):
    """``case value: ... break;`` or ``default: ... break;`` (value None)."""
    value: Expr | None
    body: list["Stmt"] = field(default_factory=list)


@dataclass(eq=False, slots=True, kw_only=True)
class Switch(Node):
    subject: Expr
    cases: list[Case] = field(default_factory=list)


@dataclass(eq=False, slots=True, kw_only=True)
class Foreach(Node):
    """``foreach (var in iterable) body``; a scalar iterable is a one-element collection."""
    var: str
    iterable: Expr
    body: "Stmt"


@dataclass(eq=False, slots=True, kw_only=True)
class While(Node):
    """``while (cond) body`` (Lync Server 2013); at most 500 iterations per loop."""
    cond: Expr
    body: "Stmt"


@dataclass(eq=False, slots=True, kw_only=True)
class Break(Node):
    pass


@dataclass(eq=False, slots=True, kw_only=True)
class Continue(Node):
    pass


@dataclass(eq=False, slots=True, kw_only=True)
class Return(Node):
    value: Expr | None = None


@dataclass(eq=False, slots=True, kw_only=True)
class Empty(Node):
    """A lone ``;``."""


Stmt = Union[ExprStmt, Assign, Block, If, Switch, Foreach, While, Break, Continue, Return, Empty]


@dataclass(eq=False, slots=True, kw_only=True)
class Function(Node):
    """``function Name(p1, p2) { ... }``; all functions precede the script body."""
    name: str
    params: list[str] = field(default_factory=list)
    body: Block


@dataclass(eq=False, slots=True, kw_only=True)
class Script(Node):
    """A whole script: its functions, then its body. ``source`` is the text of the file the
    line numbers refer to (the .am file for a manifest's script), for rendering carets."""
    functions: list[Function] = field(default_factory=list)
    body: list[Stmt] = field(default_factory=list)
    filename: str = "<script>"
    source: str = ""
    warnings: list = field(default_factory=list)   # the lexer's warnings (Diagnostic), e.g. a lone \uD800


def walk(node: Node):
    """Yield ``node`` and every node below it, depth first, in source order."""
    yield node
    for child in _children(node):
        yield from walk(child)


def declarations(body: list[Stmt]):
    """Yield ``(name, node)`` for each variable a statement list declares, in source order: the
    target of every ``name = value;`` and the variable of every ``foreach``, however deeply
    nested. Dn439066 says assignment and foreach declare variables whose scope is "limited to the
    local block (for example, a function)"; mspl-lite reads the block as the enclosing function or
    script body (inferred)."""
    for stmt in body:
        for node in walk(stmt):
            if isinstance(node, Assign) and isinstance(node.target, Name):
                yield node.target.name, node
            elif isinstance(node, Foreach):
                yield node.var, node


def _children(node: Node):
    for cls in type(node).__mro__:
        for name in getattr(cls, "__slots__", ()):
            if name in ("line", "column"):
                continue
            value = getattr(node, name, None)
            if isinstance(value, Node):
                yield value
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, Node):
                        yield item
