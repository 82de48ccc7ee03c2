"""Template functions as Go sees them: a Python callable plus the Go parameter types it declares.

Go's text/template checks every argument against the function's signature through reflection.
We declare each function's signature as a short string of kind letters and check the same way:

    a  interface{}        s  string        i  int         f  float64
    b  bool               l  a slice       m  a map       (a trailing * makes it variadic)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from secretsync.template.values import StringMap, type_name

_GO_TYPES = {
    "a": "interface {}",
    "s": "string",
    "i": "int",
    "f": "float64",
    "b": "bool",
    "l": "[]interface {}",
    "m": "map[string]interface {}",
}


class FuncError(Exception):
    """A template function failed; the executor reports it as `error calling <name>: ...`."""


# Go would try to allocate whatever a template asks for; one template must not be able to take
# the operator's memory, so functions that multiply their input refuse beyond this size.
MAX_RESULT_SIZE = 16 * 1024 * 1024


def check_size(size: int) -> None:
    if size > MAX_RESULT_SIZE:
        raise FuncError(f"result would exceed {MAX_RESULT_SIZE} bytes")


@dataclass(frozen=True, slots=True)
class GoFunc:
    fn: Callable[..., Any]
    params: str
    variadic: bool

    def invoke(self, name: str, args: list[Any]) -> Any:
        return self.fn(*self.check_args(name, args))

    def check_args(self, name: str, args: list[Any]) -> list[Any]:
        fixed = len(self.params) - self.variadic
        if (self.variadic and len(args) < fixed) or (not self.variadic and len(args) != fixed):
            want = f"at least {fixed}" if self.variadic else str(fixed)
            raise FuncError(f"wrong number of args for {name}: want {want} got {len(args)}")
        out = []
        for i, arg in enumerate(args):
            kind = self.params[min(i, len(self.params) - 1)]
            out.append(coerce(arg, kind))
        return out


def coerce(value: Any, kind: str) -> Any:
    """The value converted to a Go parameter kind, or FuncError as reflection would fail."""
    if kind == "a":
        return value
    if value is None:
        # A nil slice or map reads as an empty one in Go.
        if kind == "l":
            return []
        if kind == "m":
            return {}
        raise FuncError(f"invalid value; expected {_GO_TYPES[kind]}")
    ok = _KIND_CHECKS[kind](value)
    if ok is _WRONG:
        raise FuncError(f"wrong type for value; expected {_GO_TYPES[kind]}; got {type_name(value)}")
    return ok


_WRONG = object()


def _as_str(value: Any) -> Any:
    return value if isinstance(value, str) else _WRONG


def _as_int(value: Any) -> Any:
    if isinstance(value, bool):
        return _WRONG
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return _WRONG


def _as_float(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return _WRONG
    return float(value)


def _as_bool(value: Any) -> Any:
    return value if isinstance(value, bool) else _WRONG


def _as_list(value: Any) -> Any:
    return list(value) if isinstance(value, (list, tuple)) else _WRONG


def _as_map(value: Any) -> Any:
    # The template data is a map[string]string, which Go will not pass as map[string]interface{}.
    return value if isinstance(value, dict) and not isinstance(value, StringMap) else _WRONG


_KIND_CHECKS: dict[str, Callable[[Any], Any]] = {
    "s": _as_str,
    "i": _as_int,
    "f": _as_float,
    "b": _as_bool,
    "l": _as_list,
    "m": _as_map,
}


def go_func(signature: str) -> Callable[[Callable[..., Any]], GoFunc]:
    """Decorator: wrap a Python function with its Go signature (see the module docstring)."""

    def wrap(fn: Callable[..., Any]) -> GoFunc:
        return make(fn, signature)

    return wrap


def make(fn: Callable[..., Any], signature: str) -> GoFunc:
    variadic = signature.endswith("*")
    params = signature.rstrip("*")
    if variadic and not params:
        raise ValueError("a variadic signature needs a kind before '*'")
    return GoFunc(fn, params, variadic)


FuncMap = Mapping[str, GoFunc]
