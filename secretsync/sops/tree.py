"""The in-memory tree every SOPS format loads into and emits from (sops' `sops.Tree`).

A document is a `Branch`: an ordered sequence of `(key, value)` items whose key is a string or a
`Comment`. Order matters because the MAC covers values in document order. Sequences are tuples
and may contain `Comment`s. Strings that came from non-UTF-8 bytes carry them as surrogate
escapes (`bytes.decode("utf-8", "surrogateescape")`), which mirrors Go strings holding any bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment line (text after the `#`); `inline` comments sit after a value (sops 3.13+)."""

    value: str
    inline: bool = False


@dataclass(frozen=True, slots=True)
class GoTime:
    """A timestamp, kept as Go's RFC3339Nano text so that no precision is lost."""

    text: str


@dataclass(frozen=True, slots=True)
class Branch:
    """An ordered mapping; keys are unique strings or comments."""

    items: tuple[Item, ...] = ()

    def get(self, key: str) -> Value:
        for item_key, value in self.items:
            if item_key == key:
                return value
        return None

    def has(self, key: str) -> bool:
        return any(item_key == key for item_key, _ in self.items)

    def keys(self) -> list[str]:
        return [key for key, _ in self.items if isinstance(key, str)]


Scalar: TypeAlias = str | int | float | bool | GoTime | bytes | None
Value: TypeAlias = "Branch | tuple[Value, ...] | Comment | Scalar"
Item: TypeAlias = tuple[str | Comment, Value]

TYPE_NAMES = {
    str: "str",
    bool: "bool",
    int: "int",
    float: "float",
    GoTime: "time",
    bytes: "bytes",
    Comment: "comment",
}


def describe(value: Value) -> str:
    """The kind of a value for error messages; never the value itself."""
    if isinstance(value, Branch):
        return "mapping"
    if isinstance(value, tuple):
        return "sequence"
    if value is None:
        return "null"
    return TYPE_NAMES.get(type(value), type(value).__name__)
