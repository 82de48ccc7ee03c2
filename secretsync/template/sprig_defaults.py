"""sprig's defaults, flow control and reflection functions (defaults.go, reflect.go)."""

from __future__ import annotations

import copy
from typing import Any

from secretsync.template.callables import FuncError, GoFunc, make
from secretsync.template.values import Int64, is_true, type_name


def empty(value: Any) -> bool:
    """sprig's empty: the zero value of its type (a struct never is)."""
    return not is_true(value)


def default(fallback: Any, *given: Any) -> Any:
    if not given or empty(given[0]):
        return fallback
    return given[0]


def coalesce(*values: Any) -> Any:
    return next((v for v in values if not empty(v)), None)


def deep_equal(a: Any, b: Any) -> bool:
    """reflect.DeepEqual: like ==, but values of different Go types are never equal."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(deep_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(deep_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


_KINDS = {
    bool: "bool",
    int: "int",
    float: "float64",
    str: "string",
    bytes: "slice",
    list: "slice",
    tuple: "slice",
    dict: "map",
}


def kind_of(value: Any) -> str:
    if value is None:
        return "invalid"
    if isinstance(value, Int64):
        return "int64"
    return next((kind for t, kind in _KINDS.items() if isinstance(value, t)), "ptr")


def fail(message: str) -> str:
    raise FuncError(message)


def deep_copy(value: Any) -> Any:
    if value is None:
        raise FuncError("copystructure: nil value")
    return copy.deepcopy(value)


def compact(items: Any) -> list[Any]:
    if not isinstance(items, (list, tuple)):
        raise FuncError(f"Cannot compact on type {type_name(items)}")
    return [item for item in items if not empty(item)]


FUNCS: dict[str, GoFunc] = {
    "default": make(default, "aa*"),
    "empty": make(empty, "a"),
    "coalesce": make(coalesce, "a*"),
    "all": make(lambda *v: all(not empty(x) for x in v), "a*"),
    "any": make(lambda *v: any(not empty(x) for x in v), "a*"),
    "compact": make(compact, "a"),
    "mustCompact": make(compact, "a"),
    "ternary": make(lambda t, f, cond: t if cond else f, "aab"),
    "deepCopy": make(deep_copy, "a"),
    "mustDeepCopy": make(deep_copy, "a"),
    "typeOf": make(type_name, "a"),
    "typeIs": make(lambda target, v: target == type_name(v), "sa"),
    "typeIsLike": make(lambda t, v: t in {type_name(v), "*" + type_name(v)}, "sa"),
    "kindOf": make(kind_of, "a"),
    "kindIs": make(lambda target, v: target == kind_of(v), "sa"),
    "deepEqual": make(deep_equal, "aa"),
    "fail": make(fail, "s"),
}
