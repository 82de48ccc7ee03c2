"""The parse tree of a Go text/template, mirroring text/template/parse/node.go.

Every node carries `pos`, the offset of its first character in the template source, so that
errors can name a line and column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True, slots=True)
class Text:
    pos: int
    text: str


@dataclass(frozen=True, slots=True)
class Field:
    """`.a.b`: field or map-key lookups starting from dot."""

    pos: int
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Variable:
    """`$x.a.b`: names[0] is the variable, the rest are lookups on its value."""

    pos: int
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Identifier:
    """A function name."""

    pos: int
    name: str


@dataclass(frozen=True, slots=True)
class Dot:
    pos: int


@dataclass(frozen=True, slots=True)
class Nil:
    pos: int


@dataclass(frozen=True, slots=True)
class Bool:
    pos: int
    value: bool


@dataclass(frozen=True, slots=True)
class Number:
    """A numeric constant; `value` is what Go's idealConstant picks (int or float64)."""

    pos: int
    text: str
    value: int | float
    int_value: int | None


@dataclass(frozen=True, slots=True)
class String:
    pos: int
    value: str


@dataclass(frozen=True, slots=True)
class Chain:
    """`(pipeline).a.b` or any other term followed by field lookups."""

    pos: int
    node: Operand
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Command:
    pos: int
    args: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class Pipe:
    pos: int
    decl: tuple[str, ...]
    is_assign: bool
    cmds: tuple[Command, ...]


@dataclass(frozen=True, slots=True)
class Action:
    pos: int
    pipe: Pipe


@dataclass(frozen=True, slots=True)
class If:
    pos: int
    pipe: Pipe
    body: tuple[Node, ...]
    else_body: tuple[Node, ...] | None


@dataclass(frozen=True, slots=True)
class With:
    pos: int
    pipe: Pipe
    body: tuple[Node, ...]
    else_body: tuple[Node, ...] | None


@dataclass(frozen=True, slots=True)
class Range:
    pos: int
    pipe: Pipe
    body: tuple[Node, ...]
    else_body: tuple[Node, ...] | None


@dataclass(frozen=True, slots=True)
class TemplateCall:
    """`{{template "name" pipeline}}`."""

    pos: int
    name: str
    pipe: Pipe | None


@dataclass(frozen=True, slots=True)
class Break:
    pos: int


@dataclass(frozen=True, slots=True)
class Continue:
    pos: int


Operand: TypeAlias = (
    Field | Variable | Identifier | Dot | Nil | Bool | Number | String | Chain | Pipe
)
Node: TypeAlias = Text | Action | If | With | Range | TemplateCall | Break | Continue


@dataclass(frozen=True, slots=True)
class Tree:
    """A parsed source: the main body plus every `define`/`block` it declared, by name."""

    name: str
    text: str
    body: tuple[Node, ...]
    defines: tuple[tuple[str, tuple[Node, ...]], ...]
