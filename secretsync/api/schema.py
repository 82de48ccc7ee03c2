"""OpenAPI v3 (structural) schemas for the CRDs, generated from the API models."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from typing import Any

from secretsync.api.fields import Duration, KeptOption, json_name, meta_of
from secretsync.api.parsing import hints

JSON = dict[str, Any]


def object_schema(cls: type) -> JSON:
    properties: JSON = {}
    required: list[str] = []
    for f in dataclasses.fields(cls):
        name = json_name(f)
        meta = meta_of(f)
        if meta.unsupported is not None:
            prop = kept_schema()
        elif meta.one_of is not None:
            prop = _union_schema(meta.one_of)
        elif meta.int_or_string:
            prop = {"x-kubernetes-int-or-string": True}
        elif meta.preserve_unknown and hints(cls)[f.name] is Any:
            prop = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
        else:
            prop = type_schema(hints(cls)[f.name])
        prop = {"description": meta.doc, **prop}
        if meta.kept_values:
            prop["enum"] = [*prop["enum"], *meta.kept_values]
        if meta.pattern:
            prop["pattern"] = meta.pattern
        if meta.schema_default is not None:
            prop["default"] = meta.schema_default
        properties[name] = prop
        if meta.required and not meta.crd_optional:
            required.append(name)
    # No empty "properties": the apiserver drops it, and the CRD we ship should read back as is.
    schema: JSON = (
        {"type": "object", "properties": properties} if properties else {"type": "object"}
    )
    if required:
        schema["required"] = required
    return schema


def type_schema(hint: Any) -> JSON:  # noqa: PLR0911 - one branch per kind
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        (inner,) = [a for a in typing.get_args(hint) if a is not type(None)]
        return type_schema(inner)
    if origin is tuple:
        item = typing.get_args(hint)[0]
        items = (
            {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
            if item is Any
            else type_schema(item)
        )
        return {"type": "array", "items": items}
    if origin in (Mapping, dict):
        return {"type": "object", "additionalProperties": type_schema(typing.get_args(hint)[1])}
    if dataclasses.is_dataclass(hint):
        return object_schema(typing.cast(type, hint))
    if hint is Duration:
        return {"type": "string"}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return {"type": "string", "enum": [m.value for m in hint]}
    simple = {str: "string", int: "integer", bool: "boolean", float: "number"}
    return {"type": simple[hint]}


def kept_schema() -> JSON:
    """Any JSON value, stored verbatim: no type (a structural schema allows that with
    x-kubernetes-preserve-unknown-fields), so whatever ESO's schema accepts there is kept."""
    return {"x-kubernetes-preserve-unknown-fields": True}


def _union_schema(options: Mapping[str, type | KeptOption]) -> JSON:
    return {
        "type": "object",
        "properties": {
            key: (
                {"description": model.doc, **kept_schema()}
                if isinstance(model, KeptOption)
                else object_schema(model)
            )
            for key, model in options.items()
        },
        # Exactly one option, as ESO's schema says; a misspelt key is pruned, leaving zero.
        "minProperties": 1,
        "maxProperties": 1,
    }
