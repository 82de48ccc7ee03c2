"""Parse raw JSON-like dicts into the API models, once, at the edge.

Every error is a ConfigError that names the field path (`spec.data[2].remoteRef.key`) and says
what is expected, so a user can fix the manifest without reading our code.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from secretsync.api.fields import MAX_DURATION_S, UNSET, Duration, KeptOption, json_name, meta_of
from secretsync.errors import ConfigError, Unsupported

T = TypeVar("T")


@functools.cache
def hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def parse(cls: type[T], raw: object, path: str) -> T:
    """Build a model instance from `raw`; unknown keys are ignored, as the apiserver prunes them."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"must be an object, not {_kind(raw)}", field=path)
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    _refuse_kept(fields, raw, path)
    values: dict[str, Any] = {}
    for f in fields:
        name = json_name(f)
        meta = meta_of(f)
        child = f"{path}.{name}" if path else name
        if meta.unsupported is not None:
            continue
        if meta.one_of is not None:
            values[f.name] = _parse_union(meta.one_of, raw.get(name), child, required=meta.required)
            continue
        if name not in raw or raw[name] is None:
            if meta.required:
                raise ConfigError("is required", field=child)
            continue
        values[f.name] = convert(hints(typing.cast(type, cls))[f.name], raw[name], child)
    instance = cls(**values)
    validate = getattr(instance, "validate", None)
    if callable(validate):
        validate(path)
    return instance


def _refuse_kept(
    fields: tuple[dataclasses.Field[Any], ...], raw: Mapping[str, Any], path: str
) -> None:
    """Unsupported first: what secretsync does not implement is the news, not a sibling's error."""
    for f in fields:
        meta = meta_of(f)
        name = json_name(f)
        child = f"{path}.{name}" if path else name
        value = raw.get(name)
        if meta.unsupported is not None and value not in UNSET:
            raise Unsupported(field=child, instead=meta.unsupported)
        if meta.kept_values and isinstance(value, str) and value in meta.kept_values:
            # An enum value names an option, never a secret: it may be echoed.
            raise Unsupported(field=child, instead=meta.kept_values[value], value=value)


def convert(hint: Any, value: object, path: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        (inner,) = [a for a in typing.get_args(hint) if a is not type(None)]
        return convert(inner, value, path)
    if origin is tuple:
        item = typing.get_args(hint)[0]
        if not isinstance(value, list):
            raise ConfigError(f"must be a list, not {_kind(value)}", field=path)
        return tuple(convert(item, v, f"{path}[{i}]") for i, v in enumerate(value))
    if origin in (Mapping, dict):
        if not isinstance(value, Mapping):
            raise ConfigError(f"must be an object, not {_kind(value)}", field=path)
        _, item = typing.get_args(hint)
        return {str(k): convert(item, v, f"{path}.{k}") for k, v in value.items()}
    if hint is Any:
        return value
    if dataclasses.is_dataclass(hint):
        return parse(hint, value, path)  # type: ignore[arg-type]
    return _scalar(hint, value, path)


def _scalar(hint: Any, value: object, path: str) -> Any:
    if hint is Duration:
        if isinstance(value, int) and not isinstance(value, bool):
            if abs(value) > MAX_DURATION_S:
                raise ConfigError(
                    "is longer than a Go duration can be (about 292 years)", field=path
                )
            return Duration(seconds=value)
        if not isinstance(value, str):
            raise ConfigError(f"must be a duration string, not {_kind(value)}", field=path)
        return Duration.parse(value, path)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        allowed = [m.value for m in hint]
        if value not in allowed:
            raise ConfigError(f"must be one of {', '.join(map(str, allowed))}", field=path)
        return hint(value)
    if hint is bool and isinstance(value, bool):
        return value
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint is str and isinstance(value, str):
        return value
    raise ConfigError(f"must be a {hint.__name__}, not {_kind(value)}", field=path)


def _parse_union(
    options: Mapping[str, type | KeptOption], raw: object, path: str, *, required: bool
) -> Any:
    served = [key for key, model in options.items() if not isinstance(model, KeptOption)]
    if raw is None and not required:
        return None
    if not isinstance(raw, Mapping):
        raise ConfigError(f"must be an object with one of: {', '.join(served)}", field=path)
    chosen = [key for key in options if raw.get(key) is not None]
    if len(chosen) != 1:
        other = sorted(set(raw) - set(options))
        hint = f" ({', '.join(other)} is not supported by secretsync)" if other else ""
        raise ConfigError(f"set exactly one of: {', '.join(served)}{hint}", field=path)
    key = chosen[0]
    model = options[key]
    if isinstance(model, KeptOption):
        instead = model.instead or f"use {_one_of(served)}"
        raise Unsupported(field=f"{path}.{key}", instead=instead)
    return parse(model, raw[key], f"{path}.{key}")


def _one_of(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _kind(value: object) -> str:
    # Names the JSON type only: the value itself may be a secret and must not be echoed.
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return "null"
