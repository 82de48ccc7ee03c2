"""sprig's arithmetic (numeric.go and functions.go) with Go semantics: int64 wrap-around,
division truncating toward zero, and float functions routed through shopspring/decimal."""

from __future__ import annotations

import math
import secrets
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from secretsync.template.callables import FuncError, GoFunc, make
from secretsync.template.conv import to_float64, to_int64
from secretsync.template.values import Int64, format_value, wrap_int64

# shopspring/decimal's DivisionPrecision: digits kept after the point by Div.
_DIVISION_PLACES = Decimal(10) ** -16


def go_div(a: int, b: int) -> int:
    if b == 0:
        raise FuncError("runtime error: integer divide by zero")
    quotient = abs(a) // abs(b)
    return wrap_int64(quotient if (a >= 0) == (b >= 0) else -quotient)


def go_mod(a: int, b: int) -> int:
    if b == 0:
        raise FuncError("runtime error: integer divide by zero")
    return wrap_int64(a - b * go_div(a, b))


def _add(*values: Any) -> int:
    return wrap_int64(sum(to_int64(v) for v in values))


def _mul(first: Any, *values: Any) -> int:
    total = to_int64(first)
    for v in values:
        total = wrap_int64(total * to_int64(v))
    return total


def _decimal(value: Any) -> Decimal:
    number = to_float64(value)
    if math.isnan(number) or math.isinf(number):
        raise FuncError("Cannot create a Decimal from " + format_value(number))
    return Decimal(repr(number))


def _decimal_op(op: str) -> GoFunc:
    def run(first: Any, *rest: Any) -> float:
        total = _decimal(first)
        for value in rest:
            other = _decimal(value)
            try:
                total = _apply(op, total, other)
            except (ZeroDivisionError, InvalidOperation) as exc:
                raise FuncError("decimal division by zero") from exc
        return float(total)

    return make(run, "aa*")


def _apply(op: str, a: Decimal, b: Decimal) -> Decimal:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        raise ZeroDivisionError
    return (a / b).quantize(_DIVISION_PLACES, rounding=ROUND_HALF_UP)


def _round(value: Any, places: int, *round_on: float) -> float:
    threshold = round_on[0] if round_on else 0.5
    power = math.pow(10, places)
    digit = power * to_float64(value)
    if math.isnan(digit) or math.isinf(digit):
        return digit / power
    fraction = math.modf(digit)[0]
    rounded = math.ceil(digit) if fraction >= threshold else math.floor(digit)
    return rounded / power


def _integral(value: float, how: Any) -> float:
    if math.isnan(value) or math.isinf(value):
        return value
    return float(how(value))


def _rand_int(low: int, high: int) -> int:
    if high - low <= 0:
        raise FuncError("invalid argument to Intn")
    return low + secrets.randbelow(high - low)


def _to_decimal(value: Any) -> int:
    try:
        result = int(format_value(value, top=False), 8)
    except ValueError:
        return 0
    return result if -(2**63) <= result < 2**63 else 0


def _atoi(text: str) -> int:
    try:
        value = int(text) if text.strip() == text and "_" not in text else 0
    except ValueError:
        return 0
    return value if -(2**63) <= value < 2**63 else 0


FUNCS: dict[str, GoFunc] = {
    "add1": make(lambda v: Int64(wrap_int64(to_int64(v) + 1)), "a"),
    "add": make(lambda *v: Int64(_add(*v)), "a*"),
    "sub": make(lambda a, b: Int64(wrap_int64(to_int64(a) - to_int64(b))), "aa"),
    "div": make(lambda a, b: Int64(go_div(to_int64(a), to_int64(b))), "aa"),
    "mod": make(lambda a, b: Int64(go_mod(to_int64(a), to_int64(b))), "aa"),
    "mul": make(lambda a, *v: Int64(_mul(a, *v)), "aa*"),
    "randInt": make(_rand_int, "ii"),
    "add1f": make(lambda v: _decimal_op("+").fn(v, 1), "a"),
    "addf": make(lambda *v: _decimal_op("+").fn(0.0, *v), "a*"),
    "subf": _decimal_op("-"),
    "divf": _decimal_op("/"),
    "mulf": _decimal_op("*"),
    "biggest": make(lambda a, *v: Int64(max([to_int64(a), *map(to_int64, v)])), "aa*"),
    "max": make(lambda a, *v: Int64(max([to_int64(a), *map(to_int64, v)])), "aa*"),
    "min": make(lambda a, *v: Int64(min([to_int64(a), *map(to_int64, v)])), "aa*"),
    "maxf": make(lambda a, *v: max([to_float64(a), *map(to_float64, v)]), "aa*"),
    "minf": make(lambda a, *v: min([to_float64(a), *map(to_float64, v)]), "aa*"),
    "ceil": make(lambda v: _integral(to_float64(v), math.ceil), "a"),
    "floor": make(lambda v: _integral(to_float64(v), math.floor), "a"),
    "round": make(_round, "aif*"),
    "atoi": make(_atoi, "s"),
    "int64": make(lambda v: Int64(to_int64(v)), "a"),
    "int": make(to_int64, "a"),
    "float64": make(to_float64, "a"),
    "toDecimal": make(lambda v: Int64(_to_decimal(v)), "a"),
}
