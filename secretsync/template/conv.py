"""sprig's loose conversions (strval, and spf13/cast's ToInt64 and ToFloat64).

sprig never fails a conversion: what cast cannot read becomes 0, which templates depend on.
"""

from __future__ import annotations

import math
import re
from typing import Any

from secretsync.template.values import Stringer, format_value, from_bytes, wrap_int64

_ZERO_DECIMAL = re.compile(r"^([+-]?\d+)\.0*$")
_GO_INT = re.compile(r"^[+-]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)$")
_GO_FLOAT = re.compile(
    r"^[+-]?(?:(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][+-]?\d+)?|\d+\.|inf|infinity|nan)$", re.I
)


def strval(value: Any) -> str:
    """sprig's strval: strings as-is, []byte decoded, Stringers stringified, else %v."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return from_bytes(value)
    if isinstance(value, Stringer):
        return value.go_string()
    return format_value(value, top=False)


def parse_go_int(text: str) -> int | None:
    """strconv.ParseInt(text, 0, 64), or None where Go would return an error."""
    if not _GO_INT.match(text):
        return None
    body = text.lstrip("+-")
    if "_" in body and body[:2].lower() not in {"0x", "0o", "0b"}:
        return None
    sign = -1 if text.startswith("-") else 1
    clean = body.replace("_", "")
    value = (
        int(clean, 8)
        if len(clean) > 1 and clean[0] == "0" and clean[1].isdigit()
        else int(clean, 0)
    )
    value *= sign
    return value if -(2**63) <= value < 2**63 else None


def to_int64(value: Any) -> int:
    """cast.ToInt64: ints as-is, floats truncated, numeric strings parsed, anything else 0."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return wrap_int64(value)
    if isinstance(value, float):
        return _float_to_int64(value)
    if isinstance(value, str):
        match = _ZERO_DECIMAL.match(value)
        parsed = parse_go_int(match.group(1) if match else value)
        return parsed if parsed is not None else 0
    return 0


def _float_to_int64(value: float) -> int:
    if math.isnan(value) or math.isinf(value):
        return -(2**63)  # what amd64 produces for an out-of-range conversion
    truncated = int(value)
    return truncated if -(2**63) <= truncated < 2**63 else -(2**63)


def to_float64(value: Any) -> float:
    """cast.ToFloat64: numbers converted, numeric strings parsed, anything else 0."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and _GO_FLOAT.match(value):
        try:
            return float(value.replace("_", ""))
        except ValueError:
            return 0.0
    return 0.0


def strslice(value: Any) -> list[str]:
    """sprig's strslice: a list's non-nil items as strings, a scalar as a one-item list."""
    if isinstance(value, (list, tuple)):
        return [strval(item) for item in value if item is not None]
    if value is None:
        return []
    return [strval(value)]
