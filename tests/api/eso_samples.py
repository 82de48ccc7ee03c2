"""Objects generated from ESO's own schemas: maximal ones (every property filled with a value of
its type) and, where a schema says "exactly one of" (maxProperties: 1, e.g. spec.provider), one
object per option. What ESO's apiserver then refuses is dropped field by field (see
`without_field`), so the sample is what ESO's CRDs accept."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

Schema = Mapping[str, Any]
Path = tuple[str, ...]

_STRINGS = ("a", "abc", "a1", "1h", "v2", "https://a.example", "a.b", "@daily", "a@b.example")
_FORMATS = {"byte": "YWJj", "date-time": "2026-01-02T03:04:05Z"}
_ANYTHING = {"kept": {"nested": ["as", 1, True], "empty": {}}, "n": 1.5}
"""For a node that preserves unknown fields: JSON of several types, nested."""


def string(schema: Schema) -> str:
    if schema.get("enum"):
        return str(schema["enum"][0])
    if schema.get("format") in _FORMATS:
        return _FORMATS[schema["format"]]
    pattern = schema.get("pattern")
    low, high = schema.get("minLength", 0), schema.get("maxLength", 1 << 20)
    for candidate in (str(schema.get("example", "")), *_STRINGS):
        if not candidate or not low <= len(candidate) <= high:
            continue
        if pattern is None or re.search(pattern, candidate):
            return candidate
    raise AssertionError(f"no sample string for {schema!r}")


_SCALARS = {"integer": 1, "number": 1.5, "boolean": True}


def value(schema: Schema, choices: Mapping[Path, str], path: Path = ()) -> Any:
    """A value `schema` accepts, every property filled; at a one-of node, the option `choices`
    names for its path (else the first)."""
    kind = schema.get("type")
    if schema.get("x-kubernetes-int-or-string") or "anyOf" in schema:
        return "1h"
    if kind == "string":
        return string(schema)
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind == "array":
        return [value(schema.get("items") or {}, choices, (*path, "[]"))]
    return _object(schema, choices, path)


def _object(schema: Schema, choices: Mapping[Path, str], path: Path) -> Any:
    properties: Mapping[str, Schema] = schema.get("properties") or {}
    if not properties:
        extra = schema.get("additionalProperties")
        if isinstance(extra, Mapping):
            return {"k": value(extra, choices, (*path, "*"))}
        return (
            copy.deepcopy(_ANYTHING) if schema.get("x-kubernetes-preserve-unknown-fields") else {}
        )
    names = list(properties)
    if schema.get("maxProperties") == 1:
        names = [choices.get(path, names[0])]
    out = {name: value(properties[name], choices, (*path, name)) for name in names}
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        out["unknownToTheSchema"] = copy.deepcopy(_ANYTHING)
    return out


def one_of_nodes(schema: Schema, path: Path = ()) -> Iterator[tuple[Path, list[str]]]:
    """Every "exactly one of" node below `schema`, with its options."""
    properties: Mapping[str, Schema] = schema.get("properties") or {}
    if properties and schema.get("maxProperties") == 1:
        yield path, list(properties)
    for name, sub in properties.items():
        yield from one_of_nodes(sub, (*path, name))
    if isinstance(schema.get("items"), Mapping):
        yield from one_of_nodes(schema["items"], (*path, "[]"))
    if isinstance(schema.get("additionalProperties"), Mapping):
        yield from one_of_nodes(schema["additionalProperties"], (*path, "*"))


def specs(schema: Schema) -> Iterator[tuple[str, Any]]:
    """(label, spec) for `schema` (a CRD's spec schema): the maximal one, then one per option of
    every one-of node (every provider of a store, every generator of a ClusterGenerator)."""
    yield "maximal", value(schema, {})
    nodes = dict(one_of_nodes(schema))
    for path, options in nodes.items():
        # Outer one-of nodes lead to this one (provider=ibm for provider.ibm.auth=...).
        leading = {p: path[len(p)] for p in nodes if len(p) < len(path) and path[: len(p)] == p}
        for option in options[1:] if not leading else options:
            yield f"{'.'.join(path)}={option}", value(schema, {**leading, path: option})


def _parts(field_path: str) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in re.split(r"\.|\[(\d+)\]", field_path) if p]


def _schema_at(schema: Schema, parts: list[Any]) -> Schema:
    for part in parts:
        if isinstance(part, int):
            schema = schema.get("items") or {}
        else:
            extra = schema.get("additionalProperties")
            schema = (schema.get("properties") or {}).get(part) or (
                extra if isinstance(extra, Mapping) else {}
            )
    return schema


def narrow(obj: Any, field_path: str, schema: Schema) -> bool:
    """Drop what an apiserver error names (`spec.a[0].b`), as little as possible: the field, or
    one optional property of the object it names (a rule across siblings, such as "only one
    of", names their parent). `schema` describes `obj`. False when nothing is left to drop."""
    parts = _parts(field_path)
    parents, node = [], obj
    for part in parts:
        try:
            parents.append((node, part))
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return False
    if isinstance(node, dict):
        required = set(_schema_at(schema, parts).get("required") or ())
        optional = [key for key in node if key not in required]
        if len(node) > 1 and optional:
            del node[optional[-1]]
            return True
    if not parents:
        return False
    holder, key = parents[-1]
    del holder[key]
    return True


def missing_or_changed(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Paths where `actual` lacks or changes what `expected` has (extra keys in actual are fine)."""
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        found: list[str] = []
        for key, sub in expected.items():
            where = f"{path}.{key}" if path else str(key)
            if key not in actual:
                found.append(f"{where} (missing)")
            else:
                found.extend(missing_or_changed(sub, actual[key], where))
        return found
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [
            p
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for p in missing_or_changed(e, a, f"{path}[{i}]")
        ]
    return [] if expected == actual else [f"{path} ({expected!r} -> {actual!r})"]


def json_body(text: object) -> dict[str, Any]:
    """An apiserver error body (a Status object), or {} when it is not JSON."""
    try:
        parsed = json.loads(str(text))
    except json.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
