"""sops' index paths (`["a"]["b"][0]`) and the get/set/unset operations on a tree."""

from __future__ import annotations

import json
import re

from secretsync.errors import ConfigError, NotFound
from secretsync.sops.tree import Branch, Comment, Value

_PART = re.compile(r'\[\s*("(?:[^"\\]|\\.)*"|-?[0-9]+)\s*\]')

PathPart = str | int


def parse(text: str) -> tuple[PathPart, ...]:
    parts: list[PathPart] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _PART.match(text, pos)
        if match is None:
            raise ConfigError('is not a path like ["key"][0]', field="path")
        token = match.group(1)
        parts.append(json.loads(token) if token.startswith('"') else int(token))
        pos = match.end()
    if not parts:
        raise ConfigError("is empty", field="path")
    return tuple(parts)


def _items(seq: tuple[Value, ...]) -> list[int]:
    """Indexes of real elements; comments in a sequence do not count."""
    return [i for i, v in enumerate(seq) if not isinstance(v, Comment)]


def get(value: Value, path: tuple[PathPart, ...]) -> Value:
    for part in path:
        if isinstance(value, Branch) and isinstance(part, str) and value.has(part):
            value = value.get(part)
        elif (
            isinstance(value, tuple)
            and isinstance(part, int)
            and -len(_items(value)) <= part < len(_items(value))
        ):
            value = value[_items(value)[part]]
        else:
            raise NotFound(f"component {part!r} of the path was not found")
    return value


def set_value(value: Value, path: tuple[PathPart, ...], new: Value) -> Value:
    """Set or add the value at path, creating mappings on the way (sops `TreeBranch.Set`)."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(head, str):
        branch = value if isinstance(value, Branch) else Branch()
        items = list(branch.items)
        for i, (key, current) in enumerate(items):
            if key == head:
                items[i] = (key, set_value(current, rest, new))
                return Branch(tuple(items))
        items.append((head, set_value(None, rest, new)))
        return Branch(tuple(items))
    seq = list(value) if isinstance(value, tuple) else []
    indexes = _items(tuple(seq))
    if 0 <= head < len(indexes):
        seq[indexes[head]] = set_value(seq[indexes[head]], rest, new)
    else:
        seq.append(set_value(None, rest, new))
    return tuple(seq)


def unset(value: Value, path: tuple[PathPart, ...]) -> Value:
    head, rest = path[0], path[1:]
    if isinstance(value, Branch) and isinstance(head, str) and value.has(head):
        if not rest:
            return Branch(tuple((k, v) for k, v in value.items if k != head))
        return Branch(tuple((k, unset(v, rest) if k == head else v) for k, v in value.items))
    if isinstance(value, tuple) and isinstance(head, int) and 0 <= head < len(_items(value)):
        index = _items(value)[head]
        if not rest:
            return value[:index] + value[index + 1 :]
        return (*value[:index], unset(value[index], rest), *value[index + 1 :])
    raise NotFound(f"component {head!r} of the path was not found")


def from_json(text: str) -> Value:
    """A `sops set` value: JSON, with objects as ordered branches."""
    try:
        parsed = json.loads(text, object_pairs_hook=lambda pairs: Branch(tuple(pairs)))
    except ValueError:
        raise ConfigError("is not valid JSON", field="value") from None
    return _tuples(parsed)


def _tuples(value: object) -> Value:
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, Branch):
        return Branch(tuple((k, _tuples(v)) for k, v in value.items))
    assert value is None or isinstance(value, str | int | float | bool)
    return value
