"""MSPL tokens -> ``ast.Script`` by recursive descent, one method per grammar rule.

The grammar (Dn439066, the Lync Server 2013 syntax page), each rule repeated above its method::

    script      := function* statement* EOF
    function    := 'function' NAME '(' [NAME (',' NAME)*] ')' statement
    statement   := block | if | switch | foreach | while | break | continue | return | ';' | simple
    block       := '{' statement* '}'
    if          := 'if' condition statement ['else' statement]
    condition   := '(' expression ')'
    switch      := 'switch' '(' expression ')' '{' case* '}'
    case        := ('case' expression | 'default') ':' statement*      (the last one is 'break;')
    foreach     := 'foreach' '(' NAME 'in' expression ')' statement
    while       := 'while' condition statement
    break       := 'break' ';'          continue := 'continue' ';'
    return      := 'return' [expression] ';'
    simple      := expression ['=' expression] ';'
    expression  := or_expr
    or_expr     := and_expr ('||' and_expr)*
    and_expr    := equality ('&&' equality)*
    equality    := relational (('==' | '!=') relational)*
    relational  := additive (('<' | '<=' | '>' | '>=') additive)*
    additive    := unary (('+' | '-') unary)*
    unary       := ('!' | '-') unary | postfix
    postfix     := primary ('(' arguments ')' | '.' NAME | '[' expression ']')*
    arguments   := [expression (',' expression)*] ')'
    primary     := INT | STRING | 'true' | 'false' | 'null' | NAME | '(' expression ')'

A call is only allowed on a plain name (MSPL has no methods). Whether ``break`` sits in a
loop, and everything else that needs more than the shape of the text, is the checker's.

Positions: every node carries the line and column of its *first* token, in the file the
script came from. For ``Binary`` and ``Logical`` that is the start of the left operand
(``a == b`` is at ``a``), for ``Assign`` the start of its target, for ``Call`` the function
name, for ``Member``/``Index`` the start of the object (``sipRequest.To`` is at ``sipRequest``).

The parser reports every fault it can find, not only the first: after an error it skips to
the next ``;`` or ``}`` (or a whole ``{ ... }``) and goes on, up to :data:`MAX_ERRORS`.
Errors that need no more than the tree (unknown functions, recursion, ``break`` outside a
loop, ...) are the checker's; the parser only reports what it cannot build.
"""
from __future__ import annotations

from . import ast
from ..errors import Diagnostic, ScriptError, source_line
from .lexer import Lexer, Token, padded_source

__all__ = ["parse_script", "Parser", "MAX_ERRORS"]

#: Stop after this many errors: the rest would mostly be echoes of the first ones.
MAX_ERRORS = 20
#: Nesting budget: a nested statement costs 1, a nested sub-expression 2 (it takes twice the
#: Python stack). Real scripts stay far below; beyond it the script is refused instead of
#: overflowing Python's stack (about 60 nested if-blocks, or 60 nested parentheses).
MAX_NESTING = 128
#: Deepest tree accepted (a chain a && b && ... is as deep as it is long): the checker and the
#: compiler walk the tree recursively.
MAX_TREE_DEPTH = 200

# Words a C#, JavaScript or VBScript habit puts in front of a first assignment.
_DECLARATION_WORDS = frozenset({"var", "int", "string", "bool", "float", "let", "const", "Dim", "dim", "object"})
_ELSEIF_WORDS = frozenset({"elseif", "elsif", "elif", "ElseIf"})
# Tokens a statement can start with: synchronisation stops in front of them.
_STATEMENT_KEYWORDS = frozenset({"if", "switch", "foreach", "while", "break", "continue", "return", "function"})
_LITERAL_KEYWORDS = {"true": True, "false": False, "null": None}


class _Abandon(Exception):
    """Internal signal: the current statement cannot be built; its error is already recorded."""


class _TooManyErrors(Exception):
    """Internal signal: MAX_ERRORS reached (or the nesting is too deep), stop parsing."""


