"""Go literal syntax: quoted strings (strconv.Unquote) and number constants.

Go strings are byte strings; a `\\xff` escape yields a byte that is not valid UTF-8. We keep such
bytes as lone surrogates (Python's surrogateescape), the same representation `values.py` uses for
secret data, so they survive to the output unchanged.
"""

from __future__ import annotations

_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
}
_HEX_WIDTH = {"x": 2, "u": 4, "U": 8}
_MAX_RUNE = 0x10FFFF


class LiteralError(ValueError):
    """A literal that Go's strconv would reject."""


def unquote(token: str) -> str:
    """The value of a Go string literal: "..." with escapes, or `...` raw."""
    if token.startswith("`"):
        return token[1:-1].replace("\r", "")
    return _unescape(token[1:-1], '"')


def unquote_char(token: str) -> int:
    """The rune value of a Go character constant such as 'a' or '\\n'."""
    body = token[1:-1]
    value = _unescape(body, "'")
    encoded = value.encode("utf-8", "surrogateescape")
    if body.startswith(("\\x", "\\0", "\\1", "\\2", "\\3")) and len(encoded) == 1:
        return encoded[0]
    if len(value) != 1:
        raise LiteralError(f"malformed character constant: {token}")
    return ord(value)


def _unescape(body: str, quote: str) -> str:
    out = bytearray()
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out += ch.encode("utf-8", "surrogateescape")
            i += 1
            continue
        if i + 1 >= len(body):
            raise LiteralError("invalid syntax")
        esc = body[i + 1]
        i += 2
        if esc in _SIMPLE_ESCAPES:
            out += _SIMPLE_ESCAPES[esc].encode()
        elif esc == quote:
            out += quote.encode()
        elif esc in _HEX_WIDTH:
            width = _HEX_WIDTH[esc]
            value = _parse_digits(body[i : i + width], width, 16)
            i += width
            out += bytes([value]) if esc == "x" else _rune_bytes(value)
        elif esc in "01234567":
            value = _parse_digits(body[i - 1 : i + 2], 3, 8)
            if value > 255:
                raise LiteralError("invalid syntax")
            i += 2
            out.append(value)
        else:
            raise LiteralError("invalid syntax")
    return out.decode("utf-8", "surrogateescape")


def _parse_digits(digits: str, width: int, base: int) -> int:
    # Digits only: int() would also take a sign, spaces and underscores (`\u-199`), Go does not.
    allowed = "0123456789abcdefABCDEF" if base == 16 else "01234567"
    if len(digits) != width or not all(char in allowed for char in digits):
        raise LiteralError("invalid syntax")
    return int(digits, base)


def _rune_bytes(value: int) -> bytes:
    if value > _MAX_RUNE or 0xD800 <= value <= 0xDFFF:
        raise LiteralError("invalid syntax")
    return chr(value).encode("utf-8")


def parse_number(text: str) -> tuple[int | float, int | None]:
    """(ideal value, integer value if the constant is integral) for a Go number literal.

    Go's idealConstant makes a literal a float64 when it is written with '.', an exponent or a
    hex 'p' exponent, and an int otherwise.
    """
    if text.endswith("i"):
        raise LiteralError(f"complex constant {text} is not supported")
    body = text.replace("_", "")
    sign = -1 if body.startswith("-") else 1
    digits = body.lstrip("+-")
    lower = digits.lower()
    is_hex = lower.startswith("0x")
    if lower.startswith(("0x", "0o", "0b")) and not (is_hex and "p" in lower):
        if is_hex and "." in lower:
            raise LiteralError(f"bad number syntax: {text}")
        return _int_constant(sign * int(digits, 0), text)
    try:
        as_float = sign * (float.fromhex(digits) if is_hex else float(digits))
    except ValueError as exc:
        raise LiteralError(f"bad number syntax: {text}") from exc
    if is_hex or any(c in lower for c in ".e"):
        integral = int(as_float) if as_float.is_integer() else None
        return as_float, integral
    # Go reads a leading 0 as octal ("017" == 15).
    try:
        value = int(digits, 8) if len(digits) > 1 and digits[0] == "0" else int(digits)
    except ValueError as exc:
        raise LiteralError(f"bad number syntax: {text}") from exc
    return _int_constant(sign * value, text)


def _int_constant(value: int, text: str) -> tuple[int, int]:
    if not -(2**63) <= value < 2**63:
        raise LiteralError(f"{text} overflows int")
    return value, value
