"""sprig's list functions (list.go).

sprig's plain variants panic where the must- variants return an error; text/template turns both
into an execution error, so each pair shares one implementation here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from secretsync.template.callables import FuncError, GoFunc, check_size, make
from secretsync.template.conv import strslice, to_int64
from secretsync.template.sprig_defaults import deep_equal, empty
from secretsync.template.values import to_bytes, type_name


def _as_list(value: Any, what: str) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return list(value)
    raise FuncError(f"Cannot {what} type {type_name(value)}")


def push(items: Any, value: Any) -> list[Any]:
    return [*_as_list(items, "push on"), value]


def prepend(items: Any, value: Any) -> list[Any]:
    return [value, *_as_list(items, "prepend on")]


def chunk(size: int, items: Any) -> list[list[Any]]:
    values = _as_list(items, "chunk")
    if size <= 0:
        raise FuncError("runtime error: integer divide by zero")
    return [values[i : i + size] for i in range(0, len(values), size)]


def _picker(what: str, pick: Callable[[list[Any]], Any], empty: Any = None) -> Callable[[Any], Any]:
    """first/last give nil on an empty list; rest/initial give a nil slice, which prints []."""

    def run(items: Any) -> Any:
        values = _as_list(items, f"find {what} on")
        return pick(values) if values else (list(empty) if empty is not None else None)

    return run


def uniq(items: Any) -> list[Any]:
    out: list[Any] = []
    for item in _as_list(items, "find uniq on"):
        if not any(deep_equal(item, seen) for seen in out):
            out.append(item)
    return out


def without(items: Any, *omit: Any) -> list[Any]:
    values = _as_list(items, "find without on")
    return [v for v in values if not any(deep_equal(v, o) for o in omit)]


def has(needle: Any, haystack: Any) -> bool:
    if haystack is None:
        return False
    values = _as_list(haystack, "find has on")
    return any(deep_equal(needle, v) for v in values)


def sprig_slice(items: Any, *indices: Any) -> Any:
    if not isinstance(items, (list, tuple)):
        raise FuncError(f"list should be type of slice or array but {type_name(items)}")
    size = len(items)
    if size == 0:
        return None
    start = to_int64(indices[0]) if indices else 0
    end = to_int64(indices[1]) if len(indices) > 1 else size
    if not 0 <= start <= end <= size:
        raise FuncError(f"reflect: slice index out of range [{start}:{end}]")
    return list(items[start:end])


def concat(*lists: Any) -> list[Any]:
    out: list[Any] = []
    for item in lists:
        if not isinstance(item, (list, tuple)):
            raise FuncError(f"Cannot concat type {type_name(item)} as list")
        out.extend(item)
    return out


def sort_alpha(items: Any) -> list[str]:
    if isinstance(items, (list, tuple)):
        return sorted(strslice(items), key=to_bytes)
    return strslice(items)


def until_step(start: int, stop: int, step: int) -> list[int]:
    if step == 0 or (step > 0 and start >= stop) or (step < 0 and start <= stop):
        return []
    steps = range(start, stop, step)
    check_size(len(steps))
    return list(steps)


def seq(*params: int) -> str:
    """The BSD seq command: `seq last`, `seq first last`, `seq first step last`."""
    if len(params) == 1:
        start, step, end = 1, 1, params[0]
    elif len(params) == 2:
        start, end = params
        step = 1 if end >= start else -1
    elif len(params) == 3:
        start, step, end = params
        if (end > start and step <= 0) or (end < start and step >= 0):
            return ""
    else:
        return ""
    if end == start:
        return str(start)
    stop = end + (1 if step > 0 else -1)
    check_size(len(range(start, stop, step)))
    return " ".join(str(i) for i in range(start, stop, step))


FUNCS: dict[str, GoFunc] = {
    "list": make(lambda *v: list(v), "a*"),
    "tuple": make(lambda *v: list(v), "a*"),
    "append": make(push, "aa"),
    "push": make(push, "aa"),
    "mustAppend": make(push, "aa"),
    "mustPush": make(push, "aa"),
    "prepend": make(prepend, "aa"),
    "mustPrepend": make(prepend, "aa"),
    "chunk": make(chunk, "ia"),
    "mustChunk": make(chunk, "ia"),
    "first": make(_picker("first", lambda v: v[0]), "a"),
    "mustFirst": make(_picker("first", lambda v: v[0]), "a"),
    "last": make(_picker("last", lambda v: v[-1]), "a"),
    "mustLast": make(_picker("last", lambda v: v[-1]), "a"),
    "rest": make(_picker("rest", lambda v: v[1:], ()), "a"),
    "mustRest": make(_picker("rest", lambda v: v[1:], ()), "a"),
    "initial": make(_picker("initial", lambda v: v[:-1], ()), "a"),
    "mustInitial": make(_picker("initial", lambda v: v[:-1], ()), "a"),
    "reverse": make(lambda v: _as_list(v, "find reverse on")[::-1], "a"),
    "mustReverse": make(lambda v: _as_list(v, "find reverse on")[::-1], "a"),
    "uniq": make(uniq, "a"),
    "mustUniq": make(uniq, "a"),
    "without": make(without, "aa*"),
    "mustWithout": make(without, "aa*"),
    "has": make(has, "aa"),
    "mustHas": make(has, "aa"),
    "slice": make(sprig_slice, "aa*"),
    "mustSlice": make(sprig_slice, "aa*"),
    "concat": make(concat, "a*"),
    "sortAlpha": make(sort_alpha, "a"),
    "until": make(lambda n: until_step(0, n, 1 if n >= 0 else -1), "i"),
    "untilStep": make(until_step, "iii"),
    "seq": make(seq, "i*"),
}

__all__ = ["FUNCS", "empty"]
