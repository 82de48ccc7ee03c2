"""Go's base64.StdEncoding.DecodeString, including the exact offset in its error text.

sprig's b64dec returns the error text instead of failing ("illegal base64 data at input byte 4"),
so templates can print it; matching Go byte for byte means matching where Go gives up.
"""

from __future__ import annotations

import base64
import binascii

_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_DECODE = {c: i for i, c in enumerate(_ALPHABET)}
_NEWLINES = b"\r\n"


class Base64Error(ValueError):
    def __init__(self, offset: int) -> None:
        super().__init__(f"illegal base64 data at input byte {offset}")
        self.offset = offset


def b64decode(src: bytes) -> bytes:
    """Decode like Go: skip CR/LF, require padding, reject trailing garbage."""
    out = bytearray()
    si = 0
    while True:
        si, chunk, done = _quantum(src, si)
        out += chunk
        if done:
            return bytes(out)


def _skip_newlines(src: bytes, si: int) -> int:
    while si < len(src) and src[si] in _NEWLINES:
        si += 1
    return si


def _quantum(src: bytes, si: int) -> tuple[int, bytes, bool]:
    buf = [0, 0, 0, 0]
    j = 0
    dlen = 4
    while j < 4:
        if si == len(src):
            if j == 0:
                return si, b"", True
            raise Base64Error(si - j)
        ch = src[si]
        si += 1
        if ch in _DECODE:
            buf[j] = _DECODE[ch]
            j += 1
            continue
        if ch in _NEWLINES:
            continue
        if ch != ord("=") or j < 2:
            raise Base64Error(si - 1)
        si = _padding(src, si, j)
        dlen = j
        break
    val = buf[0] << 18 | buf[1] << 12 | buf[2] << 6 | buf[3]
    data = val.to_bytes(3, "big")
    # StdEncoding is not Strict: stray bits after the last full byte are ignored.
    return si, data[: dlen - 1], dlen < 4


def _padding(src: bytes, si: int, j: int) -> int:
    if j == 2:
        si = _skip_newlines(src, si)
        if si == len(src):
            raise Base64Error(len(src))
        if src[si] != ord("="):
            raise Base64Error(si - 1)
        si += 1
    si = _skip_newlines(src, si)
    if si < len(src):
        raise Base64Error(si)
    return si


def b32decode(text: str) -> bytes:
    """base32.StdEncoding.DecodeString; the error offset is Go's for the common cases."""
    cleaned = text.replace("\r", "").replace("\n", "")
    try:
        return base64.b32decode(cleaned)
    except (binascii.Error, ValueError):
        for i, ch in enumerate(cleaned):
            if ch not in "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567=":
                raise ValueError(f"illegal base32 data at input byte {i}") from None
        raise ValueError(f"illegal base32 data at input byte {len(cleaned)}") from None
