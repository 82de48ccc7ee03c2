"""Recursive-descent parser for Go text/template, following text/template/parse/parse.go.

Like Go's, it checks at parse time that every function exists and every variable is declared,
so those mistakes surface before any data is touched. Expressions live in parse_expr.py.
"""

from __future__ import annotations

from collections.abc import Callable

from secretsync.template import nodes as n
from secretsync.template.lexer import LexError, Tok, Token, lex
from secretsync.template.parse_expr import ExpressionParser, ParseError, describe

__all__ = ["ParseError", "parse"]


def parse(
    name: str, text: str, has_func: Callable[[str], bool], left: str = "{{", right: str = "}}"
) -> n.Tree:
    """Parse `text` into a Tree; raises ParseError on any syntax error."""
    try:
        tokens = lex(text, left, right)
    except LexError as exc:
        raise ParseError(str(exc), exc.pos) from None
    parser = _Parser(tokens, has_func)
    body = parser.parse_top()
    return n.Tree(name, text, body, tuple(parser.defines.items()))


class _Parser(ExpressionParser):
    def __init__(self, tokens: list[Token], has_func: Callable[[str], bool]) -> None:
        super().__init__(tokens, has_func)
        self.range_depth = 0
        self.defines: dict[str, tuple[n.Node, ...]] = {}

    # -- lists and actions -------------------------------------------------------------------
    def parse_top(self) -> tuple[n.Node, ...]:
        body: list[n.Node] = []
        while self.peek().kind is not Tok.EOF:
            if self.peek().kind is Tok.LEFT:
                mark = self.i
                self.next()
                tok = self.next_non_space()
                if tok.kind is Tok.KEYWORD and tok.value == "define":
                    self.parse_define()
                    continue
                self.i = mark
            node = self.text_or_action()
            if isinstance(node, Token):
                raise ParseError(f"unexpected {{{{{node.value}}}}}", node.pos)
            body.append(node)
        return tuple(body)

    def item_list(self, context: str) -> tuple[tuple[n.Node, ...], Token]:
        """Nodes up to the next {{end}} or {{else}}, which is returned as a token."""
        items: list[n.Node] = []
        while True:
            if self.peek().kind is Tok.EOF:
                raise ParseError(f"unexpected EOF in {context}", self.peek().pos)
            node = self.text_or_action()
            if isinstance(node, Token):
                return tuple(items), node
            items.append(node)

    def text_or_action(self) -> n.Node | Token:
        tok = self.next_non_space()
        if tok.kind is Tok.TEXT:
            return n.Text(tok.pos, tok.value)
        if tok.kind is Tok.LEFT:
            return self.action()
        raise ParseError(f"unexpected {describe(tok)} in input", tok.pos)

    def action(self) -> n.Node | Token:
        tok = self.next_non_space()
        if tok.kind is Tok.KEYWORD:
            handler = _KEYWORDS.get(tok.value)
            if handler is not None:
                return handler(self, tok)
        self.i -= 1
        pipe = self.pipeline("command", Tok.RIGHT)
        return n.Action(tok.pos, pipe)

    def end_or_else(self, tok: Token) -> Token:
        if tok.value == "end":
            self.expect(Tok.RIGHT, "end")
        else:
            peek = self.peek_non_space()
            if not (peek.kind is Tok.KEYWORD and peek.value in {"if", "with"}):
                self.expect(Tok.RIGHT, "else")
        return tok

    def break_or_continue(self, tok: Token) -> n.Node:
        if not self.range_depth:
            raise ParseError(f"{{{{{tok.value}}}}} outside {{{{range}}}}", tok.pos)
        self.expect(Tok.RIGHT, tok.value)
        return n.Break(tok.pos) if tok.value == "break" else n.Continue(tok.pos)

    def parse_define(self) -> None:
        name_tok = self.expect_string("define clause")
        self.expect(Tok.RIGHT, "define clause")
        saved = self.vars
        self.vars = ["$"]
        body, end = self.item_list("define")
        self.vars = saved
        if end.value != "end":
            raise ParseError("unexpected {{else}} in define", end.pos)
        self.add_define(name_tok[1], body)

    def add_define(self, name: str, body: tuple[n.Node, ...]) -> None:
        # Go keeps an existing definition rather than replace it with an empty one.
        is_empty = all(isinstance(node, n.Text) and not node.text.strip() for node in body)
        if name in self.defines and is_empty:
            return
        self.defines[name] = body

    def expect_string(self, context: str) -> tuple[int, str]:
        tok = self.next_non_space()
        if tok.kind not in {Tok.STRING, Tok.RAW_STRING}:
            self.unexpected(tok, context)
        return tok.pos, self.unquote(tok)

    def template_call(self, tok: Token) -> n.Node:
        _, name = self.expect_string("template clause")
        pipe = None
        if self.peek_non_space().kind is not Tok.RIGHT:
            pipe = self.pipeline("template clause", Tok.RIGHT)
        else:
            self.next_non_space()
        return n.TemplateCall(tok.pos, name, pipe)

    def block(self, tok: Token) -> n.Node:
        _, name = self.expect_string("block clause")
        pipe = self.pipeline("block clause", Tok.RIGHT)
        saved = self.vars
        self.vars = ["$"]
        body, end = self.item_list("block")
        self.vars = saved
        if end.value != "end":
            raise ParseError("unexpected {{else}} in block", end.pos)
        self.add_define(name, body)
        return n.TemplateCall(tok.pos, name, pipe)

    def control(self, tok: Token) -> n.Node:
        context = tok.value
        mark = len(self.vars)
        pipe = self.pipeline(context, Tok.RIGHT)
        self.range_depth += context == "range"
        body, stop = self.item_list(context)
        self.range_depth -= context == "range"
        else_body: tuple[n.Node, ...] | None = None
        if stop.value == "else":
            peek = self.peek_non_space()
            if context in {"if", "with"} and peek.kind is Tok.KEYWORD and peek.value == context:
                self.next_non_space()
                else_body = (self.control(peek),)
            else:
                else_body, stop = self.item_list(context)
                if stop.value != "end":
                    raise ParseError(f"expected end; found {{{{{stop.value}}}}}", stop.pos)
        del self.vars[mark:]
        if context == "if":
            return n.If(tok.pos, pipe, body, else_body)
        if context == "with":
            return n.With(tok.pos, pipe, body, else_body)
        return n.Range(tok.pos, pipe, body, else_body)


_KEYWORDS: dict[str, Callable[[_Parser, Token], n.Node | Token]] = {
    "if": _Parser.control,
    "with": _Parser.control,
    "range": _Parser.control,
    "end": _Parser.end_or_else,
    "else": _Parser.end_or_else,
    "break": _Parser.break_or_continue,
    "continue": _Parser.break_or_continue,
    "template": _Parser.template_call,
    "block": _Parser.block,
}