class Parser:
    """Builds one ``ast.Script`` from the tokens of one script, collecting errors."""

    def __init__(self, tokens: list[Token], *, filename: str, file_source: str,
                 errors: list[Diagnostic] | None = None):
        self.tokens = tokens
        self.pos = 0
        self.filename = filename
        self.file_source = file_source
        self.errors: list[Diagnostic] = []
        # Lines where the lexer already complained: a parser error there is an echo.
        self._lexer_error_lines = {d.line for d in errors or ()}
        self._lexer_errors = list(errors or ())
        self.nesting = 0

    # ---------------------------------------------------------------------------------------
    # token helpers
    # ---------------------------------------------------------------------------------------

    def peek(self, offset: int = 0) -> Token:
        """The token ``offset`` ahead (the eof token past the end)."""
        if not offset:   # the commonest call; pos never passes the eof token
            return self.tokens[self.pos]
        i = min(self.pos + offset, len(self.tokens) - 1)
        return self.tokens[i]

    def at(self, *kinds: str) -> bool:
        """Is the current token of one of these kinds?"""
        return self.tokens[self.pos].kind in kinds

    def advance(self) -> Token:
        """Consume the current token (never past eof)."""
        tok = self.tokens[self.pos]
        if tok.kind != "eof":
            self.pos += 1
        return tok

    def previous(self) -> Token:
        """The last token consumed."""
        return self.tokens[self.pos - 1] if self.pos > 0 else self.tokens[0]

    # ---------------------------------------------------------------------------------------
    # error helpers
    # ---------------------------------------------------------------------------------------

    def error(self, message: str, line: int, column: int, hint: str | None = None, code: str = "syntax"):
        """Record an error (once per position); stop the parse when there are too many."""
        if line in self._lexer_error_lines:
            return
        if any(d.line == line and d.column == column for d in self.errors):
            return
        self.errors.append(Diagnostic(
            severity="error", message=message, filename=self.filename, line=line, column=column,
            source=source_line(self.file_source, line), hint=hint, code=code,
        ))
        if len(self.errors) + len(self._lexer_errors) >= MAX_ERRORS:
            raise _TooManyErrors

    def error_at(self, tok: Token | ast.Node, message: str, hint: str | None = None, code: str = "syntax"):
        """Record an error at a token or a node."""
        self.error(message, tok.line, tok.column, hint, code)

    def error_after_previous(self, message: str, hint: str | None = None, code: str = "syntax"):
        """Point just after the last token read: where the missing ';' or ')' belongs."""
        prev = self.previous()
        self.error(message, prev.end_line, prev.end_column, hint, code)

    def fail_at(self, tok: Token, message: str, hint: str | None = None, code: str = "syntax"):
        """Record an error at ``tok`` and abandon the statement."""
        self.error_at(tok, message, hint, code)
        raise _Abandon

    def enter(self, cost: int = 2):
        """One level deeper (a statement costs 1, a sub-expression 2); refuse absurd nesting."""
        self.nesting += cost
        if self.nesting > MAX_NESTING:
            tok = self.peek()
            self.error_at(tok, "this is nested too deeply",
                          hint="split the work into functions or several statements", code="too-deep")
            raise _TooManyErrors

    def expect(self, kind: str, message: str, hint: str | None = None) -> Token:
        """Consume a ``kind`` token or abandon the statement with ``message`` after the previous token."""
        if self.at(kind):
            return self.advance()
        self.error_after_previous(message, hint)
        raise _Abandon

    def synchronize(self, start: int):
        """Skip to a point where a statement can start: after ``;``, before ``}``, after a
        whole ``{ ... }``, or before a statement keyword. Always moves past ``start``."""
        if self.pos == start and not self.at("eof", "}"):
            if self.at("{"):
                self.skip_block()
                return
            self.advance()
        while not self.at("eof"):
            tok = self.peek()
            if tok.kind == ";":
                self.advance()
                return
            if tok.kind == "}" or tok.kind in _STATEMENT_KEYWORDS:
                return
            if tok.kind == "{":
                self.skip_block()
                return
            self.advance()

    def skip_parentheses(self):
        """Skip a balanced ``( ... )`` (the header of a construct MSPL does not have)."""
        depth = 0
        while not self.at("eof"):
            kind = self.advance().kind
            if kind == "(":
                depth += 1
            elif kind == ")":
                depth -= 1
                if depth <= 0:
                    return

    def skip_block(self):
        """Skip a balanced ``{ ... }``."""
        depth = 0
        while not self.at("eof"):
            kind = self.advance().kind
            if kind == "{":
                depth += 1
            elif kind == "}":
                depth -= 1
                if depth == 0:
                    return

    # ---------------------------------------------------------------------------------------
    # script and functions
    # ---------------------------------------------------------------------------------------

    # script := function* statement* EOF
    def script(self, line: int, column: int) -> ast.Script:
        functions: list[ast.Function] = []
        body: list[ast.Stmt] = []
        try:
            while not self.at("eof"):
                start = self.pos
                if self.at("function"):
                    try:
                        function = self.function()
                    except _Abandon:
                        self.synchronize(start)
                        continue
                    if body:
                        self.error_at(function, "functions must be defined before the script body",
                                      hint="move this function above the first statement of the script")
                    functions.append(function)
                elif self.at("}"):
                    tok = self.advance()
                    self.error_at(tok, "unbalanced '}'",
                                  hint="this '}' closes nothing: remove it or add the '{' it belongs to")
                else:
                    stmt = self.statement_or_recover()
                    if stmt is not None:
                        body.append(stmt)
        except _TooManyErrors:
            tok = self.peek()
            if len(self.errors) + len(self._lexer_errors) < MAX_ERRORS:
                return self.finish(line, column, functions, body)
            self.errors.append(Diagnostic(
                severity="note", message=f"too many errors; stopped after {MAX_ERRORS}",
                filename=self.filename, line=tok.line, column=tok.column,
                source=source_line(self.file_source, tok.line), hint="fix these and check again",
            ))
        return self.finish(line, column, functions, body)

    def finish(self, line, column, functions, body) -> ast.Script:
        """The Script node, after checking that no chain of expressions is absurdly deep."""
        script = ast.Script(line=line, column=column, functions=functions, body=body,
                            filename=self.filename, source=self.file_source)
        deep = _too_deep(script)
        if deep is not None and not self.errors and not self._lexer_errors:
            self.error_at(deep, f"this expression is nested too deeply (more than {MAX_TREE_DEPTH} levels)",
                          hint="split a long chain of && / || / + into several statements", code="too-deep")
        return script

    # function := 'function' NAME '(' [NAME (',' NAME)*] ')' statement
    def function(self) -> ast.Function:
        keyword = self.advance()
        if not self.at("name"):
            self.fail_at(self.peek(), f"expected the function's name after 'function', found {self.peek().describe()}",
                         hint="write function Name(param1, param2) { ... }")
        name = self.advance().value
        self.expect("(", f"expected '(' after the function name {name}",
                    hint="a function definition lists its parameters in parentheses, even none: function F() { ... }")
        params: list[str] = []
        if not self.at(")"):
            while True:
                tok = self.peek()
                if tok.kind == "name" and tok.value in _DECLARATION_WORDS and self.peek(1).kind == "name":
                    self.error_at(tok, f"'{tok.value}' declarations do not exist in MSPL: parameters are plain names",
                                  hint=f"write function {name}(a, b)", code="declaration")
                    self.advance()
                    tok = self.peek()
                if tok.kind != "name":
                    self.fail_at(tok, f"expected a parameter name, found {tok.describe()}",
                                 hint=f"parameters are plain names: function {name}(a, b)")
                params.append(self.advance().value)
                if not self.at(","):
                    break
                self.advance()
        self.expect(")", "expected ')' after the parameters", hint=f"function {name}(a, b) {{ ... }}")
        body = self.sub_statement()
        if not isinstance(body, ast.Block):
            body = ast.Block(line=body.line, column=body.column, body=[body])
        return ast.Function(line=keyword.line, column=keyword.column, name=name, params=params, body=body)

    # ---------------------------------------------------------------------------------------
    # statements
    # ---------------------------------------------------------------------------------------

    def statement_or_recover(self) -> ast.Stmt | None:
        """A statement, or None after recording its error and skipping past it."""
        start = self.pos
        try:
            return self.statement()
        except _Abandon:
            self.synchronize(start)
            return None

    def sub_statement(self) -> ast.Stmt:
        """The statement of an if, a loop or a function: never None, so the tree stays whole."""
        tok = self.peek()
        stmt = self.statement_or_recover()
        return stmt if stmt is not None else ast.Empty(line=tok.line, column=tok.column)

    # statement := block | if | switch | foreach | while | break | continue | return | ';' | simple
    def statement(self) -> ast.Stmt:
        self.enter(1)
        try:
            return self.statement_inner()
        finally:
            self.nesting -= 1

    def statement_inner(self) -> ast.Stmt:
        tok = self.peek()
        kind = tok.kind
        if kind == "{":
            return self.block()
        if kind == "if":
            return self.if_statement()
        if kind == "switch":
            return self.switch_statement()
        if kind == "foreach":
            return self.foreach_statement()
        if kind == "while":
            return self.while_statement()
        if kind in ("break", "continue"):
            return self.jump_statement()
        if kind == "return":
            return self.return_statement()
        if kind == ";":
            self.advance()
            return ast.Empty(line=tok.line, column=tok.column)
        if kind == "else":
            self.advance()
            self.error_at(tok, "'else' without a matching 'if'",
                          hint="an else must follow the statement of its if directly; look for a stray ';' "
                               "or a missing '{' before it")
            return self.sub_statement()
        if kind in ("case", "default"):
            self.fail_at(tok, f"'{kind}' outside a switch",
                         hint="case and default labels belong inside switch (value) { ... }")
        if kind == "function":
            self.error_at(tok, "functions can only be defined at the start of the script, not inside a block",
                          hint="move this function above the first statement of the script")
            self.function()
            return ast.Empty(line=tok.line, column=tok.column)
        if kind == "name":
            following = self.peek(1)
            if tok.value in _DECLARATION_WORDS and following.kind == "name":
                self.error_at(tok, f"'{tok.value}' declarations do not exist in MSPL: just assign",
                              hint=f"write {following.value} = value; the first assignment creates the variable",
                              code="declaration")
                self.advance()
                return self.simple_statement()
            if tok.value in _ELSEIF_WORDS and following.kind == "(":
                self.error_at(tok, f"'{tok.value}' is not MSPL: write 'else if'", hint="if (a) { ... } else if (b) { ... }")
                return self.if_statement()
            if tok.value == "for" and following.kind == "(":
                self.error_at(tok, "MSPL has no 'for' loop",
                              hint="use foreach (x in collection) { ... } or while (condition) { ... }")
                self.advance()
                self.skip_parentheses()
                return self.sub_statement()
            if tok.value == "do" and following.kind == "{":
                self.fail_at(tok, "MSPL has no 'do ... while' loop", hint="use while (condition) { ... }")
        return self.simple_statement()

    # block := '{' statement* '}'
    def block(self) -> ast.Block:
        opening = self.advance()
        body: list[ast.Stmt] = []
        while not self.at("}", "eof"):
            stmt = self.statement_or_recover()
            if stmt is not None:
                body.append(stmt)
        if self.at("eof"):
            self.error_at(opening, "this '{' is never closed",
                          hint="add the missing '}' (every '{' needs its '}')")
        else:
            self.advance()
        return ast.Block(line=opening.line, column=opening.column, body=body)

    # if := 'if' condition statement ['else' statement]
    def if_statement(self) -> ast.If:
        keyword = self.advance()  # 'if' (or a mistaken 'elseif', already reported)
        cond = self.condition(keyword)
        then = self.sub_statement()
        else_ = None
        if self.at("else"):
            self.advance()
            else_ = self.sub_statement()
        return ast.If(line=keyword.line, column=keyword.column, cond=cond, then=then, else_=else_)

    # condition := '(' expression ')'
    def condition(self, keyword: Token) -> ast.Expr:
        word = keyword.value if keyword.kind in ("if", "while", "switch") else "if"
        if not self.at("("):
            self.fail_at(self.peek(), f"expected '(' after '{word}'",
                         hint=f"the condition goes in parentheses: {word} (x == 1) ...")
        self.advance()
        cond = self.expression()
        if self.at("="):
            eq = self.advance()
            self.error_at(eq, "'=' in a condition: did you mean '=='?",
                          hint="'=' assigns a value; compare two values with '=='", code="assign-in-condition")
            right = self.expression()
            cond = ast.Binary(line=cond.line, column=cond.column, op="==", left=cond, right=right)
        if self.at(")"):
            self.advance()
            return cond
        self.error_after_previous("expected ')' to close the condition", hint=f"{word} (condition) {{ ... }}")
        if not self.at("{"):
            raise _Abandon
        return cond   # if (x == 1 { ... }: reported; carry on with the statement

    # switch := 'switch' '(' expression ')' '{' case* '}'
    def switch_statement(self) -> ast.Switch:
        keyword = self.advance()
        subject = self.condition(keyword)
        if not self.at("{"):
            self.fail_at(self.peek(), "expected '{' after the switch value",
                         hint="switch (value) { case 1: ... break; default: ... break; }")
        opening = self.advance()
        cases: list[ast.Case] = []
        seen_default = False
        while not self.at("}", "eof"):
            start = self.pos
            if not self.at("case", "default"):
                try:
                    self.fail_at(self.peek(), f"expected 'case' or 'default' in the switch, found {self.peek().describe()}",
                                 hint="every statement of a switch belongs to a case: case value: ... break;")
                except _Abandon:
                    self.synchronize(start)
                continue
            try:
                case = self.case()
            except _Abandon:
                self.synchronize(start)
                continue
            if case.value is None:
                if seen_default:
                    self.error_at(case, "this switch already has a 'default'", hint="a switch has at most one default")
                seen_default = True
            cases.append(case)
        if self.at("eof"):
            self.error_at(opening, "this '{' is never closed", hint="end the switch with '}'")
        else:
            self.advance()
        return ast.Switch(line=keyword.line, column=keyword.column, subject=subject, cases=cases)

    # case := ('case' expression | 'default') ':' statement*     (the last statement is 'break;')
    def case(self) -> ast.Case:
        label = self.advance()
        value = None if label.kind == "default" else self.expression()
        if self.at(":"):
            self.advance()
        else:
            self.error_after_previous(f"expected ':' after {'the case value' if value is not None else 'default'}",
                                      hint="case value: ... break;")
        body: list[ast.Stmt] = []
        while not self.at("case", "default", "}", "eof"):
            stmt = self.statement_or_recover()
            if stmt is not None:
                body.append(stmt)
        if not body or not isinstance(body[-1], ast.Break):
            what = "case" if value is not None else "default"
            self.error_at(label, f"this {what} does not end with 'break;'",
                          hint="MSPL does not allow fall-through: end every case (and default) with break;",
                          code="case-fallthrough")
        return ast.Case(line=label.line, column=label.column, value=value, body=body)

    # foreach := 'foreach' '(' NAME 'in' expression ')' statement
    def foreach_statement(self) -> ast.Foreach:
        keyword = self.advance()
        if not self.at("("):
            self.fail_at(self.peek(), "expected '(' after 'foreach'", hint="foreach (x in collection) { ... }")
        self.advance()
        tok = self.peek()
        if tok.kind == "name" and tok.value in _DECLARATION_WORDS and self.peek(1).kind == "name":
            self.error_at(tok, f"'{tok.value}' declarations do not exist in MSPL: the loop variable is a plain name",
                          hint=f"foreach ({self.peek(1).value} in collection) {{ ... }}", code="declaration")
            self.advance()
            tok = self.peek()
        if tok.kind != "name":
            self.fail_at(tok, f"expected the loop variable's name, found {tok.describe()}",
                         hint="foreach (x in collection) { ... }")
        var = self.advance().value
        if not self.at("in"):
            self.fail_at(self.peek(), f"expected 'in' after the loop variable {var}",
                         hint=f"foreach ({var} in collection) {{ ... }}")
        self.advance()
        iterable = self.expression()
        self.expect(")", "expected ')' after the collection", hint=f"foreach ({var} in collection) {{ ... }}")
        body = self.sub_statement()
        return ast.Foreach(line=keyword.line, column=keyword.column, var=var, iterable=iterable, body=body)

    # while := 'while' condition statement
    def while_statement(self) -> ast.While:
        keyword = self.advance()
        cond = self.condition(keyword)
        body = self.sub_statement()
        return ast.While(line=keyword.line, column=keyword.column, cond=cond, body=body)

    # break := 'break' ';'      continue := 'continue' ';'
    def jump_statement(self) -> ast.Break | ast.Continue:
        keyword = self.advance()
        self.end_statement()
        cls = ast.Break if keyword.kind == "break" else ast.Continue
        return cls(line=keyword.line, column=keyword.column)

    # return := 'return' [expression] ';'
    def return_statement(self) -> ast.Return:
        keyword = self.advance()
        value = None
        if not self.at(";", "}", "eof"):
            value = self.expression()
        self.end_statement()
        return ast.Return(line=keyword.line, column=keyword.column, value=value)

    # simple := expression ['=' expression] ';'
    def simple_statement(self) -> ast.ExprStmt | ast.Assign:
        target = self.expression()
        if self.at("="):
            self.advance()
            if isinstance(target, ast.Index):
                self.error_at(target, "flat files are read-only: a [] expression cannot be assigned",
                              hint="assign the value to a variable instead")
            elif not isinstance(target, (ast.Name, ast.Member)):
                self.error_at(target, "only a variable or a field can be assigned",
                              hint="write name = value;")
            value = self.expression()
            self.end_statement()
            return ast.Assign(line=target.line, column=target.column, target=target, value=value)
        self.end_statement()
        return ast.ExprStmt(line=target.line, column=target.column, expr=target)

    def end_statement(self):
        """';' ends a statement. A forgotten one at the end of a line is reported and parsing
        goes on; anything else on the same line abandons the statement."""
        if self.at(";"):
            self.advance()
            return
        prev, tok = self.previous(), self.peek()
        self.error_after_previous("expected ';' after this statement",
                                  hint="every MSPL statement ends with ';'", code="missing-semicolon")
        if tok.line != prev.end_line or tok.kind in ("}", "eof", "{") or tok.kind in _STATEMENT_KEYWORDS:
            return
        raise _Abandon

    # ---------------------------------------------------------------------------------------
    # expressions
    # ---------------------------------------------------------------------------------------

    # expression := or_expr
    def expression(self) -> ast.Expr:
        self.enter()
        try:
            return self.or_expr()
        finally:
            self.nesting -= 2

    # or_expr := and_expr ('||' and_expr)*
    def or_expr(self) -> ast.Expr:
        left = self.and_expr()
        while self.at("||"):
            self.advance()
            right = self.and_expr()
            left = ast.Logical(line=left.line, column=left.column, op="||", left=left, right=right)
        return left

    # and_expr := equality ('&&' equality)*
    def and_expr(self) -> ast.Expr:
        left = self.equality()
        while self.at("&&"):
            self.advance()
            right = self.equality()
            left = ast.Logical(line=left.line, column=left.column, op="&&", left=left, right=right)
        return left

    # equality := relational (('==' | '!=') relational)*
    def equality(self) -> ast.Expr:
        left = self.relational()
        while self.at("==", "!="):
            op = self.advance().kind
            right = self.relational()
            left = ast.Binary(line=left.line, column=left.column, op=op, left=left, right=right)
        return left

    # relational := additive (('<' | '<=' | '>' | '>=') additive)*
    def relational(self) -> ast.Expr:
        left = self.additive()
        while self.at("<", "<=", ">", ">="):
            op = self.advance().kind
            right = self.additive()
            left = ast.Binary(line=left.line, column=left.column, op=op, left=left, right=right)
        return left

    # additive := unary (('+' | '-') unary)*
    # ('*', '/' and '%' are parsed here too, after the lexer reported that MSPL has none.)
    def additive(self) -> ast.Expr:
        left = self.unary()
        while self.at("+", "-", "*", "/", "%"):
            op_tok = self.advance()
            nxt = self.peek()
            if nxt.kind in ("=", op_tok.kind) and nxt.line == op_tok.line and nxt.column == op_tok.end_column \
                    and op_tok.kind in ("+", "-"):
                shown = op_tok.kind + ("=" if nxt.kind == "=" else op_tok.kind)
                name = left.name if isinstance(left, ast.Name) else "x"
                self.fail_at(op_tok, f"MSPL has no '{shown}' operator",
                             hint=f"write {name} = {name} {op_tok.kind} 1;", code="no-such-operator")
            right = self.unary()
            left = ast.Binary(line=left.line, column=left.column, op=op_tok.kind, left=left, right=right)
        return left

    # unary := ('!' | '-') unary | postfix
    def unary(self) -> ast.Expr:
        if self.at("!", "-"):
            op = self.advance()
            if op.kind == "-" and self.at("int", "float"):
                # a signed numeric constant; -2147483648 is the one place 2^31 may appear
                tok = self.advance()
                operand = ast.Literal(line=tok.line, column=tok.column, value=tok.value)
            else:
                self.enter()
                try:
                    operand = self.unary()
                finally:
                    self.nesting -= 2
            return ast.Unary(line=op.line, column=op.column, op=op.kind, operand=operand)
        return self.postfix()

    # postfix := primary ('(' arguments ')' | '.' NAME | '[' expression ']')*
    def postfix(self) -> ast.Expr:
        expr = self.primary()
        while True:
            if self.at("("):
                opening = self.advance()
                args = self.arguments(expr)
                if isinstance(expr, ast.Name):
                    expr = ast.Call(line=expr.line, column=expr.column, name=expr.name, args=args)
                elif isinstance(expr, ast.Member):
                    self.error_at(opening, f"MSPL has no methods: '.{expr.name}(...)' cannot be called",
                                  hint="call a built-in function and pass the value to it, e.g. GetUri(sipRequest.To)",
                                  code="method-call")
                else:
                    self.error_at(opening, "only a function name can be called",
                                  hint="MSPL has no function values: write FunctionName(arguments)")
            elif self.at("."):
                self.advance()
                if not self.at("name"):
                    self.fail_at(self.peek(), f"expected a field name after '.', found {self.peek().describe()}",
                                 hint="write object.Field, e.g. sipRequest.Method")
                name = self.advance().value
                expr = ast.Member(line=expr.line, column=expr.column, obj=expr, name=name)
            elif self.at("["):
                self.advance()
                index = self.expression()
                self.expect("]", "expected ']' after the index", hint="fileName[key].column")
                expr = ast.Index(line=expr.line, column=expr.column, obj=expr, index=index)
            else:
                return expr

    # arguments := [expression (',' expression)*] ')'
    def arguments(self, callee: ast.Expr) -> list[ast.Expr]:
        args: list[ast.Expr] = []
        if self.at(")"):
            self.advance()
            return args
        while True:
            args.append(self.expression())
            if self.at(","):
                self.advance()
                continue
            if self.at(")"):
                self.advance()
                return args
            name = callee.name if isinstance(callee, (ast.Name, ast.Member)) else "the function"
            self.error_after_previous(f"expected ',' or ')' in the call of {name}",
                                      hint="arguments are separated by ',' and the list ends with ')'")
            raise _Abandon

    # primary := INT | FLOAT | STRING | 'true' | 'false' | 'null' | NAME | '(' expression ')'
    def primary(self) -> ast.Expr:
        tok = self.peek()
        if tok.kind == "int":
            self.advance()
            if tok.value > 2**31 - 1:
                self.error_at(tok, f"the number {tok.value} does not fit in a 32-bit integer",
                              hint="MSPL integers go from -2147483648 to 2147483647 (0x7FFFFFFF)")
            return ast.Literal(line=tok.line, column=tok.column, value=tok.value)
        if tok.kind in ("string", "float"):
            self.advance()
            return ast.Literal(line=tok.line, column=tok.column, value=tok.value)
        if tok.kind in _LITERAL_KEYWORDS:
            self.advance()
            return ast.Literal(line=tok.line, column=tok.column, value=_LITERAL_KEYWORDS[tok.kind])
        if tok.kind == "name":
            self.advance()
            return ast.Name(line=tok.line, column=tok.column, name=tok.value)
        if tok.kind == "(":
            self.advance()
            inner = self.expression()
            self.expect(")", "expected ')' to close the '('", hint="every '(' needs its ')'")
            return inner
        if tok.kind == "eof":
            self.error_after_previous("the script ends in the middle of an expression",
                                      hint="finish the statement and end it with ';'")
            raise _Abandon
        self.fail_at(tok, f"expected a value, found {tok.describe()}",
                     hint="a value is a name, a number, a string, true, false, null, a function call "
                          "or an expression in parentheses", code="expected-expression")
        raise AssertionError("unreachable")


