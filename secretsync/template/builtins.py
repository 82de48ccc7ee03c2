"""The functions text/template predefines (text/template/funcs.go)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from secretsync.template import nodes as n
from secretsync.template.callables import FuncError, GoFunc, make
from secretsync.template.executor import MISSING, ExecError, Executor
from secretsync.template.gofmt import sprintf
from secretsync.template.quoting import html_escape, js_escape, query_escape
from secretsync.template.values import (
    NO_VALUE,
    StringMap,
    from_bytes,
    is_true,
    sprint,
    sprintln,
    to_bytes,
    type_name,
)


def _short_circuit(stop_on: bool) -> Callable[[Executor, Any, n.Command, Any], Any]:
    """and/or evaluate their operands lazily and return the deciding operand itself."""
    name = "or" if stop_on else "and"

    def run(ex: Executor, dot: Any, cmd: n.Command, final: Any) -> Any:
        args = cmd.args[1:]
        if not args and final is MISSING:
            raise ExecError(f"wrong number of args for {name}: want at least 1 got 0", cmd.pos)
        value = None
        for arg in args:
            value = ex.eval_arg(dot, arg)
            if is_true(value) == stop_on:
                return value
        return final if final is not MISSING else value

    return run


SPECIALS = {"and": _short_circuit(False), "or": _short_circuit(True)}


def _basic_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    return "invalid" if value is None else "other"


def _eq(arg1: Any, *others: Any) -> bool:
    if not others:
        raise FuncError("missing argument for comparison")
    kind1 = _basic_kind(arg1)
    for arg in others:
        kind2 = _basic_kind(arg)
        if kind1 != kind2:
            if arg1 is not None and arg is not None:
                raise FuncError("incompatible types for comparison")
            continue
        if kind1 == "other" and isinstance(arg1, (list, dict, bytes)):
            raise FuncError(f"non-comparable type {type_name(arg1)}")
        if arg1 == arg:
            return True
    return False


def _ne(arg1: Any, arg2: Any) -> bool:
    return not _eq(arg1, arg2)


def _lt(arg1: Any, arg2: Any) -> bool:
    kind1, kind2 = _basic_kind(arg1), _basic_kind(arg2)
    if kind1 in {"bool", "invalid", "other"} or kind2 in {"bool", "invalid", "other"}:
        raise FuncError("invalid type for comparison")
    if kind1 != kind2:
        raise FuncError("incompatible types for comparison")
    if kind1 == "string":
        return bool(to_bytes(arg1) < to_bytes(arg2))
    return bool(arg1 < arg2)


def _le(arg1: Any, arg2: Any) -> bool:
    return _lt(arg1, arg2) or _eq(arg1, arg2)


def _gt(arg1: Any, arg2: Any) -> bool:
    return not _le(arg1, arg2)


def _ge(arg1: Any, arg2: Any) -> bool:
    return not _lt(arg1, arg2)


def _index_int(index: Any, length: int, cap: int | None = None) -> int:
    if index is None:
        raise FuncError("cannot index slice/array with nil")
    if isinstance(index, bool) or not isinstance(index, int):
        raise FuncError(f"cannot index slice/array with type {type_name(index)}")
    if not 0 <= index < (length if cap is None else cap + 1):
        raise FuncError(f"index out of range: {index}")
    return index


def index(item: Any, *indexes: Any) -> Any:
    for idx in indexes:
        if item is None:
            raise FuncError("index of untyped nil")
        if isinstance(item, str):
            item = to_bytes(item)[_index_int(idx, len(to_bytes(item)))]
        elif isinstance(item, (list, tuple, bytes)):
            item = item[_index_int(idx, len(item))]
        elif isinstance(item, dict):
            if idx is None or not isinstance(idx, str):
                want = "string"
                raise FuncError(f"value has type {type_name(idx)}; should be {want}")
            default = "" if isinstance(item, StringMap) else None
            item = item.get(idx, default)
        else:
            raise FuncError(f"can't index item of type {type_name(item)}")
    if item is None and indexes == ():
        raise FuncError("index of untyped nil")
    return item


def go_slice(item: Any, *indexes: Any) -> Any:
    if item is None:
        raise FuncError("slice of untyped nil")
    if len(indexes) > 3:
        raise FuncError(f"too many slice indexes: {len(indexes)}")
    if isinstance(item, str):
        if len(indexes) == 3:
            raise FuncError("cannot 3-index slice a string")
        data = to_bytes(item)
        bounds = [_index_int(i, len(data), len(data)) for i in indexes]
        return from_bytes(data[slice(*bounds)] if bounds else data)
    if not isinstance(item, (list, tuple)):
        raise FuncError(f"can't slice item of type {type_name(item)}")
    bounds = [_index_int(i, len(item), len(item)) for i in indexes[:2]]
    if len(bounds) == 2 and bounds[0] > bounds[1]:
        raise FuncError(f"invalid slice index: {bounds[0]} > {bounds[1]}")
    return list(item[slice(*bounds)] if bounds else item)


def length(item: Any) -> int:
    if item is None:
        raise FuncError("len of nil pointer")
    if isinstance(item, str):
        return len(to_bytes(item))
    if isinstance(item, (list, tuple, dict, bytes)):
        return len(item)
    raise FuncError(f"len of type {type_name(item)}")


def _printable_args(args: tuple[Any, ...]) -> str:
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return sprint([NO_VALUE if a is None else a for a in args])


def _call(fn: Any, *args: Any) -> Any:
    if fn is None:
        raise FuncError("call of nil")
    if isinstance(fn, GoFunc):
        return fn.invoke("call", list(args))
    raise FuncError(f"non-function of type {type_name(fn)}")


BUILTINS: dict[str, GoFunc] = {
    "call": make(_call, "aa*"),
    "html": make(lambda *a: html_escape(_printable_args(a)), "a*"),
    "index": make(index, "aa*"),
    "slice": make(go_slice, "aa*"),
    "js": make(lambda *a: js_escape(_printable_args(a)), "a*"),
    "len": make(length, "a"),
    "not": make(lambda a: not is_true(a), "a"),
    "print": make(lambda *a: sprint(list(a)), "a*"),
    "printf": make(lambda f, *a: sprintf(f, list(a)), "sa*"),
    "println": make(lambda *a: sprintln(list(a)), "a*"),
    "urlquery": make(lambda *a: query_escape(_printable_args(a)), "a*"),
    "eq": make(_eq, "aa*"),
    "ge": make(_ge, "aa"),
    "gt": make(_gt, "aa"),
    "le": make(_le, "aa"),
    "lt": make(_lt, "aa"),
    "ne": make(_ne, "aa"),
}
