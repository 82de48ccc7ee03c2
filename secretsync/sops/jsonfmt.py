"""JSON and binary stores, byte-compatible with sops' stores/json.

Output is what sops builds: `"key": value` pairs rendered like Go's `json.Marshal` (which escapes
`<`, `>`, `&`, U+2028 and U+2029), re-indented with a tab (or N spaces), plus a final newline.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from secretsync.errors import ConfigError
from secretsync.sops.tree import Branch, Comment, GoTime, Value
from secretsync.sops.values import INT64_MAX, INT64_MIN, format_float

_GO_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _int(text: str) -> int | float:
    value = int(text)
    return value if INT64_MIN <= value <= INT64_MAX else float(text)


def _convert(value: Any) -> Value:
    if isinstance(value, _Pairs):
        return value.branch
    if isinstance(value, list):
        return tuple(_convert(v) for v in value)
    if isinstance(value, str):
        return _go_text(value)
    return value  # type: ignore[no-any-return]


def _go_text(text: str) -> str:
    """A lone surrogate escape (`"\\ud800"`) decodes to U+FFFD in Go; Python keeps it, and it
    could not be written back as UTF-8. Paired escapes were already joined by the decoder."""
    if not any("\ud800" <= char <= "\udfff" for char in text):
        return text
    return "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in text)


class _Pairs:
    """Object pairs kept in file order, duplicates included, as Go's token decoder does."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        self.branch = Branch(tuple((_go_text(k), _convert(v)) for k, v in pairs))


def load(data: bytes, source: str = "input") -> tuple[Branch, ...]:
    try:
        text = data.decode("utf-8")
        start = len(text) - len(text.lstrip(" \t\r\n"))
        parsed, _ = json.JSONDecoder(
            object_pairs_hook=_Pairs,
            parse_int=_int,
            parse_float=float,
            parse_constant=_reject_constant,
        ).raw_decode(text, start)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"is not valid JSON: {_safe(exc)}", field=source) from None
    if not isinstance(parsed, _Pairs):
        raise ConfigError("sops only supports JSON files with a top-level object", field=source)
    return (parsed.branch,)


def _safe(exc: Exception) -> str:
    # json's messages carry a position, never the document text.
    return str(exc).split(":", 1)[0] if isinstance(exc, UnicodeDecodeError) else str(exc)


def go_string(text: str) -> str:
    """`json.Marshal` of a string; invalid UTF-8 becomes U+FFFD as in Go."""
    clean = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    out = json.dumps(clean, ensure_ascii=False)
    if any(c in out for c in _GO_ESCAPES):
        out = "".join(_GO_ESCAPES.get(c, c) for c in out)
    return out


def go_float(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        raise ConfigError("NaN and infinities cannot be written as JSON", field="value")
    magnitude = abs(value)
    if magnitude == 0 or 1e-6 <= magnitude < 1e21:
        return format_float(value)
    mantissa, _, exponent = repr(value).partition("e")
    sign = exponent[0] if exponent[0] in "+-" else "+"
    digits = exponent.lstrip("+-").lstrip("0") or "0"
    mantissa = mantissa.removesuffix(".0")
    return f"{mantissa}e{sign}{digits}"


def _scalar(value: Value) -> str:  # noqa: PLR0911 - one return per Go type, as json.Marshal switches
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        return go_string(value)
    if isinstance(value, GoTime):
        return go_string(value.text)
    if isinstance(value, bytes):
        import base64  # noqa: PLC0415 - rare: only legacy `type:bytes` values reach here

        return go_string(base64.b64encode(value).decode())
    raise ConfigError(f"cannot write a {type(value).__name__} as JSON", field="value")


def _emit(value: Value, indent: str, depth: int, out: list[str]) -> None:
    if isinstance(value, Branch):
        items = [(k, v) for k, v in value.items if not isinstance(k, Comment)]
        _container("{", "}", items, indent, depth, out)
    elif isinstance(value, tuple):
        elements = [(None, v) for v in value if not isinstance(v, Comment)]
        _container("[", "]", elements, indent, depth, out)
    else:
        out.append(_scalar(value))


def _container(  # noqa: PLR0917 - internal recursive helper
    open_: str,
    close: str,
    items: Sequence[tuple[Any, Value]],
    indent: str,
    depth: int,
    out: list[str],
) -> None:
    if not items:
        out.append(open_ + close)
        return
    out.append(open_)
    inner = "\n" + indent * (depth + 1)
    for i, (key, value) in enumerate(items):
        out.append(inner if i == 0 else "," + inner)
        if key is not None:
            out.append(go_string(key) + ": ")
        _emit(value, indent, depth + 1, out)
    out.append("\n" + indent * depth + close)


def emit(branches: tuple[Branch, ...], indent: int = -1) -> bytes:
    """Only the first document is written, as sops does."""
    out: list[str] = []
    _emit(branches[0] if branches else Branch(), "\t" if indent < 0 else " " * indent, 0, out)
    out.append("\n")
    return "".join(out).encode("utf-8", "surrogateescape")


def load_binary(data: bytes) -> tuple[Branch, ...]:
    return (Branch((("data", data.decode("utf-8", "surrogateescape")),)),)


def emit_binary(branches: tuple[Branch, ...]) -> bytes:
    if len(branches) != 1:
        raise ConfigError("a binary file has exactly one document", field="data")
    value = branches[0].get("data")
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, bytes):
        return value
    raise ConfigError("a binary file needs a string `data` key", field="data")
