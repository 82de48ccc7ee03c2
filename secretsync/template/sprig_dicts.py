"""sprig's dict functions (dict.go). Go maps are references, so set/unset/merge mutate and
return the very dict they were given, as templates expect."""

from __future__ import annotations

import copy
from typing import Any

from secretsync.template.callables import FuncError, GoFunc, make
from secretsync.template.conv import strval
from secretsync.template.sprig_defaults import empty
from secretsync.template.values import sort_key


def dict_(*pairs: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i in range(0, len(pairs), 2):
        out[strval(pairs[i])] = pairs[i + 1] if i + 1 < len(pairs) else ""
    return out


def get(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key, "")


def set_(mapping: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    mapping[key] = value
    return mapping


def unset(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    mapping.pop(key, None)
    return mapping


def _sorted_keys(mapping: dict[str, Any]) -> list[str]:
    # Go iterates maps in random order; sorted is one of the orders Go may produce.
    return sorted(mapping, key=sort_key)


def keys(*maps: dict[str, Any]) -> list[Any]:
    return [k for m in maps for k in _sorted_keys(m)]


def values(mapping: dict[str, Any]) -> list[Any]:
    return [mapping[k] for k in _sorted_keys(mapping)]


def pluck(key: str, *maps: dict[str, Any]) -> list[Any]:
    return [m[key] for m in maps if key in m]


def pick(mapping: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: mapping[k] for k in names if k in mapping}


def omit(mapping: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k not in names}


def _merge_into(dst: dict[str, Any], src: dict[str, Any], overwrite: bool) -> None:
    """mergo.Merge (and WithOverride): fill dst's missing or empty values from src, deeply."""
    for key, value in src.items():
        if key not in dst:
            dst[key] = copy.deepcopy(value)
        elif isinstance(dst[key], dict) and isinstance(value, dict):
            _merge_into(dst[key], value, overwrite)
        elif (overwrite and not empty(value)) or empty(dst[key]):
            dst[key] = copy.deepcopy(value)


def merge(dst: dict[str, Any], *srcs: Any) -> dict[str, Any]:
    return _merge_all(dst, srcs, overwrite=False)


def merge_overwrite(dst: dict[str, Any], *srcs: Any) -> dict[str, Any]:
    return _merge_all(dst, srcs, overwrite=True)


def _merge_all(dst: dict[str, Any], srcs: tuple[Any, ...], overwrite: bool) -> dict[str, Any]:
    for src in srcs:
        if not isinstance(src, dict):
            raise FuncError("src and dst must be of same type")
        _merge_into(dst, src, overwrite)
    return dst


def dig(*args: Any) -> Any:
    """dig "a" "b" default dict: walk nested maps, returning default at the first miss."""
    if len(args) < 3:
        raise FuncError(f"wrong number of args for dig: want at least 3 got {len(args)}")
    *path, fallback, mapping = args
    if not isinstance(mapping, dict):
        raise FuncError("interface conversion: interface {} is not map[string]interface {}")
    current: Any = mapping
    for i, key in enumerate(path):
        if not isinstance(key, str):
            raise FuncError("interface conversion: interface {} is not string")
        if key not in current:
            return fallback
        current = current[key]
        if i < len(path) - 1 and not isinstance(current, dict):
            raise FuncError("interface conversion: interface {} is not map[string]interface {}")
    return current


FUNCS: dict[str, GoFunc] = {
    "dict": make(dict_, "a*"),
    "get": make(get, "ms"),
    "set": make(set_, "msa"),
    "unset": make(unset, "ms"),
    "hasKey": make(lambda m, k: k in m, "ms"),
    "pluck": make(pluck, "sm*"),
    "keys": make(keys, "m*"),
    "pick": make(pick, "ms*"),
    "omit": make(omit, "ms*"),
    "merge": make(merge, "ma*"),
    "mustMerge": make(merge, "ma*"),
    "mergeOverwrite": make(merge_overwrite, "ma*"),
    "mustMergeOverwrite": make(merge_overwrite, "ma*"),
    "values": make(values, "m"),
    "dig": make(dig, "a*"),
}
