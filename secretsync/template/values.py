"""How Go values live in Python, and how Go's fmt prints them with %v.

Mapping: string -> str (non-UTF-8 bytes as surrogateescape), int/int64 -> int, float64 -> float,
bool -> bool, nil -> None, []interface{} -> list, map[string]interface{} -> dict, []byte -> bytes.
Objects with a `go_string()` method act as Go Stringers (time.Time, semver versions).
`StringMap` marks a map[string]string such as the template data, whose missing keys index to "".
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
NO_VALUE = "<no value>"


class StringMap(dict[str, str]):
    """A Go map[string]string: the data ESO hands to templates."""


class Int64(int):
    """A Go int64, which sprig's arithmetic returns. It computes like any int but is a
    different Go type to %T, kindOf, deepEqual and duration."""

    __slots__ = ()
    go_type = "int64"


@runtime_checkable
class Stringer(Protocol):
    def go_string(self) -> str: ...


def to_bytes(text: str) -> bytes:
    """The Go bytes of a string (lone surrogates are the raw bytes we could not decode)."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        # Another surrogate (from a `\ud800` escape in JSON or YAML, or `printf "%c"` of one)
        # is no character and no raw byte; Go has U+FFFD in its place.
        return "".join(_no_surrogate(char) for char in text).encode("utf-8", "surrogateescape")


def _no_surrogate(char: str) -> str:
    raw_byte = "\udc80" <= char <= "\udcff"
    return "\ufffd" if "\ud800" <= char <= "\udfff" and not raw_byte else char


def from_bytes(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def wrap_int64(value: int) -> int:
    """Two's-complement wrap, as Go's int64 arithmetic overflows silently."""
    return (value - INT64_MIN) % 2**64 + INT64_MIN


def type_name(value: Any) -> str:
    """Go's %T of a value, for error messages."""
    names = {
        bool: "bool",
        int: "int",
        float: "float64",
        str: "string",
        bytes: "[]uint8",
        list: "[]interface {}",
        dict: "map[string]interface {}",
        StringMap: "map[string]string",
    }
    if value is None:
        return "<nil>"
    return names.get(type(value), getattr(value, "go_type", type(value).__name__))


def is_true(value: Any) -> bool:
    """Go template truth: the zero value of its type is false; anything else is true."""
    if value is None:
        return False
    if isinstance(value, (bool, int, float, str, bytes, list, dict, tuple)):
        return bool(value)
    return True


def format_float(value: float, fmt: str = "g", prec: int = -1) -> str:
    """strconv.FormatFloat(value, fmt, prec, 64) for fmt in e, f, g (and E, G)."""
    if math.isnan(value):
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    lower = fmt.lower()
    if lower == "f" and prec >= 0:
        return f"{value:.{prec}f}"
    if lower == "e" and prec >= 0:
        return f"{value:.{prec}{fmt}}"
    if lower == "g" and prec >= 0:
        return _format_g_precision(value, fmt, prec)
    return _format_shortest(value, fmt)


def _format_shortest(value: float, fmt: str) -> str:
    sign, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    if not isinstance(exponent, int):  # NaN and infinities are handled by the caller
        return repr(value)
    digits = "".join(map(str, digit_tuple))
    stripped = digits.rstrip("0")
    # Go's digs.dp: where the decimal point falls relative to the shortest digit string.
    point = len(digits) + exponent if stripped else 1
    digits = stripped or "0"
    neg = "-" if sign else ""
    letter = "e" if fmt.islower() else "E"
    exp = point - 1
    if fmt.lower() == "e" or (fmt.lower() == "g" and (exp < -4 or exp >= 6)):
        return neg + _exp_form(digits, exp, letter)
    return neg + _fixed_form(digits, point)


def _exp_form(digits: str, exp: int, letter: str) -> str:
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{mantissa}{letter}{'-' if exp < 0 else '+'}{abs(exp):02d}"


def _fixed_form(digits: str, point: int) -> str:
    if point <= 0:
        return "0." + "0" * -point + digits
    if point >= len(digits):
        return digits + "0" * (point - len(digits))
    return digits[:point] + "." + digits[point:]


def _format_g_precision(value: float, fmt: str, prec: int) -> str:
    prec = prec or 1
    text = f"{value:.{prec - 1}e}"
    mantissa, exp_text = text.split("e")
    exp = int(exp_text)
    digits = mantissa.replace(".", "").replace("-", "").rstrip("0") or "0"
    neg = "-" if text.startswith("-") else ""
    eprec = prec
    if eprec > len(digits) and len(digits) >= exp + 1:
        eprec = len(digits)
    if exp < -4 or exp >= eprec:
        return neg + _exp_form(digits, exp, "e" if fmt.islower() else "E")
    return neg + _fixed_form(digits, exp + 1)


def format_value(value: Any, top: bool = True) -> str:  # noqa: PLR0911 - one per Go kind
    """fmt's %v; at top level a nil prints as text/template's "<no value>"."""
    if isinstance(value, str):
        return value
    if value is None:
        return NO_VALUE if top else "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(format_value(item, False) for item in value) + "]"
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: sort_key(kv[0]))
        body = " ".join(f"{format_value(k, False)}:{format_value(v, False)}" for k, v in items)
        return f"map[{body}]"
    if isinstance(value, bytes):
        return "[" + " ".join(str(b) for b in value) + "]"
    if isinstance(value, Stringer):
        return value.go_string()
    return str(value)


def sort_key(key: Any) -> tuple[int, Any]:
    """fmt and range order map keys: numbers numerically, strings by bytes."""
    if isinstance(key, (int, float)) and not isinstance(key, bool):
        return (0, key)
    if isinstance(key, str):
        return (1, to_bytes(key))
    return (2, str(key))


def sprint(args: list[Any]) -> str:
    """fmt.Sprint: a space between operands when neither side is a string."""
    out: list[str] = []
    for i, arg in enumerate(args):
        if i and not isinstance(arg, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(format_value(arg, False))
    return "".join(out)


def sprintln(args: list[Any]) -> str:
    return " ".join(format_value(arg, False) for arg in args) + "\n"