def _too_deep(script: ast.Script) -> ast.Node | None:
    """The first node deeper than MAX_TREE_DEPTH, found without recursion."""
    stack = [(script, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            return node
        stack.extend((child, depth + 1) for child in ast._children(node))
    return None


def parse_script(source: str, *, filename: str = "<script>", line: int = 1, column: int = 1,
                 file_source: str | None = None) -> ast.Script:
    """Parse MSPL ``source``, which starts at ``line``/``column`` of ``filename``, into a Script.

    ``file_source`` is the whole file those positions refer to (the .am text for a manifest's
    script); by default the script text itself, padded so that its positions still hold.
    ``Script.source`` is that text. Raises ScriptError with every syntax error found.
    """
    if file_source is None:
        file_source = padded_source(source, line, column)
    lexer = Lexer(source, filename=filename, line=line, column=column, file_source=file_source)
    tokens = lexer.run()
    parser = Parser(tokens, filename=filename, file_source=file_source, errors=lexer.errors)
    script = parser.script(line, column)
    script.warnings = list(lexer.warnings)
    errors = sorted(lexer.errors + parser.errors, key=lambda d: (d.line, d.column, d.severity == "note"))
    if len(errors) > MAX_ERRORS + 1:  # the lexer alone may find many: keep the first ones
        last = errors[MAX_ERRORS - 1]
        errors = errors[:MAX_ERRORS] + [Diagnostic(
            severity="note", message=f"too many errors; stopped after {MAX_ERRORS}", filename=filename,
            line=last.line, column=last.column, source=last.source, hint="fix these and check again")]
    if any(d.severity == "error" for d in errors):
        raise ScriptError(errors)
    return script
