"""The parts of Go's JSON behaviour that ESO's providers expose, reproduced byte for byte.

- `marshal`: Go's json.Marshal of a decoded map (sorted keys, compact, HTML-escaped), keeping
  numbers exactly as the server wrote them, because Vault hands them over as json.Number.
- `lookup`: a gjson path (`a.b`, `list.1`, `a\\.b`, `list.#`, `list.#.name`) over JSON text,
  returning the raw text of objects and arrays as they appear in the source, whitespace included.
- `byte_value`: ESO's GetByteValue, how one decoded JSON value becomes Secret bytes.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from secretsync.errors import ConfigError

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


class Number(str):
    """A JSON number kept as its source text (Go's json.Number)."""


class NotJSON(ConfigError, ValueError):
    """The text is not JSON. Also a ValueError, which is what callers catch for "not JSON"."""


def loads(text: str | bytes) -> Any:
    """Decode JSON keeping numbers as their text; NaN and Infinity are not JSON, as in Go."""
    try:
        value = json.loads(text, parse_int=Number, parse_float=Number, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        # The message gives a position only, never the text: the text may be a secret.
        raise NotJSON(f"is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except UnicodeDecodeError:
        raise NotJSON("is not JSON: the bytes are not UTF-8") from None
    except RecursionError:
        raise NotJSON("is not JSON we can read: it nests too deeply") from None
    return _without_surrogates(value)


def _without_surrogates(value: Any) -> Any:
    """Go decodes a lone surrogate escape (`"\\ud800"`) to U+FFFD; Python keeps it, and it
    cannot become Secret bytes."""
    if isinstance(value, Number):
        return value
    if isinstance(value, str):
        if any("\ud800" <= char <= "\udfff" for char in value):
            return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in value)
        return value
    if isinstance(value, list):
        return [_without_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    return value


def _no_constant(name: str) -> Any:
    raise NotJSON(f"is not JSON: {name} is not a JSON value")


def _string(text: str) -> str:
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def marshal(value: Any) -> str:  # noqa: PLR0911 - one return per JSON kind
    if isinstance(value, Number):
        return str(value)
    if isinstance(value, str):
        return _string(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, dict):
        items = [f"{_string(str(k))}:{marshal(v)}" for k, v in sorted(value.items())]
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(marshal(v) for v in value) + "]"
    raise TypeError(f"cannot marshal {type(value).__name__}")


def byte_value(value: Any) -> bytes:
    """ESO's GetByteValue: strings as is, numbers as their text, null as empty, else JSON."""
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode()
    return marshal(value).encode()


@dataclasses.dataclass(frozen=True)
class Found:
    raw: str
    """The value's JSON text, exactly as in the source."""

    value: Any
    """The decoded value (numbers as Number)."""

    def text(self) -> str:
        """gjson's Result.String(): strings unquoted, null empty, everything else raw JSON."""
        if self.value is None:
            return ""
        if isinstance(self.value, str) and not isinstance(self.value, Number):
            return self.value
        return self.raw


def split_path(path: str) -> list[str]:
    parts, current, escaped = [], [], False
    for char in path:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ".":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def lookup(text: str, path: str) -> Found | None:
    """Evaluate a gjson path; None when nothing is there, NotJSON when `text` is not JSON."""
    try:
        return _walk(_Span(text).value(), split_path(path), text)
    except NotJSON:
        raise
    except (ValueError, IndexError):
        # The scanner ran off the end or met a non-JSON token; position only, as in loads.
        raise NotJSON("is not JSON") from None
    except RecursionError:
        raise NotJSON("is not JSON we can read: it nests too deeply") from None


def _walk(node: _Node, parts: list[str], text: str) -> Found | None:  # noqa: PLR0911
    if not parts:
        return Found(raw=text[node.start : node.end], value=node.decoded(text))
    head, rest = parts[0], parts[1:]
    if isinstance(node.children, list):
        if head == "#":
            if not rest:
                count = str(len(node.children))
                return Found(raw=count, value=Number(count))
            found = [f for f in (_walk(c, rest, text) for c in node.children) if f is not None]
            raw = "[" + ",".join(f.raw for f in found) + "]"
            return Found(raw=raw, value=[f.value for f in found])
        if head.isdigit() and int(head) < len(node.children):
            return _walk(node.children[int(head)], rest, text)
        return None
    if isinstance(node.children, dict) and head in node.children:
        return _walk(node.children[head], rest, text)
    return None


@dataclasses.dataclass
class _Node:
    start: int
    end: int
    children: dict[str, _Node] | list[_Node] | None = None

    def decoded(self, text: str) -> Any:
        return loads(text[self.start : self.end])


class _Span:
    """A JSON scanner that records where each value starts and ends in the source text."""

    _DECODER = json.JSONDecoder()

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def _skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def value(self) -> _Node:
        self._skip()
        start = self.pos
        char = self.text[start : start + 1]
        if char == "{":
            return self._object(start)
        if char == "[":
            return self._array(start)
        _, end = self._DECODER.raw_decode(self.text, start)
        self.pos = end
        return _Node(start, end)

    def _object(self, start: int) -> _Node:
        children: dict[str, _Node] = {}
        self.pos += 1
        self._skip()
        while self.text[self.pos] != "}":
            key, self.pos = self._DECODER.raw_decode(self.text, self.pos)
            self._skip()
            self.pos += 1  # the colon
            children.setdefault(str(key), self.value())  # gjson takes the first duplicate
            self._skip()
            if self.text[self.pos] == ",":
                self.pos += 1
                self._skip()
        self.pos += 1
        return _Node(start, self.pos, children)

    def _array(self, start: int) -> _Node:
        items: list[_Node] = []
        self.pos += 1
        self._skip()
        while self.text[self.pos] != "]":
            items.append(self.value())
            self._skip()
            if self.text[self.pos] == ",":
                self.pos += 1
                self._skip()
        self.pos += 1
        return _Node(start, self.pos, items)
