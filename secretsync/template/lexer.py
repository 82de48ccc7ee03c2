"""Tokenizer for Go text/template source, following text/template/parse/lex.go.

The lexer works on a whole string at once and returns a token list; templates are small and
parsed once per distinct text (see engine.py), so simplicity beats streaming here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum, auto


class Tok(Enum):
    TEXT = auto()
    LEFT = auto()
    RIGHT = auto()
    SPACE = auto()
    IDENT = auto()
    FIELD = auto()
    VARIABLE = auto()
    STRING = auto()
    RAW_STRING = auto()
    CHAR = auto()
    NUMBER = auto()
    BOOL = auto()
    NIL = auto()
    DOT = auto()
    PIPE = auto()
    LPAREN = auto()
    RPAREN = auto()
    DECLARE = auto()
    ASSIGN = auto()
    COMMA = auto()
    KEYWORD = auto()
    EOF = auto()


KEYWORDS = frozenset(
    {"block", "break", "continue", "define", "else", "end", "if", "range", "template", "with"}
)
SPACE_CHARS = " \t\r\n"
TRIM_MARKER = "-"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Tok
    value: str
    pos: int


class LexError(Exception):
    """Raised with a source offset; the parser turns it into a TemplateError."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.pos = pos


# Go's scanNumber accepts a superset and then lets strconv reject; these patterns accept what a
# valid Go number literal can look like, and anything alphanumeric glued on is a syntax error.
_NUMBER = re.compile(
    r"[+-]?(?:0[xX][0-9a-fA-F_]*\.?[0-9a-fA-F_]*(?:[pP][+-]?[0-9_]+)?"
    r"|0[oO][0-7_]+|0[bB][01_]+"
    r"|[0-9_]*\.?[0-9_]*(?:[eE][+-]?[0-9_]+)?)i?"
)
_WORD = re.compile(r"[A-Za-z0-9_\u00c0-\U0010ffff]*")
_SIMPLE = {"|": Tok.PIPE, ",": Tok.COMMA, "=": Tok.ASSIGN}
_TERMINATORS = frozenset(" \t\r\n.,|:)(")


def lex(text: str, left: str = "{{", right: str = "}}") -> list[Token]:
    """Split template source into tokens; raises LexError at the first malformed action."""
    return _Lexer(text, left, right).run()


