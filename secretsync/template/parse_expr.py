"""Pipelines, commands and operands of Go text/template (the expression half of parse.go).

Split from parser.py, which handles the statement structure; both share token access here.
"""

from __future__ import annotations

from collections.abc import Callable

from secretsync.template import nodes as n
from secretsync.template.lexer import Tok, Token
from secretsync.template.literals import LiteralError, parse_number, unquote, unquote_char


class ParseError(Exception):
    """A syntax error at a source offset; engine.py turns it into a TemplateError."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.pos = pos


_TERM_START = frozenset(
    {
        Tok.BOOL,
        Tok.CHAR,
        Tok.DOT,
        Tok.FIELD,
        Tok.IDENT,
        Tok.NUMBER,
        Tok.NIL,
        Tok.RAW_STRING,
        Tok.STRING,
        Tok.VARIABLE,
        Tok.LPAREN,
    }
)
_NON_EXECUTABLE = (n.Bool, n.Dot, n.Nil, n.Number, n.String)


class ExpressionParser:
    """Token access and the expression grammar; parser._Parser adds statements."""

    def __init__(self, tokens: list[Token], has_func: Callable[[str], bool]) -> None:
        self.tokens = tokens
        self.i = 0
        self.has_func = has_func
        self.vars: list[str] = ["$"]

    # -- token access ------------------------------------------------------------------------
    def next(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind is not Tok.EOF:
            self.i += 1
        return tok

    def peek(self) -> Token:
        return self.tokens[self.i]

    def next_non_space(self) -> Token:
        tok = self.next()
        while tok.kind is Tok.SPACE:
            tok = self.next()
        return tok

    def peek_non_space(self) -> Token:
        tok = self.next_non_space()
        self.i -= 1 if tok.kind is not Tok.EOF else 0
        return tok

    def expect(self, kind: Tok, context: str) -> Token:
        tok = self.next_non_space()
        if tok.kind is not kind:
            self.unexpected(tok, context)
        return tok

    def unexpected(self, tok: Token, context: str) -> None:
        if tok.kind is Tok.EOF:
            raise ParseError(f"unexpected EOF in {context}", tok.pos)
        raise ParseError(f"unexpected {describe(tok)} in {context}", tok.pos)

    # -- pipelines ---------------------------------------------------------------------------
    def pipeline(self, context: str, end: Tok) -> n.Pipe:
        start = self.peek_non_space()
        decl, is_assign = self.declarations(context)
        cmds: list[n.Command] = []
        while True:
            tok = self.next_non_space()
            if tok.kind is end:
                break
            if tok.kind in _TERM_START:
                self.i -= 1
                cmds.append(self.command())
            else:
                self.unexpected(tok, context)
        if not cmds:
            raise ParseError(f"missing value for {context}", start.pos)
        for stage, cmd in enumerate(cmds[1:], start=2):
            if isinstance(cmd.args[0], _NON_EXECUTABLE):
                raise ParseError(f"non executable command in pipeline stage {stage}", cmd.pos)
        return n.Pipe(start.pos, tuple(decl), is_assign, tuple(cmds))

    def declarations(self, context: str) -> tuple[list[str], bool]:
        decl: list[str] = []
        while True:
            mark = self.i
            tok = self.next_non_space()
            if tok.kind is not Tok.VARIABLE:
                self.i = mark
                return decl, False
            after = self.next_non_space()
            if after.kind in {Tok.DECLARE, Tok.ASSIGN}:
                decl.append(tok.value)
                is_assign = after.kind is Tok.ASSIGN
                for name in decl:
                    if is_assign and name not in self.vars:
                        raise ParseError(f'undefined variable "{name}"', tok.pos)
                if not is_assign:
                    self.vars.extend(decl)
                return decl, is_assign
            if after.kind is Tok.COMMA and context == "range" and not decl:
                decl.append(tok.value)
                continue
            if after.kind is Tok.COMMA:
                raise ParseError(f"too many declarations in {context}", after.pos)
            self.i = mark
            return [], False

    def command(self) -> n.Command:
        args: list[n.Operand] = []
        start = self.peek_non_space().pos
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                args.append(operand)
            tok = self.next()
            if tok.kind is Tok.SPACE:
                continue
            if tok.kind in {Tok.RIGHT, Tok.RPAREN}:
                self.i -= 1
            elif tok.kind is not Tok.PIPE:
                self.unexpected(tok, "operand")
            break
        if not args:
            raise ParseError("empty command", start)
        return n.Command(start, tuple(args))

    def operand(self) -> n.Operand | None:
        node = self.term()
        if node is None or self.peek().kind is not Tok.FIELD:
            return node
        names: list[str] = []
        while self.peek().kind is Tok.FIELD:
            names.append(self.next().value[1:])
        if isinstance(node, n.Field):
            return n.Field(node.pos, node.names + tuple(names))
        if isinstance(node, n.Variable):
            return n.Variable(node.pos, node.names + tuple(names))
        if isinstance(node, (n.Bool, n.String, n.Number, n.Nil, n.Dot)):
            raise ParseError("unexpected . after term", node.pos)
        return n.Chain(node.pos, node, tuple(names))

    def term(self) -> n.Operand | None:  # noqa: PLR0911 - one per token kind, as in Go
        tok = self.next_non_space()
        kind, pos, value = tok.kind, tok.pos, tok.value
        if kind is Tok.IDENT:
            if not self.has_func(value):
                raise ParseError(f'function "{value}" not defined', pos)
            return n.Identifier(pos, value)
        if kind is Tok.DOT:
            return n.Dot(pos)
        if kind is Tok.NIL:
            return n.Nil(pos)
        if kind is Tok.VARIABLE:
            name = value.split(".", 1)[0]
            if name not in self.vars:
                raise ParseError(f'undefined variable "{name}"', pos)
            return n.Variable(pos, (name,))
        if kind is Tok.FIELD:
            return n.Field(pos, (value[1:],))
        if kind is Tok.BOOL:
            return n.Bool(pos, value == "true")
        if kind in {Tok.NUMBER, Tok.CHAR}:
            return self.number(tok)
        if kind is Tok.LPAREN:
            return self.pipeline("parenthesized pipeline", Tok.RPAREN)
        if kind in {Tok.STRING, Tok.RAW_STRING}:
            return n.String(pos, self.unquote(tok))
        self.i -= 1
        return None

    def number(self, tok: Token) -> n.Number:
        try:
            if tok.kind is Tok.CHAR:
                rune = unquote_char(tok.value)
                return n.Number(tok.pos, tok.value, rune, rune)
            value, as_int = parse_number(tok.value)
        except (LiteralError, ValueError) as exc:
            raise ParseError(str(exc) or f"bad number syntax: {tok.value}", tok.pos) from None
        return n.Number(tok.pos, tok.value, value, as_int)

    def unquote(self, tok: Token) -> str:
        try:
            return unquote(tok.value)
        except LiteralError as exc:
            raise ParseError(str(exc), tok.pos) from None


def describe(tok: Token) -> str:
    if tok.kind is Tok.RIGHT:
        return f"{tok.value!r}"
    if tok.kind is Tok.KEYWORD:
        return f"<{tok.value}>"
    return repr(tok.value)
