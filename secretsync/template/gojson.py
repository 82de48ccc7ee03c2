"""Go's encoding/json as templates see it: Marshal (sorted keys, HTML-escaped, Go float text)
and Unmarshal into interface{} (every number a float64)."""

from __future__ import annotations

import base64
import json
import math
from typing import Any

from secretsync.template.values import format_float, sort_key, to_bytes

_HEX = "0123456789abcdef"
_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}
_HTML = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


class JSONError(ValueError):
    """A value Go's json.Marshal refuses (NaN, infinities, non-string map keys we cannot print)."""


def encode_string(text: str, escape_html: bool = True) -> str:
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif code < 0x20:
            out.append("\\u00" + _HEX[code >> 4] + _HEX[code & 0xF])
        elif escape_html and ch in _HTML:
            out.append(_HTML[ch])
        elif ch in "\u2028\u2029":
            out.append(f"\\u{code:04x}")
        elif 0xDC80 <= code <= 0xDCFF:
            out.append("\\ufffd")  # a byte that was not valid UTF-8
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def encode_float(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        raise JSONError(f"json: unsupported value: {format_float(value)}")
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        text = format_float(value, "e")
        # Go trims the exponent's leading zero: 1e-07 becomes 1e-7.
        mantissa, exponent = text.split("e")
        sign, digits = exponent[0], exponent[1:].lstrip("0") or "0"
        return f"{mantissa}e{sign}{digits}"
    return format_float(value, "f")


def marshal(  # noqa: PLR0911 - one return per Go kind
    value: Any, indent: str = "", escape_html: bool = True, level: int = 0
) -> str:
    """json.Marshal (or MarshalIndent when `indent` is set)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return encode_float(value)
    if isinstance(value, str):
        return encode_string(value, escape_html)
    if isinstance(value, bytes):
        return '"' + base64.b64encode(value).decode() + '"'
    if isinstance(value, (list, tuple)):
        items = [marshal(item, indent, escape_html, level + 1) for item in value]
        return _container("[", "]", items, indent, level)
    if isinstance(value, dict):
        keys = sorted(value, key=sort_key)
        sep = ": " if indent else ":"
        items = [
            encode_string(str(k), escape_html)
            + sep
            + marshal(value[k], indent, escape_html, level + 1)
            for k in keys
        ]
        return _container("{", "}", items, indent, level)
    as_json = getattr(value, "go_json", None)
    if as_json is not None:
        return encode_string(str(as_json()), escape_html)
    raise JSONError(f"json: unsupported type: {type(value).__name__}")


def _container(open_: str, close: str, items: list[str], indent: str, level: int) -> str:
    if not items:
        return open_ + close
    if not indent:
        return open_ + ",".join(items) + close
    inner = "\n" + indent * (level + 1)
    return open_ + inner + ("," + inner).join(items) + "\n" + indent * level + close


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


def unmarshal(text: str) -> Any:
    """json.Unmarshal into interface{}: numbers become float64; NaN and friends are invalid."""
    try:
        return json.loads(
            to_bytes(text).decode("utf-8", "replace"),
            parse_int=float,
            parse_constant=_reject_constant,
        )
    except RecursionError as exc:
        raise ValueError("exceeded max depth") from exc