class _Lexer:
    def __init__(self, text: str, left: str, right: str) -> None:
        self.text = text
        self.left = left
        self.right = right
        self.pos = 0
        self.tokens: list[Token] = []
        self.trim_next_text = False

    def emit(self, kind: Tok, value: str, pos: int) -> None:
        self.tokens.append(Token(kind, value, pos))

    def run(self) -> list[Token]:
        text = self.text
        while self.pos <= len(text):
            start = self.pos
            idx = text.find(self.left, start)
            end = len(text) if idx < 0 else idx
            chunk = text[start:end]
            if self.trim_next_text:
                chunk = chunk.lstrip(SPACE_CHARS)
                self.trim_next_text = False
            after = end + len(self.left)
            trim_left = idx >= 0 and _has_left_trim(text, after)
            if trim_left:
                chunk = chunk.rstrip(SPACE_CHARS)
            if chunk:
                self.emit(Tok.TEXT, chunk, start)
            if idx < 0:
                break
            self.pos = after + (2 if trim_left else 0)
            self.lex_action(idx)
        self.emit(Tok.EOF, "", len(text))
        return self.tokens

    def lex_action(self, start: int) -> None:
        text = self.text
        if text.startswith("/*", self.pos):
            self.lex_comment(start)
            return
        self.emit(Tok.LEFT, self.left, start)
        depth = 0
        while True:
            if self.at_right_delim():
                if depth:
                    raise LexError("unclosed left paren", self.pos)
                return
            if self.pos >= len(text):
                raise LexError("unclosed action", start)
            ch = text[self.pos]
            if ch in SPACE_CHARS:
                self.lex_space()
            elif ch == "(":
                depth += 1
                self.emit(Tok.LPAREN, ch, self.pos)
                self.pos += 1
            elif ch == ")":
                depth -= 1
                if depth < 0:
                    raise LexError("unexpected right paren", self.pos)
                self.emit(Tok.RPAREN, ch, self.pos)
                self.pos += 1
            else:
                self.lex_operand_char(ch)

    def at_right_delim(self) -> bool:
        """Consume a right delimiter (with an optional ' -' trim marker before it) if present."""
        text, pos = self.text, self.pos
        if text.startswith(self.right, pos):
            self.emit(Tok.RIGHT, self.right, pos)
            self.pos = pos + len(self.right)
            return True
        if self.at_right_trim(pos):
            self.emit(Tok.RIGHT, self.right, pos + 2)
            self.pos = pos + 2 + len(self.right)
            self.trim_next_text = True
            return True
        return False

    def at_right_trim(self, pos: int) -> bool:
        text = self.text
        return (
            pos < len(text)
            and text[pos] in SPACE_CHARS
            and text.startswith("-" + self.right, pos + 1)
        )

    def lex_space(self) -> None:
        start = self.pos
        text = self.text
        # A space that begins a right trim marker belongs to the delimiter.
        while (
            self.pos < len(text)
            and text[self.pos] in SPACE_CHARS
            and not self.at_right_trim(self.pos)
        ):
            self.pos += 1
        if self.pos > start:
            self.emit(Tok.SPACE, text[start : self.pos], start)

    def lex_comment(self, start: int) -> None:
        text = self.text
        end = text.find("*/", self.pos + 2)
        if end < 0:
            raise LexError("unclosed comment", start)
        self.pos = end + 2
        if self.at_right_trim(self.pos):
            self.pos += 2 + len(self.right)
            self.trim_next_text = True
        elif text.startswith(self.right, self.pos):
            self.pos += len(self.right)
        else:
            raise LexError("comment ends before closing delimiter", start)

    def lex_operand_char(self, ch: str) -> None:
        pos = self.pos
        text = self.text
        if ch in _SIMPLE:
            self.emit(_SIMPLE[ch], ch, pos)
            self.pos += 1
        elif ch == ":":
            if not text.startswith(":=", pos):
                raise LexError("expected :=", pos)
            self.emit(Tok.DECLARE, ":=", pos)
            self.pos += 2
        elif ch == '"':
            self.lex_quote(pos, '"', Tok.STRING)
        elif ch == "`":
            end = text.find("`", pos + 1)
            if end < 0:
                raise LexError("unterminated raw quoted string", pos)
            self.emit(Tok.RAW_STRING, text[pos : end + 1], pos)
            self.pos = end + 1
        elif ch == "'":
            self.lex_quote(pos, "'", Tok.CHAR)
        elif ch == "$":
            word = _WORD.match(text, pos + 1)
            end = word.end() if word else pos + 1
            self.emit(Tok.VARIABLE, text[pos:end], pos)
            self.pos = end
            self.check_terminator()
        elif ch == "." and not (pos + 1 < len(text) and text[pos + 1].isdigit()):
            self.lex_field(pos)
        elif ch in "+-." or ch.isdigit():
            self.lex_number(pos)
        elif ch == "_" or ch.isalpha():
            self.lex_identifier(pos)
        else:
            raise LexError(f"unrecognized character in action: {ch!r}", pos)

    def lex_quote(self, pos: int, quote: str, kind: Tok) -> None:
        text = self.text
        i = pos + 1
        while True:
            if i >= len(text) or text[i] == "\n":
                what = "string" if quote == '"' else "character constant"
                raise LexError(f"unterminated {what}", pos)
            if text[i] == "\\":
                i += 2
                continue
            if text[i] == quote:
                break
            i += 1
        self.emit(kind, text[pos : i + 1], pos)
        self.pos = i + 1

    def lex_field(self, pos: int) -> None:
        word = _WORD.match(self.text, pos + 1)
        end = word.end() if word else pos + 1
        if end == pos + 1:
            self.emit(Tok.DOT, ".", pos)
        else:
            self.emit(Tok.FIELD, self.text[pos:end], pos)
        self.pos = end
        self.check_terminator()

    def lex_number(self, pos: int) -> None:
        match = _NUMBER.match(self.text, pos)
        end = match.end() if match else pos
        if end == pos or self.text[pos:end] in {"+", "-", ".", "+.", "-."}:
            raise LexError(f"bad number syntax: {self.text[pos : pos + 1]!r}", pos)
        if end < len(self.text) and (self.text[end].isalnum() or self.text[end] == "_"):
            raise LexError(f"bad number syntax: {self.text[pos : end + 1]!r}", pos)
        self.emit(Tok.NUMBER, self.text[pos:end], pos)
        self.pos = end

    def lex_identifier(self, pos: int) -> None:
        word = _WORD.match(self.text, pos)
        end = word.end() if word else pos + 1
        name = self.text[pos:end]
        if name in KEYWORDS:
            kind = Tok.KEYWORD
        elif name in {"true", "false"}:
            kind = Tok.BOOL
        elif name == "nil":
            kind = Tok.NIL
        else:
            kind = Tok.IDENT
        self.emit(kind, name, pos)
        self.pos = end
        self.check_terminator()

    def check_terminator(self) -> None:
        text, pos = self.text, self.pos
        if pos >= len(text) or text[pos] in _TERMINATORS or text.startswith(self.right, pos):
            return
        raise LexError(f"bad character {text[pos]!r}", pos)


def _has_left_trim(text: str, pos: int) -> bool:
    return (
        text.startswith(TRIM_MARKER, pos) and pos + 1 < len(text) and text[pos + 1] in SPACE_CHARS
    )
