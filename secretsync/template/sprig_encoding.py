"""sprig's encodings, digests and JSON functions, with the quirks ESO users rely on:
b64dec/b32dec return Go's error text instead of failing, fromJson/toJson swallow errors."""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from typing import Any

from secretsync.template.callables import FuncError, GoFunc, make
from secretsync.template.gobase64 import Base64Error, b32decode, b64decode
from secretsync.template.gojson import JSONError, marshal, unmarshal
from secretsync.template.values import from_bytes, to_bytes


def b64dec(text: str) -> str:
    try:
        return from_bytes(b64decode(to_bytes(text)))
    except Base64Error as exc:
        return str(exc)


def b32dec(text: str) -> str:
    try:
        return from_bytes(b32decode(text))
    except ValueError as exc:
        return str(exc)


def hexdec(text: str) -> str:
    """ESO's hexdec; like b64dec, it hands back Go's error text instead of failing."""
    data = to_bytes(text)
    for i in range(len(data) - len(data) % 2):
        if chr(data[i]) not in _HEX_DIGITS:
            return f"encoding/hex: invalid byte: {_go_rune(data[i])}"
    if len(data) % 2:
        if chr(data[-1]) not in _HEX_DIGITS:
            return f"encoding/hex: invalid byte: {_go_rune(data[-1])}"
        return "encoding/hex: odd length hex string"
    return from_bytes(binascii.unhexlify(data))


_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def _go_rune(byte: int) -> str:
    """%#U of a byte: U+0078 'x' (the quoted form only for printable runes)."""
    char = chr(byte)
    return f"U+{byte:04X} '{char}'" if char.isprintable() else f"U+{byte:04X}"


def _digest(name: str) -> GoFunc:
    return make(lambda s: hashlib.new(name, to_bytes(s)).hexdigest(), "s")


def must_from_json(text: str) -> Any:
    try:
        return unmarshal(text)
    except ValueError as exc:
        raise FuncError(str(exc).split(":")[0]) from exc


def from_json(text: str) -> Any:
    try:
        return unmarshal(text)
    except ValueError:
        return None


def _must_marshal(indent: str, escape_html: bool) -> GoFunc:
    def run(value: Any) -> str:
        try:
            return marshal(value, indent, escape_html)
        except (JSONError, RecursionError) as exc:
            raise FuncError("json: unsupported value") from exc

    return make(run, "a")


def _marshal(indent: str, escape_html: bool) -> GoFunc:
    def run(value: Any) -> str:
        try:
            return marshal(value, indent, escape_html)
        except (JSONError, RecursionError):
            return ""

    return make(run, "a")


FUNCS: dict[str, GoFunc] = {
    "b64enc": make(lambda s: base64.b64encode(to_bytes(s)).decode(), "s"),
    "b64dec": make(b64dec, "s"),
    "b32enc": make(lambda s: base64.b32encode(to_bytes(s)).decode(), "s"),
    "b32dec": make(b32dec, "s"),
    "hexdec": make(hexdec, "s"),
    "sha1sum": _digest("sha1"),
    "sha256sum": _digest("sha256"),
    "sha512sum": _digest("sha512"),
    "adler32sum": make(lambda s: str(zlib.adler32(to_bytes(s))), "s"),
    "fromJson": make(from_json, "s"),
    "mustFromJson": make(must_from_json, "s"),
    "toJson": _marshal("", True),
    "mustToJson": _must_marshal("", True),
    "toPrettyJson": _marshal("  ", True),
    "mustToPrettyJson": _must_marshal("  ", True),
    "toRawJson": _marshal("", False),
    "mustToRawJson": _must_marshal("", False),
}
